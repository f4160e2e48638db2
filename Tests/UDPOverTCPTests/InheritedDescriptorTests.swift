import NIOCore
import NIOPosix
import Testing

@testable import UDPOverTCP

#if canImport(Glibc)
import Glibc
#endif

/// What a supervisor hands over as descriptors instead of letting the tool open it: tcp2udp's
/// listening socket (`--tcp-listen-fd`), udp2tcp's UDP socket (`--udp-listen-fd`) and CA file
/// (`--tls-ca-file /dev/fd/N`).
@Suite("Inherited descriptors")
struct InheritedDescriptorTests {
    @Test("--tcp-listen-fd parses, repeated, with or without --tcp-listen")
    func listenDescriptorFlag() throws {
        guard case .run(let alone) = try Tcp2UdpCommand.parse(["--tcp-listen-fd", "3", "--udp-forward", "127.0.0.1:51820"]) else {
            Issue.record("not a run")
            return
        }
        #expect(alone.tcpListen.isEmpty)
        #expect(alone.tcpListenDescriptors == [3])
        guard case .run(let both) = try Tcp2UdpCommand.parse([
            "--tcp-listen", "127.0.0.1:1", "--tcp-listen-fd", "4", "--tcp-listen-fd=3", "--udp-forward", "127.0.0.1:51820",
        ]) else {
            Issue.record("not a run")
            return
        }
        #expect(both.tcpListenDescriptors == [4, 3])
        for bad in ["x", "-1", ""] {
            #expect(throws: UsageError.self) { try Tcp2UdpCommand.parse(["--tcp-listen-fd", bad, "--udp-forward", "127.0.0.1:51820"]) }
        }
    }

