import NIOCore
import NIOPosix
import NIOSSL
import VPNLog

/// What udp2tcp does: listen on UDP, keep one TCP (optionally TLS) connection to `tcpForward`.
public struct Udp2TcpConfiguration: Equatable, Sendable {
    /// `--udp-listen`, or the address `--udp-listen-fd`'s socket is bound to.
    public var udpListen: SocketAddress
    /// `--udp-listen-fd`: an inherited UDP socket, bound to `udpListen` already.
    public var udpListenDescriptor: CInt?
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
    /// `--tcp-connection-lifetime`: replace the connection before this age; nil means never.
    public var rotation: RotationPolicy?
    /// `--status-fd`: where connection state changes are reported, if anywhere.
    public var status: StatusReport?

    public init(
        udpListen: SocketAddress, tcpForward: HostPort, tls: ClientTLSSettings? = nil, socket: SocketSettings = SocketSettings(),
        threads: Int = 1, reconnect: ReconnectPolicy = .standard, queueLimit: Int = 32, establishTimeout: TimeAmount = .seconds(10),
        rotation: RotationPolicy? = nil, status: StatusReport? = nil, udpListenDescriptor: CInt? = nil
    ) {
        self.udpListen = udpListen
        self.udpListenDescriptor = udpListenDescriptor
        self.tcpForward = tcpForward
        self.tls = tls
        self.socket = socket
        self.threads = threads
        self.reconnect = reconnect
        self.queueLimit = queueLimit
        self.establishTimeout = establishTimeout
        self.rotation = rotation
        self.status = status
    }
}

/// The udp2tcp engine. All of its state lives on one event loop.
///
/// One connection carries the datagrams; at most one attempt to open a connection runs at a
/// time: the reconnection while none is up, or the next connection of a rotation while one is.
public final class Udp2Tcp {
    private let configuration: Udp2TcpConfiguration
    private let eventLoop: EventLoop
    private let tlsContext: NIOSSLContext?
    private let datagram: DatagramSide
    private var machine: ReconnectStateMachine
    private var rotation: RotationStateMachine?
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
        self.rotation = configuration.rotation.map { RotationStateMachine(policy: $0, retryPolicy: configuration.reconnect) }
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
            if let inherited = configuration.udpListenDescriptor {
                descriptor = try RawSockets.adoptedUDP(inherited, fwmark: settings.fwmark)
            } else {
                descriptor = try RawSockets.boundUDP(configuration.udpListen, fwmark: settings.fwmark)
            }
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
        let bytes = batch.bytes
        guard let stream else {
            for var piece in batch.pieces {
                while let payload = try? Framing.nextFrame(from: &piece, maximumPayload: Framing.maximumFrameLength) { hold(payload) }
            }
            reader?.consumed(bytes)
            return
        }
        // Writes complete in order: the last one's promise stands for the batch.
        let written = eventLoop.makePromise(of: Void.self)
        let reader = self.reader
        written.futureResult.whenComplete { _ in reader?.consumed(bytes) }
        for (index, piece) in batch.pieces.enumerated() {
            stream.write(piece, promise: index == batch.pieces.count - 1 ? written : nil)
        }
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

