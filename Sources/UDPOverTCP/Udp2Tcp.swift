import NIOCore
import NIOPosix
import NIOSSL
import VPNLog

/// What udp2tcp does: listen on UDP, keep one TCP (optionally TLS) connection to `tcpForward`.
public struct Udp2TcpConfiguration: Equatable, Sendable {
    /// `--udp-listen`.
    public var udpListen: SocketAddress
    /// `--tcp-forward`: an IP literal or a name, resolved again at every connection attempt.
    public var tcpForward: HostPort
    /// `--tls`, `--tls-sni`, `--tls-ca-file`.
    public var tls: ClientTLSSettings?
    public var socket: SocketSettings
    /// `--threads` (one is plenty: a single connection lives on one event loop).
    public var threads: Int
    public var reconnect: ReconnectPolicy
    /// Datagrams kept while the connection is down (the oldest go first); more are dropped.
    public var queueLimit: Int
    /// A connection not established (TCP plus TLS) by then is abandoned.
    public var establishTimeout: TimeAmount

    public init(
        udpListen: SocketAddress, tcpForward: HostPort, tls: ClientTLSSettings? = nil, socket: SocketSettings = SocketSettings(),
        threads: Int = 1, reconnect: ReconnectPolicy = .standard, queueLimit: Int = 32, establishTimeout: TimeAmount = .seconds(10)
    ) {
        self.udpListen = udpListen
        self.tcpForward = tcpForward
        self.tls = tls
        self.socket = socket
        self.threads = threads
        self.reconnect = reconnect
        self.queueLimit = queueLimit
        self.establishTimeout = establishTimeout
    }
}

/// The udp2tcp engine. All of its state lives on one event loop.
public final class Udp2Tcp {
    private let configuration: Udp2TcpConfiguration
    private let eventLoop: EventLoop
    private let tlsContext: NIOSSLContext?
    private let datagram: DatagramSide
    private var machine: ReconnectStateMachine
    private var random = SystemRandomNumberGenerator()
    private var stream: StreamSide?
    private var queue = CircularBuffer<ByteBuffer>()
    private var dropped = 0
    private var reader: DatagramReader?
    private var flushScheduled = false

    /// Binds the UDP socket on `eventLoop` and starts connecting. The engine lives on that loop
    /// for as long as the returned UDP channel is open, which is until a fatal UDP error.
    public static func start(_ configuration: Udp2TcpConfiguration, on eventLoop: EventLoop) -> EventLoopFuture<Channel> {
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = try configuration.tls?.makeContext()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return eventLoop.flatSubmit {
            let engine = NIOLoopBound(Udp2Tcp(configuration, eventLoop: eventLoop, tlsContext: tlsContext), eventLoop: eventLoop)
            return engine.value.bind().map { channel in
                engine.value.connectionNeeded()
                return channel
            }
        }
    }

