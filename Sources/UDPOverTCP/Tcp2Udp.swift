import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import VPNLog

#if canImport(Glibc)
import Glibc
#endif

/// What tcp2udp does: accept TCP (optionally TLS, optionally behind a PROXY-protocol proxy) and
/// give every connection its own UDP socket connected to `udpForward`.
public struct Tcp2UdpConfiguration: Equatable, Sendable {
    /// `--tcp-listen`, one or more.
    public var tcpListen: [SocketAddress]
    /// `--tcp-listen-fd`: inherited TCP sockets, bound (and listening) already.
    public var tcpListenDescriptors: [CInt]
    /// `--udp-forward`: the only address datagrams are ever sent to.
    public var udpForward: SocketAddress
    /// `--udp-bind`: local IP of the per-connection UDP sockets; nil means `0.0.0.0` or `::`.
    public var udpBind: SocketAddress?
    public var socket: SocketSettings
    /// `--threads`; nil means one per core.
    public var threads: Int?
    /// `--tls-cert`, `--tls-key`.
    public var tls: ServerTLSSettings?
    /// `--proxy-protocol`: every connection starts with a PROXY v1 or v2 header.
    public var proxyProtocol: Bool
    /// `--max-connections`: more concurrent connections are closed at once.
    public var maxConnections: Int
    /// A connection whose TLS handshake / PROXY header is not done by then is closed.
    public var establishTimeout: TimeAmount

    public init(
        tcpListen: [SocketAddress], tcpListenDescriptors: [CInt] = [], udpForward: SocketAddress, udpBind: SocketAddress? = nil,
        socket: SocketSettings = SocketSettings(),
        threads: Int? = nil, tls: ServerTLSSettings? = nil, proxyProtocol: Bool = false, maxConnections: Int = 1024,
        establishTimeout: TimeAmount = .seconds(10)
    ) {
        self.tcpListen = tcpListen
        self.tcpListenDescriptors = tcpListenDescriptors
        self.udpForward = udpForward
        self.udpBind = udpBind
        self.socket = socket
        self.threads = threads
        self.tls = tls
        self.proxyProtocol = proxyProtocol
        self.maxConnections = maxConnections
        self.establishTimeout = establishTimeout
    }

    /// The address per-connection UDP sockets bind to.
    var udpBindAddress: SocketAddress { udpBind ?? udpForward.unspecifiedOfSameFamily }
}

/// The tcp2udp engine.
public enum Tcp2Udp {
    /// Binds every listener; the returned channels close only on a fatal error.
    public static func start(_ configuration: Tcp2UdpConfiguration, group: EventLoopGroup) -> EventLoopFuture<[Channel]> {
        let eventLoop = group.next()
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = try configuration.tls?.makeContext()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let limit = ConnectionLimit(maximum: configuration.maxConnections)
        let releaser = FreedMemoryReleaser(eventLoop: eventLoop)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try configuration.socket.applyTCP(to: channel)
                    try channel.pipeline.syncOperations.addHandler(ConnectionLimiter(limit: limit, releaser: releaser))
                }
            }
            .childChannelOption(.writeBufferWaterMark, value: forwardingWaterMark)
            .childChannelInitializer { channel in
                Connection.set(up: channel, configuration: configuration, tlsContext: tlsContext)
            }
        var listeners = configuration.tcpListen.map { bootstrap.bind(to: $0) }
        for descriptor in configuration.tcpListenDescriptors {
            do {
                try checkStreamSocket(descriptor)
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
            // NIO listens again with its default backlog (128) when it adopts a socket; tcp2udp
            // listens with 1024 whichever way the socket came.
            listeners.append(bootstrap.withBoundSocket(descriptor).map { channel in
                _ = Glibc.listen(descriptor, 1024)
                return channel
            })
        }
        return EventLoopFuture.whenAllSucceed(listeners, on: eventLoop)
    }

    /// Refuses a `--tcp-listen-fd` that is not an open TCP socket bound to an address.
    private static func checkStreamSocket(_ descriptor: CInt) throws {
        let (type, address) = try RawSockets.typeAndAddress(of: descriptor, what: "--tcp-listen-fd \(descriptor)")
        guard type == CInt(SOCK_STREAM.rawValue), address != nil else {
            throw IOError(errnoCode: ENOTSOCK, reason: "--tcp-listen-fd \(descriptor): not a TCP socket")
        }
    }
}

