import WireGuardModel

/// A WireGuard configuration in wg-quick's file format (`wg0.conf`): what `vpn-init render`
/// prints and what is kept in the data volume. Only the keys vpn-init applies are modelled;
/// `description` never shows a private or preshared key (use `render()` for the file).
public struct WireGuardQuickConfig: Equatable, Sendable, CustomStringConvertible {
    /// The `[Interface]` section.
    public struct Interface: Equatable, Sendable, CustomStringConvertible {
        /// `PrivateKey` (required).
        public var privateKey: WireGuardKey
        /// `Address`: the interface's addresses (wg-quick sets them; `wg` ignores them).
        public var addresses: [IPNetwork]
        /// `ListenPort`; nil lets WireGuard choose.
        public var listenPort: UInt16?
        /// `MTU`; nil for the default.
        public var mtu: Int?
        /// `FwMark`; nil for off.
        public var fwmark: UInt32?

        public init(privateKey: WireGuardKey, addresses: [IPNetwork] = [], listenPort: UInt16? = nil,
                    mtu: Int? = nil, fwmark: UInt32? = nil) {
            self.privateKey = privateKey
            self.addresses = addresses
            self.listenPort = listenPort
            self.mtu = mtu
            self.fwmark = fwmark
        }

        public var description: String {
            let port = listenPort.map { " listen_port=\($0)" } ?? ""
            let mtu = mtu.map { " mtu=\($0)" } ?? ""
            let mark = fwmark.map { " fwmark=0x\(String($0, radix: 16))" } ?? ""
            let addresses = addresses.map(\.description).joined(separator: ",")
            return "Interface(private_key=(redacted) address=\(addresses)\(port)\(mtu)\(mark))"
        }
    }

    /// One `[Peer]` section.
    public struct Peer: Equatable, Sendable, CustomStringConvertible {
        /// The peer's name, written as a `# Name = B` comment (`wg` ignores it). At most 64
        /// characters of `[A-Za-z0-9_.-]`; others are left out when rendering.
        public var name: String?
        /// `PublicKey` (required).
        public var publicKey: WireGuardKey
        /// `PresharedKey`.
        public var presharedKey: WireGuardKey?
        /// `AllowedIPs`.
        public var allowedIPs: [IPNetwork]
        /// `Endpoint`.
        public var endpoint: Endpoint?
        /// `PersistentKeepalive` in seconds; nil for off.
        public var persistentKeepalive: UInt16?

        public init(name: String? = nil, publicKey: WireGuardKey, presharedKey: WireGuardKey? = nil,
                    allowedIPs: [IPNetwork] = [], endpoint: Endpoint? = nil, persistentKeepalive: UInt16? = nil) {
            self.name = name
            self.publicKey = publicKey
            self.presharedKey = presharedKey
            self.allowedIPs = allowedIPs
            self.endpoint = endpoint
            self.persistentKeepalive = persistentKeepalive
        }

        public var description: String {
            var text = "Peer(" + (name.map { "name=\($0) " } ?? "") + "public_key=\(publicKey.base64)"
            if presharedKey != nil { text += " preshared_key=(redacted)" }
            text += " allowed_ips=" + allowedIPs.map(\.description).joined(separator: ",")
            if let endpoint { text += " endpoint=\(endpoint)" }
            if let persistentKeepalive { text += " persistent_keepalive=\(persistentKeepalive)" }
            return text + ")"
        }
    }

    public var interface: Interface
    public var peers: [Peer]

    public init(interface: Interface, peers: [Peer] = []) {
        self.interface = interface
        self.peers = peers
    }

    public var description: String {
        "WireGuardQuickConfig(\(interface), peers: [\(peers.map(\.description).joined(separator: ", "))])"
    }

    /// The file text, as `wg-quick` and (after `wg-quick strip`) `wg setconf` read it. It holds
    /// the private key (write it with mode 0600), unless `privateKeyNote` is given: then that
    /// comment stands in its place (a key that must never be written, such as a derived one).
    public func render(privateKeyNote: String? = nil) -> String {
        var lines = ["[Interface]"]
        if !interface.addresses.isEmpty {
            lines.append("Address = " + interface.addresses.map(\.description).joined(separator: ", "))
        }
        if let port = interface.listenPort { lines.append("ListenPort = \(port)") }
        if let mtu = interface.mtu { lines.append("MTU = \(mtu)") }
        if let mark = interface.fwmark { lines.append("FwMark = 0x\(String(mark, radix: 16))") }
        lines.append(privateKeyNote.map { "# PrivateKey: \($0)" } ?? "PrivateKey = \(interface.privateKey.base64)")
        for peer in peers {
            lines.append("")
            lines.append("[Peer]")
            if let name = peer.name.map(Self.renderableName), !name.isEmpty { lines.append("# Name = \(name)") }
            lines.append("PublicKey = \(peer.publicKey.base64)")
            if let key = peer.presharedKey { lines.append("PresharedKey = \(key.base64)") }
            if !peer.allowedIPs.isEmpty {
                lines.append("AllowedIPs = " + peer.allowedIPs.map(\.description).joined(separator: ", "))
            }
            if let endpoint = peer.endpoint { lines.append("Endpoint = \(endpoint)") }
            if let keepalive = peer.persistentKeepalive { lines.append("PersistentKeepalive = \(keepalive)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The part of a peer name a `# Name = ...` comment can carry and the parser reads back.
    static func renderableName(_ name: String) -> String {
        String(name.unicodeScalars.filter(isNameCharacter).prefix(64).map(Character.init))
    }

    static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
            || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "." || scalar == "-")
    }
}

extension VPNConfig {
    /// The wg-quick form of this configuration once keys are loaded: `peerKeys[i]` holds the
    /// public and preshared keys of `peers[i]`. A peer with a `TCP_ENDPOINT` or `GATEWAY` gets
    /// `tcpPeerEndpoints[i]` (its local `udp2tcp` address, known only at boot) or no endpoint;
    /// the others get their `ENDPOINT`. The MTU is `effectiveMTU`.
    public func quickConfig(
        privateKey: WireGuardKey,
        peerKeys: [(publicKey: WireGuardKey, presharedKey: WireGuardKey?)],
        tcpPeerEndpoints: [Int: Endpoint] = [:]
    ) -> WireGuardQuickConfig {
        precondition(peerKeys.count == peers.count, "one key pair per peer")
        let quickPeers = peers.indices.map { index in
            let peer = peers[index]
            return WireGuardQuickConfig.Peer(
                name: peer.name, publicKey: peerKeys[index].publicKey, presharedKey: peerKeys[index].presharedKey,
                allowedIPs: peer.allowedIPs,
                endpoint: peer.dialTarget == nil ? peer.endpoint : tcpPeerEndpoints[index],
                persistentKeepalive: peer.persistentKeepalive
            )
        }
        let interface = WireGuardQuickConfig.Interface(
            privateKey: privateKey, addresses: addresses, listenPort: listenPort, mtu: effectiveMTU, fwmark: fwmark
        )
        return WireGuardQuickConfig(interface: interface, peers: quickPeers)
    }
}
