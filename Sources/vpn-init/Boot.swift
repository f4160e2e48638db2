import Config
import DstackAgent
import SystemCalls
import VPNLog
import WireGuard

/// What boot has established before the tunnel comes up: the validated configuration and the
/// node's private key.
struct BootSettings: Sendable {
    var config: VPNConfig
    var privateKey: WireGuardKey
    /// The guest agent in dstack mode (peer `NODE` keys are derived through it), and what it
    /// said this CVM is.
    var agent: GuestAgent?
    var agentInfo: AgentInfo?
    /// Seconds children get between SIGTERM and SIGKILL (`VPN_SHUTDOWN_GRACE`).
    var shutdownGrace: Double { config.shutdownGrace }
}

/// A boot step that failed, with its exit code (README.md's Exit codes) and one line per problem.
struct BootFailure: Error, CustomStringConvertible {
    var exitCode: Int32
    var lines: [String]

    init(exitCode: Int32, lines: [String]) {
        self.exitCode = exitCode
        self.lines = lines
    }

    init(exitCode: Int32, _ line: String) {
        self.init(exitCode: exitCode, lines: [line])
    }

    var description: String { lines.joined(separator: "\n") }

    /// Logs every line at error level.
    func log() {
        for line in lines { Log.error(line) }
    }
}

enum Boot {
    /// Validates the environment, then loads (or on first boot creates) the node's key, and,
    /// when `exportPublicKey` is set, writes `WG_PUBLIC_KEY_EXPORT`. Nothing is written when the
    /// configuration is invalid.
    static func prepare(environment: [String: String], exportPublicKey: Bool = true) throws(BootFailure) -> BootSettings {
        try prepare(config: parse(environment: environment), exportPublicKey: exportPublicKey)
    }

    /// Validates the environment: exit 78 with one line per problem.
    static func parse(environment: [String: String]) throws(BootFailure) -> VPNConfig {
        do {
            return try VPNConfig.parse(environment: environment)
        } catch {
            throw BootFailure(exitCode: ExitCode.configuration, lines: error.problems.map(\.description))
        }
    }

    /// `prepare(environment:exportPublicKey:)` for a configuration already validated.
    static func prepare(config: VPNConfig, exportPublicKey: Bool = true) throws(BootFailure) -> BootSettings {
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
                throw BootFailure(exitCode: 1, "WG_PUBLIC_KEY_EXPORT: \(error)")
            }
        }
        return BootSettings(config: config, privateKey: privateKey, agent: agent, agentInfo: agentInfo)
    }

    /// The certificates of a peer's `TLS_CA_FILE` (nil without one): what its udp2tcp gets.
    /// A file that cannot be read or holds no certificate is a configuration error (78).
    static func certificateBundle(of peer: PeerConfig) throws(BootFailure) -> [UInt8]? {
        guard let path = peer.tlsCAFile else { return nil }
        do {
            return try CertificateBundle.load(path)
        } catch {
            throw BootFailure(exitCode: ExitCode.configuration, "\(peer.variable(.tlsCAFile)): \(error)")
        }
    }

    /// The inline `WG_PRIVATE_KEY`, the key derived by the guest agent (dstack mode), or the key
    /// file's key, generated on first boot.
    static func loadPrivateKey(_ config: VPNConfig, agent: GuestAgent?) throws(BootFailure) -> WireGuardKey {
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
