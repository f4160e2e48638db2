import VPNLog
import WireGuardModel

extension VPNConfig {
    /// Reads and validates the configuration from environment variables (README.md's Environment section).
    ///
    /// Every variable is checked and every problem is collected before throwing, so one run
    /// shows all mistakes. Problems come interface settings first (in the table's order), then
    /// each peer (unnamed first, then by name), then unknown variables by name.
    ///
    /// Rules beyond each value's own syntax:
    /// - An empty value is an error for every variable ("is empty; unset it to use the
    ///   default"): compose turns a forgotten `${VAR}` into an empty string, and silently
    ///   using the default then hides the mistake. Use `off` / `0` where a setting can be off.
    /// - Any other `WG_*` or `VPN_*` variable is an unknown variable (a typo); the closest
    ///   known name is suggested. Other variables (PATH, HOSTNAME, ...) are ignored.
    /// - Values with control characters or over 64 KiB are refused before anything else.
    /// - Key values (`WG_PRIVATE_KEY`, `*_PUBLIC_KEY`) are never quoted in a problem.
    public static func parse(environment: [String: String]) throws(ConfigErrors) -> VPNConfig {
        let (config, problems) = parseWithPeersFile(environment: environment) { environment in
            var parser = EnvironmentParser(environment: environment)
            let config = parser.parse()
            return (config, parser.problems)
        }
        guard problems.isEmpty, let config else { throw ConfigErrors(problems: problems) }
        return config
    }
}

/// One pass over the environment, collecting problems as it goes.
struct EnvironmentParser {
    /// Longest value accepted for any variable (a long `ALLOWED_IPS` list fits easily).
    static let maximumValueLength = 65536

    let environment: [String: String]
    var problems: [ConfigProblem] = []
    /// The public key of `WG_PRIVATE_KEY`, when set and valid.
    var ownPublicKey: WireGuardKey?
    /// `VPN_NODE_NAME`, when set and valid.
    var ownNodeName: String?
    /// Whether `VPN_KEY_SOURCE=dstack` (peer `NODE` keys need it).
    var usesDstackKeys = false

    init(environment: [String: String]) { self.environment = environment }

    mutating func parse() -> VPNConfig? {
        var peerVariables: [String?: [PeerField: (variable: String, value: String)]] = [:]
        var unknown: [String] = []
        var invalidNames: [(String, String, PeerField)] = []
        for (variable, value) in environment {
            switch VariableName(variable) {
            case .setting, .foreign: continue
            case .peer(let name, let field): peerVariables[name, default: [:]][field] = (variable, value)
            case .invalidPeerName(let name, let field): invalidNames.append((variable, name, field))
            case .unknown: unknown.append(variable)
            }
        }

        let settings = parseSettings()
        var peers: [PeerConfig] = []
        let ordered = peerVariables.keys.sorted { ($0 ?? "") < ($1 ?? "") }
        for name in ordered {
            var peerParser = PeerParser(name: name, variables: peerVariables[name]!)
            if let peer = peerParser.parse() { peers.append(peer) }
            problems += peerParser.problems
        }
        checkAcrossPeers(peers)

        for (variable, name, field) in invalidNames.sorted(by: { $0.0 < $1.0 }) {
            problems.append(ConfigProblem(variable: variable, reason: VariableName.invalidPeerNameReason(name, field: field)))
        }
        let peerNames = Set(peerVariables.keys)
        for variable in unknown.sorted() {
            var reason = "unknown variable"
            if let suggestion = VariableName.suggestion(for: variable, peerNames: peerNames) {
                reason += " (did you mean \(suggestion)?)"
            } else if variable.hasPrefix("WG_PEER_") && variable.hasSuffix("_PRESHARED_KEY") {
                reason += " (preshared keys are read from a file: use \(variable)_FILE)"
            }
            problems.append(ConfigProblem(variable: variable, reason: reason))
        }
        guard var settings, problems.isEmpty else { return nil }
        settings.peers = peers
        return settings
    }

