import Supervisor
import SystemCalls
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Things the loop's callbacks write down for the test to check.
final class Recorder {
    var starts: [(child: StartedChild, at: MonotonicInstant)] = []
    var events: [String] = []
}

/// The supervisor loop with real child processes. It reaps only its own children, so these tests
/// run beside others in the same process; every run is bounded by a safety timer.
@Suite struct SupervisorLoopTests {
    let temporary = TemporaryDirectory(prefix: "supervisor-loop")
    var directory: String { temporary.path }
    let environment: [String: String]

    init() {
        environment = ["PATH": "/usr/bin:/bin", "DIR": temporary.path]
    }

    func makeSupervisor(grace: Duration = .seconds(5)) -> Supervisor {
        let supervisor = Supervisor(
            configuration: .init(shutdownGrace: grace, reaping: .supervisedOnly), signals: nil)
        // No test may hang: this ends the run with a code no test expects.
        supervisor.schedule(after: .seconds(60)) { supervisor.requestShutdown(reason: "test timeout", exitCode: 99) }
        return supervisor
    }

    func lines(_ name: String) -> [String] {
        guard let bytes = try? Files.read("\(directory)/\(name)") else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Calls `body` on the loop every 20 ms until it returns true.
    func poll(_ supervisor: Supervisor, until body: @escaping () -> Bool) {
        supervisor.schedule(after: .milliseconds(20)) {
            if !body() { poll(supervisor, until: body) }
        }
    }

    @Test func aCrashingChildIsRestartedWithGrowingDelays() {
        let supervisor = makeSupervisor()
        let recorder = Recorder()
        supervisor.start(ChildSpec(
            name: "crasher", arguments: ["/bin/sh", "-c", "exit 1"], environment: environment, restart: .onFailure,
            afterStart: { started in
                recorder.starts.append((started, .now()))
                if started.starts == 5 { supervisor.requestShutdown(reason: "enough restarts") }
            }))
        #expect(supervisor.run() == 0)
        #expect(recorder.starts.map(\.child.starts) == [1, 2, 3, 4, 5])
        #expect(Set(recorder.starts.map(\.child.pid)).count == 5)
        let times = recorder.starts.map(\.at)
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        guard gaps.count == 4 else { return }
        // A restart never comes before its jittered delay (75 % of 100, 200, 400, 800 ms) ...
        for (index, gap) in gaps.enumerated() {
            #expect(gap >= Backoff.standard.baseDelay(restart: index + 1) * 0.75, "gap \(index + 1): \(gap)")
        }
        // ... so the gaps grow (a loose check: the machine is noisy).
        #expect(gaps[3] > gaps[0])
        #expect(gaps[3] > gaps[1])
    }

    @Test func childrenStopInReverseStartOrder() {
        let supervisor = makeSupervisor()
        for name in ["first", "second", "third"] {
            let script = """
                trap 'echo \(name) >> "$DIR/stopped"; exit 0' TERM
                echo \(name) >> "$DIR/ready"
                while :; do sleep 0.05; done
                """
            supervisor.start(ChildSpec(
                name: name, arguments: ["/bin/sh", "-c", script], environment: environment, restart: .always))
        }
        poll(supervisor) {
            guard lines("ready").count == 3 else { return false }
            supervisor.requestShutdown(reason: "test")
            return true
        }
        #expect(supervisor.run() == 0)
        #expect(lines("stopped") == ["third", "second", "first"])
        #expect(supervisor.pid(of: "first") == nil)
    }

    @Test func aChildIgnoringSIGTERMIsKilledWhenTheGraceEnds() throws {
        let grace = Duration.milliseconds(300)
        let supervisor = makeSupervisor(grace: grace)
        let script = "trap '' TERM; echo up > \"$DIR/ready\"; while :; do sleep 0.05; done"
        supervisor.start(ChildSpec(
            name: "stubborn", arguments: ["/bin/sh", "-c", script], environment: environment, restart: .always))
        var group: pid_t = 0
        var shutdownAt = MonotonicInstant.now()
        poll(supervisor) {
            guard !lines("ready").isEmpty else { return false }
            group = supervisor.pid(of: "stubborn") ?? 0
            shutdownAt = .now()
            supervisor.requestShutdown(reason: "test", exitCode: 4)
            return true
        }
        #expect(supervisor.run() == 4)
        #expect(MonotonicInstant.now() - shutdownAt >= grace)
        // The shell was reaped, and the whole group got SIGKILL: the shell's sleep goes too (it
        // is reaped by whoever inherits it, so give that a moment).
        #expect(group > 0)
        var status: Int32 = 0
        #expect(waitpid(group, &status, WNOHANG) == -1 && errno == ECHILD)
        let deadline = MonotonicInstant.now() + .seconds(5)
        while kill(-group, 0) == 0 && MonotonicInstant.now() < deadline { usleep(10_000) }
        #expect(kill(-group, 0) == -1 && errno == ESRCH)
    }

    @Test func teardownsRunInReverseOrderAndAFailureDoesNotStopTheRest() {
        struct Failure: Error {}
        let supervisor = makeSupervisor()
        let recorder = Recorder()
        supervisor.addTeardown("interface") { recorder.events.append("interface") }
        supervisor.addTeardown("firewall") {
            recorder.events.append("firewall")
            throw Failure()
        }
        supervisor.addTeardown("routes") { recorder.events.append("routes") }
        supervisor.schedule(after: .milliseconds(10)) { supervisor.requestShutdown(reason: "test", exitCode: 5) }
        #expect(supervisor.run() == 5)
        #expect(recorder.events == ["routes", "firewall", "interface"])
    }

    @Test func teardownsRunAfterChildrenStopped() {
        let supervisor = makeSupervisor()
        let recorder = Recorder()
        supervisor.start(ChildSpec(
            name: "worker", arguments: ["/bin/sh", "-c", "while :; do sleep 0.05; done"], environment: environment,
            restart: .always))
        supervisor.addTeardown("check") {
            recorder.events.append(supervisor.pid(of: "worker") == nil ? "worker gone" : "worker running")
        }
        supervisor.schedule(after: .milliseconds(50)) { supervisor.requestShutdown(reason: "test") }
        #expect(supervisor.run() == 0)
        #expect(recorder.events == ["worker gone"])
    }

    @Test func aFailingAfterStartCallbackRestartsTheChild() {
        struct NotConfigured: Error {}
        let supervisor = makeSupervisor()
        let recorder = Recorder()
        supervisor.start(ChildSpec(
            name: "device", arguments: ["/bin/sh", "-c", "while :; do sleep 0.05; done"], environment: environment,
            restart: .onFailure,
            afterStart: { started in
                recorder.starts.append((started, .now()))
                if started.starts == 1 { throw NotConfigured() }
                supervisor.requestShutdown(reason: "configured")
            }))
        #expect(supervisor.run() == 0)
        #expect(recorder.starts.map(\.child.starts) == [1, 2])
    }

    @Test(arguments: [("exit 3", Int32(3)), ("exit 0", 0), ("kill -KILL $$", 137), ("kill -TERM $$", 143)])
    func theMainCommandsExitEndsTheRunWithItsStatus(script: String, code: Int32) {
        let supervisor = makeSupervisor()
        supervisor.startMain(arguments: ["/bin/sh", "-c", script], environment: environment)
        #expect(supervisor.run() == code)
    }

    @Test(arguments: [("/nonexistent/command", Int32(127)), ("plain-file", 126)])
    func aMainCommandThatCannotRunExitsLikeAShell(name: String, code: Int32) throws {
        let path = name.hasPrefix("/") ? name : "\(directory)/\(name)"
        if !name.hasPrefix("/") { try Files.writeAtomically(path, Array("exit 0\n".utf8), mode: 0o644) }
        let supervisor = makeSupervisor()
        supervisor.startMain(arguments: [path], environment: environment)
        #expect(supervisor.run() == code)
    }

    @Test(arguments: [(RestartPolicy.onFailure, "exit 0"), (.never, "exit 1")])
    func aChildThePolicyDoesNotRestartStaysStopped(policy: RestartPolicy, script: String) {
        let supervisor = makeSupervisor()
        supervisor.start(ChildSpec(
            name: "once", arguments: ["/bin/sh", "-c", "echo ran >> \"$DIR/runs\"; \(script)"],
            environment: environment, restart: policy))
        poll(supervisor) {
            guard supervisor.pid(of: "once") == nil, lines("runs").count == 1 else { return false }
            // Past the first restart delay (at most 100 ms), nothing was started again.
            supervisor.schedule(after: .milliseconds(400)) { supervisor.requestShutdown(reason: "test") }
            return true
        }
        #expect(supervisor.run() == 0)
        #expect(lines("runs") == ["ran"])
    }

    @Test func shutdownCancelsAPendingRestart() {
        let supervisor = makeSupervisor()
        let recorder = Recorder()
        supervisor.start(ChildSpec(
            name: "crasher", arguments: ["/bin/sh", "-c", "exit 1"], environment: environment, restart: .always,
            afterStart: { started in recorder.starts.append((started, .now())) }))
        poll(supervisor) {
            // Exited and waiting for its restart: stop now.
            guard supervisor.pid(of: "crasher") == nil else { return false }
            supervisor.requestShutdown(reason: "test")
            return true
        }
        #expect(supervisor.run() == 0)
        #expect(recorder.starts.count == 1)
    }
}