    private func perform(_ action: RotationStateMachine.Action) {
        switch action {
        case .arm(let timer):
            eventLoop.assumeIsolated().scheduleTask(in: timer.delay) { [weak self] in
                guard let self, let action = rotation?.timerFired(generation: timer.generation) else { return }
                perform(action)
            }
        case .openNext:
            Log.debug("opening the next connection", ("tcp_forward", configuration.tcpForward))
            connect()
        case .switchOver, .none:
            break  // a switch-over comes only from an established attempt
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
            self?.attemptFailed("connect failed", reason: describe(error))
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
        try pipeline.addHandler(FrameSplitter(maximumPayload: maximum))
        // After the decoder: only whole frames count as traffic.
        if let timeout = configuration.socket.tcpReceiveTimeout {
            try pipeline.addHandler(IdleStateHandler(readTimeout: timeout))
        }
        let stream = StreamSide(waitsForTLS: tlsContext != nil, establishTimeout: configuration.establishTimeout)
        stream.established = { [weak self] stream in self?.established(stream) }
        stream.closed = { [weak self] stream, reason in self?.closed(stream, reason: reason) }
        try pipeline.addHandler(stream)
    }

    /// An attempt succeeded: the connection of the tunnel, or the next one of a rotation.
    private func established(_ stream: StreamSide) {
        guard self.stream != nil else {
            attach(stream)
            return
        }
        guard let policy = rotation?.policy, case .switchOver(let age, let timer) = rotation?.nextEstablished(at: .now()) else {
            stream.close()  // not expected: only one attempt runs at a time
            return
        }
        switchOver(to: stream, age: age, policy: policy)
        perform(.arm(timer))
    }

    private func attach(_ stream: StreamSide) {
        let now = NIODeadline.now()
        _ = machine.connectionEstablished(at: now)
        Log.info(
            "connected", ("tcp_forward", configuration.tcpForward), ("remote", stream.remoteAddress?.logDescription),
            ("tls", configuration.tls != nil ? configuration.tls?.serverName : nil), ("dropped_while_down", dropped)
        )
        dropped = 0
        configuration.status?.report(.connected)
        self.stream = stream
        stream.datagram = datagram
        datagram.stream = stream
        while let payload = queue.popFirst() { datagram.appendFrame(payload) }
        datagram.sendFrames()
        if let action = rotation?.connectionEstablished(at: now) { perform(action) }
    }

    /// Moves sending to `next`. The old connection goes on delivering what still arrives on it:
    /// the far side's WireGuard sends to tcp2udp's old UDP socket until a packet through the new
    /// connection makes it roam. So the old one is kept until the new one delivered a datagram,
    /// then ``RotationPolicy/drainTime`` more, ``RotationPolicy/drainLimit`` after the switch at
    /// most, unless its peer closes it first.
    private func switchOver(to next: StreamSide, age: TimeAmount, policy: RotationPolicy) {
        guard let old = stream else { return }
        // What the reader handed over so far leaves on the old connection, before anything on the new one.
        old.flush()
        stream = next
        next.datagram = datagram
        datagram.stream = next
        datagram.draining.append(old)
        configuration.status?.report(.rotated)
        Log.info(
            "connection rotated", ("tcp_forward", configuration.tcpForward), ("age_s", seconds(age)),
            ("remote", next.remoteAddress?.logDescription), ("datagrams_received", old.datagramsReceived)
        )
        let loop = eventLoop.assumeIsolated()
        next.firstDatagram = { [weak old] _ in
            loop.scheduleTask(in: policy.drainTime) { [weak old] in old?.close() }
        }
        loop.scheduleTask(in: policy.drainLimit) { [weak old] in old?.close() }
    }

    private func closed(_ stream: StreamSide, reason: String?) {
        if let index = datagram.draining.firstIndex(where: { $0 === stream }) {
            datagram.draining.remove(at: index)
            stream.datagram = nil
            Log.debug("replaced connection closed", ("reason", reason), ("datagrams_received", stream.datagramsReceived))
            return
        }
        guard self.stream === stream else {
            attemptFailed("connection failed", reason: reason ?? "closed by peer before the tunnel was established")
            return
        }
        self.stream = nil
        datagram.stream = nil
        stream.datagram = nil
        configuration.status?.report(.disconnected)
        // A next connection being opened becomes the reconnection.
        let attemptUnderWay = rotation?.connectionLost() ?? false
        let action = machine.connectionLost(at: .now(), attemptUnderWay: attemptUnderWay, using: &random)
        Log.info(
            "disconnected", ("tcp_forward", configuration.tcpForward), ("reason", reason ?? "closed by peer"),
            ("datagrams_received", stream.datagramsReceived), ("retry_in_ms", attemptUnderWay ? 0 : action.retryMilliseconds)
        )
        perform(action)
    }

    /// An attempt failed before it was established.
    private func attemptFailed(_ event: String, reason: String) {
        guard stream != nil else {
            retry(after: event, reason: reason)
            return
        }
        // The next connection of a rotation: the current one carries on, and it is tried again.
        let action = rotation?.nextFailed(using: &random) ?? .none
        var retryIn: Int64?
        if case .arm(let timer) = action { retryIn = timer.delay.nanoseconds / 1_000_000 }
        Log.warn("next connection failed", ("tcp_forward", configuration.tcpForward), ("error", reason), ("retry_in_ms", retryIn))
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
    /// The retry delay in milliseconds, for logs: 0 for an immediate retry.
    var retryMilliseconds: Int64? {
        switch self {
        case .connect: 0
        case .retry(let delay): delay.nanoseconds / 1_000_000
        case .none: nil
        }
    }
}

/// `amount` in seconds with milliseconds, for logs: `14340.250`.
func seconds(_ amount: TimeAmount) -> String {
    let milliseconds = max(amount.nanoseconds / 1_000_000, 0)
    let fraction = String(milliseconds % 1000)
    return "\(milliseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
