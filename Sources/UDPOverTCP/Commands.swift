import NIOCore
import NIOPosix
import SystemCalls
import VPNLog

#if canImport(Glibc)
import Glibc
#endif

/// The version `--version` prints.
public let udpOverTCPVersion = "0.1.0"

/// Mullvad's `TcpOptions` and `--threads`, taken by both tools.
let sharedFlags: [FlagSpec] = [
    FlagSpec(name: "threads", valueName: "THREADS", help: "Number of worker threads (default: udp2tcp 1, tcp2udp one per core)"),
    FlagSpec(name: "recv-buffer", valueName: "BYTES", help: "SO_RCVBUF of the TCP socket(s)"),
    FlagSpec(name: "send-buffer", valueName: "BYTES", help: "SO_SNDBUF of the TCP socket(s)"),
    FlagSpec(name: "tcp-recv-timeout", valueName: "SECONDS", help: "Close a TCP connection that received nothing for this long"),
    FlagSpec(name: "fwmark", valueName: "MARK", help: "SO_MARK for every socket, decimal or 0x hex (Linux, needs CAP_NET_ADMIN)"),
    FlagSpec(name: "nodelay", help: "Set TCP_NODELAY (always on; accepted for compatibility)"),
]

extension ParsedFlags {
    /// `--threads`, 1-255 as Mullvad's `NonZeroU8`.
    func threads() throws(UsageError) -> Int? {
        try integer("threads", in: UInt8(1)...UInt8.max).map(Int.init)
    }

    /// The socket settings the shared flags ask for.
    func socketSettings() throws(UsageError) -> SocketSettings {
        var fwmark: UInt32?
        if let text = value("fwmark") {
            let lowered = text.lowercased()
            fwmark = lowered.hasPrefix("0x") ? UInt32(lowered.dropFirst(2), radix: 16) : UInt32(lowered)
            if fwmark == nil { throw UsageError("--fwmark: \"\(text)\" is not a 32-bit number") }
        }
        let timeout = try integer("tcp-recv-timeout", in: UInt32(1)...UInt32.max)
        return SocketSettings(
            tcpReceiveBuffer: try integer("recv-buffer", in: UInt32(1)...UInt32(Int32.max)).map(Int.init),
            tcpSendBuffer: try integer("send-buffer", in: UInt32(1)...UInt32(Int32.max)).map(Int.init),
            tcpReceiveTimeout: timeout.map { .seconds(Int64($0)) }, fwmark: fwmark, noDelay: true
        )
    }

    /// An `IP:PORT` flag.
    func socketAddress(_ name: String) throws(UsageError) -> SocketAddress {
        let text = try required(name)
        do {
            return try parseSocketAddress(text)
        } catch {
            throw UsageError("--\(name): \(error)")
        }
    }
}

/// `udp2tcp`: listen for UDP and forward it over one TCP (or TLS) connection.
public enum Udp2TcpCommand {
    static let about = "Listen for incoming UDP and forward to TCP (Mullvad's udp-over-tcp framing), reconnecting at once after a cut, then with backoff."
    static let flags: [FlagSpec] = [
        FlagSpec(name: "udp-listen", valueName: "IP:PORT", help: "The IP and UDP port to bind to and accept incoming datagrams on"),
        FlagSpec(
            name: "udp-listen-fd", valueName: "FD",
            help: "Instead of --udp-listen: accept datagrams on this inherited UDP socket, bound by whoever started udp2tcp (e.g. with buffers beyond net.core.rmem_max)"
        ),
        FlagSpec(name: "tcp-forward", valueName: "HOST:PORT", help: "The IP (or name) and TCP port to forward all UDP traffic to"),
        FlagSpec(name: "tls", help: "Wrap the TCP connection in TLS; the server certificate is verified"),
        FlagSpec(name: "tls-sni", valueName: "NAME", help: "With --tls: the SNI sent and the name the certificate must carry (default: the --tcp-forward host when it is a name)"),
        FlagSpec(name: "tls-ca-file", valueName: "FILE", help: "With --tls: PEM file of trusted CA certificates (default: the system roots); /dev/fd/N is read from inherited descriptor N"),
        FlagSpec(
            name: "tcp-connection-lifetime", valueName: "SECONDS",
            help: "Replace the TCP connection before it is this old (e.g. below a gateway's limit on connection age): the next one is opened a tenth of that (at most 60 s) before and takes over sending once established; the old one still delivers what arrives on it until 5 s after the new one delivered its first datagram (10 min at most). 0 (the default) means never"
        ),
        FlagSpec(
            name: "status-fd", valueName: "FD",
            help: "Report the connection's state on this open descriptor (e.g. a pipe from a supervisor), one line per change: connected, rotated, disconnected"
        ),
    ] + sharedFlags

