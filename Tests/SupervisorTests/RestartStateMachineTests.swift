import SeededRandom
import Supervisor
import Testing

@Suite struct RestartStateMachineTests {
    let start = MonotonicInstant(sinceOrigin: .seconds(1000))

    @Test(arguments: [
        (RestartPolicy.always, TerminationStatus.exited(0), true),
        (.always, .exited(1), true),
        (.always, .signaled(9), true),
        (.onFailure, .exited(0), false),
        (.onFailure, .exited(2), true),
        (.onFailure, .signaled(15), true),
        (.never, .exited(0), false),
        (.never, .exited(1), false),
        (.never, .signaled(9), false),
    ])
    func policyDecidesWhetherAnExitRestarts(policy: RestartPolicy, status: TerminationStatus, restarts: Bool) {
        var machine = RestartStateMachine(policy: policy)
        var generator = SeededGenerator(seed: 1)
        machine.started(at: start)
        let action = machine.exited(status, at: start + .seconds(1), using: &generator)
        if restarts {
            guard case .restart(let delay, let count) = action else {
                Issue.record("expected a restart, got \(action)")
                return
            }
            #expect(count == 1)
            #expect(machine.state == .waiting(until: start + .seconds(1) + delay))
        } else {
            #expect(action == .finish)
            #expect(machine.state == .finished)
        }
        #expect(machine.lastStatus == status)
    }

    @Test func aCrashLoopCountsRestartsAndBacksOffExponentially() {
        var machine = RestartStateMachine(policy: .onFailure)
        var generator = SeededGenerator(seed: 3)
        var now = start
        var delays: [Duration] = []
        for expected in 1...10 {
            machine.started(at: now)
            now = now + .milliseconds(5)
            guard case .restart(let delay, let restarts) = machine.exited(.exited(1), at: now, using: &generator) else {
                Issue.record("no restart")
                return
            }
            #expect(restarts == expected)
            #expect(machine.restarts == expected)
            #expect(!machine.restartIsDue(at: now + delay - .nanoseconds(1)))
            #expect(machine.restartIsDue(at: now + delay))
            delays.append(delay)
            now = now + delay
        }
        for (earlier, later) in zip(delays, delays.dropFirst()) where later < .seconds(7) {
            #expect(later > earlier)
        }
        #expect(delays.last! <= .seconds(10))
        #expect(delays.last! >= .milliseconds(7500))
    }

    @Test(arguments: [(Duration.seconds(30), 1), (.seconds(31), 1), (.milliseconds(29_999), 4)])
    func aHealthyRunStartsANewLoop(ranFor: Duration, expectedRestarts: Int) {
        var machine = RestartStateMachine(policy: .always)
        var generator = SeededGenerator(seed: 5)
        var now = start
        for _ in 1...3 {
            machine.started(at: now)
            now = now + .milliseconds(1)
            _ = machine.exited(.exited(1), at: now, using: &generator)
            now = machine.nextStart!
        }
        #expect(machine.restarts == 3)
        machine.started(at: now)
        let action = machine.exited(.signaled(9), at: now + ranFor, using: &generator)
        guard case .restart(let delay, let restarts) = action else {
            Issue.record("no restart")
            return
        }
        #expect(restarts == expectedRestarts)
        #expect(delay <= Backoff.standard.baseDelay(restart: expectedRestarts))
    }

    @Test func stoppingARunningChildMeansTerminatingItWithoutRestart() {
        var machine = RestartStateMachine(policy: .always)
        var generator = SeededGenerator(seed: 9)
        machine.started(at: start)
        #expect(machine.stop() == .terminate)
        #expect(machine.state == .stopping)
        #expect(machine.isRunning)
        #expect(machine.exited(.signaled(15), at: start + .seconds(1), using: &generator) == .finish)
        #expect(machine.state == .finished)
        #expect(!machine.isRunning)
    }

    @Test func stoppingDuringBackoffCancelsTheRestart() {
        var machine = RestartStateMachine(policy: .always)
        var generator = SeededGenerator(seed: 11)
        machine.started(at: start)
        _ = machine.exited(.exited(1), at: start, using: &generator)
        #expect(machine.nextStart != nil)
        #expect(machine.stop() == .none)
        #expect(machine.nextStart == nil)
        #expect(!machine.restartIsDue(at: start + .seconds(3600)))
    }

    @Test func aFailedStartBacksOffLikeACrash() {
        var machine = RestartStateMachine(policy: .always)
        var generator = SeededGenerator(seed: 13)
        guard case .restart(_, let first) = machine.startFailed(at: start, using: &generator),
              case .restart(let delay, let second) = machine.startFailed(at: start + .seconds(1), using: &generator)
        else {
            Issue.record("no restart")
            return
        }
        #expect(first == 1 && second == 2)
        #expect(delay >= .milliseconds(150) && delay <= .milliseconds(200))

        var once = RestartStateMachine(policy: .never)
        #expect(once.startFailed(at: start, using: &generator) == .finish)
        #expect(once.state == .finished)
    }

    @Test func neverAStartWithoutADelay() {
        // Whatever happens, a restart waits at least the jittered initial delay: no busy loop.
        var generator = SeededGenerator(seed: 17)
        for policy in RestartPolicy.allCases {
            var machine = RestartStateMachine(policy: policy)
            var now = start
            for step in 0..<200 {
                machine.started(at: now)
                now = now + .milliseconds(Int64(step % 7) * 10_000)
                let status: TerminationStatus = step % 3 == 0 ? .exited(0) : .signaled(9)
                if case .restart(let delay, _) = machine.exited(status, at: now, using: &generator) {
                    #expect(delay >= .milliseconds(75))
                    now = now + delay
                }
            }
        }
    }
}
