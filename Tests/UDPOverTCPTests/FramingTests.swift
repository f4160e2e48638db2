import NIOCore
import NIOEmbedded
import SeededRandom
import Testing
import UDPOverTCP
@testable import UDPOverTCPWire

private func randomPayloads(count: Int, maximumLength: Int, using random: inout SeededGenerator) -> [[UInt8]] {
    (0..<count).map { _ in
        let length = Int.random(in: 0...maximumLength, using: &random)
        return (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
    }
}

private func encode(_ payloads: [[UInt8]]) -> ByteBuffer {
    var stream = ByteBuffer()
    for payload in payloads { Framing.appendFrame(ByteBuffer(bytes: payload), to: &stream) }
    return stream
}

/// Feeds `chunks` into a cumulation buffer the way NIO's ByteToMessageHandler does and
/// collects every decoded payload.
private func decode(chunks: [ByteBuffer], maximumPayload: Int = Framing.maximumFrameLength) throws -> [[UInt8]] {
    var cumulation = ByteBuffer()
    var decoded: [[UInt8]] = []
    for var chunk in chunks {
        cumulation.writeBuffer(&chunk)
        while let payload = try Framing.nextFrame(from: &cumulation, maximumPayload: maximumPayload) {
            decoded.append(Array(payload.readableBytesView))
        }
    }
    #expect(cumulation.readableBytes == 0, "bytes left over after the last frame")
    return decoded
}

@Suite("Framing")
struct FramingTests {
    @Test("encoding is a 2-byte big-endian length then the payload")
    func wireFormat() {
        var stream = ByteBuffer()
        Framing.appendFrame(ByteBuffer(bytes: [0xAA, 0xBB, 0xCC]), to: &stream)
        Framing.appendFrame(ByteBuffer(), to: &stream)
        #expect(Array(stream.readableBytesView) == [0x00, 0x03, 0xAA, 0xBB, 0xCC, 0x00, 0x00])
    }

    @Test("a stream split at every byte offset decodes to the same datagrams")
    func splitAtEveryOffset() throws {
        var random = SeededGenerator(seed: 0x5eed)
        let payloads = randomPayloads(count: 12, maximumLength: 40, using: &random) + [[], [1], []]
        let stream = encode(payloads)
        for offset in 0...stream.readableBytes {
            let first = stream.getSlice(at: 0, length: offset)!
            let second = stream.getSlice(at: offset, length: stream.readableBytes - offset)!
            #expect(try decode(chunks: [first, second]) == payloads, "split at \(offset)")
        }
    }

    @Test("a stream fed one byte at a time decodes to the same datagrams", arguments: [1, 2, 3, 7])
    func tinyChunks(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let payloads = randomPayloads(count: 20, maximumLength: 300, using: &random)
        let stream = encode(payloads)
        var chunks: [ByteBuffer] = []
        var offset = 0
        while offset < stream.readableBytes {
            let length = min(Int.random(in: 1...5, using: &random), stream.readableBytes - offset)
            chunks.append(stream.getSlice(at: offset, length: length)!)
            offset += length
        }
        #expect(try decode(chunks: chunks) == payloads)
    }

    @Test("zero-length and 65535-byte frames round-trip", arguments: [0, 1, 1400, 65_507, 65_535])
    func extremeLengths(length: Int) throws {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let stream = encode([payload, payload])
        #expect(try decode(chunks: [stream]) == [payload, payload])
    }

    @Test("an incomplete frame leaves the buffer untouched")
    func incomplete() throws {
        var buffer = ByteBuffer(bytes: [0x00, 0x05, 1, 2, 3])
        #expect(try Framing.nextFrame(from: &buffer, maximumPayload: 100) == nil)
        #expect(buffer.readableBytes == 5)
        var header = ByteBuffer(bytes: [0x00])
        #expect(try Framing.nextFrame(from: &header, maximumPayload: 100) == nil)
        #expect(header.readableBytes == 1)
    }

    @Test("a frame longer than a UDP datagram can carry is an error", arguments: [
        (Framing.maximumIPv4Payload, 65_508), (Framing.maximumIPv4Payload, 65_535), (Framing.maximumIPv6Payload, 65_528), (1400, 1401),
    ])
    func overLong(maximum: Int, length: Int) {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt16(length), endianness: .big)
        #expect(throws: FrameError.tooLong(length: length, maximum: maximum)) {
            try Framing.nextFrame(from: &buffer, maximumPayload: maximum)
        }
    }

    @Test("the NIO decoder emits each datagram and fails the channel on an over-long frame")
    func decoderInPipeline() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumPayload: Framing.maximumIPv4Payload)))
        let payloads: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 9, count: 1400)]
        var stream = encode(payloads)
        while stream.readableBytes > 0 {
            let piece = stream.readSlice(length: min(7, stream.readableBytes))!
            try channel.writeInbound(piece)
        }
        var received: [[UInt8]] = []
        while let payload = try channel.readInbound(as: ByteBuffer.self) { received.append(Array(payload.readableBytesView)) }
        #expect(received == payloads)

        var bad = ByteBuffer()
        bad.writeInteger(UInt16(0xFFFF), endianness: .big)
        #expect(throws: FrameError.tooLong(length: 65_535, maximum: Framing.maximumIPv4Payload)) { try channel.writeInbound(bad) }
        _ = try? channel.finish()
    }

    @Test(
        "the frame splitter passes every payload on intact, however the stream is cut into reads",
        arguments: [(1400, 7), (16_000, 65_536), (32_768, 4096), (48_000, 65_536), (65_507, 65_536), (65_507, 16_384), (65_507, 1)]
    )
    func splitter(size: Int, maximumRead: Int) throws {
        var random = SeededGenerator(seed: UInt64(size &* 31 &+ maximumRead))
        let splitter = FrameSplitter(maximumPayload: Framing.maximumIPv4Payload)
        let channel = EmbeddedChannel(handler: splitter)
        // Jumbo payloads with small ones between them; a one-byte read limit splits every header.
        let count = maximumRead == 1 ? 3 : 12
        let payloads: [[UInt8]] = (0..<count).map { index in
            let length = index % 3 == 2 ? Int.random(in: 0...64, using: &random) : size
            return (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        var stream = encode(payloads)
        while stream.readableBytes > 0 {
            let length = Int.random(in: 1...maximumRead, using: &random)
            try channel.writeInbound(stream.readSlice(length: min(length, stream.readableBytes))!)
        }
        var received: [[UInt8]] = []
        while let payload = try channel.readInbound(as: ByteBuffer.self) { received.append(Array(payload.readableBytesView)) }
        #expect(received == payloads)
        _ = try channel.finish()
    }

    @Test("the frame splitter fails on an over-long header, split or not, and reads nothing after it")
    func splitterOverLong() throws {
        for cut in [0, 1] {  // the header whole in the second read, or split across both
            let channel = EmbeddedChannel(handler: FrameSplitter(maximumPayload: Framing.maximumIPv4Payload))
            var stream = encode([[7, 7]])
            stream.writeBytes([0xFF, 0xE4, 1, 2, 3])  // 65,508: one past the IPv4 limit
            try channel.writeInbound(stream.readSlice(length: 4 + cut)!)
            #expect(throws: FrameError.tooLong(length: 65_508, maximum: Framing.maximumIPv4Payload)) {
                try channel.writeInbound(stream.readSlice(length: stream.readableBytes)!)
                try channel.throwIfErrorCaught()
            }
            #expect(try channel.readInbound(as: ByteBuffer.self).map { Array($0.readableBytesView) } == [7, 7])
            try channel.writeInbound(encode([[1]]))
            #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
            _ = try? channel.finish()
        }
    }

    @Test("the largest payload follows the address family")
    func maximumPayload() throws {
        #expect(Framing.maximumPayload(for: try SocketAddress(ipAddress: "127.0.0.1", port: 1)) == 65_507)
        #expect(Framing.maximumPayload(for: try SocketAddress(ipAddress: "::1", port: 1)) == 65_527)
    }
}