/// One accepted connection and its UDP socket.
private enum Connection {
    static func set(up channel: Channel, configuration: Tcp2UdpConfiguration, tlsContext: NIOSSLContext?) -> EventLoopFuture<Void> {
        let eventLoop = channel.eventLoop
        let peer = channel.remoteAddress?.logDescription ?? "unknown"
        let stream = StreamSide(
            waitsForTLS: tlsContext != nil, waitsForProxyHeader: configuration.proxyProtocol, establishTimeout: configuration.establishTimeout
        )
        let datagram = DatagramSide(destination: .fixed(configuration.udpForward))
        do {
            try configuration.socket.applyTCP(to: channel)
            let pipeline = channel.pipeline.syncOperations
            if configuration.proxyProtocol { try pipeline.addHandler(ProxyProtocolHandler()) }
            if let tlsContext { try pipeline.addHandler(NIOSSLServerHandler(context: tlsContext)) }
            let maximum = Framing.maximumPayload(for: configuration.udpForward)
            try pipeline.addHandler(FrameSplitter(maximumPayload: maximum))
            // After the decoder: only whole frames count as traffic, so a slow-drip writer times out.
            if let timeout = configuration.socket.tcpReceiveTimeout {
                try pipeline.addHandler(IdleStateHandler(readTimeout: timeout))
            }
            try pipeline.addHandler(stream)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        var client: String?
        stream.proxyHeader = { _, header in
            client = header.source?.logDescription
            Log.info("PROXY header", ("peer", peer), ("client", client ?? "unknown"), ("version", header.version), ("command", header.command))
        }
        stream.established = { _ in
            Log.info("connection established", ("peer", peer), ("client", client), ("udp_forward", configuration.udpForward.logDescription))
        }
        stream.closed = { stream, reason in
            Log.info(
                "connection closed", ("peer", peer), ("client", client), ("reason", reason ?? "closed by peer"),
                ("datagrams_received", stream.datagramsReceived), ("chunks_sent", stream.chunksSent)
            )
            datagram.close()
        }
        datagram.closed = { stream.close() }
        stream.datagram = datagram
        datagram.stream = stream

        let boundDatagram = NIOLoopBound(datagram, eventLoop: eventLoop)
        let settings = configuration.socket
        // The socket is opened here so datagrams from the stream can skip NIO's per-datagram
        // write path (DatagramSender: one sendmmsg per read burst, UDP GSO for equal sizes).
        let descriptor: CInt
        do {
            descriptor = try RawSockets.connectedUDP(bind: configuration.udpBindAddress, connect: configuration.udpForward, fwmark: settings.fwmark)
        } catch {
            Log.error("cannot open UDP socket for connection", ("peer", peer), ("udp_bind", configuration.udpBindAddress.logDescription), ("error", describe(error)))
            return eventLoop.makeFailedFuture(error)
        }
        datagram.sender = DatagramSender(descriptor: descriptor)
        return DatagramBootstrap(group: eventLoop)
            .channelInitializer { udp in
                udp.eventLoop.makeCompletedFuture {
                    // One read slot per connection: eight kept 512 KiB per connection alive in NIO's pool.
                    try settings.applyUDP(to: udp, vectorReads: 1)
                    try udp.pipeline.syncOperations.addHandler(boundDatagram.value)
                }
            }
            .withBoundSocket(descriptor)
            .map { _ in }
            .flatMapErrorThrowing { error in
                Log.error("cannot open UDP socket for connection", ("peer", peer), ("udp_bind", configuration.udpBindAddress.logDescription), ("error", describe(error)))
                throw error
            }
    }
}

/// Counts live connections across every listener and event loop.
final class ConnectionLimit: Sendable {
    let maximum: Int
    private let count = NIOLockedValueBox(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    func acquire() -> Bool {
        count.withLockedValue { count in
            guard count < maximum else { return false }
            count += 1
            return true
        }
    }

    func release() {
        count.withLockedValue { $0 -= 1 }
    }
}

/// Sits on a listening socket and closes accepted connections above the limit; tells the
/// releaser (when given) about every accepted connection that closes.
final class ConnectionLimiter: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    private let limit: ConnectionLimit
    private let releaser: FreedMemoryReleaser?

    init(limit: ConnectionLimit, releaser: FreedMemoryReleaser? = nil) {
        self.limit = limit
        self.releaser = releaser
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = Self.unwrapInboundIn(data)
        if let releaser { child.closeFuture.whenComplete { _ in releaser.connectionClosed() } }
        guard limit.acquire() else {
            Log.warn("connection refused: --max-connections reached", ("peer", child.remoteAddress?.logDescription), ("limit", limit.maximum))
            child.close(promise: nil)
            return
        }
        let limit = self.limit
        child.closeFuture.whenComplete { _ in limit.release() }
        context.fireChannelRead(data)
    }
}
