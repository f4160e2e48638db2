import Supervisor
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProcessTableTests {
    @Test(arguments: [
        ("1234 (sleep) S 1 1234 1234 0 -1 4194304", Int32(1)),
        ("77 (a b) c) R 42 77 77 0", 42),
        ("9 ((sd-pam)) S 8 9 9 0", 8),
        ("5 (x) Z 4", 4),
        ("garbage", nil),
        ("5 (x) Z", nil),
    ])
    func parentIDIsTheFieldAfterTheState(line: String, parent: Int32?) {
        #expect(ProcessTable.parentID(statLine: line) == parent)
    }

    @Test func findsARunningChild() throws {
        let outcome = Spawn.start(arguments: ["/bin/sleep", "5"], environment: [:], standardInput: .null)
        let pid = try #require(outcome.pid)
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        #expect(ProcessTable.children(of: getpid()).contains(pid))
        #expect(!ProcessTable.children(of: 1).contains(pid))
    }
}
