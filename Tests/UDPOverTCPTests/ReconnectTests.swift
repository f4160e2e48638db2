import NIOCore
import SeededRandom
import Testing
import UDPOverTCP

private let noJitter = ReconnectPolicy(
    initialDelay: .milliseconds(100), maximumDelay: .seconds(5), multiplier: 2, jitter: 0, healthyAfter: .seconds(10)
)
private let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

private func milliseconds(_ action: ReconnectStateMachine.Action) -> Int64? {
    guard case .retry(let delay) = action else { return nil }
    return delay.nanoseconds / 1_000_000
}

/// A machine without jitter that is connected since `start`, and its random source.
private func connectedMachine(seed: UInt64) -> (ReconnectStateMachine, SeededGenerator) {
    var machine = ReconnectStateMachine(policy: noJitter)
    _ = machine.start()
    _ = machine.connectionEstablished(at: start)
    return (machine, SeededGenerator(seed: seed))
}

@Suite("Reconnect state machine")
struct ReconnectTests {
    @Test("nominal delays double from 100 ms and stop at 5 s")
    func growthAndCap() {
        let delays = (1...12).map { noJitter.nominalDelay(failures: $0).nanoseconds / 1_000_000 }
        #expect(delays == [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000, 5000])
        #expect(noJitter.nominalDelay(failures: 10_000) == .seconds(5), "no overflow")
    }

    @Test("failed attempts back off, each retry reconnects")
    func failedAttempts() {
        var machine = ReconnectStateMachine(policy: noJitter)
        var random = SeededGenerator(seed: 1)
        #expect(machine.start() == .connect)
        #expect(machine.start() == .none, "start twice does nothing")
        var waits: [Int64] = []
        for _ in 0..<8 {
            waits.append(milliseconds(machine.connectionLost(at: start, using: &random)) ?? -1)
            #expect(machine.state == .waiting)
            #expect(machine.retryTimerFired() == .connect)
            #expect(machine.state == .connecting)
        }
        #expect(waits == [100, 200, 400, 800, 1600, 3200, 5000, 5000])
    }

    @Test("a connection that stayed up for the healthy period resets the backoff")
    func resetAfterHealthy() {
        var machine = ReconnectStateMachine(policy: noJitter)
        var random = SeededGenerator(seed: 2)
        _ = machine.start()
        for _ in 0..<5 {
            _ = machine.connectionLost(at: start, using: &random)
            _ = machine.retryTimerFired()
        }
        #expect(machine.failures == 5)
        #expect(machine.connectionEstablished(at: start) == .none)
        #expect(machine.state == .connected(since: start))
        #expect(machine.connectionLost(at: start + .seconds(10), using: &random) == .connect, "at once")
        #expect(machine.failures == 0)
        let failed = machine.connectionLost(at: start + .seconds(10), using: &random)
        #expect(milliseconds(failed) == 100, "the backoff starts over")
        #expect(machine.failures == 1)
    }

    @Test("losing an established connection retries at once, then failed attempts back off")
    func immediateRetryAfterCut() {
        var (machine, random) = connectedMachine(seed: 5)
        // The gateway's idle cut (10 min) or age cut (5 h).
        #expect(machine.connectionLost(at: start + .seconds(600), using: &random) == .connect)
        #expect(machine.state == .connecting)
        var waits: [Int64] = []
        for _ in 0..<4 {
            waits.append(milliseconds(machine.connectionLost(at: start + .seconds(600), using: &random)) ?? -1)
            #expect(machine.retryTimerFired() == .connect)
        }
        #expect(waits == [100, 200, 400, 800])
        // Up again, and cut again after another long while: at once again.
        _ = machine.connectionEstablished(at: start + .seconds(700))
        #expect(machine.connectionLost(at: start + .seconds(18_700), using: &random) == .connect)
    }

    @Test("a connection cut soon after it is established retries at once the first time only")
    func flappingBacksOff() {
        var (machine, random) = connectedMachine(seed: 3)
        #expect(machine.connectionLost(at: start + .milliseconds(9_999), using: &random) == .connect, "first cut: at once")
        var waits: [Int64] = []
        for round in 1...4 {
            let established = start + .seconds(Int64(round) * 20)
            _ = machine.connectionEstablished(at: established)
            // A gateway that accepts, then drops at once, each time.
            waits.append(milliseconds(machine.connectionLost(at: established + .seconds(1), using: &random)) ?? -1)
            _ = machine.retryTimerFired()
        }
        #expect(waits == [100, 200, 400, 800])
        // A connection that stays up for the healthy period earns the immediate retry back.
        _ = machine.connectionEstablished(at: start + .seconds(200))
        #expect(machine.connectionLost(at: start + .seconds(210), using: &random) == .connect)
    }

    @Test("an attempt already under way (a rotation's next connection) becomes the retry")
    func attemptUnderWay() {
        var (machine, random) = connectedMachine(seed: 6)
        #expect(machine.connectionLost(at: start + .seconds(3600), attemptUnderWay: true, using: &random) == .none)
        #expect(machine.state == .connecting)
        #expect(machine.retryTimerFired() == .none, "no timer is involved")
        // That attempt fails: the usual backoff.
        #expect(milliseconds(machine.connectionLost(at: start + .seconds(3600), using: &random)) == 100)
        #expect(machine.retryTimerFired() == .connect)
        #expect(machine.connectionEstablished(at: start + .seconds(3601)) == .none)
        #expect(machine.state == .connected(since: start + .seconds(3601)))
    }

    @Test("jitter takes at most its fraction off and never exceeds the cap", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func jitterBounds(seed: UInt64) {
        var machine = ReconnectStateMachine(policy: .standard)
        var random = SeededGenerator(seed: seed)
        _ = machine.start()
        for failures in 1...10 {
            let nominal = ReconnectPolicy.standard.nominalDelay(failures: failures).nanoseconds
            guard case .retry(let delay) = machine.connectionLost(at: start, using: &random) else {
                Issue.record("no retry")
                return
            }
            #expect(delay.nanoseconds <= nominal)
            #expect(delay.nanoseconds >= nominal - nominal / 5 - 1)
            #expect(delay <= .seconds(5))
            _ = machine.retryTimerFired()
        }
    }

    @Test("jittered delays vary across a seeded run")
    func jitterVaries() {
        var random = SeededGenerator(seed: 42)
        var seen = Set<Int64>()
        for _ in 0..<20 {
            var machine = ReconnectStateMachine(policy: .standard)
            _ = machine.start()
            if case .retry(let delay) = machine.connectionLost(at: start, using: &random) { seen.insert(delay.nanoseconds) }
        }
        #expect(seen.count > 10)
    }

    @Test("events out of order are ignored; stop is final")
    func outOfOrder() {
        var machine = ReconnectStateMachine(policy: noJitter)
        var random = SeededGenerator(seed: 4)
        #expect(machine.retryTimerFired() == .none, "timer before start")
        #expect(machine.connectionLost(at: start, using: &random) == .none, "loss before start")
        _ = machine.start()
        #expect(machine.retryTimerFired() == .none, "timer while connecting")
        _ = machine.connectionLost(at: start, using: &random)
        #expect(machine.connectionLost(at: start, using: &random) == .none, "double loss")
        machine.stop()
        #expect(machine.retryTimerFired() == .none)
        #expect(machine.start() == .none)
        #expect(machine.state == .stopped)
    }
}
