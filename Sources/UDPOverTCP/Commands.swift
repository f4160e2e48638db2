import ArgumentParser
import NIOCore
import NIOPosix
import VPNLog

#if canImport(Glibc)
import Glibc
#endif

/// The version `--version` prints.
public let udpOverTCPVersion = "0.1.0"

/// Options both tools take: Mullvad's `TcpOptions` and `--threads`.
public struct SharedOptions: ParsableArguments {
    @Option(name: .customLong("threads"), help: "Number of worker threads (default: udp2tcp 1, tcp2udp one per core).")
    public var threads: Int?

    @Option(name: .customLong("recv-buffer"), help: "SO_RCVBUF of the TCP socket(s), in bytes.")
    public var recvBuffer: UInt32?

    @Option(name: .customLong("send-buffer"), help: "SO_SNDBUF of the TCP socket(s), in bytes.")
    public var sendBuffer: UInt32?

    @Option(name: .customLong("tcp-recv-timeout"), help: "Close a TCP connection that received nothing for this many seconds.")
    public var tcpRecvTimeout: UInt64?

    @Option(name: .customLong("fwmark"), help: "SO_MARK for every socket (decimal or 0x hex; Linux, needs CAP_NET_ADMIN).", transform: parseMark)
    public var fwmark: UInt32?

    @Flag(name: .customLong("nodelay"), help: "Set TCP_NODELAY (always on; accepted for compatibility).")
    public var nodelay = false

    public init() {}

    public func validate() throws {
        if let threads, !(1...255).contains(threads) { throw ValidationError("--threads: \(threads) is not in 1-255") }
        if tcpRecvTimeout == 0 { throw ValidationError("--tcp-recv-timeout: must be at least 1 second") }
    }

    /// The socket settings these flags ask for.
    public var socketSettings: SocketSettings {
        SocketSettings(
            tcpReceiveBuffer: recvBuffer.map(Int.init), tcpSendBuffer: sendBuffer.map(Int.init),
            tcpReceiveTimeout: tcpRecvTimeout.map { .seconds(Int64(clamping: $0)) }, fwmark: fwmark, noDelay: true
        )
    }
}

private func parseMark(_ text: String) throws -> UInt32 {
    let value = text.lowercased().hasPrefix("0x") ? UInt32(text.dropFirst(2), radix: 16) : UInt32(text)
    guard let value else { throw ValidationError("--fwmark: \"\(text)\" is not a 32-bit number") }
    return value
}

/// `udp2tcp`: listen for UDP and forward it over one TCP (or TLS) connection.
public struct Udp2TcpCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "udp2tcp",
        abstract: "Listen for incoming UDP and forward to TCP",
        discussion: """
            Each datagram travels as a 2-byte big-endian length and the payload (Mullvad's \
            udp-over-tcp format). The connection is re-established with backoff when it drops. \
            LOG_LEVEL (debug, info, warn, error) sets how much is logged.
            """,
        version: "udp2tcp \(udpOverTCPVersion)"
    )

    @Option(name: .customLong("udp-listen"), help: "The IP and UDP port to bind to and accept incoming datagrams on.")
    public var udpListen: String

    @Option(name: .customLong("tcp-forward"), help: "The host (IP or name) and TCP port to forward all UDP traffic to.")
    public var tcpForward: String

    @Flag(name: .customLong("tls"), help: "Wrap the TCP connection in TLS (certificate verified).")
    public var tls = false

    @Option(name: .customLong("tls-sni"), help: "With --tls: the SNI sent and the name the certificate must carry (default: the --tcp-forward host when it is a name).")
    public var tlsSNI: String?

    @Option(name: .customLong("tls-ca-file"), help: "With --tls: PEM file of trusted CA certificates (default: the system roots).")
    public var tlsCAFile: String?

    @OptionGroup public var shared: SharedOptions

    public init() {}

    public func validate() throws {
        _ = try makeConfiguration()
    }

    /// The engine configuration these flags describe.
    public func makeConfiguration() throws -> Udp2TcpConfiguration {
        let listen: SocketAddress
        let forward: HostPort
        do {
            listen = try parseSocketAddress(udpListen)
        } catch {
            throw ValidationError("--udp-listen: \(error)")
        }
        do {
            forward = try HostPort(parsing: tcpForward)
        } catch {
            throw ValidationError("--tcp-forward: \(error)")
        }
        guard forward.port != 0 else { throw ValidationError("--tcp-forward: port 0 in \"\(tcpForward)\"") }
        var tlsSettings: ClientTLSSettings?
        if tls {
            let name = tlsSNI ?? (forward.ipAddress == nil ? forward.host : nil)
            guard let name, !name.isEmpty else { throw ValidationError("--tls needs --tls-sni NAME when --tcp-forward is an IP address") }
            tlsSettings = ClientTLSSettings(serverName: name, caFile: tlsCAFile)
        } else if tlsSNI != nil || tlsCAFile != nil {
            throw ValidationError("--tls-sni and --tls-ca-file need --tls")
        }
        return Udp2TcpConfiguration(
            udpListen: listen, tcpForward: forward, tls: tlsSettings, socket: shared.socketSettings, threads: shared.threads ?? 1
        )
    }

    public func run() throws {
        try configureLogging()
        let configuration = try makeConfiguration()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let channel: Channel
        do {
            channel = try Udp2Tcp.start(configuration, on: group.next()).wait()
        } catch {
            Log.error("udp2tcp cannot start", ("udp_listen", configuration.udpListen.logDescription), ("error", describe(error)))
            throw ExitCode(1)
        }
        Log.info(
            "listening", ("udp_listen", channel.localAddress?.logDescription), ("tcp_forward", configuration.tcpForward),
            ("tls_sni", configuration.tls?.serverName)
        )
        try? channel.closeFuture.wait()
        Log.error("UDP socket closed", ("udp_listen", configuration.udpListen.logDescription))
        throw ExitCode(1)
    }
}

