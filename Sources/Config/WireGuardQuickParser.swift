import WireGuardModel

extension WireGuardQuickConfig {
    /// Parses a wg-quick file as `wg-quick` and `wg` read it: `[Interface]` / `[Peer]` sections
    /// and keys in any case, `#` comments (a `# Name = B` comment in a `[Peer]` section names
    /// the peer), blank lines, `Address` and `AllowedIPs` repeated or comma-separated.
    ///
    /// Stricter than `wg`: unknown keys, keys set twice, empty values, a second `[Interface]`
    /// and two peers with one public key are errors; so are the wg-quick keys vpn-init does not
    /// apply (`DNS`, `Table`, `PreUp`, `PostUp`, `PreDown`, `PostDown`, `SaveConfig`).
    /// Every problem is collected, each with `file:line`; key values are never quoted.
    public static func parse(_ text: String, file: String) throws(ConfigFileErrors) -> WireGuardQuickConfig {
        var parser = QuickParser(file: file)
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            parser.read(line: line, number: index + 1)
        }
        let config = parser.finish()
        guard parser.problems.isEmpty, let config else { throw ConfigFileErrors(problems: parser.problems) }
        return config
    }
}

/// The state of one parse: the section being read and what has been read so far.
private struct QuickParser {
    enum Section { case none, interface, peer }

    struct PendingPeer {
        var line: Int
        var name: String?
        var publicKey: WireGuardKey?
        var presharedKey: WireGuardKey?
        var allowedIPs: [IPNetwork] = []
        var endpoint: Endpoint?
        var persistentKeepalive: UInt16?
    }

