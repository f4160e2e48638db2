import Supervisor
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct TerminationStatusTests {
    // Raw statuses as the kernel encodes them (wait(2)): exit code in bits 8-15; signal in bits
    // 0-6 with bit 7 for a core dump; 0x7f in the low byte for a stopped process.
    @Test(arguments: [
        (Int32(0), TerminationStatus.exited(0), Int32(0), "exit 0"),
        (3 << 8, .exited(3), 3, "exit 3"),
        (255 << 8, .exited(255), 255, "exit 255"),
        (9, .signaled(9), 137, "signal SIGKILL"),
        (15, .signaled(15), 143, "signal SIGTERM"),
        (0x80 | 11, .signaled(11), 139, "signal SIGSEGV"),
        (2, .signaled(2), 130, "signal SIGINT"),
        (34, .signaled(34), 162, "signal SIG34"),
    ])
    func decodesWaitStatuses(raw: Int32, status: TerminationStatus, shellCode: Int32, text: String) {
        #expect(TerminationStatus(waitStatus: raw) == status)
        #expect(status.shellCode == shellCode)
        #expect(status.description == text)
    }

    @Test(arguments: [Int32(0x137f), 0xffff])
    func stoppedOrContinuedIsNoExit(raw: Int32) {
        #expect(TerminationStatus(waitStatus: raw) == nil)
    }

    @Test func onlyExitZeroIsSuccess() {
        #expect(TerminationStatus.exited(0).isSuccess)
        #expect(!TerminationStatus.exited(1).isSuccess)
        #expect(!TerminationStatus.signaled(15).isSuccess)
    }

    // The same decoding on statuses from real processes.
    @Test(arguments: [
        ("exit 0", TerminationStatus.exited(0)),
        ("exit 3", .exited(3)),
        ("exit 255", .exited(255)),
        ("kill -KILL $$", .signaled(SIGKILL)),
        ("kill -TERM $$", .signaled(SIGTERM)),
        ("kill -USR1 $$", .signaled(SIGUSR1)),
    ])
    func decodesRealProcesses(script: String, expected: TerminationStatus) throws {
        let status = try runToCompletion(["/bin/sh", "-c", script])
        #expect(status == expected)
    }
}

/// Starts a program with `Spawn` and waits for exactly that process.
func runToCompletion(_ arguments: [String], environment: [String: String] = ["PATH": "/usr/bin:/bin"],
                     standardInput: StandardInput = .null) throws -> TerminationStatus? {
    let outcome = Spawn.start(arguments: arguments, environment: environment, standardInput: standardInput)
    let pid = try #require(outcome.pid)
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
    return TerminationStatus(waitStatus: raw)
}
