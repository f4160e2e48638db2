import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SeededRandom
import Testing
import UDPOverTCP

#if canImport(Glibc)
import Glibc
#endif

private let loopback = try! SocketAddress(ipAddress: "127.0.0.1", port: 0)

/// Echoes every datagram to its sender 50 ms later (a round trip: replies to what went out just
/// before a rotation arrive after it) and notes each sequence number (the first four bytes)
/// with the port it came from: tcp2udp's per-connection socket.
private final class UDPEcho: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let seen: NIOLockedValueBox<[(sequence: UInt32, port: Int)]>

    init(seen: NIOLockedValueBox<[(sequence: UInt32, port: Int)]>) {
        self.seen = seen
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        if let sequence = envelope.data.getInteger(at: envelope.data.readerIndex, as: UInt32.self) {
            seen.withLockedValue { $0.append((sequence, envelope.remoteAddress.port ?? 0)) }
        }
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.value.eventLoop.scheduleTask(in: .milliseconds(50)) {
            context.value.writeAndFlush(Self.wrapOutboundOut(envelope), promise: nil)
        }
    }
}

/// Notes the sequence number of every datagram that comes back, with when it came.
private final class Collector: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let received: NIOLockedValueBox<[UInt32: NIODeadline]>

    init(received: NIOLockedValueBox<[UInt32: NIODeadline]>) {
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        guard let sequence = envelope.data.getInteger(at: envelope.data.readerIndex, as: UInt32.self) else { return }
        received.withLockedValue { if $0[sequence] == nil { $0[sequence] = .now() } }
    }
}

/// A TCP server that echoes the bytes of every connection: framed datagrams come back framed.
private final class StreamEcho: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

/// WireGuard's side of a udp2tcp: sends numbered datagrams and collects what comes back.
private struct Client {
    let channel: Channel
    let received = NIOLockedValueBox<[UInt32: NIODeadline]>([:])

    init(group: EventLoopGroup) throws {
        let received = self.received
        channel = try DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(received: received)) }
            }
            .bind(to: loopback).wait()
    }

    /// Sends datagram `sequence` (100 bytes) to `target`.
    func send(_ sequence: UInt32, to target: SocketAddress) {
        var buffer = channel.allocator.buffer(capacity: 100)
        buffer.writeInteger(sequence)
        buffer.writeRepeatingByte(UInt8(truncatingIfNeeded: sequence), count: 96)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: buffer), promise: nil)
    }

    var echoed: Set<UInt32> { received.withLockedValue { Set($0.keys) } }

    /// Waits (polling, up to `seconds`) until every one of `expected` came back.
    func waitForEchoes(_ expected: Set<UInt32>, seconds: Double) -> Bool {
        for _ in 0..<Int(seconds * 50) {
            if expected.isSubset(of: echoed) { return true }
            usleep(20_000)
        }
        return expected.isSubset(of: echoed)
    }
}

/// A framing echo server on 127.0.0.1 that keeps every accepted connection.
private struct StreamEchoServer {
    let listener: Channel
    let connections = NIOLockedValueBox<[Channel]>([])

    init(group: EventLoopGroup) throws {
        let connections = self.connections
        listener = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                connections.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(StreamEcho()) }
            }
            .bind(to: loopback).wait()
    }

    var port: Int { listener.localAddress!.port! }
    var accepted: Int { connections.withLockedValue { $0.count } }
}

/// WireGuard's far side: a UDP echo behind a tcp2udp on 127.0.0.1.
private struct FarSide {
    let echo: Channel
    let seen = NIOLockedValueBox<[(sequence: UInt32, port: Int)]>([])
    let tcpPort: Int

    init(group: EventLoopGroup) throws {
        let seen = self.seen
        echo = try DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPEcho(seen: seen)) }
            }
            .bind(to: loopback).wait()
        let listeners = try Tcp2Udp.start(
            Tcp2UdpConfiguration(tcpListen: [loopback], udpForward: echo.localAddress!, udpBind: loopback, threads: 1), group: group
        ).wait()
        tcpPort = listeners[0].localAddress!.port!
    }
}

/// Established TCP connections to `port` on this machine, from /proc/net/tcp (IPv4).
private func establishedConnections(toPort port: Int) -> Int {
    guard let file = fopen("/proc/net/tcp", "r") else { return -1 }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    let hex = String(port, radix: 16, uppercase: true)
    let remote = ":" + String(repeating: "0", count: 4 - hex.count) + hex
    var count = 0
    while getline(&line, &capacity, file) > 0, let line {
        // sl local_address rem_address st ...; st 01 is ESTABLISHED.
        let fields = String(cString: line).split(separator: " ")
        if fields.count > 3, fields[2].hasSuffix(remote), fields[3] == "01" { count += 1 }
    }
    return count
}

/// Keeps every datagram that comes back, whole.
private final class PayloadCollector: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let received: NIOLockedValueBox<[[UInt8]]>

    init(received: NIOLockedValueBox<[[UInt8]]>) {
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = Array(Self.unwrapInboundIn(data).data.readableBytesView)
        received.withLockedValue { $0.append(payload) }
    }
}

