import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SeededRandom
import Testing
import UDPOverTCP

#if canImport(Glibc)
import Glibc
#endif

// Protocol-level abuse of both tools, in-process on 127.0.0.1 (no root, no namespace): garbage,
// truncated and oversized frames, zero- and maximum-size frames, address-shaped payloads,
// PROXY headers, the connection limit and receive timeout, and udp2tcp against a malicious
// server. What needs a real process (its memory, its log, 1,000 connections against the
// binary, a capture of every datagram) stays in scripts/test-abuse and scripts/test-udptcp.

private let loopback = try! SocketAddress(ipAddress: "127.0.0.1", port: 0)

private func frame(_ payload: [UInt8]) -> [UInt8] { [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload }

private func elapsed(since start: NIODeadline) -> Double { Double((NIODeadline.now() - start).nanoseconds) / 1e9 }

/// Polls `condition` every 20 ms for up to `seconds`.
private func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
    let start = NIODeadline.now()
    while elapsed(since: start) < seconds {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Waits until `fd` is readable, for up to `seconds`.
private func readable(_ fd: Int32, within seconds: Double) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, Int32(max(0, seconds * 1000))) > 0
}

/// A blocking TCP client that speaks the framing by hand, byte by byte if need be.
private final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)  // no send may hang a test
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard result == 0 else {
            Glibc.close(fd)
            throw Failure("connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    private let closed = NIOLockedValueBox(false)

    /// Closes the socket (once; deinit does it otherwise).
    func close() {
        if closed.withLockedValue({ let was = $0; $0 = true; return was }) { return }
        Glibc.close(fd)
    }

    deinit { close() }

    /// Writes all of `bytes`: 0, or the errno that stopped it (EPIPE or ECONNRESET when the
    /// peer closed, EAGAIN after 10 s without progress).
    @discardableResult func send(_ bytes: [UInt8]) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += sent
        }
        return 0
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Exactly `count` bytes within `seconds`; nil on a timeout, end of stream or reset.
    func read(_ count: Int, within seconds: Double) -> [UInt8]? {
        let start = NIODeadline.now()
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while data.count < count {
            guard readable(fd, within: seconds - elapsed(since: start)) else { return nil }
            let got = recv(fd, &buffer, min(buffer.count, count - data.count), 0)
            guard got > 0 else { return nil }
            data += buffer[0..<got]
        }
        return data
    }

    /// The payload of the next frame within `seconds`.
    func readFrame(within seconds: Double = 10) -> [UInt8]? {
        guard let header = read(2, within: seconds) else { return nil }
        return read(Int(header[0]) << 8 | Int(header[1]), within: seconds)
    }

    /// Sends `payload` framed and reads the echo: true when it came back intact.
    func roundTrip(_ payload: [UInt8]) -> Bool { send(frame(payload)) == 0 && readFrame() == payload }

    /// True when the peer closes (end of stream or reset) within `seconds`; what it sends
    /// meanwhile is discarded.
    func closedByPeer(within seconds: Double) -> Bool {
        let start = NIODeadline.now()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while readable(fd, within: seconds - elapsed(since: start)) {
            if recv(fd, &buffer, buffer.count, 0) <= 0 { return true }
        }
        return false
    }
}

private struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Notes the first 256 bytes of every datagram; echoes it to its sender when `echoes`.
private final class DatagramRecorder: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let seen: NIOLockedValueBox<[[UInt8]]>
    let echoes: Bool

    init(seen: NIOLockedValueBox<[[UInt8]]>, echoes: Bool) {
        self.seen = seen
        self.echoes = echoes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        seen.withLockedValue { $0.append(Array(envelope.data.readableBytesView.prefix(256))) }
        if echoes { context.writeAndFlush(Self.wrapOutboundOut(envelope), promise: nil) }
    }
}

/// A UDP socket on 127.0.0.1 that notes (and with `echoes`, echoes) every datagram.
private struct UDPListener {
    let channel: Channel
    let seen = NIOLockedValueBox<[[UInt8]]>([])

