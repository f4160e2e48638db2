import Supervisor
import SystemCalls
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SpawnTests {
    let temporary = TemporaryDirectory(prefix: "supervisor-tests")
    var directory: String { temporary.path }

    /// Runs a shell script and returns what it wrote to `$OUT`.
    func output(of script: String, standardInput: StandardInput = .null) throws -> String {
        let file = "\(directory)/out-\(UInt32.random(in: 0...UInt32.max))"
        let status = try runToCompletion(["/bin/sh", "-c", script], environment: ["PATH": "/usr/bin:/bin", "OUT": file],
                                         standardInput: standardInput)
        #expect(status == .exited(0))
        return String(decoding: try Files.read(file), as: UTF8.self)
    }

    @Test(arguments: [
        (["/nonexistent/program"], Int32(127), "exec", ENOENT),
        (["no-such-program-anywhere"], 127, "exec", ENOENT),
        ([""], 127, "exec", ENOENT),
        (["/etc/hostname/x"], 126, "exec", ENOTDIR),
        (["/tmp"], 126, "exec", EACCES),
    ])
    func execFailuresAreReportedAndExitLikeAShell(arguments: [String], code: Int32, step: String, error: Int32) throws {
        let outcome = Spawn.start(arguments: arguments, environment: ["PATH": "/usr/bin:/bin"], standardInput: .null)
        let reported = try #require(outcome.error)
        #expect(reported.systemCall == step)
        #expect(reported.object == arguments[0])
        #expect(reported.errno == error)
        let pid = try #require(outcome.pid)
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        #expect(TerminationStatus(waitStatus: raw) == .exited(code))
    }

    @Test func aNonExecutableFileIsPermissionDenied() throws {
        let path = "\(directory)/not-executable"
        try Files.writeAtomically(path, Array("#!/bin/sh\nexit 0\n".utf8), mode: 0o644)
        let outcome = Spawn.start(arguments: [path], environment: [:], standardInput: .null)
        #expect(outcome.error?.errno == EACCES)
        #expect(outcome.error?.description == "exec \(path): Permission denied (EACCES)")
        var raw: Int32 = 0
        while waitpid(try #require(outcome.pid), &raw, 0) < 0 && errno == EINTR {}
        #expect(TerminationStatus(waitStatus: raw) == .exited(126))
    }

    @Test func bareNamesAreSearchedInPathInOrder() throws {
        let first = "\(directory)/first", second = "\(directory)/second"
        try Files.makeDirectories(first, mode: 0o755)
        try Files.makeDirectories(second, mode: 0o755)
        // A non-executable match is skipped for a later executable one, as the shell does.
        try Files.writeAtomically("\(first)/tool", Array("#!/bin/sh\nexit 5\n".utf8), mode: 0o644)
        try Files.writeAtomically("\(second)/tool", Array("#!/bin/sh\nexit 6\n".utf8), mode: 0o755)
        let environment = ["PATH": "/nonexistent:\(first):\(second):/bin"]
        #expect(try runToCompletion(["tool"], environment: environment) == .exited(6))

        let deniedOnly = Spawn.start(arguments: ["tool"], environment: ["PATH": first], standardInput: .null)
        #expect(deniedOnly.error?.errno == EACCES)
        var raw: Int32 = 0
        while waitpid(try #require(deniedOnly.pid), &raw, 0) < 0 && errno == EINTR {}
        #expect(TerminationStatus(waitStatus: raw) == .exited(126))
    }

    @Test func withoutPathTheDefaultSearchPathIsUsed() throws {
        #expect(try runToCompletion(["sh", "-c", "exit 4"], environment: [:]) == .exited(4))
    }

    @Test func theChildGetsACleanSignalStateAndItsOwnProcessGroup() throws {
        // Block and ignore signals here; the child must see none of it.
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR2)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let oldHandler = signal(SIGURG, SIG_IGN)
        defer {
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            signal(SIGURG, oldHandler)
        }
        // grep reads its own status: the shell execs it (dash blocks signals while it waits for
        // a child, so the shell's own status would not tell).
        let text = try output(of: """
            exec grep -E '^(SigBlk|SigIgn):' /proc/self/status > "$OUT"
            """)
        #expect(text.contains("SigBlk:\t0000000000000000"))
        // dash itself ignores nothing at start; SIGURG (bit 23) must not be inherited as ignored.
        let ignored = text.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }.map { String($0.dropFirst(8)) } ?? ""
        let mask = UInt64(ignored, radix: 16) ?? .max
        #expect(mask & (1 << (UInt64(SIGURG) - 1)) == 0)
        let ids = try output(of: "echo \"pgid=$(cut -d' ' -f5 /proc/$$/stat) pid=$$\" > \"$OUT\"")
            .split(separator: "\n").first.map(String.init) ?? ""
        let fields = ids.split(separator: " ").map { $0.split(separator: "=").last.map(String.init) ?? "" }
        #expect(fields.count == 2 && fields[0] == fields[1])
    }

    @Test func standardInputIsDevNullOrInherited() throws {
        #expect(try output(of: "readlink /proc/$$/fd/0 > \"$OUT\"") == "/dev/null\n")
        let inherited = try output(of: "readlink /proc/$$/fd/0 > \"$OUT\"", standardInput: .inherit)
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/fd/0", &buffer, buffer.count - 1)
        let ours = count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        #expect(inherited == ours + "\n")
    }

    @Test func argumentsAndEnvironmentArePassedExactly() throws {
        let file = "\(directory)/args"
        let status = try runToCompletion(
            ["/bin/sh", "-c", "printf '%s|' \"$0\" \"$1\" \"$VALUE\" > \"$OUT\"", "zero", "one two", ],
            environment: ["OUT": file, "VALUE": "a=b c"])
        #expect(status == .exited(0))
        #expect(String(decoding: try Files.read(file), as: UTF8.self) == "zero|one two|a=b c|")
    }

    @Test func passedDescriptorsBecomeThreeAndFourInOrder() throws {
        var first: [Int32] = [0, 0], second: [Int32] = [0, 0]
        #expect(pipe(&first) == 0 && pipe(&second) == 0)
        defer { for fd in first + second where fd >= 0 { close(fd) } }
        for fd in first + second { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // Close-on-exec here, passed in the order second, first: the child's 3 is `second`, its
        // 4 is `first`, both open across exec.
        let script = "echo three >&3 && echo four >&4"
        let outcome = Spawn.start(arguments: ["/bin/sh", "-c", script], environment: ["PATH": "/usr/bin:/bin"],
                                  standardInput: .null, descriptors: [second[1], first[1]])
        #expect(outcome.error == nil)
        var raw: Int32 = 0
        while waitpid(try #require(outcome.pid), &raw, 0) < 0 && errno == EINTR {}
        #expect(TerminationStatus(waitStatus: raw) == .exited(0))
        close(first[1]); close(second[1])
        first[1] = -1; second[1] = -1
        #expect(readAll(second[0]) == "three\n")
        #expect(readAll(first[0]) == "four\n")
    }

    @Test func tooManyDescriptorsAreRefusedBeforeForking() {
        let outcome = Spawn.start(arguments: ["/bin/true"], environment: [:], standardInput: .null,
                                  descriptors: Array(repeating: 1, count: 17))
        #expect(outcome.pid == nil)
        #expect(outcome.error == SystemCallError("dup2", "", errno: EINVAL))
    }

    private func readAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
