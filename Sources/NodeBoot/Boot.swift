import Config
import Metrics
import DstackAgent
import SystemCalls
import VPNLog
import WireGuard
import WireGuardModel

/// What boot has established before the tunnel comes up: the validated configuration and the
/// node's private key.
public struct BootSettings: Sendable {
    public var config: VPNConfig
    public var privateKey: WireGuardKey
    /// The guest agent in dstack mode (peer `NODE` keys are derived through it), and what it
    /// said this CVM is.
    public var agent: GuestAgent?
    public var agentInfo: AgentInfo?
    /// Seconds children get between SIGTERM and SIGKILL (`VPN_SHUTDOWN_GRACE`).
    public var shutdownGrace: Double { config.shutdownGrace }
}

/// A boot step that failed, with its exit code (README.md's Exit codes) and one line per problem.
public struct BootFailure: Error, CustomStringConvertible {
    public var exitCode: ExitCode
    public var lines: [String]

    public init(exitCode: ExitCode, lines: [String]) {
        self.exitCode = exitCode
        self.lines = lines
    }

    public init(exitCode: ExitCode, _ line: String) {
        self.init(exitCode: exitCode, lines: [line])
    }

    public var description: String { lines.joined(separator: "\n") }

    /// Logs every line at error level.
    public func log() {
        for line in lines { Log.error(line) }
    }
}

/// The boot sequence of a node, in two halves: `prepare` (configuration and keys: nothing on the
/// system changes but the key file and the exported public key) and `bringUp` (the identity
/// file, the interface and its helpers, forwarding and the firewall). Every change is registered
/// with the host as an undo step before it is made; the host runs them in reverse order at
/// shutdown, and after a failed boot, which therefore leaves nothing behind.
public enum Boot {
    /// Brings the node up on `system`: the identity file for `status`, the tunnel (interface,
    /// device configuration, wireguard-go and the TCP helpers, addresses and routes), the
    /// forwarding sysctls and vpn-init's nftables table, then waits for the device to have taken
    /// its configuration. The node is ready when it returns.
    public static func bringUp(_ settings: BootSettings, host: any BootHost, system: any NodeSystem) throws(BootFailure) -> Tunnel {
        NodeIdentity(settings: settings).record(interface: settings.config.interfaceName, supervisor: host, directory: system.runtimeDirectory)
        let tunnel = try Tunnel.bringUp(settings, supervisor: host, system: system)
        try Forwarding.install(settings, supervisor: host, system: system)
        try tunnel.finishBringUp()
        return tunnel
    }

    /// Serves `/metrics` and `/healthz` on `address` (`VPN_METRICS_LISTEN`) from the running
    /// node: its device read per scrape (`DeviceReader`: never a wait on the loop), the
    /// supervisor's restart counts, each dialing peer's transport, the reloads by outcome.
    public static func startMetrics(_ address: TCPListen, settings: BootSettings, tunnel: Tunnel, reload: PeerReload,
                                    host: any BootHost, version: String) throws(SystemCallError) -> MetricsServer {
        let config = settings.config
        let nodeName = config.nodeName ?? hostName()
        let reader = tunnel.deviceReader()
        let node = MetricsServer.Node(metrics: { [weak tunnel, weak reload] answer in
            reader.read { device in
                let (peers, transports) = tunnel?.metricsPeers(device: try? device.get()) ?? (nil, [])
                let info = (interface: config.interfaceName, version: version,
                            implementation: tunnel?.backend.implementation.rawValue ?? "", keySource: config.keySource.rawValue,
                            nodeName: nodeName)
                answer(NodeMetrics(
                    info, peers: peers, childRestarts: host.restartCounts(), transports: transports,
                    reloads: ["applied", "unchanged", "refused", "failed"].map { ($0, reload?.outcomes[$0] ?? 0) }))
            }
        }, health: { [weak tunnel] maxAge, answer in
            reader.read { device in
                guard let tunnel else { return answer(Health.Verdict(healthy: false, line: "unhealthy: shutting down")) }
                answer(Health.check(interface: config.interfaceName, links: tunnel.links, device: { () throws(SystemCallError) in try device.get() },
                                    maxHandshakeAge: maxAge, now: wallClockSeconds()))
            }
        })
        return try MetricsServer(address: address, node: node, host: host)
    }

    /// Validates the environment, then loads (or on first boot creates) the node's key, and,
    /// when `exportPublicKey` is set, writes `WG_PUBLIC_KEY_EXPORT`. Nothing is written when the
    /// configuration is invalid.
    public static func prepare(environment: [String: String], exportPublicKey: Bool = true) throws(BootFailure) -> BootSettings {
        try prepare(config: parse(environment: environment), exportPublicKey: exportPublicKey)
    }

    /// Validates the environment: exit 78 with one line per problem.
    public static func parse(environment: [String: String]) throws(BootFailure) -> VPNConfig {
        do {
            return try VPNConfig.parse(environment: environment)
        } catch {
            throw BootFailure(exitCode: .configuration, lines: error.problems.map(\.description))
        }
    }

    /// `prepare(environment:exportPublicKey:)` for a configuration already validated.
    public static func prepare(config: VPNConfig, exportPublicKey: Bool = true) throws(BootFailure) -> BootSettings {
        Log.level = config.logLevel
        for peer in config.peers {
            _ = try certificateBundle(of: peer)
        }
        var agent: GuestAgent?
        var agentInfo: AgentInfo?
        if config.keySource == .dstack {
            agent = DstackMode.agent(config)
            agentInfo = try DstackMode.identify(config, agent: agent!)
        }
        let privateKey = try loadPrivateKey(config, agent: agent)
        if exportPublicKey, let path = config.publicKeyExport {
            do {
                try Config.exportPublicKey(privateKey.publicKey(), to: path)
            } catch {
                throw BootFailure(exitCode: .failure, "WG_PUBLIC_KEY_EXPORT: \(error)")
            }
        }
        return BootSettings(config: config, privateKey: privateKey, agent: agent, agentInfo: agentInfo)
    }

    /// The certificates of a peer's `TLS_CA_FILE` (nil without one): what its udp2tcp gets.
    /// A file that cannot be read or holds no certificate is a configuration error (78).
    public static func certificateBundle(of peer: PeerConfig) throws(BootFailure) -> [UInt8]? {
        guard let path = peer.tlsCAFile else { return nil }
        do {
            return try CertificateBundle.load(path)
        } catch {
            throw BootFailure(exitCode: .configuration, "\(peer.variable(.tlsCAFile)): \(error)")
        }
    }

    /// The inline `WG_PRIVATE_KEY`, the key derived by the guest agent (dstack mode), or the key
    /// file's key, generated on first boot.
    public static func loadPrivateKey(_ config: VPNConfig, agent: GuestAgent?) throws(BootFailure) -> WireGuardKey {
        switch config.privateKey {
        case .inline(let key):
            return key
        case .dstack(let node):
            return try DstackMode.privateKey(node: node, agent: agent ?? DstackMode.agent(config))
        case .file(let path):
            // The default path comes from VPN_DATA_DIR: name the variable that sets it.
            let variable = path == VPNConfig.defaultPrivateKeyFile(dataDirectory: config.dataDirectory)
                ? "VPN_DATA_DIR" : "WG_PRIVATE_KEY_FILE"
            do {
                return try KeyStore(privateKeyPath: path).loadOrCreate().key
            } catch {
                throw BootFailure(exitCode: error.exitCode, "\(variable): \(error)")
            }
        }
    }
}