    @Test("tcp2udp accepts on an inherited listening socket and forwards its frames")
    func tcp2udpOnAnInheritedSocket() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let sink = try socketBound(type: SOCK_DGRAM)
        defer { close(sink.fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(sink.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let listener = try socketBound(type: SOCK_STREAM)
        #expect(listen(listener.fd, 16) == 0)
        let configuration = Tcp2UdpConfiguration(
            tcpListen: [], tcpListenDescriptors: [listener.fd], udpForward: try SocketAddress(ipAddress: "127.0.0.1", port: sink.port),
            udpBind: try SocketAddress(ipAddress: "127.0.0.1", port: 0), threads: 1
        )
        let channels = try Tcp2Udp.start(configuration, group: group).wait()
        defer { for channel in channels { try? channel.close().wait() } }
        #expect(channels.first?.localAddress?.port == listener.port)

        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var address = loopbackAddress(port: listener.port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        let frame: [UInt8] = [0, 3, 0x61, 0x62, 0x63]
        #expect(write(client, frame, frame.count) == frame.count)
        var received = [UInt8](repeating: 0, count: 16)
        let count = recv(sink.fd, &received, received.count, 0)
        #expect(count == 3 && Array(received.prefix(3)) == [0x61, 0x62, 0x63])
    }

    @Test("a --tcp-listen-fd that is no socket is refused")
    func notASocket() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { for fd in ends { close(fd) } }
        let configuration = Tcp2UdpConfiguration(
            tcpListen: [], tcpListenDescriptors: [ends[0]], udpForward: try SocketAddress(ipAddress: "127.0.0.1", port: 9), threads: 1
        )
        #expect(throws: (any Error).self) { try Tcp2Udp.start(configuration, group: group).wait() }
    }

    @Test("--udp-listen-fd takes the address of the bound UDP socket, instead of --udp-listen")
    func udpListenDescriptorFlag() throws {
        let udp = try socketBound(type: SOCK_DGRAM)
        defer { close(udp.fd) }
        guard case .run(let configuration) = try Udp2TcpCommand.parse(["--udp-listen-fd", "\(udp.fd)", "--tcp-forward", "127.0.0.1:5001"])
        else {
            Issue.record("not a run")
            return
        }
        #expect(configuration.udpListenDescriptor == udp.fd)
        #expect(configuration.udpListen == (try SocketAddress(ipAddress: "127.0.0.1", port: udp.port)))

        let tcp = try socketBound(type: SOCK_STREAM)
        defer { close(tcp.fd) }
        let unbound = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(unbound) }
        for bad in [
            ["--udp-listen-fd", "\(udp.fd)", "--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001"],
            ["--udp-listen-fd", "\(tcp.fd)", "--tcp-forward", "127.0.0.1:5001"],
            ["--udp-listen-fd", "\(unbound)", "--tcp-forward", "127.0.0.1:5001"],
            ["--udp-listen-fd", "x", "--tcp-forward", "127.0.0.1:5001"],
            ["--udp-listen-fd", "999", "--tcp-forward", "127.0.0.1:5001"],
        ] {
            #expect(throws: UsageError.self, "\(bad)") { try Udp2TcpCommand.parse(bad) }
        }
    }

    @Test("udp2tcp forwards from an inherited UDP socket and keeps its larger buffer")
    func udp2tcpOnAnInheritedSocket() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let server = try socketBound(type: SOCK_STREAM)
        defer { close(server.fd) }
        #expect(listen(server.fd, 4) == 0)
        let udp = try socketBound(type: SOCK_DGRAM)
        // A parent's buffer, larger than the 4 MiB udp2tcp asks for (forced when we may).
        var large: Int32 = 6 << 20
        let forced = setsockopt(udp.fd, SOL_SOCKET, SO_RCVBUFFORCE, &large, socklen_t(MemoryLayout<Int32>.size)) == 0
        let before = receiveBuffer(udp.fd)
        let configuration = Udp2TcpConfiguration(
            udpListen: try SocketAddress(ipAddress: "127.0.0.1", port: udp.port), tcpForward: HostPort(host: "127.0.0.1", port: server.port),
            udpListenDescriptor: udp.fd
        )
        let channel = try Udp2Tcp.start(configuration, on: group.next()).wait()
        defer { try? channel.close().wait() }
        if forced { #expect(receiveBuffer(udp.fd) == before) }

        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(server.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connection = accept(server.fd, nil, nil)
        #expect(connection >= 0)
        defer { close(connection) }
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(sender) }
        var destination = loopbackAddress(port: udp.port)
        let sent = withUnsafePointer(to: &destination) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(sender, "xyz", 3, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(sent == 3)
        var frame = [UInt8](repeating: 0, count: 5)
        var received = 0
        let wanted = frame.count
        while received < wanted {
            let count = frame.withUnsafeMutableBytes { recv(connection, $0.baseAddress! + received, wanted - received, 0) }
            if count <= 0 { break }
            received += count
        }
        #expect(frame == [0, 3, 0x78, 0x79, 0x7A])
    }

    private func receiveBuffer(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &length)
        return value
    }

    @Test("a PEM file is read by path, or from inherited descriptor N for /dev/fd/N")
    func pemFromDescriptor() throws {
        let bundle = "/etc/ssl/certs/ca-certificates.crt"
        let byPath = try readPEMFile(bundle, what: "--tls-ca-file")
        #expect(!byPath.isEmpty)
        let fd = open(bundle, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(try readPEMFile("/dev/fd/\(fd)", what: "--tls-ca-file") == byPath)
        // The descriptor stays open (it is the parent's to give, not ours to close) and is read
        // where it stands: a second read finds its end.
        #expect(fcntl(fd, F_GETFD) >= 0)
        #expect(try readPEMFile("/dev/fd/\(fd)", what: "--tls-ca-file").isEmpty)

        let closed = dup(fd)
        close(closed)
        #expect(throws: TLSSetupError.self) { try readPEMFile("/dev/fd/\(closed)", what: "--tls-ca-file") }
        #expect(throws: TLSSetupError.self) { try readPEMFile("/nonexistent/ca.pem", what: "--tls-ca-file") }
        #expect(throws: TLSSetupError.self) { try readPEMFile(bundle, what: "--tls-ca-file", limit: 1000) }
    }

    @Test("udp2tcp builds its TLS context from a CA file handed over as /dev/fd/N")
    func caFileFromDescriptor() throws {
        let fd = open("/etc/ssl/certs/ca-certificates.crt", O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        _ = try ClientTLSSettings(serverName: "gw.test", caFile: "/dev/fd/\(fd)").makeContext()
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        _ = write(ends[1], "not a certificate\n", 18)
        close(ends[1])
        #expect(throws: TLSSetupError.self) { try ClientTLSSettings(serverName: "gw.test", caFile: "/dev/fd/\(ends[0])").makeContext() }
    }

    /// A socket of `type` bound to 127.0.0.1 on a port the kernel picks.
    private func socketBound(type: __socket_type) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(type.rawValue), 0)
        #expect(fd >= 0)
        var address = loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        #expect(bound)
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }
}
