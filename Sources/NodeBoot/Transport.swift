#if canImport(Glibc)
import Glibc
#endif
import Config
import Supervisor
import SystemCalls
import VPNLog
import WireGuard
import WireGuardModel

/// WireGuard over TCP (Mullvad's udp-over-tcp framing), for the dstack gateway: `WG_TCP_LISTEN`
/// runs a supervised `tcp2udp` in front of the local WireGuard port, and each peer with a
/// `TCP_ENDPOINT` or `GATEWAY` gets a supervised `udp2tcp` on a loopback port that becomes its
/// WireGuard endpoint.
enum Transport {
    /// A free loopback UDP endpoint for the udp2tcp of a peer with a `TCP_ENDPOINT` or `GATEWAY`.
    static func loopbackEndpoint(for peer: PeerConfig) throws(BootFailure) -> Endpoint {
        do {
            return Endpoint(host: .address(IPAddress("127.0.0.1")!), port: try freeLoopbackUDPPort())
        } catch {
            throw BootFailure(exitCode: .failure, "\(dialVariable(peer)): no free loopback UDP port: \(error)")
        }
    }

    /// The variable that makes a peer dial over TCP, for messages.
    private static func dialVariable(_ peer: PeerConfig) -> String {
        peer.variable(peer.gateway != nil ? .gateway : .tcpEndpoint)
    }

    /// The name of a dialing peer's udp2tcp child.
    static func dialerName(_ peer: PeerConfig) -> String { "udp2tcp-\(peer.name?.lowercased() ?? "peer")" }

    /// Starts `tcp2udp` for `WG_TCP_LISTEN`, supervised (restarted with backoff when it dies;
    /// WireGuard's own retries then restore the tunnels).
    static func startListener(_ config: VPNConfig, supervisor: any BootHost) throws(BootFailure) {
        guard let listen = config.tcpListen else { return }
        let program = try executable("tcp2udp", variable: "WG_TCP_LISTEN")
        // The listening socket is bound here, new for every start, and is tcp2udp's
        // descriptor 3: tcp2udp itself needs no privilege for a port below 1024 or a fwmark.
        let fwmark = config.fwmark
        supervisor.start(spec("tcp2udp", [
            program, "--tcp-listen-fd", "3", "--udp-forward", "127.0.0.1:\(config.listenPort)", "--udp-bind", "127.0.0.1",
            "--max-connections", String(tcp2udpMaxConnections), "--tcp-recv-timeout", String(tcp2udpReceiveTimeout(config)),
        ], privileges: ChildPrivileges.tcp2udp) { return [try listeningSocket(listen, fwmark: fwmark)] })
    }

    /// Starts the supervised `udp2tcp` of a peer with a `TCP_ENDPOINT` or `GATEWAY`, on its
    /// loopback endpoint `local`. It reports its connection's state to vpn-init on a pipe
    /// (`TransportStatus`, returned); `reconnected` is called after each reconnection.
    static func startDialer(_ peer: PeerConfig, local: Endpoint, config: VPNConfig, supervisor: any BootHost,
                            reconnected: @escaping () -> Void) throws(BootFailure) -> TransportStatus {
        let program = try executable("udp2tcp", variable: dialVariable(peer))
        // Opened here for every start and handed over: the UDP socket WireGuard sends to
        // (descriptor 3, with buffers udp2tcp could not force without CAP_NET_ADMIN), the
        // certificates of the CA file (descriptor 4: a sealed in-memory copy of only its
        // certificate blocks, read again for every start), and the status pipe (the last one).
        var arguments = [program, "--udp-listen-fd", "3", "--tcp-forward", "\(peer.dialTarget!)"]
        let hasCAFile = peer.dialServerName != nil && peer.tlsCAFile != nil
        if let sni = peer.dialServerName {
            arguments += ["--tls", "--tls-sni", sni]
            if hasCAFile { arguments += ["--tls-ca-file", "/dev/fd/4"] }
        }
        let port = local.port
        let openDescriptors: () throws -> [Int32] = {
            let udp = try loopbackUDPSocket(port: port)
            guard hasCAFile else { return [udp] }
            do {
                let certificates = try Boot.certificateBundle(of: peer)!
                return [udp, try ProcessHardening.sealedMemoryFile(named: "tls-ca", certificates)]
            } catch {
                _ = close(udp)
                throw error
            }
        }
        // The gateway cuts every connection after 5 h: replace it before, make-before-break.
        if peer.gateway != nil && config.gatewayConnectionLifetime > 0 {
            arguments += ["--tcp-connection-lifetime", String(config.gatewayConnectionLifetime)]
        }
        if let fwmark = config.fwmark { arguments += ["--fwmark", String(fwmark)] }
        // The last descriptor: the pipe udp2tcp reports its connection's state on.
        arguments += ["--status-fd", hasCAFile ? "5" : "4"]
        let name = dialerName(peer)
        let status = TransportStatus(child: name, supervisor: supervisor, reconnected: reconnected)
        supervisor.start(spec(name, arguments, privileges: ChildPrivileges.udp2tcp(fwmark: config.fwmark)) { [status] in
            var descriptors = try openDescriptors()
            do {
                descriptors.append(try status.openPipe())
            } catch {
                for descriptor in descriptors { _ = close(descriptor) }
                throw error
            }
            return descriptors
        })
        return status
    }

    /// Stops a dialing peer's udp2tcp for good (its peer is gone or dials elsewhere now).
    static func stopDialer(_ status: TransportStatus, supervisor: any BootHost) {
        status.stop()
        supervisor.stop(status.child)
    }

