#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink

/// What one `WG_CMD_GET_DEVICE` reply or `WG_CMD_SET_DEVICE` request carries. A device split
/// over several messages is put back together by `WireGuardDevice(dump:)` and
/// `WireGuardDeviceConfig(setRequests:)`.
public struct WireGuardDeviceMessage: Hashable, Sendable {
    /// The `genlmsghdr` command.
    public var command: WireGuardCommand
    /// `WGDEVICE_A_IFINDEX`.
    public var interfaceIndex: UInt32?
    /// `WGDEVICE_A_IFNAME`.
    public var interfaceName: String?
    /// `WGDEVICE_A_PRIVATE_KEY`.
    public var privateKey: WireGuardKey?
    /// `WGDEVICE_A_PUBLIC_KEY`.
    public var publicKey: WireGuardKey?
    /// `WGDEVICE_A_FLAGS` (0 when absent).
    public var flags: UInt32 = 0
    /// `WGDEVICE_A_LISTEN_PORT`.
    public var listenPort: UInt16?
    /// `WGDEVICE_A_FWMARK`.
    public var fwmark: UInt32?
    /// `WGDEVICE_A_PEERS`, in order.
    public var peers: [Peer] = []

    /// One `WGDEVICE_A_PEERS` entry; nil fields were absent.
    public struct Peer: Hashable, Sendable {
        /// `WGPEER_A_PUBLIC_KEY`.
        public var publicKey: WireGuardKey
        /// `WGPEER_A_PRESHARED_KEY` (the kernel sends zeros for none).
        public var presharedKey: WireGuardKey?
        /// `WGPEER_A_FLAGS` (0 when absent).
        public var flags: UInt32 = 0
        /// `WGPEER_A_ENDPOINT`.
        public var endpoint: Endpoint?
        /// `WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL`.
        public var persistentKeepalive: UInt16?
        /// `WGPEER_A_LAST_HANDSHAKE_TIME` seconds and nanoseconds.
        public var lastHandshake: (seconds: Int64, nanoseconds: Int64)?
        /// `WGPEER_A_RX_BYTES`.
        public var rxBytes: UInt64?
        /// `WGPEER_A_TX_BYTES`.
        public var txBytes: UInt64?
        /// `WGPEER_A_PROTOCOL_VERSION`.
        public var protocolVersion: UInt32?
        /// `WGPEER_A_ALLOWEDIPS`, in order.
        public var allowedIPs: [IPNetwork] = []

        public static func == (a: Peer, b: Peer) -> Bool {
            a.publicKey == b.publicKey && a.presharedKey == b.presharedKey && a.flags == b.flags
                && a.endpoint == b.endpoint && a.persistentKeepalive == b.persistentKeepalive
                && a.lastHandshake?.seconds == b.lastHandshake?.seconds
                && a.lastHandshake?.nanoseconds == b.lastHandshake?.nanoseconds
                && a.rxBytes == b.rxBytes && a.txBytes == b.txBytes && a.protocolVersion == b.protocolVersion
                && a.allowedIPs == b.allowedIPs
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(publicKey) }
    }

    /// Decodes a WireGuard family message.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        command = WireGuardCommand(rawValue: try GenericNetlink.command(of: message))
        var attributes = try GenericNetlink.attributes(of: message)
        var peers: [Peer] = []
        while attributes.next() {
            typealias A = WireGuardNetlink.DeviceAttribute
            switch attributes.type {
            case A.interfaceIndex: interfaceIndex = attributes.uint32()
            case A.interfaceName: interfaceName = attributes.string()
            case A.privateKey: privateKey = Self.key(&attributes)
            case A.publicKey: publicKey = Self.key(&attributes)
            case A.flags: flags = attributes.uint32()
            case A.listenPort: listenPort = attributes.uint16()
            case A.fwmark: fwmark = attributes.uint32()
            case A.peers:
                attributes.nested { list in
                    while list.next() {
                        list.nested { peerAttributes in
                            if let peer = Self.peer(&peerAttributes) { peers.append(peer) }
                        }
                    }
                }
            default: break
            }
        }
        try attributes.finish()
        self.peers = peers
    }

    private static func key(_ attributes: inout AttributeDecoder) -> WireGuardKey? {
        WireGuardKey(bytes: attributes.bytes(count: WireGuardKey.byteCount))
    }

    private static func peer(_ attributes: inout AttributeDecoder) -> Peer? {
        typealias A = WireGuardNetlink.PeerAttribute
        var publicKey: WireGuardKey?
        var peer = Peer(publicKey: WireGuardKey(bytes: [UInt8](repeating: 0, count: 32))!)
        while attributes.next() {
            switch attributes.type {
            case A.publicKey: publicKey = key(&attributes)
            case A.presharedKey: peer.presharedKey = key(&attributes)
            case A.flags: peer.flags = attributes.uint32()
            case A.endpoint:
                guard let endpoint = WireGuardNetlink.endpoint(socketAddress: attributes.bytes()) else {
                    attributes.fail("peer endpoint is not a sockaddr_in or sockaddr_in6 (\(attributes.payload.count) bytes)")
                    return nil
                }
                peer.endpoint = endpoint
            case A.persistentKeepaliveInterval: peer.persistentKeepalive = attributes.uint16()
            case A.lastHandshakeTime:
                // struct __kernel_timespec: two 64-bit fields.
                let bytes = attributes.bytes(count: 16)
                peer.lastHandshake = (Int64(bitPattern: bytes.loadNative(UInt64.self, at: 0)),
                                      Int64(bitPattern: bytes.loadNative(UInt64.self, at: 8)))
            case A.rxBytes: peer.rxBytes = attributes.uint64()
            case A.txBytes: peer.txBytes = attributes.uint64()
            case A.protocolVersion: peer.protocolVersion = attributes.uint32()
            case A.allowedIPs:
                var networks: [IPNetwork] = []
                attributes.nested { list in
                    while list.next() {
                        list.nested { entry in
                            if let network = allowedIP(&entry) { networks.append(network) }
                        }
                    }
                }
                peer.allowedIPs += networks
            default: break
            }
        }
        guard let publicKey else {
            attributes.fail("peer without WGPEER_A_PUBLIC_KEY")
            return nil
        }
        peer.publicKey = publicKey
        return peer
    }

    private static func allowedIP(_ attributes: inout AttributeDecoder) -> IPNetwork? {
        typealias A = WireGuardNetlink.AllowedIPAttribute
        var family: UInt16?
        var bytes: [UInt8] = []
        var prefix: UInt8?
        while attributes.next() {
            switch attributes.type {
            case A.family: family = attributes.uint16()
            case A.address: bytes = attributes.bytes()
            case A.prefixLength: prefix = attributes.uint8()
            default: break
            }
        }
        let address: IPAddress
        switch (family.map(Int32.init), bytes.count) {
        case (AF_INET, 4): address = .v4(bytes)
        case (AF_INET6, 16): address = .v6(bytes)
        default:
            attributes.fail("allowed IP with family \(family.map(String.init) ?? "none") and \(bytes.count) address bytes")
            return nil
        }
        guard let prefix, Int(prefix) <= address.bitWidth else {
            attributes.fail("allowed IP \(address) has no valid prefix length")
            return nil
        }
        return IPNetwork(address: address, prefixLength: Int(prefix))
    }
}