/// Polls `condition` every 20 ms for up to `seconds`.
private func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
    for _ in 0..<Int(seconds * 50) {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// A backoff far beyond the tests' bounds: a retry that waits for it fails them.
private let slowBackoff = ReconnectPolicy(
    initialDelay: .seconds(10), maximumDelay: .seconds(10), multiplier: 2, jitter: 0, healthyAfter: .seconds(10)
)

private func startUdp2Tcp(
    forwardTo port: Int, rotation: RotationPolicy?, reconnect: ReconnectPolicy = slowBackoff, status: StatusReport? = nil,
    group: EventLoopGroup
) throws -> SocketAddress {
    let configuration = Udp2TcpConfiguration(
        udpListen: loopback, tcpForward: HostPort(host: "127.0.0.1", port: port), reconnect: reconnect, rotation: rotation,
        status: status
    )
    let channel = try Udp2Tcp.start(configuration, on: group.next()).wait()
    return try SocketAddress(ipAddress: "127.0.0.1", port: channel.localAddress!.port!)
}

@Suite("udp2tcp on loopback sockets", .serialized)
struct LoopbackTests {
    @Test("with --tcp-connection-lifetime 1 s, 200 datagrams cross several rotations and all of them come back")
    func rotationLosesNothing() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let far = try FarSide(group: group)
        let udp2tcp = try startUdp2Tcp(forwardTo: far.tcpPort, rotation: RotationPolicy(lifetime: .seconds(1)), group: group)
        let client = try Client(group: group)
        let count: UInt32 = 200
        for sequence in 0..<count {
            client.send(sequence, to: udp2tcp)
            usleep(10_000)  // about 100 a second: 2 s, two rotations or more
        }
        let all = Set(0..<count)
        let complete = client.waitForEchoes(all, seconds: 5)
        #expect(complete, "lost: \(all.subtracting(client.echoed).sorted())")
        let arrived = far.seen.withLockedValue { $0 }
        #expect(Set(arrived.map(\.sequence)) == all, "every datagram reached the far side")
        let connections = Set(arrived.map(\.port))
        #expect(connections.count >= 2, "tcp2udp saw \(connections.count) connection(s)")
    }

    @Test("a connection the server closes is replaced at once and carries traffic again")
    func reconnectAfterCut() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        var recoveries: [Double] = []
        // Three udp2tcps, each cut once after its tunnel carried traffic. Their backoff is 10 s:
        // only an immediate retry recovers within the 3 s allowed.
        for run in 1...3 {
            let server = try StreamEchoServer(group: group)
            let udp2tcp = try startUdp2Tcp(forwardTo: server.port, rotation: nil, group: group)
            let client = try Client(group: group)
            client.send(0, to: udp2tcp)
            let works = client.waitForEchoes([0], seconds: 5)
            #expect(works, "run \(run): the tunnel works before the cut")
            let connection = try #require(server.connections.withLockedValue { $0.first })
            try connection.close().wait()
            let cutAt = NIODeadline.now()
            var recovered: NIODeadline?
            // One datagram every 10 ms for up to 3 s; the first echo of one sent after the cut ends it.
            for sequence in 1...300 as ClosedRange<UInt32> {
                client.send(sequence, to: udp2tcp)
                usleep(10_000)
                recovered = client.received.withLockedValue { $0.filter { $0.key >= 1 }.values.min() }
                if recovered != nil { break }
            }
            let at = try #require(recovered, "run \(run): no traffic within 3 s after the cut")
            recoveries.append(Double((at - cutAt).nanoseconds / 10_000) / 100)
            #expect(server.accepted == 2, "run \(run): one new connection")
        }
        print("udp2tcp: traffic again after a cut, ms: \(recoveries)")
    }

    @Test("--status-fd reports connected, disconnected after a cut, connected again, and each rotation")
    func statusLines() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        let lines = { () -> [String] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = max(0, read(ends[0], &buffer, buffer.count))
            return String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").map(String.init)
        }
        let server = try StreamEchoServer(group: group)
        let udp2tcp = try startUdp2Tcp(forwardTo: server.port, rotation: nil, status: StatusReport(descriptor: ends[1]), group: group)
        let client = try Client(group: group)
        client.send(0, to: udp2tcp)
        #expect(client.waitForEchoes([0], seconds: 5))
        #expect(lines() == ["connected"])
        let connection = try #require(server.connections.withLockedValue { $0.first })
        try connection.close().wait()
        var seen: [String] = []
        #expect(eventually(within: 3) { seen += lines(); return seen.count >= 2 })
        #expect(seen == ["disconnected", "connected"])

        let far = try FarSide(group: group)
        let rotating = try startUdp2Tcp(forwardTo: far.tcpPort, rotation: RotationPolicy(lifetime: .seconds(1)),
                                        status: StatusReport(descriptor: ends[1]), group: group)
        client.send(1, to: rotating)
        seen = []
        #expect(eventually(within: 5) { seen += lines(); return seen.contains("rotated") })
        #expect(seen.first == "connected" && !seen.contains("disconnected"), "\(seen)")
    }

    @Test("when the next connection cannot be opened, the current one carries on")
    func failedRotationKeepsOld() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let server = try StreamEchoServer(group: group)
        let udp2tcp = try startUdp2Tcp(
            forwardTo: server.port, rotation: RotationPolicy(lifetime: .milliseconds(500)), reconnect: .standard, group: group
        )
        let client = try Client(group: group)
        client.send(0, to: udp2tcp)
        let works = client.waitForEchoes([0], seconds: 5)
        #expect(works, "the tunnel works before the listener goes")
        // No more connections: every attempt at the next one is refused.
        try server.listener.close().wait()
        let count: UInt32 = 150
        for sequence in 1..<count {
            client.send(sequence, to: udp2tcp)
            usleep(10_000)  // 1.5 s: three lifetimes
        }
        let all = Set(0..<count)
        let complete = client.waitForEchoes(all, seconds: 5)
        #expect(complete, "lost: \(all.subtracting(client.echoed).sorted())")
        #expect(server.accepted == 1)
    }

    @Test("on an idle tunnel the old connection delivers until the new one has delivered")
    func idleDrain() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let far = try FarSide(group: group)
        // The next connection at 3.6 s; the old one kept 100 ms after the new one's first
        // datagram, 2 s at most.
        let rotation = RotationPolicy(lifetime: .seconds(4), drain: .milliseconds(100))
        let udp2tcp = try startUdp2Tcp(forwardTo: far.tcpPort, rotation: rotation, group: group)
        let client = try Client(group: group)
        client.send(0, to: udp2tcp)
        let works = client.waitForEchoes([0], seconds: 5)
        #expect(works, "the tunnel works")
        let oldPort = try #require(far.seen.withLockedValue { $0.first?.port })
        // Idle until the next connection is up beside the old one.
        let rotated = eventually(within: 8) { establishedConnections(toPort: far.tcpPort) == 2 }
        try #require(rotated, "no second connection")
        usleep(300_000)  // three times the drain: only a connection kept for the idle far side is still open
        // The far side has not roamed (nothing came through the new connection): it sends to the old socket.
        var buffer = far.echo.allocator.buffer(capacity: 4)
        buffer.writeInteger(UInt32(1000))
        let oldSocket = try SocketAddress(ipAddress: "127.0.0.1", port: oldPort)
        try far.echo.writeAndFlush(AddressedEnvelope(remoteAddress: oldSocket, data: buffer)).wait()
        let delivered = client.waitForEchoes([1000], seconds: 1)
        #expect(delivered, "a datagram to the old socket is delivered through the old connection")
        // Traffic through the new connection: the old one goes 100 ms later, long before its 2 s limit.
        client.send(1, to: udp2tcp)
        let echoed = client.waitForEchoes([1], seconds: 2)
        #expect(echoed)
        #expect(far.seen.withLockedValue { $0.last?.port } != oldPort, "sent through the new connection")
        let closed = eventually(within: 1) { establishedConnections(toPort: far.tcpPort) == 1 }
        #expect(closed, "the old connection closes once the new one delivered")
    }

    @Test(
        "jumbo datagrams cross udp2tcp -> tcp2udp -> echo and back intact, never truncated or split",
        arguments: [16_000, 16_384, 32_768, 48_000, Framing.maximumIPv4Payload]
    )
    func jumboRoundTrip(size: Int) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let far = try FarSide(group: group)
        let udp2tcp = try startUdp2Tcp(forwardTo: far.tcpPort, rotation: nil, group: group)
        let received = NIOLockedValueBox<[[UInt8]]>([])
        let client = try DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(PayloadCollector(received: received)) }
            }
            .bind(to: loopback).wait()
        defer { try? client.close().wait() }
        var random = SeededGenerator(seed: UInt64(size))
        // Windows of three (192 KiB at most: the default socket buffers of the echo and the
        // client hold them), each sent at once so that udp2tcp reads them in one batch.
        var sent: [[UInt8]] = []
        for window in 0..<4 {
            let payloads = (0..<3).map { index -> [UInt8] in
                var bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
                bytes[0] = UInt8(window * 3 + index)
                return bytes
            }
            for bytes in payloads {
                client.write(AddressedEnvelope(remoteAddress: udp2tcp, data: ByteBuffer(bytes: bytes)), promise: nil)
            }
            client.flush()
            sent += payloads
            let back = eventually(within: 5) { received.withLockedValue { $0.count } >= sent.count }
            try #require(back, "window \(window): \(received.withLockedValue { $0.count }) of \(sent.count) came back")
        }
        let echoed = received.withLockedValue { $0 }.sorted { $0[0] < $1[0] }
        #expect(echoed.map(\.count) == sent.map(\.count))
        #expect(echoed == sent)
    }
}
