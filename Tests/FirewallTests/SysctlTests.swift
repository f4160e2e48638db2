#if canImport(Glibc)
import Glibc
#endif
import Firewall
import FirewallRules
import SystemCalls
import Testing

/// Sysctls: written only when they differ, and a read-only /proc/sys explained with the compose
/// line that fixes it.
@Suite struct SysctlTests {
    /// Settings in memory; writes fail with `writeErrno` when set.
    final class FakeSysctls: SysctlAccess {
        var values: [String: String]
        var writeErrno: Int32?
        private(set) var writes: [Sysctl] = []

        init(_ values: [String: String], writeErrno: Int32? = nil) {
            self.values = values
            self.writeErrno = writeErrno
        }

        func read(_ sysctl: Sysctl) throws(SystemCallError) -> String {
            guard let value = values[sysctl.name] else { throw SystemCallError("open", sysctl.path(root: "/proc/sys"), errno: ENOENT) }
            return value
        }

        func write(_ sysctl: Sysctl) throws(SystemCallError) {
            if let writeErrno { throw SystemCallError("open", sysctl.path(root: "/proc/sys"), errno: writeErrno) }
            writes.append(sysctl)
            values[sysctl.name] = sysctl.value
        }
    }

    @Test(arguments: [
        (false, false, ["net.ipv4.ip_forward=1"]),
        (false, true, ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.src_valid_mark=1"]),
        (true, false, ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]),
        (true, true, ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.src_valid_mark=1", "net.ipv6.conf.all.forwarding=1"]),
    ])
    func forwardingSettings(_ ipv6: Bool, _ fwmark: Bool, _ expected: [String]) {
        #expect(Sysctl.forwarding(ipv6: ipv6, fwmark: fwmark).map(\.description) == expected)
    }

    @Test func writesOnlyWhatDiffers() throws {
        let fake = FakeSysctls(["net.ipv4.ip_forward": "0", "net.ipv4.conf.all.src_valid_mark": "1"])
        let written = try Sysctls.apply(Sysctl.forwarding(ipv6: false, fwmark: true), using: fake)
        #expect(written == [.ipv4Forwarding])
        #expect(fake.writes == [.ipv4Forwarding])
        #expect(try Sysctls.apply(Sysctl.forwarding(ipv6: false, fwmark: true), using: fake).isEmpty)
    }

    @Test func readOnlyNeedsNoWriteWhenAlreadyRight() throws {
        let fake = FakeSysctls(["net.ipv4.ip_forward": "1"], writeErrno: EROFS)
        #expect(try Sysctls.apply([.ipv4Forwarding], using: fake).isEmpty)
    }

    @Test func readOnlyProcSysNamesTheComposeLine() {
        let fake = FakeSysctls(["net.ipv4.ip_forward": "0", "net.ipv4.conf.all.src_valid_mark": "1", "net.ipv6.conf.all.forwarding": "0"],
                               writeErrno: EROFS)
        do {
            try Sysctls.apply(Sysctl.forwarding(ipv6: true, fwmark: true), using: fake)
            Issue.record("a read-only /proc/sys should fail")
        } catch {
            #expect(error.sysctls == [.ipv4Forwarding, .ipv6Forwarding])
            #expect(error.isReadOnly)
            #expect(error.composeLine == #"sysctls: ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]"#)
            #expect(error.description == """
                cannot set net.ipv4.ip_forward=1, net.ipv6.conf.all.forwarding=1: open /proc/sys/net/ipv4/ip_forward: \
                Read-only file system (EROFS); /proc/sys is read-only in this container: add \
                sysctls: ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"] to its compose service
                """)
        }
    }

    @Test func missingSettingIsReportedWithoutTheHint() {
        let fake = FakeSysctls(["net.ipv4.ip_forward": "1"])
        #expect(throws: SysctlError(sysctls: [.ipv6Forwarding],
                                    cause: SystemCallError("open", "/proc/sys/net/ipv6/conf/all/forwarding", errno: ENOENT))) {
            try Sysctls.apply([.ipv4Forwarding, .ipv6Forwarding], using: fake)
        }
        let error = SysctlError(sysctls: [.ipv6Forwarding], cause: SystemCallError("open", "/x", errno: ENOENT))
        #expect(!error.description.contains("sysctls:"))
    }

    @Test func procFilesAreReadTrimmedAndWritten() throws {
        var template = Array("/tmp/sysctl-test-XXXXXX".utf8CString)
        let root = String(cString: try #require(mkdtemp(&template)))
        defer { _ = system("rm -rf '\(root)'") }
        let access = ProcSysctl(root: root)
        let sysctl = Sysctl.ipv4Forwarding
        #expect(sysctl.path(root: root) == "\(root)/net/ipv4/ip_forward")
        try Files.makeDirectories("\(root)/net/ipv4", mode: 0o755)
        try Files.writeAtomically(sysctl.path(root: root), Array("0\n".utf8), mode: 0o644)
        #expect(try access.read(sysctl) == "0")
        #expect(try Sysctls.apply([sysctl], using: access) == [sysctl])
        #expect(try Files.read(sysctl.path(root: root)) == Array("1\n".utf8))
        #expect(try access.read(sysctl) == "1")
        #expect(throws: SystemCallError("open", "\(root)/net/ipv6/conf/all/forwarding", errno: ENOENT)) {
            try access.write(.ipv6Forwarding)
        }
    }
}
