import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import UDPOverTCP

@Suite("Giving closed connections' memory back")
struct FreedMemoryTests {
    /// A releaser on an embedded loop (time moves only when the test says) that counts trims.
    private func counting() -> (EmbeddedEventLoop, FreedMemoryReleaser, NIOLockedValueBox<Int>) {
        let loop = EmbeddedEventLoop()
        let trims = NIOLockedValueBox(0)
        let releaser = FreedMemoryReleaser(eventLoop: loop) { trims.withLockedValue { $0 += 1 } }
        return (loop, releaser, trims)
    }

    @Test("a burst of closes costs one trim, one delay after its first close")
    func burst() {
        let (loop, releaser, trims) = counting()
        for _ in 0..<1000 { releaser.connectionClosed() }
        loop.advanceTime(by: FreedMemoryReleaser.delay - .milliseconds(1))
        #expect(trims.withLockedValue { $0 } == 0)
        loop.advanceTime(by: .milliseconds(1))
        #expect(trims.withLockedValue { $0 } == 1)
        loop.advanceTime(by: .seconds(60))
        #expect(trims.withLockedValue { $0 } == 1, "no close, no trim")
    }

    @Test("a close after a trim gets a trim of its own")
    func later() {
        let (loop, releaser, trims) = counting()
        for round in 1...5 {
            releaser.connectionClosed()
            loop.advanceTime(by: .milliseconds(300))
            releaser.connectionClosed()
            loop.advanceTime(by: FreedMemoryReleaser.delay)
            #expect(trims.withLockedValue { $0 } == round)
        }
    }

    @Test("closes in a steady stream are trimmed at most once per delay")
    func steady() {
        let (loop, releaser, trims) = counting()
        for _ in 0..<100 {
            releaser.connectionClosed()
            loop.advanceTime(by: .milliseconds(100))
        }
        // A close every 100 ms for 10 s: one trim per second (the last at 10 s covers 9.0-9.9 s).
        #expect(trims.withLockedValue { $0 } == 10)
        loop.advanceTime(by: .seconds(10))
        #expect(trims.withLockedValue { $0 } == 10)
    }

    @Test("the connection limiter reports every accepted connection that closes, refused ones too")
    func limiterReportsCloses() throws {
        let (loop, releaser, trims) = counting()
        let limit = ConnectionLimit(maximum: 1)
        let server = EmbeddedChannel(handler: ConnectionLimiter(limit: limit, releaser: releaser), loop: loop)
        let kept = EmbeddedChannel(loop: loop)
        let refused = EmbeddedChannel(loop: loop)
        try server.writeInbound(kept as any Channel)
        try server.writeInbound(refused as any Channel)
        loop.run()
        #expect(!refused.isActive)
        loop.advanceTime(by: FreedMemoryReleaser.delay)
        #expect(trims.withLockedValue { $0 } == 1, "the refused connection's close")
        #expect(!limit.acquire(), "the kept connection holds the only slot")
        try kept.close().wait()
        loop.advanceTime(by: FreedMemoryReleaser.delay)
        #expect(trims.withLockedValue { $0 } == 2)
        #expect(limit.acquire(), "its slot is free again")
    }
}
