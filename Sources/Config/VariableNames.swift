/// The interface-wide variables of the environment table, in the table's order.
enum Setting: String, CaseIterable {
    case dataDirectory = "VPN_DATA_DIR"
    case interfaceName = "WG_INTERFACE"
    case address = "WG_ADDRESS"
    case listenPort = "WG_LISTEN_PORT"
    case privateKeyFile = "WG_PRIVATE_KEY_FILE"
    case privateKey = "WG_PRIVATE_KEY"
    case publicKeyExport = "WG_PUBLIC_KEY_EXPORT"
    case mtu = "WG_MTU"
    case fwmark = "WG_FWMARK"
    case forward = "WG_FORWARD"
    case masquerade = "WG_MASQUERADE"
    case implementation = "WG_IMPLEMENTATION"
    case userspaceBinary = "WG_USERSPACE_BIN"
    case tcpListen = "WG_TCP_LISTEN"
    case peerKeyWait = "WG_PEER_KEY_WAIT"
    case shutdownGrace = "VPN_SHUTDOWN_GRACE"
    case logLevel = "LOG_LEVEL"
    case nodeName = "VPN_NODE_NAME"
    case keySource = "VPN_KEY_SOURCE"
    case agentEndpoint = "DSTACK_SIMULATOR_ENDPOINT"
    case gatewayConnectionLifetime = "VPN_GATEWAY_CONNECTION_LIFETIME"
    case peersFile = "WG_PEERS_FILE"
    case metricsListen = "VPN_METRICS_LISTEN"
}

/// What an environment variable's name means to vpn-init.
enum VariableName: Equatable {
    /// One of the interface-wide settings.
    case setting(Setting)
    /// A field of a peer (name nil for the unnamed peer).
    case peer(name: String?, field: PeerField)
    /// A peer field whose NAME is not `[A-Z0-9]+`.
    case invalidPeerName(name: String, field: PeerField)
    /// A `WG_*` or `VPN_*` name vpn-init does not know: a typo.
    case unknown
    /// Not vpn-init's (PATH, HOSTNAME, ...): ignored.
    case foreign

    /// Classifies a name. `WG_PEER_PUBLIC_KEY` is the unnamed peer's PUBLIC_KEY, not field KEY
    /// of peer PUBLIC: a name that is exactly a field wins, then the longest field suffix.
    init(_ name: String) {
        if let setting = Setting(rawValue: name) {
            self = .setting(setting)
            return
        }
        guard name.hasPrefix("WG_") || name.hasPrefix("VPN_") else {
            self = .foreign
            return
        }
        guard name.hasPrefix("WG_PEER_") else {
            self = .unknown
            return
        }
        let rest = name.dropFirst("WG_PEER_".count)
        if let field = PeerField(rawValue: String(rest)) {
            self = .peer(name: nil, field: field)
            return
        }
        // On the UTF-8 bytes: the names are ASCII when valid, and a file of 1,000 peers has
        // thousands of them (grapheme-aware suffix tests were a third of parsing it).
        let bytes = Array(rest.utf8)
        for (field, suffix) in PeerField.suffixesLongestFirst where bytes.count >= suffix.count {
            guard bytes[(bytes.count - suffix.count)...].elementsEqual(suffix) else { continue }
            let peerName = String(decoding: bytes[..<(bytes.count - suffix.count)], as: UTF8.self)
            self = Self.isValidPeerName(peerName)
                ? .peer(name: peerName, field: field) : .invalidPeerName(name: peerName, field: field)
            return
        }
        self = .unknown
    }

    /// `[A-Z0-9]+`.
    static func isValidPeerName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) }
    }

    /// The reason an invalid peer name is refused.
    static func invalidPeerNameReason(_ name: String, field: PeerField) -> String {
        if name.isEmpty { return "peer name is empty (use WG_PEER_\(field.rawValue) for the unnamed peer)" }
        let suggestion = name.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        let hint = suggestion.isEmpty ? "" : ", e.g. WG_PEER_\(suggestion)_\(field.rawValue)"
        return "peer name \(Display.quoted(name)) must be upper-case letters and digits only (A-Z, 0-9, no \"_\")\(hint)"
    }

    /// The known name closest to a misspelt one (edit distance at most 2, ignoring case), if any.
    /// `peerNames` are the valid peer names seen in the environment.
    static func suggestion(for name: String, peerNames: Set<String?>) -> String? {
        let upper = name.uppercased()
        guard upper.utf8.count <= 96 else { return nil }
        var candidates = Setting.allCases.map(\.rawValue)
        var prefixes = Set(peerNames.map { PeerField.prefix(name: $0) })
        // The misspelt name may belong to a peer that has no other variable: try each
        // `WG_PEER_<NAME>_` it could start with.
        if upper.hasPrefix("WG_PEER_") {
            let rest = upper.dropFirst("WG_PEER_".count)
            var index = rest.startIndex
            while let underscore = rest[index...].firstIndex(of: "_") {
                prefixes.insert("WG_PEER_" + rest[..<underscore] + "_")
                index = rest.index(after: underscore)
            }
        }
        for prefix in prefixes {
            candidates += PeerField.allCases.map { prefix + $0.rawValue }
        }
        var best: (name: String, distance: Int)?
        for candidate in candidates where candidate != name {
            let distance = editDistance(Array(upper.utf8), Array(candidate.utf8), limit: 2)
            if distance <= 2, distance < (best?.distance ?? Int.max)
                || (distance == best?.distance && candidate < best!.name) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// Levenshtein distance, or `limit + 1` as soon as it must exceed `limit`.
    static func editDistance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        guard abs(a.count - b.count) <= limit else { return limit + 1 }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...max(a.count, 1) where !a.isEmpty {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1..<(b.count + 1) {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
