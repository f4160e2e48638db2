import NIOCore
import SeededRandom
import Testing
import UDPOverTCP

private let noJitter = ReconnectPolicy(
    initialDelay: .milliseconds(100), maximumDelay: .seconds(5), multiplier: 2, jitter: 0, healthyAfter: .seconds(10)
)
private let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

/// The timer an action arms, or nil.
private func timer(_ action: RotationStateMachine.Action) -> RotationStateMachine.Timer? {
    guard case .arm(let timer) = action else { return nil }
    return timer
}

@Suite("Rotation state machine")
struct RotationTests {
    @Test("the next connection opens a tenth of the lifetime early, at most a minute; drains last at most half of it", arguments: [
        // lifetime, open next after, drain after the first datagram, drain at most (milliseconds)
        (1_000, 900, 500, 500),
        (30_000, 27_000, 5_000, 15_000),
        (600_000, 540_000, 5_000, 300_000),
        (4 * 3_600_000, 4 * 3_600_000 - 60_000, 5_000, 600_000),
    ] as [(Int64, Int64, Int64, Int64)])
    func timing(lifetime: Int64, openNextAfter: Int64, drain: Int64, drainLimit: Int64) {
        let policy = RotationPolicy(lifetime: .milliseconds(lifetime))
        #expect(policy.openNextAfter == .milliseconds(openNextAfter))
        #expect(policy.drainTime == .milliseconds(drain))
        #expect(policy.drainLimit == .milliseconds(drainLimit))
    }

    @Test("established, timer, next established: switch over and arm again; old timers are ignored")
    func rotation() throws {
        var machine = RotationStateMachine(policy: RotationPolicy(lifetime: .seconds(1)), retryPolicy: noJitter)
        #expect(machine.timerFired(generation: 0) == .none, "nothing before a connection")
        let first = try #require(timer(machine.connectionEstablished(at: start)))
        #expect(first.delay == .milliseconds(900))
        #expect(machine.connectionEstablished(at: start) == .none, "only one connection is the tunnel's")
        #expect(machine.nextEstablished(at: start) == .none, "nothing is being opened")
        #expect(machine.timerFired(generation: first.generation) == .openNext)
        #expect(machine.state == .opening(since: start))
        #expect(machine.timerFired(generation: first.generation) == .none, "a timer fires once")
        let switched = machine.nextEstablished(at: start + .milliseconds(930))
        guard case .switchOver(let age, let next) = switched else {
            Issue.record("no switch-over: \(switched)")
            return
        }
        #expect(age == .milliseconds(930))
        #expect(next.delay == .milliseconds(900))
        #expect(next.generation != first.generation)
        #expect(machine.rotations == 1)
        #expect(machine.state == .waiting(since: start + .milliseconds(930)))
        #expect(machine.timerFired(generation: first.generation) == .none, "the old connection's timer")
        #expect(machine.timerFired(generation: next.generation) == .openNext)
    }

    @Test("a next connection that fails is retried with backoff; the age counts from the current connection")
    func failedNext() throws {
        var machine = RotationStateMachine(policy: RotationPolicy(lifetime: .seconds(60)), retryPolicy: noJitter)
        var random = SeededGenerator(seed: 1)
        let first = try #require(timer(machine.connectionEstablished(at: start)))
        #expect(first.delay == .seconds(54))
        #expect(machine.nextFailed(using: &random) == .none, "nothing is being opened")
        _ = machine.timerFired(generation: first.generation)
        var waits: [Int64] = []
        var generation = first.generation
        for _ in 0..<4 {
            let retry = try #require(timer(machine.nextFailed(using: &random)))
            #expect(machine.state == .backingOff(since: start))
            #expect(machine.timerFired(generation: generation) == .none, "the previous timer")
            waits.append(retry.delay.nanoseconds / 1_000_000)
            generation = retry.generation
            #expect(machine.timerFired(generation: generation) == .openNext)
        }
        #expect(waits == [100, 200, 400, 800])
        #expect(machine.failures == 4)
        guard case .switchOver(let age, _) = machine.nextEstablished(at: start + .seconds(56)) else {
            Issue.record("no switch-over")
            return
        }
        #expect(age == .seconds(56))
        #expect(machine.failures == 0)
    }

    @Test("losing the current connection ends the rotation; an attempt being opened is handed over")
    func lost() throws {
        var machine = RotationStateMachine(policy: RotationPolicy(lifetime: .seconds(10)), retryPolicy: noJitter)
        var random = SeededGenerator(seed: 2)
        let first = try #require(timer(machine.connectionEstablished(at: start)))
        #expect(machine.connectionLost() == false, "waiting: no attempt to hand over")
        #expect(machine.state == .inactive)
        #expect(machine.timerFired(generation: first.generation) == .none, "its timer is void")

        let second = try #require(timer(machine.connectionEstablished(at: start + .seconds(20))))
        _ = machine.timerFired(generation: second.generation)
        #expect(machine.connectionLost() == true, "opening: the attempt becomes the reconnection")
        #expect(machine.nextEstablished(at: start + .seconds(30)) == .none)
        #expect(machine.nextFailed(using: &random) == .none)

        let third = try #require(timer(machine.connectionEstablished(at: start + .seconds(40))))
        _ = machine.timerFired(generation: third.generation)
        let retry = try #require(timer(machine.nextFailed(using: &random)))
        #expect(machine.connectionLost() == false, "backing off: nothing is being opened")
        #expect(machine.timerFired(generation: retry.generation) == .none)
    }

    @Test("with handshakes shorter than the lead, every connection is replaced before the lifetime", arguments: [1, 2, 3] as [UInt64])
    func replacedInTime(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        for _ in 0..<50 {
            let lifetime = Int64.random(in: 1_000...20_000_000, using: &random)
            let policy = RotationPolicy(lifetime: .milliseconds(lifetime))
            var machine = RotationStateMachine(policy: policy, retryPolicy: noJitter)
            var now = start
            var pending = try #require(timer(machine.connectionEstablished(at: now)))
            for _ in 0..<5 {
                now = now + pending.delay
                #expect(machine.timerFired(generation: pending.generation) == .openNext)
                let lead = policy.lifetime - policy.openNextAfter
                now = now + .nanoseconds(Int64.random(in: 0..<lead.nanoseconds, using: &random))
                guard case .switchOver(let age, let next) = machine.nextEstablished(at: now) else {
                    Issue.record("no switch-over")
                    return
                }
                #expect(age < policy.lifetime)
                pending = next
            }
            #expect(machine.rotations == 5)
        }
    }
}