    /// tcp2udp's `--max-connections`: each dialing peer holds one connection (two for a moment
    /// while it reconnects), so 64 is room for dozens of peers, while a flood of connections from
    /// the network costs at most 64 connections' memory (about 10 MB: scripts/test-abuse bounds
    /// a connection at 160 KiB). Connections beyond it are closed at once; the established ones
    /// are never touched.
    static let tcp2udpMaxConnections = 64

    /// tcp2udp's `--tcp-recv-timeout` in seconds: a connection that delivered no whole frame for
    /// this long is closed, so dead (half-open) connections and idle ones held by someone else
    /// give their slot back. A tunnel in use is never that quiet: WireGuard answers data with a
    /// keepalive within 10 s and rehandshakes every 2 minutes, so 600 s is far above its
    /// longest timer (keys are dropped after 540 s of silence), and a dialing peer with a
    /// usual `PersistentKeepalive` (25 s) sends a frame many times over. The dialer's keepalive
    /// is not known here; configurations are usually symmetric, so the timeout is also at least
    /// three times the longest keepalive configured on this node. A dialer without keepalive
    /// whose tunnel is silent for that long is cut: its udp2tcp reconnects at once, and this node
    /// reaches it again after its next packet, as after any cut by the gateway.
    static func tcp2udpReceiveTimeout(_ config: VPNConfig) -> Int {
        let longestKeepalive = config.peers.compactMap(\.persistentKeepalive).max().map(Int.init) ?? 0
        return max(600, 3 * longestKeepalive)
    }

    private static func spec(
        _ name: String, _ arguments: [String], privileges: Privileges, openDescriptors: (() throws -> [Int32])? = nil
    ) -> ChildSpec {
        ChildSpec(name: name, arguments: arguments, environment: [
            "LOG_LEVEL": Log.level.description,
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ], restart: .always, privileges: privileges, openDescriptors: openDescriptors)
    }

    /// The socket buffers udp2tcp asks for (its `SocketSettings.udpBuffer`): bursts from
    /// WireGuard wait there while udp2tcp catches up.
    static let udp2tcpSocketBuffer: Int32 = 4 << 20

    /// udp2tcp's UDP socket on 127.0.0.1:`port` (close-on-exec), its buffers forced to
    /// `udp2tcpSocketBuffer` past net.core.rmem_max / wmem_max (which needs CAP_NET_ADMIN).
    static func loopbackUDPSocket(port: UInt16) throws(SystemCallError) -> Int32 {
        let object = "127.0.0.1:\(port)"
        let fd = try valueOrErrno("socket", object) { socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do throws(SystemCallError) {
            var size = udp2tcpSocketBuffer
            for (option, name) in [(SO_RCVBUFFORCE, "SO_RCVBUFFORCE"), (SO_SNDBUFFORCE, "SO_SNDBUFFORCE")] {
                _ = try valueOrErrno("setsockopt \(name)", object) { setsockopt(fd, SOL_SOCKET, option, &size, socklen_t(MemoryLayout<Int32>.size)) }
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            _ = try valueOrErrno("bind", object) {
                bindAddress(fd, address)
            }
            return fd
        } catch {
            _ = close(fd)
            throw error
        }
    }

    /// tcp2udp's listening socket (close-on-exec; the supervisor hands it over as descriptor 3):
    /// SO_REUSEADDR, as tcp2udp sets it, and SO_MARK with `WG_FWMARK`, which every connection
    /// it accepts inherits, so the TCP carrying WireGuard is marked as WireGuard's own UDP is.
    static func listeningSocket(_ listen: TCPListen, fwmark: UInt32?) throws(SystemCallError) -> Int32 {
        let fd = try valueOrErrno("socket", "\(listen)") {
            socket(listen.address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do throws(SystemCallError) {
            var one: Int32 = 1
            _ = try valueOrErrno("setsockopt SO_REUSEADDR", "\(listen)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            if var mark = fwmark {
                _ = try valueOrErrno("setsockopt SO_MARK", "\(listen)") {
                    setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size))
                }
            }
            _ = try valueOrErrno("bind", "\(listen)") { bindSocket(fd, listen) }
            _ = try valueOrErrno("listen", "\(listen)") { Glibc.listen(fd, 1024) }
            return fd
        } catch {
            _ = close(fd)
            throw error
        }
    }

    private static func bindSocket(_ fd: Int32, _ listen: TCPListen) -> Int32 {
        let bytes = listen.address.bytes
        if listen.address.isV6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = listen.port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes) }
            return bindAddress(fd, address)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = listen.port.bigEndian
        withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: bytes) }
        return bindAddress(fd, address)
    }

    /// `bind(2)` to a `sockaddr_in` or `sockaddr_in6`.
    private static func bindAddress<Address>(_ fd: Int32, _ address: Address) -> Int32 {
        withUnsafeBytes(of: address) {
            Glibc.bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<Address>.size))
        }
    }

    /// The in-image helper: beside vpn-init's own executable (as in the image's /usr/bin).
    private static func executable(_ name: String, variable: String) throws(BootFailure) -> String {
        let path = "\(Files.directory(of: ownExecutable()))/\(name)"
        guard access(path, X_OK) == 0 else {
            let error = SystemCallError.current("access", path)
            throw BootFailure(exitCode: .unavailable, "\(variable): TCP transport needs \(name) beside vpn-init (\(error))")
        }
        return path
    }

    private static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return ProcessArguments.all.first ?? "vpn-init" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A UDP port on 127.0.0.1 that nothing uses now (the kernel picks it).
    private static func freeLoopbackUDPPort() throws(SystemCallError) -> UInt16 {
        let fd = try valueOrErrno("socket") { socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try valueOrErrno("bind", "127.0.0.1:0") {
            bindAddress(fd, address)
        }
        _ = try valueOrErrno("getsockname") {
            withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