/// `tcp2udp`: accept TCP connections and forward each one's frames to one UDP address.
public struct Tcp2UdpCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tcp2udp",
        abstract: "Listen for incoming TCP and forward to UDP",
        discussion: """
            Every connection gets its own UDP socket, connected to --udp-forward: datagrams are \
            never sent anywhere else. LOG_LEVEL (debug, info, warn, error) sets how much is logged.
            """,
        version: "tcp2udp \(udpOverTCPVersion)"
    )

    @Option(name: .customLong("tcp-listen"), help: "The IP and TCP port(s) to listen on for udp2tcp connections (repeatable).")
    public var tcpListen: [String] = []

    @Option(name: .customLong("udp-forward"), help: "The IP and UDP port to forward all traffic to.")
    public var udpForward: String

    @Option(name: .customLong("udp-bind"), help: "The local IP to bind the UDP sockets to (default: 0.0.0.0 or ::).")
    public var udpBind: String?

    @Option(name: .customLong("tls-cert"), help: "Terminate TLS with this PEM certificate chain (needs --tls-key).")
    public var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key for --tls-cert.")
    public var tlsKey: String?

    @Flag(name: .customLong("proxy-protocol"), help: "Expect a PROXY protocol v1 or v2 header first on every connection.")
    public var proxyProtocol = false

    @Option(name: .customLong("max-connections"), help: "Close connections beyond this many at once.")
    public var maxConnections = 1024

    @OptionGroup public var shared: SharedOptions

    public init() {}

    public func validate() throws {
        _ = try makeConfiguration()
    }

    /// The engine configuration these flags describe.
    public func makeConfiguration() throws -> Tcp2UdpConfiguration {
        guard !tcpListen.isEmpty else { throw ValidationError("--tcp-listen: at least one address is required") }
        let listen = try tcpListen.map { text in
            do {
                return try parseSocketAddress(text)
            } catch {
                throw ValidationError("--tcp-listen: \(error)")
            }
        }
        let forward: SocketAddress
        do {
            forward = try parseSocketAddress(udpForward)
        } catch {
            throw ValidationError("--udp-forward: \(error)")
        }
        guard forward.port != 0 else { throw ValidationError("--udp-forward: port 0 in \"\(udpForward)\"") }
        var bind: SocketAddress?
        if let udpBind {
            do {
                bind = try parseIPAddress(udpBind)
            } catch {
                throw ValidationError("--udp-bind: \(error)")
            }
            if bind?.protocol != forward.protocol { throw ValidationError("--udp-bind: \(udpBind) is not of the same family as --udp-forward \(udpForward)") }
        }
        var tls: ServerTLSSettings?
        switch (tlsCert, tlsKey) {
        case (let cert?, let key?): tls = ServerTLSSettings(certificateFile: cert, keyFile: key)
        case (nil, nil): tls = nil
        default: throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections: must be at least 1") }
        return Tcp2UdpConfiguration(
            tcpListen: listen, udpForward: forward, udpBind: bind, socket: shared.socketSettings, threads: shared.threads, tls: tls,
            proxyProtocol: proxyProtocol, maxConnections: maxConnections
        )
    }

    public func run() throws {
        try configureLogging()
        let configuration = try makeConfiguration()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads ?? System.coreCount)
        let listeners: [Channel]
        do {
            listeners = try Tcp2Udp.start(configuration, group: group).wait()
        } catch {
            Log.error("tcp2udp cannot start", ("tcp_listen", tcpListen.joined(separator: ",")), ("error", describe(error)))
            throw ExitCode(1)
        }
        for listener in listeners {
            Log.info(
                "listening", ("tcp_listen", listener.localAddress?.logDescription), ("udp_forward", configuration.udpForward.logDescription),
                ("tls", configuration.tls != nil), ("proxy_protocol", configuration.proxyProtocol)
            )
        }
        for listener in listeners { try? listener.closeFuture.wait() }
        Log.error("listening sockets closed")
        throw ExitCode(1)
    }
}

/// Applies `LOG_LEVEL`.
func configureLogging() throws {
    guard let raw = getenv("LOG_LEVEL") else { return }
    let text = String(cString: raw)
    if text.isEmpty { return }
    guard let level = LogLevel(name: text) else { throw ValidationError("LOG_LEVEL: \"\(text)\" is not debug, info, warn or error") }
    Log.level = level
}