/// The room FrameSplitter gives a frame that spans reads: the whole frame only once an eighth of
/// it has arrived, so a header announcing 64 KiB followed by silence holds a few bytes.
@Suite struct FrameSplitterCapacityTests {
    @Test(arguments: [
        (65_000, 3, 64), (65_000, 5_000, 5_000), (65_000, 8_124, 8_124), (65_000, 8_125, 65_002),
        (1_400, 2, 64), (1_400, 174, 174), (1_400, 175, 1_402), (100, 2, 64), (100, 13, 102),
    ])
    func capacity(_ length: Int, _ received: Int, _ expected: Int) {
        #expect(FrameSplitter.capacity(forFrameOf: length, holding: received) == expected)
    }

    /// A frame whose first read held only its header and a byte is still delivered whole.
    @Test func aFrameStartedSmallGrowsToItsSize() throws {
        let channel = EmbeddedChannel(handler: FrameSplitter(maximumPayload: 65_507))
        let payload = (0..<40_000).map { UInt8(truncatingIfNeeded: $0) }
        var frame = ByteBuffer()
        frame.writeInteger(UInt16(payload.count))
        frame.writeBytes(payload)
        for cut in [3, 5_000, 20_000, frame.readableBytes] {
            let part = frame.readSlice(length: cut - (40_002 - frame.readableBytes))!
            try channel.writeInbound(part)
        }
        let received = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(Array(received.readableBytesView) == payload)
        _ = try channel.finish()
    }
}