    /// Parses a command line (without the program name).
    public static func parse(_ arguments: [String]) throws(UsageError) -> Invocation<Udp2TcpConfiguration> {
        let flags = try ParsedFlags(arguments, accepting: Self.flags)
        if flags.wantsHelp { return .help }
        if flags.wantsVersion { return .version }
        let listen: SocketAddress
        var listenDescriptor: CInt?
        if let text = flags.value("udp-listen-fd") {
            guard flags.value("udp-listen") == nil else { throw UsageError("--udp-listen and --udp-listen-fd exclude each other") }
            guard let descriptor = CInt(text), descriptor >= 0 else { throw UsageError("--udp-listen-fd: \"\(text)\" is not a descriptor number") }
            do {
                listen = try RawSockets.boundAddress(ofUDP: descriptor)
            } catch {
                throw UsageError("--udp-listen-fd \(descriptor): \(describe(error))")
            }
            listenDescriptor = descriptor
        } else {
            listen = try flags.socketAddress("udp-listen")
        }
        let forwardText = try flags.required("tcp-forward")
        let forward: HostPort
        do {
            forward = try HostPort(parsing: forwardText)
        } catch {
            throw UsageError("--tcp-forward: \(error)")
        }
        guard forward.port != 0 else { throw UsageError("--tcp-forward: port 0 in \"\(forwardText)\"") }
        var tls: ClientTLSSettings?
        if flags.isSet("tls") {
            guard let name = flags.value("tls-sni") ?? (forward.ipAddress == nil ? forward.host : nil), !name.isEmpty else {
                throw UsageError("--tls needs --tls-sni NAME when --tcp-forward is an IP address")
            }
            tls = ClientTLSSettings(serverName: name, caFile: flags.value("tls-ca-file"))
        } else if flags.value("tls-sni") != nil || flags.value("tls-ca-file") != nil {
            throw UsageError("--tls-sni and --tls-ca-file need --tls")
        }
        let lifetime = try flags.integer("tcp-connection-lifetime", in: UInt32(0)...UInt32.max) ?? 0
        var status: StatusReport?
        if let descriptor = try flags.integer("status-fd", in: UInt32(3)...UInt32(Int32.max)) {
            guard fcntl(Int32(descriptor), F_GETFD) >= 0 else { throw UsageError("--status-fd: \(descriptor) is not an open descriptor") }
            status = StatusReport(descriptor: Int32(descriptor))
        }
        return .run(
            Udp2TcpConfiguration(
                udpListen: listen, tcpForward: forward, tls: tls, socket: try flags.socketSettings(), threads: try flags.threads() ?? 1,
                rotation: lifetime > 0 ? RotationPolicy(lifetime: .seconds(Int64(lifetime))) : nil, status: status,
                udpListenDescriptor: listenDescriptor
            )
        )
    }

    /// Runs udp2tcp with `arguments` (default: the process's, without the program name);
    /// returns only by exiting.
    public static func main(arguments: [String] = Array(ProcessArguments.all.dropFirst())) -> Never {
        let configuration: Udp2TcpConfiguration = startUp(
            tool: "udp2tcp", about: about, flags: flags, required: ["udp-listen", "tcp-forward"], arguments: arguments, parse: parse
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let channel: Channel
        do {
            channel = try Udp2Tcp.start(configuration, on: group.next()).wait()
        } catch {
            Log.error("udp2tcp cannot start", ("udp_listen", configuration.udpListen.logDescription), ("error", describe(error)))
            exit(1)
        }
        Log.info(
            "listening", ("udp_listen", channel.localAddress?.logDescription), ("tcp_forward", configuration.tcpForward),
            ("tls_sni", configuration.tls?.serverName), ("tcp_connection_lifetime_s", configuration.rotation.map { $0.lifetime.nanoseconds / 1_000_000_000 })
        )
        try? channel.closeFuture.wait()
        Log.error("UDP socket closed", ("udp_listen", configuration.udpListen.logDescription))
        exit(1)
    }
}

/// `tcp2udp`: accept TCP connections and forward each one's frames to one UDP address.
public enum Tcp2UdpCommand {
    static let about = "Listen for incoming TCP and forward to UDP (Mullvad's udp-over-tcp framing); every connection gets its own UDP socket connected to --udp-forward."
    static let flags: [FlagSpec] = [
        FlagSpec(name: "tcp-listen", valueName: "IP:PORT", repeatable: true, help: "The IP and TCP port(s) to listen on for udp2tcp connections (repeatable)"),
        FlagSpec(
            name: "tcp-listen-fd", valueName: "FD", repeatable: true,
            help: "Accept on this inherited TCP socket, bound by whoever started tcp2udp (a port below 1024, SO_MARK: no privilege needed here); repeatable, with or instead of --tcp-listen"
        ),
        FlagSpec(name: "udp-forward", valueName: "IP:PORT", help: "The IP and UDP port to forward all traffic to, and the only address datagrams are sent to"),
        FlagSpec(name: "udp-bind", valueName: "IP", help: "The local IP to bind the UDP sockets to (default: 0.0.0.0 or ::)"),
        FlagSpec(name: "tls-cert", valueName: "FILE", help: "Terminate TLS with this PEM certificate chain (needs --tls-key)"),
        FlagSpec(name: "tls-key", valueName: "FILE", help: "The PEM private key for --tls-cert"),
        FlagSpec(name: "proxy-protocol", help: "Expect a PROXY protocol v1 or v2 header first on every connection (haproxy send-proxy / send-proxy-v2)"),
        FlagSpec(name: "max-connections", valueName: "N", help: "Close connections beyond this many at once (default 1024)"),
    ] + sharedFlags

