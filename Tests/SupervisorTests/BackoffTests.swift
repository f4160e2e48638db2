import SeededRandom
import Supervisor
import Testing

@Suite struct BackoffTests {
    let backoff = Backoff.standard

    @Test(arguments: [
        (1, 100), (2, 200), (3, 400), (4, 800), (5, 1600), (6, 3200), (7, 6400), (8, 10000), (9, 10000), (1000, 10000),
    ])
    func baseDelayDoublesUpToTheCap(restart: Int, milliseconds: Int) {
        #expect(backoff.baseDelay(restart: restart) == .milliseconds(milliseconds))
    }

    @Test func restartZeroOrNegativeIsTheInitialDelay() {
        #expect(backoff.baseDelay(restart: 0) == .milliseconds(100))
        #expect(backoff.baseDelay(restart: -5) == .milliseconds(100))
    }

    @Test(arguments: [(0.0, 100), (0.5, 87.5), (0.999_999, 75.0)])
    func jitterTakesOffAFractionOfTheDelay(unitRandom: Double, milliseconds: Double) {
        let delay = backoff.delay(restart: 1, unitRandom: unitRandom)
        #expect(abs(delay.seconds * 1000 - milliseconds) < 0.001)
    }

    @Test func jitteredDelaysStayWithinBoundsAndKeepGrowing() {
        var generator = SeededGenerator(seed: 42)
        var seenLow = false, seenHigh = false
        for _ in 0..<2000 {
            var previous = Duration.zero
            for restart in 1...12 {
                let base = backoff.baseDelay(restart: restart)
                let delay = backoff.delay(restart: restart, using: &generator)
                #expect(delay <= base)
                #expect(delay >= base * 0.75 - .nanoseconds(1))
                #expect(delay >= .milliseconds(75))
                #expect(delay <= .seconds(10))
                // Below the cap, every delay is longer than the one before, whatever the draw.
                if base < backoff.maximumDelay { #expect(delay > previous) }
                previous = delay
                if delay < base * 0.8 { seenLow = true }
                if delay > base * 0.95 { seenHigh = true }
            }
        }
        // The draws spread over the whole jitter range.
        #expect(seenLow && seenHigh)
    }

    @Test func theSameSeedGivesTheSameDelays() {
        var first = SeededGenerator(seed: 7), second = SeededGenerator(seed: 7)
        let a = (1...10).map { backoff.delay(restart: $0, using: &first) }
        let b = (1...10).map { backoff.delay(restart: $0, using: &second) }
        #expect(a == b)
    }

    @Test(arguments: [(Duration.milliseconds(150), "150ms"), (.zero, "0ms"), (.milliseconds(1600), "1.6s"),
                      (.seconds(10), "10s"), (.milliseconds(999), "999ms"), (.milliseconds(1049), "1s")])
    func durationsReadShortInLogs(duration: Duration, text: String) {
        #expect(DurationText.format(duration) == text)
    }
}