    static let interfaceKeys = ["PrivateKey", "Address", "ListenPort", "MTU", "FwMark"]
    static let peerKeys = ["PublicKey", "PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive"]
    static let unsupportedKeys = ["DNS", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig"]
    static let repeatableKeys: Set<String> = ["Address", "AllowedIPs"]

    let file: String
    var problems: [ConfigFileProblem] = []
    var section = Section.none
    var interfaceLine: Int?
    var privateKey: WireGuardKey?
    var addresses: [IPNetwork] = []
    var listenPort: UInt16?
    var mtu: (value: Int, line: Int)?
    var fwmark: UInt32?
    var peers: [PendingPeer] = []
    /// Where each key of the current section was first set.
    var seenKeys: [String: Int] = [:]

    init(file: String) { self.file = file }

    mutating func read(line raw: Substring, number: Int) {
        var line = raw
        if line.last == "\r" { line = line.dropLast() }
        guard line.utf8.count <= 4096 else { return add(number, nil, "line is too long (\(line.utf8.count) bytes)") }
        if line.unicodeScalars.contains(where: { $0 != "\t" && Display.isControl($0) }) {
            return add(number, nil, "line contains a control character")
        }
        if section == .peer, let name = Self.nameComment(line) {
            peers[peers.count - 1].name = name
            return
        }
        let content = Value.trimmed(line.prefix { $0 != "#" })
        if content.isEmpty { return }
        if content.hasPrefix("[") { return startSection(content, number: number) }
        guard let equals = content.firstIndex(of: "=") else {
            return add(number, nil, "expected a section header or KEY = VALUE, got \(Display.quoted(content))")
        }
        let key = String(Value.trimmed(content[..<equals]))
        let value = String(Value.trimmed(content[content.index(after: equals)...]))
        readKey(key, value: value, number: number)
    }

    private mutating func startSection(_ header: Substring, number: Int) {
        seenKeys = [:]
        switch header.lowercased() {
        case "[interface]":
            if let first = interfaceLine {
                add(number, nil, "second [Interface] section (the first is on line \(first))")
            }
            interfaceLine = interfaceLine ?? number
            section = .interface
        case "[peer]":
            peers.append(PendingPeer(line: number))
            section = .peer
        default:
            section = .none
            add(number, nil, "unknown section \(Display.quoted(header)) (expected [Interface] or [Peer])")
        }
    }

    private mutating func readKey(_ written: String, value: String, number: Int) {
        let known = (Self.interfaceKeys + Self.peerKeys + Self.unsupportedKeys)
            .first { $0.lowercased() == written.lowercased() }
        guard let key = known else { return add(number, written, "unknown key") }
        if Self.unsupportedKeys.contains(key) {
            return add(number, key, "is a wg-quick setting that vpn-init does not support")
        }
        let isInterfaceKey = Self.interfaceKeys.contains(key)
        switch section {
        case .none: return add(number, key, "is outside of an [Interface] or [Peer] section")
        case .interface where !isInterfaceKey: return add(number, key, "belongs in a [Peer] section, not [Interface]")
        case .peer where isInterfaceKey: return add(number, key, "belongs in the [Interface] section, not [Peer]")
        default: break
        }
        if let first = seenKeys[key], !Self.repeatableKeys.contains(key) {
            return add(number, key, "is set twice in this section (first on line \(first))")
        }
        seenKeys[key] = seenKeys[key] ?? number
        guard !value.isEmpty else { return add(number, key, "is empty") }
        do throws(ParseError) {
            try apply(key, value: value, number: number)
        } catch {
            add(number, key, error.reason)
        }
    }

    private mutating func apply(_ key: String, value: String, number: Int) throws(ParseError) {
        switch key {
        case "PrivateKey": privateKey = try Value.key(value)
        case "Address": addresses += try Self.networks(value, after: addresses)
        case "ListenPort": listenPort = UInt16(try Value.integer(value, in: 0...65535, what: "port"))
        case "MTU": mtu = (try Value.integer(value, in: 576...65535, what: "MTU"), number)
        case "FwMark": fwmark = value.lowercased() == "off" ? nil : try Value.fwmark(value)
        case "PublicKey":
            let key = try Value.key(value)
            if let other = peers.dropLast().first(where: { $0.publicKey == key }) {
                throw ParseError("the same key as the peer on line \(other.line)")
            }
            peers[peers.count - 1].publicKey = key
        case "PresharedKey": peers[peers.count - 1].presharedKey = try Value.key(value)
        case "AllowedIPs": peers[peers.count - 1].allowedIPs += try Self.networks(value, after: peers[peers.count - 1].allowedIPs)
        case "Endpoint": peers[peers.count - 1].endpoint = try Value.endpoint(value)
        case "PersistentKeepalive":
            let seconds = value.lowercased() == "off" ? 0 : try Value.integer(value, in: 0...65535, what: "keepalive")
            peers[peers.count - 1].persistentKeepalive = seconds == 0 ? nil : UInt16(seconds)
        default: preconditionFailure("unhandled key \(key)")
        }
    }

    /// The networks of one `Address` / `AllowedIPs` line; a network already listed on an earlier
    /// line is an error, as it is within one line (the rendered file lists them on one line).
    static func networks(_ value: String, after earlier: [IPNetwork]) throws(ParseError) -> [IPNetwork] {
        let networks = try Value.networks(value)
        if let repeated = networks.first(where: earlier.contains) { throw ParseError("\(repeated) is listed twice") }
        return networks
    }

    /// The config, after the checks that need the whole file; nil when anything is wrong.
    mutating func finish() -> WireGuardQuickConfig? {
        guard let interfaceLine else {
            add(1, nil, "missing [Interface] section")
            return nil
        }
        if privateKey == nil, !hasProblem(key: "PrivateKey", in: 0..<Int.max) {
            add(interfaceLine, nil, "[Interface] section has no PrivateKey")
        }
        if let mtu, mtu.value < 1280, addresses.contains(where: { $0.address.isV6 }) {
            add(mtu.line, "MTU", "MTU \(mtu.value) is below 1280, the minimum with an IPv6 address")
        }
        let sectionStarts = (peers.map(\.line) + [interfaceLine]).sorted()
        for peer in peers where peer.publicKey == nil {
            let end = sectionStarts.first { $0 > peer.line } ?? Int.max
            if !hasProblem(key: "PublicKey", in: peer.line..<end) { add(peer.line, nil, "[Peer] section has no PublicKey") }
        }
        problems.sort { $0.line < $1.line }
        guard problems.isEmpty, let privateKey else { return nil }
        let interface = WireGuardQuickConfig.Interface(
            privateKey: privateKey, addresses: addresses, listenPort: listenPort, mtu: mtu?.value, fwmark: fwmark
        )
        return WireGuardQuickConfig(interface: interface, peers: peers.map { peer in
            WireGuardQuickConfig.Peer(
                name: peer.name, publicKey: peer.publicKey!, presharedKey: peer.presharedKey,
                allowedIPs: peer.allowedIPs, endpoint: peer.endpoint, persistentKeepalive: peer.persistentKeepalive
            )
        })
    }

    /// Whether a problem was already reported for `key` on one of `lines`, so an invalid key
    /// is not reported a second time as missing.
    private func hasProblem(key: String, in lines: Range<Int>) -> Bool {
        problems.contains { $0.key == key && lines.contains($0.line) }
    }

    /// The peer name of a `# Name = B` comment line, if the line is one.
    static func nameComment(_ line: Substring) -> String? {
        let text = Value.trimmed(line)
        guard text.hasPrefix("#") else { return nil }
        let body = Value.trimmed(text.dropFirst())
        guard let equals = body.firstIndex(of: "="), Value.trimmed(body[..<equals]).lowercased() == "name" else {
            return nil
        }
        let name = Value.trimmed(body[body.index(after: equals)...])
        guard !name.isEmpty, name.count <= 64,
              name.unicodeScalars.allSatisfy(WireGuardQuickConfig.isNameCharacter) else { return nil }
        return String(name)
    }

    private mutating func add(_ line: Int, _ key: String?, _ reason: String) {
        problems.append(ConfigFileProblem(file: file, line: line, key: key, reason: reason))
    }
}