    init(group: EventLoopGroup, echoes: Bool) throws {
        let seen = self.seen
        channel = try DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramRecorder(seen: seen, echoes: echoes))
                }
            }
            .bind(to: loopback).wait()
    }

    var port: Int { channel.localAddress!.port! }
    func saw(_ marker: [UInt8]) -> Bool { seen.withLockedValue { $0.contains { $0.starts(with: marker) } } }
}

/// tcp2udp on 127.0.0.1 forwarding to a UDP echo, configured as the test needs.
private final class Tcp2UdpUnderTest {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let echo: UDPListener
    let port: Int

    init(_ configure: (inout Tcp2UdpConfiguration) -> Void = { _ in }) throws {
        echo = try UDPListener(group: group, echoes: true)
        var configuration = Tcp2UdpConfiguration(tcpListen: [loopback], udpForward: echo.channel.localAddress!, udpBind: loopback, threads: 1)
        configure(&configuration)
        port = try Tcp2Udp.start(configuration, group: group).wait()[0].localAddress!.port!
    }

    private let connections = NIOLockedValueBox<[RawConnection]>([])

    /// Closes every client connection, gives tcp2udp a moment to see them go, then stops it.
    func stop() {
        for connection in connections.withLockedValue({ $0 }) { connection.close() }
        usleep(200_000)
        try? group.syncShutdownGracefully()
    }

    func connect() throws -> RawConnection {
        let connection = try RawConnection(port: port)
        connections.withLockedValue { $0.append(connection) }
        return connection
    }

    /// A new client's frame comes back: tcp2udp is serving.
    func serves() throws -> Bool { try connect().roundTrip(Array("still served".utf8)) }
}

/// Payloads shaped like instructions to relay elsewhere: tcp2udp must send them to
/// --udp-forward like any other.
struct AddressShapedPayload: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: @Sendable (_ baitPort: Int) -> [UInt8]
    var testDescription: String { name }

    static func port(_ port: Int) -> [UInt8] { [UInt8(port >> 8), UInt8(port & 0xFF)] }

    static let all: [AddressShapedPayload] = [
        .init(name: "4 address bytes and a port") { [127, 0, 0, 1] + port($0) },
        .init(name: "16 address bytes ([::1]) and a port") { [UInt8](repeating: 0, count: 15) + [1] + port($0) },
        .init(name: "a SOCKS5 CONNECT request") { [5, 1, 0, 1, 127, 0, 0, 1] + port($0) },
        .init(name: "a length-prefixed address record") { [0, 1, 0, 10, 127, 0, 0, 1] + port($0) + [0, 1] },
        .init(name: "host:port text") { Array("127.0.0.1:\($0)".utf8) },
        .init(name: "an HTTP CONNECT request") { Array("CONNECT 127.0.0.1:\($0) HTTP/1.1".utf8) },
        .init(name: "a PROXY v1 header") { Array("PROXY TCP4 127.0.0.1 127.0.0.1 40000 \($0)\r\n".utf8) },
        .init(name: "a PROXY v2 header") {
            ProxyProtocol.v2Signature + [0x21, 0x11, 0, 12, 127, 0, 0, 1, 127, 0, 0, 1, 0x9C, 0x40] + port($0)
        },
    ]
}

/// A stream that stops inside a frame.
enum Truncation: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case closeMidPayload = "the client closes mid-payload"
    case halfCloseMidPayload = "the client half-closes mid-payload"
    case headerThenClose = "a header without payload, then close"
    var testDescription: String { rawValue }
}

/// How a malicious udp-over-tcp server treats each connection udp2tcp opens.
enum Misbehaviour: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case close, reset, oversized, truncated, garbage
    var testDescription: String { rawValue }
}

