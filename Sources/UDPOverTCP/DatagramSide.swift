import NIOCore
import VPNLog

/// The UDP half of a forwarding session, the last handler of a datagram channel.
///
/// Datagrams read from UDP become frames written to the attached ``StreamSide`` (coalesced per
/// read burst); payloads the stream side decodes are sent as datagrams. Both halves live on the
/// same event loop and call each other directly. When the stream cannot take more, UDP reads
/// stop and the kernel's socket buffer absorbs (and, past its size, drops) the excess.
final class DatagramSide: ChannelDuplexHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// Where datagrams from the stream go.
    enum Destination {
        /// Always this address: tcp2udp's connected socket (never an open relay).
        case fixed(SocketAddress)
        /// Whoever sent the latest datagram: udp2tcp's local WireGuard.
        case lastSender
    }

    /// Frames are handed to the stream in chunks of about this many bytes.
    static let coalescingLimit = 48 << 10
    /// Payloads this large are written to the stream as they are, not copied into a chunk
    /// (an eighth of ``datagramSlotSize``, the read buffer they are slices of).
    static let passThroughMinimum = datagramSlotSize / 8

    private let destination: Destination
    /// The stream half, when one is attached and established.
    var stream: StreamSide? {
        didSet { if stream == nil { resumeReads() } }
    }
    /// udp2tcp's replaced streams that still deliver what arrives on them (a rotation's drain).
    var draining: [StreamSide] = []
    /// Called for each datagram read while no stream is attached (udp2tcp queues a few).
    var datagramWithoutStream: ((AddressedEnvelope<ByteBuffer>) -> Void)?
    /// Called when the channel closes.
    var closed: (() -> Void)?
    /// udp2tcp's local WireGuard: the sender of the latest datagram.
    var lastSender: SocketAddress?
    private var context: ChannelHandlerContext?
    private var outgoing: ByteBuffer?
    /// Payloads passed through to the stream and not flushed yet.
    private var streamFlushPending = false
    private var gate = ReadGate()
    private var flushPending = false
    /// Deliveries since the last flush. Backpressure counts bytes, so a burst of empty frames
    /// would otherwise queue without bound within one read cycle.
    private var unflushedDeliveries = 0
    static let deliveryBatch = 256
    /// Sends datagrams from the stream straight to the socket (tcp2udp's connected socket).
    var sender: DatagramSender?
    /// Datagrams queued in the channel and not written yet (only counted with a ``sender``).
    private var channelWrites = 0
    /// Datagrams from the stream with nowhere to go (no sender seen yet).
    private(set) var undeliverable = 0

    init(destination: Destination) {
        self.destination = destination
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        sender = nil
        stream = nil
        draining = []
        datagramWithoutStream = nil
        closed = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The descriptor is closed now; its number may soon belong to another socket.
        sender = nil
        closed?()
        context.fireChannelInactive()
    }

    // MARK: UDP -> stream

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        if case .lastSender = destination { lastSender = envelope.remoteAddress }
        guard stream != nil else {
            datagramWithoutStream?(envelope)
            return
        }
        appendFrame(envelope.data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        sendFrames()
        context.fireChannelReadComplete()
    }

    /// Frames `payload` into the pending chunk, handing the chunk over when it is big enough.
    ///
    /// The chunk is allocated for the frames it holds, no more (it grows as frames join it): a
    /// chunk is counted against the stream's water marks by its readable bytes, so room kept in
    /// it would be memory outside the bound. A payload of ``passThroughMinimum`` bytes or more is
    /// not copied: its header ends the chunk, and the payload follows as a write of its own (a
    /// slice of the UDP read buffer, which it fills at least one eighth of).
    func appendFrame(_ payload: ByteBuffer) {
        precondition(payload.readableBytes <= Framing.maximumFrameLength, "datagram of \(payload.readableBytes) bytes cannot be framed")
        let passedThrough = payload.readableBytes >= Self.passThroughMinimum
        if outgoing == nil {
            let capacity = Framing.headerLength + (passedThrough ? 0 : payload.readableBytes)
            outgoing = context?.channel.allocator.buffer(capacity: capacity) ?? ByteBuffer()
        }
        guard passedThrough, let stream else {
            Framing.appendFrame(payload, to: &outgoing!)
            if outgoing!.readableBytes >= Self.coalescingLimit { sendFrames() }
            return
        }
        outgoing!.writeInteger(UInt16(payload.readableBytes), endianness: .big)
        stream.write(outgoing.take()!, promise: nil)
        stream.write(payload, promise: nil)
        streamFlushPending = true
    }

    /// Hands the pending chunk to the stream and flushes what was written to it.
    func sendFrames() {
        guard let stream else { return }
        if let chunk = outgoing.take() {
            stream.send(chunk)
        } else if streamFlushPending {
            stream.flush()
        }
        streamFlushPending = false
    }

    // MARK: stream -> UDP

    /// Sends one payload decoded from the stream; ``flushDeliveries()`` sends the batch.
    func deliver(_ payload: ByteBuffer) {
        guard let context else { return }
        unflushedDeliveries += 1
        if unflushedDeliveries >= Self.deliveryBatch { flushDeliveries() }
        if let sender, channelWrites == 0 {
            if !sender.hasRoom(for: payload) { flushSender(sender, context: context) }
            if channelWrites == 0 {
                sender.append(payload)
                flushPending = true
                return
            }
        }
        write(payload, context: context)
    }

    /// Flushes the datagrams delivered since the last flush: one sendmmsg (with GSO where the
    /// direct ``sender`` is set), or NIO's batched write.
    func flushDeliveries() {
        unflushedDeliveries = 0
        guard flushPending, let context else { return }
        flushPending = false
        if let sender, !sender.isEmpty { flushSender(sender, context: context) }
        context.flush()
    }

    /// Sends the direct batch. What the socket cannot take now is queued in the channel, which
    /// then carries every datagram, keeping their order, until its queue has drained; meanwhile
    /// the channel's writability holds the stream's reads as before.
    private func flushSender(_ sender: DatagramSender, context: ChannelHandlerContext) {
        for payload in sender.flush() { write(payload, context: context) }
        context.flush()
    }

    /// Queues one datagram in the channel (NIO's write path).
    private func write(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        let target: SocketAddress
        switch destination {
        case .fixed(let address):
            target = address
        case .lastSender:
            guard let lastSender else {
                undeliverable += 1
                return
            }
            target = lastSender
        }
        flushPending = true
        guard sender != nil else {
            context.write(Self.wrapOutboundOut(AddressedEnvelope(remoteAddress: target, data: payload)), promise: nil)
            return
        }
        // Count the channel's queue so direct sends resume only once it is empty.
        channelWrites += 1
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { [weak self] _ in self?.channelWrites -= 1 }
        context.write(Self.wrapOutboundOut(AddressedEnvelope(remoteAddress: target, data: payload)), promise: promise)
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func close() {
        context?.close(promise: nil)
    }

    // MARK: backpressure

    func read(context: ChannelHandlerContext) {
        gate.read(context, peerWritable: stream?.isWritable ?? true)
    }

    /// The stream's write buffer drained: read UDP again.
    func resumeReads() {
        gate.resume(context, peerWritable: stream?.isWritable ?? true)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        stream?.resumeReads()
        for stream in draining { stream.resumeReads() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors (ECONNREFUSED while nothing listens on the forward port) are reported on
        // the next read or write of a connected UDP socket; the socket stays usable.
        Log.debug("UDP socket error", ("error", describe(error)))
    }
}
