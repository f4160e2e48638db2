import WireGuardModel

/// Validates the variables of one peer, collecting problems.
struct PeerParser {
    let name: String?
    let variables: [PeerField: (variable: String, value: String)]
    var problems: [ConfigProblem] = []

    init(name: String?, variables: [PeerField: (variable: String, value: String)]) {
        self.name = name
        self.variables = variables
    }

    /// The peer, or nil when anything about it is invalid (the problems say what).
    mutating func parse() -> PeerConfig? {
        let inlineKey = optional(.publicKey, Value.key)
        let keyFile = optional(.publicKeyFile, Value.filePath)
        let presharedKeyFile = optional(.presharedKeyFile, Value.filePath)
        let allowedIPs = optional(.allowedIPs, Value.networks)
        let endpoint = optional(.endpoint, Value.endpoint)
        let keepalive = optional(.persistentKeepalive) { (text: String) throws(ParseError) -> UInt16 in
            if text.lowercased() == "off" { return 0 }
            return UInt16(try Value.integer(text, in: 0...65535, what: "keepalive"))
        }
        let tcpEndpoint = optional(.tcpEndpoint, Value.endpoint)
        let tlsSNI = optional(.tlsSNI, Value.serverName)
        let tlsCAFile = optional(.tlsCAFile, Value.filePath)
        let node = optional(.node, Value.nodeName)
        let gateway = optional(.gateway, Value.gateway)
        checkCombinations()

        guard problems.isEmpty, let inlineKey, let keyFile, let presharedKeyFile, let allowedIPs,
              let endpoint, let keepalive, let tcpEndpoint, let tlsSNI, let tlsCAFile, let node, let gateway,
              let networks = allowedIPs,
              let publicKey = inlineKey.map(PublicKeySource.inline) ?? keyFile.map(PublicKeySource.file) ?? node.map(PublicKeySource.node)
        else { return nil }
        // Through the gateway a keepalive is on unless set: the gateway cuts a connection idle
        // for 10 minutes, and the listening side can only answer over the dialer's connection.
        let defaultKeepalive: UInt16? = gateway != nil ? Self.gatewayKeepalive : nil
        return PeerConfig(
            name: name, publicKey: publicKey, presharedKeyFile: presharedKeyFile, allowedIPs: networks,
            endpoint: endpoint, persistentKeepalive: keepalive.map { $0 == 0 ? nil : $0 } ?? defaultKeepalive,
            tcpEndpoint: tcpEndpoint, tlsSNI: tlsSNI, tlsCAFile: tlsCAFile, gateway: gateway
        )
    }

    /// `PERSISTENT_KEEPALIVE` of a `GATEWAY` peer that sets none.
    static let gatewayKeepalive: UInt16 = 25

    /// Which fields need or exclude which others. Only presence counts here: an invalid value
    /// already has its own problem.
    private mutating func checkCombinations() {
        let present = Set(variables.keys)
        let has = { (field: PeerField) in present.contains(field) }
        if has(.publicKey) && has(.publicKeyFile) {
            add(.publicKeyFile, "cannot be combined with \(variable(.publicKey)): set one of them")
        }
        for field in [PeerField.publicKey, .publicKeyFile] where has(field) && has(.node) {
            add(.node, "cannot be combined with \(variable(field)): the key of a NODE is derived")
        }
        if !has(.publicKey) && !has(.publicKeyFile) && !has(.node) {
            add(.publicKey, "is required for \(peerDescription) (or \(variable(.publicKeyFile)), or \(variable(.node)) in dstack mode)")
        }
        if !has(.allowedIPs) {
            add(.allowedIPs, "is required for \(peerDescription): the networks routed to it, e.g. 10.0.0.2/32")
        }
        if has(.tcpEndpoint) && has(.endpoint) {
            add(.endpoint, "cannot be combined with \(variable(.tcpEndpoint)): the peer is then reached through a local udp2tcp")
        }
        for field in [PeerField.endpoint, .tcpEndpoint, .tlsSNI] where has(field) && has(.gateway) {
            add(field, "cannot be combined with \(variable(.gateway)): the peer is dialed through the gateway, with its name as SNI")
        }
        if has(.tlsSNI) && !has(.tcpEndpoint) && !has(.gateway) {
            add(.tlsSNI, "needs \(variable(.tcpEndpoint)): TLS only wraps the TCP transport")
        }
        if has(.tlsCAFile) && !has(.tlsSNI) && !has(.gateway) {
            add(.tlsCAFile, "needs \(variable(.tlsSNI)) or \(variable(.gateway)): the CA file only checks a TLS connection")
        }
    }

    private var peerDescription: String { name.map { "peer \($0)" } ?? "the unnamed peer" }

    private func variable(_ field: PeerField) -> String { PeerField.prefix(name: name) + field.rawValue }

    private mutating func add(_ field: PeerField, _ reason: String) {
        problems.append(ConfigProblem(variable: variable(field), reason: reason))
    }

    /// Parses a field: `.some(nil)` when unset, nil (with a problem recorded) when invalid.
    private mutating func optional<T>(_ field: PeerField, _ parse: (String) throws(ParseError) -> T) -> T?? {
        guard let (variable, text) = variables[field] else { return .some(nil) }
        switch EnvironmentParser.parse(text, secret: field == .publicKey, parse) {
        case .success(let value): return .some(value)
        case .failure(let error):
            problems.append(ConfigProblem(variable: variable, reason: error.reason))
            return nil
        }
    }
}
