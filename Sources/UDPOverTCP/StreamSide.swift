import NIOCore
import NIOTLS

/// The TCP half of a forwarding session, the last handler of a stream channel (after TLS, the
/// PROXY header reader, the ``FrameSplitter`` and the idle timer).
///
/// Decoded payloads go to the attached ``DatagramSide``; frame chunks from it are written to
/// the stream. While the UDP socket cannot take more, TCP reads stop, so TCP flow control
/// slows the sender down instead of a queue growing here.
final class StreamSide: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The UDP half, when attached.
    var datagram: DatagramSide? {
        didSet { if datagram == nil { resumeReads() } }
    }
    /// Called once the tunnel is usable: at connect, or after the TLS handshake.
    var established: ((StreamSide) -> Void)?
    /// Called when the connection closes, with the reason when it was not a clean EOF.
    var closed: ((StreamSide, String?) -> Void)?
    /// Called when a PROXY header names the real client.
    var proxyHeader: ((StreamSide, ProxyHeader) -> Void)?
    /// Called once, for the first datagram decoded (udp2tcp: the far side answers through this
    /// connection now).
    var firstDatagram: ((StreamSide) -> Void)?

    /// Milestones still missing before the tunnel is established (TLS handshake, PROXY header).
    private var milestonesPending: Int
    private var isActive = false
    private let establishTimeout: TimeAmount?
    private var context: ChannelHandlerContext?
    private var gate = ReadGate()
    private var closeReason: String?
    private var establishTimer: Scheduled<Void>?
    private(set) var isEstablished = false
    /// Datagrams decoded from the stream.
    private(set) var datagramsReceived = 0
    /// Chunks of frames written to the stream.
    private(set) var chunksSent = 0

    /// - Parameters:
    ///   - waitsForTLS: the tunnel is established by the TLS handshake, not the TCP connect.
    ///   - waitsForProxyHeader: ... and by a PROXY header.
    ///   - establishTimeout: close the connection when it is not established by then.
    init(waitsForTLS: Bool, waitsForProxyHeader: Bool = false, establishTimeout: TimeAmount?) {
        self.milestonesPending = (waitsForTLS ? 1 : 0) + (waitsForProxyHeader ? 1 : 0)
        self.establishTimeout = establishTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        datagram = nil
        established = nil
        closed = nil
        proxyHeader = nil
        firstDatagram = nil
        establishTimer?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        if let establishTimeout, establishTimer == nil, !isEstablished {
            establishTimer = context.eventLoop.assumeIsolated().scheduleTask(in: establishTimeout) { [weak self] in
                guard let self, !self.isEstablished else { return }
                self.closeReason = "not established within \(establishTimeout.nanoseconds / 1_000_000_000) s"
                self.context?.close(promise: nil)
            }
        }
        isActive = true
        reached(milestone: false)
    }

    /// Counts down the milestones (`true`) and establishes once none is left and TCP is up.
    private func reached(milestone: Bool) {
        if milestone { milestonesPending -= 1 }
        guard !isEstablished, isActive, milestonesPending <= 0 else { return }
        isEstablished = true
        establishTimer?.cancel()
        established?(self)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted:
            reached(milestone: true)
        case let received as ProxyHeaderReceived:
            proxyHeader?(self, received.header)
            reached(milestone: true)
        case IdleStateHandler.IdleStateEvent.read:
            closeReason = "nothing received for the --tcp-recv-timeout"
            context.close(promise: nil)
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: stream -> UDP

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        datagramsReceived += 1
        if let firstDatagram {
            self.firstDatagram = nil
            firstDatagram(self)
        }
        datagram?.deliver(Self.unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        datagram?.flushDeliveries()
        context.fireChannelReadComplete()
    }

    // MARK: UDP -> stream

    /// Writes and flushes a chunk of frames; `promise` completes once it is written (or failed).
    func send(_ chunk: ByteBuffer, promise: EventLoopPromise<Void>? = nil) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        chunksSent += 1
        context.writeAndFlush(Self.wrapOutboundOut(chunk), promise: promise)
    }

    /// Queues a chunk of frames without flushing; `promise` completes once it is written.
    func write(_ chunk: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        chunksSent += 1
        context.write(Self.wrapOutboundOut(chunk), promise: promise)
    }

    /// Flushes the chunks queued by ``write(_:promise:)``.
    func flush() {
        context?.flush()
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    var remoteAddress: SocketAddress? { context?.channel.remoteAddress }

    func close() {
        context?.close(promise: nil)
    }

    // MARK: backpressure

    func read(context: ChannelHandlerContext) {
        gate.read(context, peerWritable: datagram?.isWritable ?? true)
    }

    /// The UDP socket's send queue drained: read the stream again.
    func resumeReads() {
        gate.resume(context, peerWritable: datagram?.isWritable ?? true)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        datagram?.resumeReads()
        context.fireChannelWritabilityChanged()
    }

    // MARK: end of the connection

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if closeReason == nil { closeReason = describe(error) }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        establishTimer?.cancel()
        closed?(self, closeReason)
        context.fireChannelInactive()
    }
}