    /// The interface-wide settings, or nil when any is invalid.
    private mutating func parseSettings() -> VPNConfig? {
        let dataDirectory = value(.dataDirectory, default: "/data", Value.absolutePath)
        let interfaceName = value(.interfaceName, default: "wg0", Value.interfaceName)
        let addresses = value(.address, default: [], Value.networks)
        if environment[Setting.address.rawValue] == nil {
            problem(.address, "is required: this node's VPN address(es), e.g. 10.0.0.1/24")
        }
        let listenPort = value(.listenPort, default: 51820, Value.port)
        let keyFile = optional(.privateKeyFile, Value.filePath)
        let inlineKey = optional(.privateKey, Value.key)
        ownPublicKey = (inlineKey ?? nil)?.publicKey()
        let publicKeyExport = optional(.publicKeyExport, Value.filePath)
        let peersFile = optional(.peersFile, Value.filePath)
        let minimumMTU = (addresses ?? []).contains { $0.address.isV6 } ? 1280 : 576
        let mtu = optional(.mtu) { (text: String) throws(ParseError) -> Int in
            do throws(ParseError) {
                return try Value.integer(text, in: minimumMTU...65535, what: "MTU")
            } catch {
                throw ParseError(error.reason + (minimumMTU == 1280 ? " (IPv6 needs at least 1280)" : ""))
            }
        }
        let fwmark = value(.fwmark, default: nil, Value.fwmark)
        let forward = value(.forward, default: true, Value.bool)
        let masquerade = value(.masquerade, default: .auto, Value.masquerade)
        let implementation = value(.implementation, default: .auto, Value.implementation)
        let userspaceBinary = value(.userspaceBinary, default: "/usr/bin/wireguard-go", Value.filePath)
        let tcpListen = optional(.tcpListen, Value.listenAddress)
        let metricsListen = optional(.metricsListen, Value.listenAddress)
        let peerKeyWait = value(.peerKeyWait, default: 60) { (text: String) throws(ParseError) in
            try Value.seconds(text, maximum: 86400)
        }
        let shutdownGrace = value(.shutdownGrace, default: 8) { (text: String) throws(ParseError) in
            try Value.seconds(text, maximum: 3600)
        }
        let logLevel = value(.logLevel, default: .info, Value.logLevel)
        let nodeName = optional(.nodeName, Value.nodeName)
        let keySource = value(.keySource, default: .file, Value.keySource)
        let agentEndpoint = optional(.agentEndpoint, Value.agentEndpoint)
        let lifetime = value(.gatewayConnectionLifetime, default: VPNConfig.defaultGatewayConnectionLifetime) { (text: String) throws(ParseError) in
            try Value.integer(text, in: 0...31_536_000, what: "lifetime in seconds")
        }
        if keySource == .dstack {
            if environment[Setting.nodeName.rawValue] == nil {
                problem(.nodeName, "is required with VPN_KEY_SOURCE=dstack: the key is derived for this name "
                    + "(a container's default host name changes when it is recreated), e.g. node-a")
            }
            for setting in [Setting.privateKey, .privateKeyFile] where environment[setting.rawValue] != nil {
                problem(setting, "cannot be combined with VPN_KEY_SOURCE=dstack: the key is derived by the dstack guest agent")
            }
        }
        ownNodeName = (nodeName ?? nil)
        usesDstackKeys = keySource == .dstack

        guard let dataDirectory, let interfaceName, let addresses, let listenPort, let keyFile,
              let inlineKey, let publicKeyExport, let mtu, let fwmark, let forward, let masquerade,
              let implementation, let userspaceBinary, let tcpListen, let peerKeyWait,
              let shutdownGrace, let logLevel, let nodeName, let keySource, let agentEndpoint, let lifetime,
              let peersFile, let metricsListen, !addresses.isEmpty else { return nil }
        let privateKey: PrivateKeySource = if keySource == .dstack, let nodeName {
            .dstack(nodeName: nodeName)
        } else if let inlineKey {
            .inline(inlineKey)
        } else {
            .file(keyFile ?? VPNConfig.defaultPrivateKeyFile(dataDirectory: dataDirectory))
        }
        return VPNConfig(
            dataDirectory: dataDirectory, interfaceName: interfaceName, addresses: addresses,
            listenPort: listenPort, privateKey: privateKey, publicKeyExport: publicKeyExport,
            mtu: mtu, fwmark: fwmark, forward: forward, masquerade: masquerade,
            implementation: implementation, userspaceBinary: userspaceBinary, tcpListen: tcpListen,
            peerKeyWait: peerKeyWait, shutdownGrace: shutdownGrace, logLevel: logLevel,
            nodeName: nodeName, keySource: keySource, agentEndpoint: agentEndpoint, gatewayConnectionLifetime: lifetime,
            peersFile: peersFile, metricsListen: metricsListen
        )
    }