    /// Parses a command line (without the program name).
    public static func parse(_ arguments: [String]) throws(UsageError) -> Invocation<Tcp2UdpConfiguration> {
        let flags = try ParsedFlags(arguments, accepting: Self.flags)
        if flags.wantsHelp { return .help }
        if flags.wantsVersion { return .version }
        let listenTexts = flags.all("tcp-listen")
        var descriptors: [CInt] = []
        for text in flags.all("tcp-listen-fd") {
            guard let descriptor = CInt(text), descriptor >= 0 else { throw UsageError("--tcp-listen-fd: \"\(text)\" is not a descriptor number") }
            descriptors.append(descriptor)
        }
        guard !listenTexts.isEmpty || !descriptors.isEmpty else { throw UsageError("--tcp-listen is required") }
        var listen: [SocketAddress] = []
        for text in listenTexts {
            do {
                listen.append(try parseSocketAddress(text))
            } catch {
                throw UsageError("--tcp-listen: \(error)")
            }
        }
        let forward = try flags.socketAddress("udp-forward")
        guard forward.port != 0 else { throw UsageError("--udp-forward: port 0 is not allowed") }
        var bind: SocketAddress?
        if let text = flags.value("udp-bind") {
            do {
                bind = try parseIPAddress(text)
            } catch {
                throw UsageError("--udp-bind: \(error)")
            }
            if bind?.protocol != forward.protocol { throw UsageError("--udp-bind: \(text) is not of the same family as --udp-forward") }
        }
        var tls: ServerTLSSettings?
        switch (flags.value("tls-cert"), flags.value("tls-key")) {
        case (let cert?, let key?): tls = ServerTLSSettings(certificateFile: cert, keyFile: key)
        case (nil, nil): tls = nil
        default: throw UsageError("--tls-cert and --tls-key go together")
        }
        return .run(
            Tcp2UdpConfiguration(
                tcpListen: listen, tcpListenDescriptors: descriptors, udpForward: forward, udpBind: bind, socket: try flags.socketSettings(),
                threads: try flags.threads(),
                tls: tls, proxyProtocol: flags.isSet("proxy-protocol"),
                maxConnections: try flags.integer("max-connections", in: 1...Int(Int32.max)) ?? 1024
            )
        )
    }

    /// Runs tcp2udp with `arguments` (default: the process's, without the program name);
    /// returns only by exiting.
    public static func main(arguments: [String] = Array(ProcessArguments.all.dropFirst())) -> Never {
        let configuration: Tcp2UdpConfiguration = startUp(
            tool: "tcp2udp", about: about, flags: flags, required: ["tcp-listen", "udp-forward"], arguments: arguments, parse: parse
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads ?? System.coreCount)
        let listeners: [Channel]
        do {
            listeners = try Tcp2Udp.start(configuration, group: group).wait()
        } catch {
            let addresses = (configuration.tcpListen.map(\.logDescription) + configuration.tcpListenDescriptors.map { "fd \($0)" })
                .joined(separator: ",")
            Log.error("tcp2udp cannot start", ("tcp_listen", addresses), ("error", describe(error)))
            exit(1)
        }
        for listener in listeners {
            Log.info(
                "listening", ("tcp_listen", listener.localAddress?.logDescription), ("udp_forward", configuration.udpForward.logDescription),
                ("tls", configuration.tls != nil), ("proxy_protocol", configuration.proxyProtocol)
            )
        }
        for listener in listeners { try? listener.closeFuture.wait() }
        Log.error("listening sockets closed")
        exit(1)
    }
}

/// Parses the process's arguments and `LOG_LEVEL`; prints help or version, or the usage error
/// and exits 2 (as clap does for Mullvad's tools).
private func startUp<Configuration>(
    tool: String, about: String, flags: [FlagSpec], required: Set<String>, arguments: [String],
    parse: ([String]) throws(UsageError) -> Invocation<Configuration>
) -> Configuration {
    let help = helpText(tool: tool, about: about, flags: flags, required: required)
    do {
        try configureLogging()
        switch try parse(arguments) {
        case .help:
            print(help, terminator: "")
            exit(0)
        case .version:
            print("\(tool) \(udpOverTCPVersion)")
            exit(0)
        case .run(let configuration):
            return configuration
        }
    } catch {
        writeStandardError("error: \(error)\nTry '\(tool) --help' for more information.\n")
        exit(2)
    }
}

/// Applies `LOG_LEVEL`.
func configureLogging() throws(UsageError) {
    guard let raw = getenv("LOG_LEVEL") else { return }
    let text = String(cString: raw)
    if text.isEmpty { return }
    guard let level = LogLevel(name: text) else { throw UsageError("LOG_LEVEL: \"\(text)\" is not debug, info, warn or error") }
    Log.level = level
}

private func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
