import NIOCore

/// Fired down the pipeline once a connection's PROXY header has been read.
public struct ProxyHeaderReceived: Sendable {
    public var header: ProxyHeader
}

/// Reads the PROXY header at the start of a connection, announces it with a
/// ``ProxyHeaderReceived`` user event, passes every later byte on unchanged and removes itself.
/// A malformed header closes the connection.
public final class ProxyProtocolHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private var pending: ByteBuffer?
    private var done = false

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        if done {
            context.fireChannelRead(data)
            return
        }
        if var pending = self.pending.take() {
            pending.writeBuffer(&bytes)
            bytes = pending
        }
        do {
            switch try ProxyProtocol.parse(bytes.readableBytesView) {
            case .needMoreData:
                pending = bytes
            case .header(let header, let length):
                done = true
                bytes.moveReaderIndex(forwardBy: length)
                context.fireUserInboundEventTriggered(ProxyHeaderReceived(header: header))
                if bytes.readableBytes > 0 { context.fireChannelRead(Self.wrapInboundOut(bytes)) }
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        } catch {
            done = true
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }
}

extension Optional {
    /// Returns the value and leaves nil behind, so a buffer being appended to is not shared.
    mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}