/// A udp-over-tcp server that misbehaves on every connection, for `seconds`: it notes when
/// each connection came and how many udp2tcp closed itself.
private final class MaliciousServer: @unchecked Sendable {
    let listener: Int32
    let port: Int
    let accepted = NIOLockedValueBox<[Double]>([])
    let closedByClient = NIOLockedValueBox<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    init(_ mode: Misbehaviour, seconds: Double, seed: UInt64) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 64) == 0 else { throw Failure("server socket: errno \(errno)") }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        DispatchQueue.global().async { [self] in
            var random = SeededGenerator(seed: seed)
            let start = NIODeadline.now()
            while elapsed(since: start) < seconds {
                guard readable(listener, within: 0.05) else { continue }
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { continue }
                accepted.withLockedValue { $0.append(elapsed(since: start)) }
                serve(connection, mode, &random, until: seconds - elapsed(since: start))
            }
            close(listener)
            done.signal()
        }
    }

    func wait() { done.wait() }

    /// One connection, handled to its end (udp2tcp keeps one at a time).
    private func serve(_ connection: Int32, _ mode: Misbehaviour, _ random: inout SeededGenerator, until seconds: Double) {
        defer { close(connection) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let send = { (bytes: [UInt8]) in _ = bytes.withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        switch mode {
        case .close: return
        case .reset:
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            return
        case .truncated:
            send([0x03, 0xE8] + [UInt8](repeating: UInt8(ascii: "x"), count: 10))
            return
        case .oversized: send([0xFF, 0xFF] + random.bytes(100))
        case .garbage: send(random.bytes(256 << 10))  // mostly frames of random lengths
        }
        // Hold the connection until udp2tcp hangs up, or the server's time is up.
        let start = NIODeadline.now()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while readable(connection, within: seconds - elapsed(since: start)) {
            if recv(connection, &buffer, buffer.count, 0) <= 0 {
                closedByClient.withLockedValue { $0 += 1 }
                return
            }
        }
    }
}

@Suite("tcp2udp and udp2tcp against misbehaving peers on 127.0.0.1")
struct AbuseTests {
    @Test("frames of every size come back intact, one connection after another", arguments: [(0, 5), (1, 5), (1400, 50), (65_507, 5)])
    func roundTrips(size: Int, count: Int) throws {
        let tcp2udp = try Tcp2UdpUnderTest()
        defer { tcp2udp.stop() }
        var random = SeededGenerator(seed: UInt64(size))
        let connection = try tcp2udp.connect()
        for index in 0..<count {
            let payload = random.bytes(size)
            #expect(connection.roundTrip(payload), "frame \(index) of \(size) bytes")
        }
    }

    @Test("a length past the IPv4 limit closes that connection only", arguments: [65_535, 65_508, 65_520])
    func oversizedLength(length: Int) throws {
        let tcp2udp = try Tcp2UdpUnderTest()
        defer { tcp2udp.stop() }
        var random = SeededGenerator(seed: UInt64(length))
        let connection = try tcp2udp.connect()
        connection.send([UInt8(length >> 8), UInt8(length & 0xFF)] + random.bytes(2000))
        #expect(connection.closedByPeer(within: 5))
        #expect(try tcp2udp.serves())
    }

    @Test("200 connections at once sending oversized lengths are all closed")
    func manyOversized() throws {
        let tcp2udp = try Tcp2UdpUnderTest()
        defer { tcp2udp.stop() }
        var random = SeededGenerator(seed: 3)
        let connections = try (0..<200).map { _ in
            let connection = try tcp2udp.connect()
            let length = Int.random(in: 65_508...65_535, using: &random)
            connection.send([UInt8(length >> 8), UInt8(length & 0xFF)] + random.bytes(Int.random(in: 0...64, using: &random)))
            return connection
        }
        let open = connections.filter { !$0.closedByPeer(within: 5) }.count
        #expect(open == 0)
        #expect(try tcp2udp.serves())
    }

    @Test("a truncated frame is never forwarded", arguments: Truncation.allCases)
    func truncatedFrame(_ truncation: Truncation) throws {
        let tcp2udp = try Tcp2UdpUnderTest()
        defer { tcp2udp.stop() }
        let marker = Array("truncated-frame".utf8)
        let connection = try tcp2udp.connect()
        switch truncation {
        case .closeMidPayload:
            connection.send([0x03, 0xE8] + marker + [UInt8](repeating: 0, count: 250))
        case .halfCloseMidPayload:
            connection.send([0x03, 0xE8] + marker + [UInt8](repeating: 0, count: 250))
            connection.shutdownWrite()
            #expect(connection.closedByPeer(within: 5), "tcp2udp closes the half-closed connection")
        case .headerThenClose:
            connection.send([0x05, 0xDC])
        }
        connection.close()
        usleep(500_000)
        #expect(!tcp2udp.echo.saw(marker))
        #expect(try tcp2udp.serves())
    }

    @Test("a frame written a byte at a time, 1 ms apart, arrives whole")
    func splitFrame() throws {
        let tcp2udp = try Tcp2UdpUnderTest()
        defer { tcp2udp.stop() }
        let payload = Array("truncated-frame".utf8) + (1...200).map { UInt8($0) }
        let connection = try tcp2udp.connect()
        for byte in frame(payload) {
            connection.send([byte])
            usleep(1000)
        }
        #expect(connection.readFrame() == payload)
    }

    @Test("30 connections writing 1 MB of random bytes each cost only their own connections")
    func garbageStreams() throws {
        let tcp2udp = try Tcp2UdpUnderTest()
        defer { tcp2udp.stop() }
        var random = SeededGenerator(seed: 7)
        for index in 0..<30 {
            let connection = try tcp2udp.connect()
            let stopped = connection.send(random.bytes(1 << 20))
            #expect(stopped == 0 || stopped == EPIPE || stopped == ECONNRESET, "connection \(index): errno \(stopped)")
        }
        #expect(try tcp2udp.serves())
    }

    @Test("after 200,000 zero-length frames in one burst the connection still carries a frame")
    func zeroLengthBurst() throws {
        let tcp2udp = try Tcp2UdpUnderTest()
        defer { tcp2udp.stop() }
        let connection = try tcp2udp.connect()
        let burstSent = NIOLockedValueBox(false)
        DispatchQueue.global().async {
            connection.send([UInt8](repeating: 0, count: 400_000))
            burstSent.withLockedValue { $0 = true }
        }
        // UDP drops echoes under such a burst, the marker's too: once the echoes stop, a marker
        // frame, resent each second for at most 60 s, must come back.
        let marker = Array("after-the-burst".utf8)
        let start = NIODeadline.now()
        var back = false
        while !back && elapsed(since: start) < 60 {
            guard let payload = connection.readFrame(within: 1) else {
                if burstSent.withLockedValue({ $0 }) { connection.send(frame(marker)) }
                continue
            }
            back = payload == marker
        }
        #expect(back)
    }

    @Test("a frame shaped like an address or a relay request goes to --udp-forward only", arguments: AddressShapedPayload.all)
    func addressShapedPayload(_ shape: AddressShapedPayload) throws {
        let tcp2udp = try Tcp2UdpUnderTest()
        defer { tcp2udp.stop() }
        let bait = try UDPListener(group: tcp2udp.group, echoes: true)
        let payload = shape.bytes(bait.port)
        #expect(try tcp2udp.connect().roundTrip(payload))
        #expect(tcp2udp.echo.saw(payload))
        usleep(200_000)
        #expect(bait.seen.withLockedValue { $0.isEmpty })
    }

    @Test("with --proxy-protocol, a valid header is taken and the frames after it are echoed", arguments: [
        Array("PROXY TCP4 127.0.0.1 127.0.0.1 40001 5101\r\n".utf8),
        ProxyProtocol.v2Signature + [0x21, 0x11, 0, 12, 127, 0, 0, 1, 127, 0, 0, 1, 0x9C, 0x43, 0x13, 0xED],
    ])
    func proxyHeader(header: [UInt8]) throws {
        let tcp2udp = try Tcp2UdpUnderTest { $0.proxyProtocol = true }
        defer { tcp2udp.stop() }
        let connection = try tcp2udp.connect()
        connection.send(header)
        for index in 0..<5 { #expect(connection.roundTrip([UInt8](repeating: UInt8(index), count: 100)), "frame \(index)") }
    }

    @Test("with --proxy-protocol, a connection without a valid header is closed", arguments: [
        [0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF],  // no header: a frame
        Array("PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n".utf8),  // v1, a port out of range
        ProxyProtocol.v2Signature + [0x2F, 0x11, 0x00, 0x0C],  // v2, an unknown command
    ])
    func badProxyHeader(bytes: [UInt8]) throws {
        let tcp2udp = try Tcp2UdpUnderTest { $0.proxyProtocol = true }
        defer { tcp2udp.stop() }
        let connection = try tcp2udp.connect()
        connection.send(bytes)
        #expect(connection.closedByPeer(within: 5))
    }

    @Test("--max-connections 2: two connections are served, the third is closed")
    func connectionLimit() throws {
        let tcp2udp = try Tcp2UdpUnderTest { $0.maxConnections = 2 }
        defer { tcp2udp.stop() }
        let held = try (0..<3).map { _ in try tcp2udp.connect() }
        #expect(held[0].roundTrip([1, 2, 3]))
        #expect(held[1].roundTrip([4, 5, 6]))
        #expect(held[2].closedByPeer(within: 3))
    }

    @Test("--tcp-recv-timeout closes a connection that sends no whole frame", arguments: ["", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"])
    func receiveTimeout(text: String) throws {
        let tcp2udp = try Tcp2UdpUnderTest { $0.socket.tcpReceiveTimeout = .seconds(1) }
        defer { tcp2udp.stop() }
        let served = try tcp2udp.connect()
        let connection = try tcp2udp.connect()
        connection.send(Array(text.utf8))
        #expect(served.roundTrip([7]), "a connection carrying frames is served meanwhile")
        #expect(connection.closedByPeer(within: 4))
    }

    // ReconnectPolicy.standard retries the first cut of an established connection at once, then
    // waits 100 ms doubling to 5 s, up to 20 % less with jitter: within 5 s of the first attempt
    // at most 8 attempts. 12 leaves room for timer slack; a busy loop makes hundreds. A server
    // that holds the connection (garbage) may see a single attempt.
    @Test("udp2tcp against a malicious server: reconnects with bounded backoff and lives on", arguments: Misbehaviour.allCases)
    func maliciousServer(_ mode: Misbehaviour) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let server = try MaliciousServer(mode, seconds: 6, seed: 5)
        let udp2tcp = try Udp2Tcp.start(
            Udp2TcpConfiguration(udpListen: loopback, tcpForward: HostPort(host: "127.0.0.1", port: server.port)), on: group.next()
        ).wait()
        // A sender, so that frames from the server have somewhere to go.
        let sender = try UDPListener(group: group, echoes: false)
        try sender.channel.writeAndFlush(AddressedEnvelope(remoteAddress: udp2tcp.localAddress!, data: ByteBuffer(string: "hello"))).wait()
        server.wait()
        let attempts = server.accepted.withLockedValue { times in times.filter { $0 - (times.first ?? 0) <= 5 }.count }
        #expect((mode == .garbage ? 1 : 3)...12 ~= attempts, "\(attempts) attempts in the first 5 s")
        #expect(udp2tcp.isActive, "udp2tcp is still running")
        if mode == .oversized {
            #expect(server.closedByClient.withLockedValue { $0 } >= 1, "udp2tcp closes a connection that sends an oversized frame")
        }
        try udp2tcp.close().wait()
    }
}