    private init(_ configuration: Udp2TcpConfiguration, eventLoop: EventLoop, tlsContext: NIOSSLContext?) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.tlsContext = tlsContext
        self.machine = ReconnectStateMachine(policy: configuration.reconnect)
        self.datagram = DatagramSide(destination: .lastSender)
        // The datagram channel's handler keeps the engine alive for as long as it is open.
        datagram.datagramWithoutStream = { [self] envelope in hold(envelope.data) }
    }

    /// Binds the UDP socket. NIO's channel sends to the local WireGuard and owns the socket;
    /// a ``DatagramReader`` thread does the reading.
    private func bind() -> EventLoopFuture<Channel> {
        let settings = configuration.socket
        let datagram = NIOLoopBound(self.datagram, eventLoop: eventLoop)
        let descriptor: CInt
        do {
            descriptor = try RawSockets.boundUDP(configuration.udpListen, fwmark: settings.fwmark)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let engine = NIOLoopBound(self, eventLoop: eventLoop)
        return DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try settings.applyUDP(to: channel, vectorReads: 1)
                    try channel.syncOptions?.setOption(.autoRead, value: false)
                    try channel.pipeline.syncOperations.addHandler(datagram.value)
                }
            }
            .withBoundSocket(descriptor)
            .map { channel in
                let reader = DatagramReader(descriptor: descriptor, eventLoop: channel.eventLoop) { batch in
                    engine.value.received(batch)
                }
                engine.value.reader = reader
                channel.closeFuture.whenComplete { _ in reader.stop() }
                return channel
            }
    }

    /// A batch from the reader: to the stream when connected, else into the bounded queue.
    private func received(_ batch: DatagramReader.Batch) {
        if let sender = batch.newSender { datagram.lastSender = sender }
        let bytes = batch.chunk.readableBytes
        guard let stream else {
            var chunk = batch.chunk
            while let payload = try? Framing.nextFrame(from: &chunk, maximumPayload: Framing.maximumFrameLength) { hold(payload) }
            reader?.consumed(bytes)
            return
        }
        let written = eventLoop.makePromise(of: Void.self)
        let reader = self.reader
        written.futureResult.whenComplete { _ in reader?.consumed(bytes) }
        stream.write(batch.chunk, promise: written)
        // One flush after the batches already queued on the loop: they leave in one writev.
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            self.stream?.flush()
        }
    }

    private func connectionNeeded() {
        perform(machine.start())
    }

    private func perform(_ action: ReconnectStateMachine.Action) {
        switch action {
        case .connect:
            connect()
        case .retry(let delay):
            eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in
                guard let self else { return }
                perform(machine.retryTimerFired())
            }
        case .none:
            break
        }
    }

    // MARK: the TCP connection

    private func connect() {
        let target = configuration.tcpForward
        Log.debug("connecting", ("tcp_forward", target))
        let engine = NIOLoopBound(self, eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.establishTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try engine.value.configure(channel) }
            }
        let connected = target.ipAddress.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: target.host, port: target.port)
        connected.assumeIsolated().whenFailure { [weak self] error in
            // A connected channel reports its end through StreamSide.closed instead.
            self?.retry(after: "connect failed", reason: describe(error))
        }
    }

    private func configure(_ channel: Channel) throws {
        try configuration.socket.applyTCP(to: channel)
        try channel.syncOptions?.setOption(.writeBufferWaterMark, value: forwardingWaterMark)
        let pipeline = channel.pipeline.syncOperations
        if let tlsContext, let tls = configuration.tls {
            try pipeline.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: tls.serverName))
        }
        let maximum = Framing.maximumPayload(for: configuration.udpListen)
        try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(maximumPayload: maximum)))
        // After the decoder: only whole frames count as traffic.
        if let timeout = configuration.socket.tcpReceiveTimeout {
            try pipeline.addHandler(IdleStateHandler(readTimeout: timeout))
        }
        let stream = StreamSide(waitsForTLS: tlsContext != nil, establishTimeout: configuration.establishTimeout)
        stream.established = { [weak self] stream in self?.attach(stream) }
        stream.closed = { [weak self] stream, reason in self?.closed(stream, reason: reason) }
        try pipeline.addHandler(stream)
    }

    private func attach(_ stream: StreamSide) {
        _ = machine.connectionEstablished(at: .now())
        Log.info(
            "connected", ("tcp_forward", configuration.tcpForward), ("remote", stream.remoteAddress?.logDescription),
            ("tls", configuration.tls != nil ? configuration.tls?.serverName : nil), ("dropped_while_down", dropped)
        )
        dropped = 0
        self.stream = stream
        stream.datagram = datagram
        datagram.stream = stream
        while let payload = queue.popFirst() { datagram.appendFrame(payload) }
        datagram.sendFrames()
    }

    private func closed(_ stream: StreamSide, reason: String?) {
        guard self.stream === stream else {
            retry(after: "connection failed", reason: reason ?? "closed by peer before the tunnel was established")
            return
        }
        self.stream = nil
        datagram.stream = nil
        stream.datagram = nil
        let action = machine.connectionLost(at: .now(), using: &random)
        Log.info(
            "disconnected", ("tcp_forward", configuration.tcpForward), ("reason", reason ?? "closed by peer"),
            ("datagrams_received", stream.datagramsReceived), ("retry_in_ms", action.retryMilliseconds)
        )
        perform(action)
    }

    private func retry(after event: String, reason: String) {
        let action = machine.connectionLost(at: .now(), using: &random)
        Log.warn(event, ("tcp_forward", configuration.tcpForward), ("error", reason), ("retry_in_ms", action.retryMilliseconds))
        perform(action)
    }

    // MARK: datagrams while the connection is down

    private func hold(_ payload: ByteBuffer) {
        // Copy: the payload is a slice of a large receive buffer NIO wants to reuse.
        var copy = ByteBufferAllocator().buffer(capacity: payload.readableBytes)
        copy.writeImmutableBuffer(payload)
        if queue.count >= configuration.queueLimit {
            _ = queue.popFirst()
            dropped += 1
        }
        queue.append(copy)
    }
}

extension ReconnectStateMachine.Action {
    /// The retry delay in milliseconds, for logs.
    var retryMilliseconds: Int64? {
        guard case .retry(let delay) = self else { return nil }
        return delay.nanoseconds / 1_000_000
    }
}
