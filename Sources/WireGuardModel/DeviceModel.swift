/// A WireGuard interface as the kernel or wireguard-go reports it (`wg show`).
/// Its `description` never shows the private or a preshared key.
public struct WireGuardDevice: Hashable, Sendable, CustomStringConvertible {
    /// The interface name, e.g. `wg0`.
    public var interfaceName: String
    /// The private key, when one is set. Never printed.
    public var privateKey: WireGuardKey?
    /// The public key of `privateKey`, when one is set.
    public var publicKey: WireGuardKey?
    /// The UDP port it listens on (0 when not listening).
    public var listenPort: UInt16
    /// The mark of its outgoing packets (0 = none).
    public var fwmark: UInt32
    /// Its peers, in the order the implementation lists them.
    public var peers: [WireGuardPeerStatus]

    public init(interfaceName: String, privateKey: WireGuardKey? = nil, publicKey: WireGuardKey? = nil,
                listenPort: UInt16 = 0, fwmark: UInt32 = 0, peers: [WireGuardPeerStatus] = []) {
        self.interfaceName = interfaceName
        self.privateKey = privateKey
        self.publicKey = publicKey
        self.listenPort = listenPort
        self.fwmark = fwmark
        self.peers = peers
    }

    public var description: String {
        var text = "interface \(interfaceName): public key \(publicKey?.base64 ?? "(none)"), private key \(privateKey == nil ? "(none)" : "(hidden)"), listen port \(listenPort)"
        if fwmark != 0 { text += ", fwmark 0x\(String(fwmark, radix: 16))" }
        for peer in peers { text += "\n  \(peer)" }
        return text
    }
}

/// One peer of a `WireGuardDevice`, with its traffic counters.
public struct WireGuardPeerStatus: Hashable, Sendable, CustomStringConvertible {
    /// The peer's public key.
    public var publicKey: WireGuardKey
    /// The preshared key, when one is set. Never printed.
    public var presharedKey: WireGuardKey?
    /// The address packets to the peer go to, when known.
    public var endpoint: Endpoint?
    /// The networks routed to this peer.
    public var allowedIPs: [IPNetwork]
    /// When the last handshake completed, in seconds since 1970 (nil: never).
    public var latestHandshake: Int64?
    /// Bytes received from the peer.
    public var rxBytes: UInt64
    /// Bytes sent to the peer.
    public var txBytes: UInt64
    /// Seconds between keepalive packets (0 = off).
    public var persistentKeepalive: UInt16

    public init(publicKey: WireGuardKey, presharedKey: WireGuardKey? = nil, endpoint: Endpoint? = nil,
                allowedIPs: [IPNetwork] = [], latestHandshake: Int64? = nil, rxBytes: UInt64 = 0,
                txBytes: UInt64 = 0, persistentKeepalive: UInt16 = 0) {
        self.publicKey = publicKey
        self.presharedKey = presharedKey
        self.endpoint = endpoint
        self.allowedIPs = allowedIPs
        self.latestHandshake = latestHandshake
        self.rxBytes = rxBytes
        self.txBytes = txBytes
        self.persistentKeepalive = persistentKeepalive
    }

    public var description: String {
        let ips = allowedIPs.isEmpty ? "(none)" : allowedIPs.map(\.description).joined(separator: ",")
        let handshake = latestHandshake.map(String.init) ?? "never"
        let keepalive = persistentKeepalive == 0 ? "off" : "\(persistentKeepalive)"
        return "peer \(publicKey.base64): endpoint \(endpoint?.description ?? "(none)"), allowed ips \(ips), latest handshake \(handshake), rx \(rxBytes), tx \(txBytes), keepalive \(keepalive)"
    }
}

/// Changes to make to a WireGuard interface (`WG_CMD_SET_DEVICE`, UAPI `set=1`). A nil field
/// is left as it is. Its `description` never shows a key other than public ones.
public struct WireGuardDeviceConfig: Hashable, Sendable {
    /// The interface to change.
    public var interfaceName: String
    /// The new private key (nil: unchanged; an all-zero key removes it).
    public var privateKey: WireGuardKey?
    /// The new listen port (nil: unchanged; 0: a random port).
    public var listenPort: UInt16?
    /// The new fwmark (nil: unchanged; 0: none).
    public var fwmark: UInt32?
    /// Remove every peer not listed in `peers` first (`ReplacePeers`, `wg setconf`).
    public var replacePeers: Bool
    /// Peers to add, change or remove.
    public var peers: [WireGuardPeerConfig]

    public init(interfaceName: String, privateKey: WireGuardKey? = nil, listenPort: UInt16? = nil,
                fwmark: UInt32? = nil, replacePeers: Bool = false, peers: [WireGuardPeerConfig] = []) {
        self.interfaceName = interfaceName
        self.privateKey = privateKey
        self.listenPort = listenPort
        self.fwmark = fwmark
        self.replacePeers = replacePeers
        self.peers = peers
    }
}

/// Changes to one peer, found by its public key. A nil field is left as it is.
public struct WireGuardPeerConfig: Hashable, Sendable {
    /// The peer's public key.
    public var publicKey: WireGuardKey
    /// Remove this peer (the other fields are then ignored).
    public var remove: Bool
    /// Only change the peer if it exists; never create it.
    public var updateOnly: Bool
    /// The new preshared key (nil: unchanged; an all-zero key removes it).
    public var presharedKey: WireGuardKey?
    /// The new endpoint; it must be an IP address (resolve names first).
    public var endpoint: Endpoint?
    /// The new keepalive interval in seconds (nil: unchanged; 0: off).
    public var persistentKeepalive: UInt16?
    /// Replace the peer's allowed IPs with `allowedIPs` instead of adding to them.
    public var replaceAllowedIPs: Bool
    /// Allowed IPs to add (or the whole new list, with `replaceAllowedIPs`).
    public var allowedIPs: [IPNetwork]

    public init(publicKey: WireGuardKey, remove: Bool = false, updateOnly: Bool = false,
                presharedKey: WireGuardKey? = nil, endpoint: Endpoint? = nil, persistentKeepalive: UInt16? = nil,
                replaceAllowedIPs: Bool = false, allowedIPs: [IPNetwork] = []) {
        self.publicKey = publicKey
        self.remove = remove
        self.updateOnly = updateOnly
        self.presharedKey = presharedKey
        self.endpoint = endpoint
        self.persistentKeepalive = persistentKeepalive
        self.replaceAllowedIPs = replaceAllowedIPs
        self.allowedIPs = allowedIPs
    }
}

extension WireGuardDeviceConfig {
    /// Checks what both backends need: a valid interface name and endpoints that are
    /// addresses, not names. The reason reads like `peer AqiQ...= endpoint "node-b:51820" is
    /// not an IP address; resolve it first`.
    public func validate() throws(ParseError) {
        do {
            try InterfaceName.validate(interfaceName)
        } catch {
            throw ParseError(error.description)
        }
        for peer in peers {
            if let endpoint = peer.endpoint, case .name = endpoint.host {
                throw ParseError("peer \(peer.publicKey.base64) endpoint \"\(endpoint)\" is not an IP address; resolve it first")
            }
        }
    }
}
