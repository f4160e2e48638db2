import NIOCore

/// The udp-over-tcp wire format (Mullvad's): every datagram travels as a 2-byte big-endian
/// payload length followed by the payload, in both directions, with nothing else on the stream.
public enum Framing {
    /// Bytes in a frame header.
    public static let headerLength = 2
    /// The largest payload a header can describe.
    public static let maximumFrameLength = Int(UInt16.max)
    /// The largest UDP payload over IPv4: 65535 - 20 (IP header) - 8 (UDP header).
    public static let maximumIPv4Payload = 65_507
    /// The largest UDP payload over IPv6 without jumbograms: 65535 - 8 (UDP header).
    public static let maximumIPv6Payload = 65_527

    /// The largest datagram a UDP socket of this address family can send.
    public static func maximumPayload(for address: SocketAddress) -> Int {
        if case .v6 = address { return maximumIPv6Payload }
        return maximumIPv4Payload
    }

    /// Appends one frame (header and payload) for `payload` to `output`.
    ///
    /// - Precondition: `payload` is at most ``maximumFrameLength`` bytes, which every datagram a
    ///   UDP socket can deliver is.
    public static func appendFrame(_ payload: ByteBuffer, to output: inout ByteBuffer) {
        precondition(payload.readableBytes <= maximumFrameLength, "datagram of \(payload.readableBytes) bytes cannot be framed")
        output.writeInteger(UInt16(truncatingIfNeeded: payload.readableBytes), endianness: .big)
        output.writeImmutableBuffer(payload)
    }

    /// Removes the first complete frame from `buffer` and returns its payload (a slice, not a
    /// copy), or returns nil and leaves `buffer` untouched when the frame is not complete yet.
    ///
    /// - Throws: ``FrameError/tooLong(length:maximum:)`` when the header announces more than
    ///   `maximumPayload` bytes; the stream cannot be resynchronised after that.
    public static func nextFrame(from buffer: inout ByteBuffer, maximumPayload: Int) throws(FrameError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self) else { return nil }
        guard Int(length) <= maximumPayload else { throw FrameError.tooLong(length: Int(length), maximum: maximumPayload) }
        guard buffer.readableBytes >= headerLength + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: headerLength)
        return buffer.readSlice(length: Int(length))
    }
}

/// A stream that breaks the framing rules; the connection carrying it is closed.
public enum FrameError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A header announced a payload larger than a UDP datagram can carry.
    case tooLong(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case .tooLong(let length, let maximum):
            "frame of \(length) bytes is longer than the \(maximum) bytes a UDP datagram can carry"
        }
    }
}

/// Splits a TCP byte stream into datagram payloads (``Framing/nextFrame(from:maximumPayload:)``
/// behind NIO's `ByteToMessageHandler`).
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Frames announcing more than this many bytes are an error.
    public let maximumPayload: Int

    public init(maximumPayload: Int) {
        self.maximumPayload = maximumPayload
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let payload = try Framing.nextFrame(from: &buffer, maximumPayload: maximumPayload) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(payload))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at end of stream is simply dropped, as a lost datagram would be.
        try decode(context: context, buffer: &buffer)
    }
}

/// Splits a TCP byte stream into datagram payloads (the last handler of the wire format, in
/// place of a ``FrameDecoder`` behind NIO's `ByteToMessageHandler`), copying only what it must.
///
/// A frame wholly inside one read is passed on as a slice of that read's buffer. Only a frame
/// that spans reads is gathered, into a buffer of exactly its size, each of its bytes copied
/// once. (`ByteToMessageHandler` appends the whole of every read that follows a partial frame
/// to its cumulation buffer, which grows by realloc: with 64 KiB frames arriving in 64 KiB reads
/// that copied each byte 1.6 times, and its buffer grew to 128 KiB.) Memory per connection is one
/// partial frame at most. A header announcing more than `maximumPayload` is a
/// ``FrameError/tooLong(length:maximum:)``, fired as an error; nothing is read after it.
public final class FrameSplitter: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// Frames announcing more than this many bytes are an error.
    public let maximumPayload: Int
    /// The frame that spans reads: its bytes so far (the header's first byte, or the header and
    /// part of the payload).
    private var gathering: ByteBuffer?
    private var failed = false

    public init(maximumPayload: Int) {
        self.maximumPayload = maximumPayload
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        gathering = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var buffer = Self.unwrapInboundIn(data)
        do {
            if gathering != nil {
                guard let payload = try gather(from: &buffer) else { return }
                context.fireChannelRead(Self.wrapInboundOut(payload))
            }
            while let payload = try Framing.nextFrame(from: &buffer, maximumPayload: maximumPayload) {
                context.fireChannelRead(Self.wrapInboundOut(payload))
            }
            if buffer.readableBytes > 0 {
                let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self).map(Int.init) ?? 0
                var frame = ByteBufferAllocator().buffer(capacity: Self.capacity(forFrameOf: length, holding: buffer.readableBytes))
                frame.writeBuffer(&buffer)
                gathering = frame
            }
        } catch {
            failed = true
            gathering = nil
            context.fireErrorCaught(error)
        }
    }

    /// The room to give a frame of `length` payload bytes of which `received` bytes (header
    /// included) are here: the whole frame once an eighth of it has arrived, so a real frame is
    /// gathered without growing; until then only what arrived, so a connection that sends a
    /// header announcing 64 KiB and stops holds a few bytes, not 64 KiB.
    static func capacity(forFrameOf length: Int, holding received: Int) -> Int {
        let whole = Framing.headerLength + length
        return received >= whole / 8 ? whole : max(received, 64)
    }

    /// Moves bytes of `buffer` into the frame being gathered; returns its payload once complete.
    private func gather(from buffer: inout ByteBuffer) throws(FrameError) -> ByteBuffer? {
        guard var frame = gathering.take() else { return nil }
        if frame.readableBytes < Framing.headerLength, let byte = buffer.readInteger(as: UInt8.self) {
            frame.writeInteger(byte)
        }
        guard let length = frame.getInteger(at: frame.readerIndex, endianness: .big, as: UInt16.self).map(Int.init) else {
            gathering = frame
            return nil
        }
        guard length <= maximumPayload else { throw FrameError.tooLong(length: length, maximum: maximumPayload) }
        let missing = Framing.headerLength + length - frame.readableBytes
        let whole = Framing.headerLength + length
        if frame.capacity < whole, Self.capacity(forFrameOf: length, holding: frame.readableBytes + buffer.readableBytes) == whole {
            frame.reserveCapacity(whole)
        }
        if var part = buffer.readSlice(length: min(missing, buffer.readableBytes)) {
            frame.writeBuffer(&part)
        }
        guard frame.readableBytes == Framing.headerLength + length else {
            gathering = frame
            return nil
        }
        frame.moveReaderIndex(forwardBy: Framing.headerLength)
        return frame
    }
}
