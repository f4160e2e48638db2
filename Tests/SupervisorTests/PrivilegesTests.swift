import Supervisor
import SystemCalls
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Spawning with `Privileges`: the child's own view of its credentials (/proc/self/status).
/// Dropping them needs root; without root only the reporting of a refused drop is tested.
@Suite struct PrivilegesTests {
    static let isRoot = getuid() == 0
    static let helper = Privileges.User(uid: 65533, gid: 65533)

    /// The credential lines of /proc/self/status as a program started with `privileges` sees
    /// them, by name (`Uid` -> `65533 65533 65533 65533`); the program writes them to a pipe
    /// passed as descriptor 3, since it may not be allowed to open a file of ours.
    func status(with privileges: Privileges) throws -> [String: String] {
        var pipe: [Int32] = [0, 0]
        #expect(Glibc.pipe(&pipe) == 0)
        for fd in pipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(pipe[0]) }
        let script = #"exec grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status >&3"#
        let outcome = Spawn.start(arguments: ["/bin/sh", "-c", script], environment: ["PATH": "/usr/bin:/bin"],
                                  standardInput: .null, descriptors: [pipe[1]], privileges: privileges)
        close(pipe[1])
        #expect(outcome.error == nil)
        var raw: Int32 = 0
        while waitpid(try #require(outcome.pid), &raw, 0) < 0 && errno == EINTR {}
        #expect(TerminationStatus(waitStatus: raw) == .exited(0))
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while case let count = read(pipe[0], &chunk, chunk.count), count > 0 { bytes += chunk[0..<count] }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].split(whereSeparator: { $0 == "\t" || $0 == " " }).joined(separator: " ")
            fields[String(line[..<colon])] = value
        }
        return fields
    }

    @Test(.enabled(if: isRoot)) func anUnprivilegedChildHasNoCapabilitiesAndCannotGainAny() throws {
        let fields = try status(with: .unprivileged(as: Self.helper))
        #expect(fields["Uid"] == "65533 65533 65533 65533")
        #expect(fields["Gid"] == "65533 65533 65533 65533")
        #expect(fields["Groups"] == "")
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(fields[set] == "0000000000000000", "\(set)")
        }
        #expect(fields["NoNewPrivs"] == "1")
    }

    @Test(.enabled(if: isRoot)) func aKeptCapabilityIsAmbientAndTheOnlyOne() throws {
        let fields = try status(with: .unprivileged(as: Self.helper, keeping: [.netAdmin]))
        #expect(fields["Uid"] == "65533 65533 65533 65533")
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(fields[set] == "0000000000001000", "\(set)")  // bit 12
        }
        let two = try status(with: .unprivileged(as: Self.helper, keeping: [.netAdmin, .netBindService]))
        #expect(two["CapEff"] == "0000000000001400")
        #expect(two["CapAmb"] == "0000000000001400")
    }

    @Test(.enabled(if: isRoot)) func rootCanKeepItsUserWithFewerCapabilities() throws {
        let fields = try status(with: Privileges(noNewPrivileges: true, capabilities: [.netAdmin]))
        #expect(fields["Uid"] == "0 0 0 0")
        for set in ["CapPrm", "CapEff", "CapBnd"] {
            #expect(fields[set] == "0000000000001000", "\(set)")
        }
        #expect(fields["NoNewPrivs"] == "1")
    }

    @Test func noNewPrivilegesAloneChangesNothingElse() throws {
        let ours = try status(with: .unchanged)
        let fields = try status(with: Privileges(noNewPrivileges: true))
        #expect(ours["NoNewPrivs"] == "0")
        #expect(fields["NoNewPrivs"] == "1")
        for name in ["Uid", "Gid", "CapPrm", "CapEff", "CapBnd"] {
            #expect(fields[name] == ours[name], "\(name)")
        }
    }

    @Test(.enabled(if: !isRoot)) func aRefusedDropIsReportedAndTheProgramNeverRuns() throws {
        let marker = "/tmp/privileges-test-\(getpid())-ran"
        let outcome = Spawn.start(arguments: ["/bin/sh", "-c", "touch \(marker)"], environment: ["PATH": "/usr/bin:/bin"],
                                  standardInput: .null, privileges: .unprivileged(as: Self.helper))
        let error = try #require(outcome.error)
        #expect(error.systemCall == "setgroups")
        #expect(error.errno == EPERM)
        var raw: Int32 = 0
        while waitpid(try #require(outcome.pid), &raw, 0) < 0 && errno == EINTR {}
        #expect(TerminationStatus(waitStatus: raw) == .exited(126))
        #expect(access(marker, F_OK) != 0)
    }
}