extension WireGuardDevice {
    /// Merges the replies of a `WG_CMD_GET_DEVICE` dump into one device. A peer whose allowed
    /// IPs did not fit in one message continues in the next one under the same public key.
    public init(dump messages: [NetlinkMessage]) throws(NetlinkDecodeError) {
        self.init(interfaceName: "")
        for message in messages {
            let part = try WireGuardDeviceMessage(decoding: message)
            if let name = part.interfaceName { interfaceName = name }
            if let key = part.privateKey { privateKey = key.isZero ? nil : key }
            if let key = part.publicKey { publicKey = key.isZero ? nil : key }
            if let port = part.listenPort { listenPort = port }
            if let mark = part.fwmark { fwmark = mark }
            for peer in part.peers {
                if let last = peers.last, last.publicKey == peer.publicKey {
                    peers[peers.count - 1].merge(peer)
                } else {
                    peers.append(WireGuardPeerStatus(publicKey: peer.publicKey))
                    peers[peers.count - 1].merge(peer)
                }
            }
        }
    }
}

extension WireGuardPeerStatus {
    mutating func merge(_ part: WireGuardDeviceMessage.Peer) {
        if let key = part.presharedKey { presharedKey = key.isZero ? nil : key }
        if let endpoint = part.endpoint { self.endpoint = endpoint }
        if let keepalive = part.persistentKeepalive { persistentKeepalive = keepalive }
        if let time = part.lastHandshake { latestHandshake = time.seconds == 0 && time.nanoseconds == 0 ? nil : time.seconds }
        if let bytes = part.rxBytes { rxBytes = bytes }
        if let bytes = part.txBytes { txBytes = bytes }
        allowedIPs += part.allowedIPs
    }
}

extension WireGuardDeviceConfig {
    /// Reads back what a series of `WG_CMD_SET_DEVICE` requests asks for (what a kernel would
    /// apply): the inverse of `WireGuardNetlink.setDeviceRequests`. The first peer of a later
    /// message with the public key of the last peer so far continues that peer.
    public init(setRequests messages: [NetlinkMessage]) throws(NetlinkDecodeError) {
        self.init(interfaceName: "")
        for (index, message) in messages.enumerated() {
            let part = try WireGuardDeviceMessage(decoding: message)
            guard part.command == .setDevice else {
                throw NetlinkDecodeError("expected WG_CMD_SET_DEVICE, got \(part.command)")
            }
            if let name = part.interfaceName { interfaceName = name }
            if index == 0 {
                privateKey = part.privateKey
                listenPort = part.listenPort
                fwmark = part.fwmark
                replacePeers = part.flags & WireGuardNumbers.replacePeersFlag != 0
            } else if part.privateKey != nil || part.listenPort != nil || part.fwmark != nil || part.flags != 0 {
                throw NetlinkDecodeError("device settings in SET message \(index + 1); only the first may carry them")
            }
            for (position, peer) in part.peers.enumerated() {
                if index > 0, position == 0, let last = peers.last, last.publicKey == peer.publicKey {
                    guard peer.flags & WireGuardNumbers.replaceAllowedIPsFlag == 0, peer.presharedKey == nil,
                          peer.endpoint == nil, peer.persistentKeepalive == nil else {
                        throw NetlinkDecodeError("peer \(peer.publicKey.base64) continues in message \(index + 1) with first-part attributes")
                    }
                    peers[peers.count - 1].allowedIPs += peer.allowedIPs
                    continue
                }
                peers.append(WireGuardPeerConfig(
                    publicKey: peer.publicKey,
                    remove: peer.flags & WireGuardNumbers.removePeerFlag != 0,
                    updateOnly: peer.flags & WireGuardNumbers.updateOnlyFlag != 0,
                    presharedKey: peer.presharedKey, endpoint: peer.endpoint,
                    persistentKeepalive: peer.persistentKeepalive,
                    replaceAllowedIPs: peer.flags & WireGuardNumbers.replaceAllowedIPsFlag != 0,
                    allowedIPs: peer.allowedIPs))
            }
        }
    }
}