    /// Checks between peers and against the interface: one public key per peer, no peer with
    /// this node's own key or name, `NODE` only with dstack keys, no network routed to two peers.
    private mutating func checkAcrossPeers(_ peers: [PeerConfig]) {
        var keyOwners: [WireGuardKey: String] = [:]
        if let ownPublicKey { keyOwners[ownPublicKey] = Setting.privateKey.rawValue }
        var nodeOwners: [String: String] = [:]
        if let ownNodeName { nodeOwners[ownNodeName] = Setting.nodeName.rawValue }
        var networkOwners: [IPNetwork: String] = [:]
        for peer in peers {
            if case .node(let node) = peer.publicKey {
                let variable = peer.variable(.node)
                if !usesDstackKeys {
                    problems.append(ConfigProblem(variable: variable, reason: "needs VPN_KEY_SOURCE=dstack: the key of a node of the same "
                        + "dstack app is derived by the guest agent (for a node of another app, set \(peer.variable(.publicKey)))"))
                } else if let owner = nodeOwners[node] {
                    let whose = owner == Setting.nodeName.rawValue ? "this node's own name (\(owner))" : "the same node as \(owner)"
                    problems.append(ConfigProblem(variable: variable, reason: "\(Display.quoted(node)) is \(whose)"))
                } else {
                    nodeOwners[node] = variable
                }
            }
            if case .inline(let key) = peer.publicKey {
                let variable = peer.variable(.publicKey)
                if let owner = keyOwners[key] {
                    let whose = owner == Setting.privateKey.rawValue
                        ? "this node's own public key (from \(owner))" : "the same key as \(owner)"
                    problems.append(ConfigProblem(variable: variable, reason: "is \(whose)"))
                } else {
                    keyOwners[key] = variable
                }
            }
            for network in peer.allowedIPs {
                let variable = peer.variable(.allowedIPs)
                if let owner = networkOwners[network.masked] {
                    problems.append(ConfigProblem(variable: variable, reason: "\(network) is also in \(owner)"))
                } else {
                    networkOwners[network.masked] = variable
                }
            }
        }
    }

    /// Parses one setting: `defaultValue` when unset, nil (with a problem recorded) when invalid.
    private mutating func value<T>(
        _ setting: Setting, default defaultValue: T, _ parse: (String) throws(ParseError) -> T
    ) -> T? {
        guard let text = environment[setting.rawValue] else { return defaultValue }
        switch Self.parse(text, secret: setting == .privateKey, parse) {
        case .success(let value): return value
        case .failure(let error):
            problem(setting, error.reason)
            return nil
        }
    }

    /// Parses a setting without a default: `.some(nil)` when unset, nil when invalid.
    private mutating func optional<T>(_ setting: Setting, _ parse: (String) throws(ParseError) -> T) -> T?? {
        value(setting, default: nil) { (text: String) throws(ParseError) -> T? in try parse(text) }
    }

    private mutating func problem(_ setting: Setting, _ reason: String) {
        problems.append(ConfigProblem(variable: setting.rawValue, reason: reason))
    }

    /// The checks every value gets (empty, too long, control characters), then `parse`.
    static func parse<T>(_ text: String, secret: Bool, _ parse: (String) throws(ParseError) -> T) -> Result<T, ParseError> {
        if text.isEmpty { return .failure(ParseError("is empty; unset it to use the default")) }
        if text.utf8.count > maximumValueLength {
            return .failure(ParseError("is too long (\(text.utf8.count) bytes, at most \(maximumValueLength))"))
        }
        if text.unicodeScalars.contains(where: Display.isControl) {
            let shown = secret ? "" : " \(Display.quoted(text))"
            return .failure(ParseError("value\(shown) contains a control character"))
        }
        do throws(ParseError) {
            return .success(try parse(text))
        } catch {
            return .failure(error)
        }
    }
}
