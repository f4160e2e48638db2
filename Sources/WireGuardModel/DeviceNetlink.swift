#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink

/// The WireGuard generic netlink family (linux/wireguard.h): names, attribute numbers, and the
/// `WG_CMD_SET_DEVICE` / `WG_CMD_GET_DEVICE` messages, laid out as wireguard-tools' `wg` sends
/// them (src/ipc-linux.h): a large configuration is split over several messages.
public enum WireGuardNetlink {
    /// `WG_GENL_NAME`: the family name to resolve with `CTRL_CMD_GETFAMILY`.
    public static let familyName = "wireguard"
    /// `WG_GENL_VERSION`.
    public static let version: UInt8 = 1
    /// The largest message `wg` builds (libmnl's `MNL_SOCKET_BUFFER_SIZE` on 4 KiB pages).
    public static let defaultMessageLimit = 4096

    // The family's numbers (WireGuardNumbers, in Netlink) by the short names this code uses.
    public typealias DeviceAttribute = WireGuardNumbers.DeviceAttribute
    public typealias PeerAttribute = WireGuardNumbers.PeerAttribute
    public typealias AllowedIPAttribute = WireGuardNumbers.AllowedIPAttribute

    /// The `WG_CMD_GET_DEVICE` dump request for the interface `name`.
    public static func getDeviceRequest(family: UInt16, interfaceName name: String) -> NetlinkMessage {
        var attributes = AttributeEncoder()
        attributes.string(DeviceAttribute.interfaceName, name)
        return GenericNetlink.message(family: family, command: WireGuardCommand.getDevice.rawValue, version: version,
                                      flags: [.request, .acknowledge, .dump], attributes: attributes.bytes)
    }

    /// The `WG_CMD_SET_DEVICE` requests that apply `config`, each at most `limit` bytes. The
    /// device's own settings and `WGDEVICE_F_REPLACE_PEERS` go only in the first; a peer split
    /// across messages repeats just its public key (and `REMOVE_ME` / `UPDATE_ONLY`) in later
    /// parts, so `WGPEER_F_REPLACE_ALLOWEDIPS` clears its list once, before the first part.
    public static func setDeviceRequests(family: UInt16, config: WireGuardDeviceConfig,
                                         limit: Int = defaultMessageLimit) throws(NetlinkEncodeError) -> [NetlinkMessage] {
        do {
            try config.validate()
        } catch {
            throw NetlinkEncodeError(error.reason)
        }
        let payloads = try split(
            limit: limit,
            messageStart: { first in
                var attributes = AttributeEncoder(header: [WireGuardCommand.setDevice.rawValue, version, 0, 0])
                attributes.string(DeviceAttribute.interfaceName, config.interfaceName)
                if first { appendDeviceSettings(config, to: &attributes) }
                return attributes
            },
            peerCount: config.peers.count,
            peerHeader: { index, firstPart, attributes in appendPeerHeader(config.peers[index], firstPart: firstPart, to: &attributes) },
            allowedIPs: { config.peers[$0].allowedIPs },
            appendAllowedIP: { network, attributes in
                attributes.uint16(AllowedIPAttribute.family, UInt16(network.address.family))
                attributes.append(AllowedIPAttribute.address, network.address.bytes)
                attributes.uint8(AllowedIPAttribute.prefixLength, UInt8(network.prefixLength))
            })
        return payloads.map { NetlinkMessage(type: family, flags: [.request, .acknowledge], payload: $0) }
    }

    private static func appendDeviceSettings(_ config: WireGuardDeviceConfig, to attributes: inout AttributeEncoder) {
        if let key = config.privateKey { attributes.append(DeviceAttribute.privateKey, key.bytes) }
        if let port = config.listenPort { attributes.uint16(DeviceAttribute.listenPort, port) }
        if let mark = config.fwmark { attributes.uint32(DeviceAttribute.fwmark, mark) }
        if config.replacePeers { attributes.uint32(DeviceAttribute.flags, WireGuardNumbers.replacePeersFlag) }
    }

    private static func appendPeerHeader(_ peer: WireGuardPeerConfig, firstPart: Bool, to attributes: inout AttributeEncoder) {
        attributes.append(PeerAttribute.publicKey, peer.publicKey.bytes)
        var flags: UInt32 = peer.remove ? WireGuardNumbers.removePeerFlag : 0
        // UPDATE_ONLY goes in every part: a later part without it would create the peer.
        if peer.updateOnly { flags |= WireGuardNumbers.updateOnlyFlag }
        if firstPart {
            if peer.replaceAllowedIPs { flags |= WireGuardNumbers.replaceAllowedIPsFlag }
            if let key = peer.presharedKey { attributes.append(PeerAttribute.presharedKey, key.bytes) }
            if let endpoint = peer.endpoint, let address = socketAddress(endpoint) {
                attributes.append(PeerAttribute.endpoint, address)
            }
            if let seconds = peer.persistentKeepalive { attributes.uint16(PeerAttribute.persistentKeepaliveInterval, seconds) }
        }
        if flags != 0 { attributes.uint32(PeerAttribute.flags, flags) }
    }

    /// Fills messages of at most `limit` bytes (header included) with peers and their allowed
    /// IPs, starting a new message where the next piece does not fit, as `wg` does. Returns
    /// the payloads. `peerHeader` writes a peer's attributes before its allowed IPs; its
    /// `firstPart` argument is false when the peer continues from the previous message.
    static func split(limit: Int, messageStart: (_ first: Bool) -> AttributeEncoder, peerCount: Int,
                      peerHeader: (_ index: Int, _ firstPart: Bool, inout AttributeEncoder) -> Void,
                      allowedIPs: (Int) -> [IPNetwork],
                      appendAllowedIP: (IPNetwork, inout AttributeEncoder) -> Void) throws(NetlinkEncodeError) -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        var peer = 0
        var nextAllowedIP: Int?  // nil: the peer's first part has not been sent yet
        repeat {
            var attributes = messageStart(payloads.isEmpty)
            var progressed = false
            if peerCount > 0 {
                let peersNest = attributes.beginNested(DeviceAttribute.peers)
                peers: while peer < peerCount {
                    let peerStart = attributes.count
                    let peerNest = attributes.beginNested(0)
                    peerHeader(peer, nextAllowedIP == nil, &attributes)
                    guard NetlinkMessage.headerLength + attributes.count <= limit else {
                        attributes.rollback(to: peerStart)
                        break peers
                    }
                    if nextAllowedIP == nil { progressed = true }
                    let networks = allowedIPs(peer)
                    if !networks.isEmpty {
                        var index = nextAllowedIP ?? 0
                        nextAllowedIP = index
                        let listStart = attributes.count
                        let listNest = attributes.beginNested(PeerAttribute.allowedIPs)
                        guard NetlinkMessage.headerLength + attributes.count <= limit else {
                            attributes.rollback(to: listStart)
                            attributes.endNested(peerNest)
                            break peers
                        }
                        while index < networks.count {
                            let start = attributes.count
                            attributes.nested(0) { appendAllowedIP(networks[index], &$0) }
                            guard NetlinkMessage.headerLength + attributes.count <= limit else {
                                attributes.rollback(to: start)
                                attributes.endNested(listNest)
                                attributes.endNested(peerNest)
                                nextAllowedIP = index
                                break peers
                            }
                            progressed = true
                            index += 1
                        }
                        attributes.endNested(listNest)
                    }
                    attributes.endNested(peerNest)
                    progressed = true
                    peer += 1
                    nextAllowedIP = nil
                }
                attributes.endNested(peersNest)
                guard progressed else {
                    throw NetlinkEncodeError("peer \(peer + 1) does not fit in a \(limit)-byte message")
                }
            }
            payloads.append(try attributes.finish())
        } while peer < peerCount
        return payloads
    }

    /// The `struct sockaddr_in` / `sockaddr_in6` of an address endpoint (nil for a name).
    public static func socketAddress(_ endpoint: Endpoint) -> [UInt8]? {
        guard case .address(let address) = endpoint.host else { return nil }
        var bytes = [UInt8]()
        bytes.appendNative(UInt16(address.family))
        bytes.appendBigEndian(endpoint.port)
        if address.isV6 {
            bytes.appendNative(UInt32(0))  // sin6_flowinfo
            bytes += address.bytes
            bytes.appendNative(UInt32(0))  // sin6_scope_id
        } else {
            bytes += address.bytes
            bytes += [UInt8](repeating: 0, count: 8)  // sin_zero
        }
        return bytes
    }

    /// The endpoint in a `struct sockaddr_in` / `sockaddr_in6`, or nil for another family or size.
    public static func endpoint(socketAddress bytes: [UInt8]) -> Endpoint? {
        guard bytes.count >= 4 else { return nil }
        let family = Int32(bytes.loadNative(UInt16.self, at: 0))
        let port = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        if family == AF_INET, bytes.count == 16 {
            return Endpoint(host: .address(.v4(Array(bytes[4..<8]))), port: port)
        }
        if family == AF_INET6, bytes.count == 28 {
            return Endpoint(host: .address(.v6(Array(bytes[8..<24]))), port: port)
        }
        return nil
    }
}
