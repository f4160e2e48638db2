/// rtnetlink requests (linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h) for links,
/// addresses and routes, laid out exactly as iproute2's `ip` sends them. Addresses are raw
/// network-order bytes (4 or 16) so this layer needs no address type.
public enum RouteNetlink {
    /// `RTM_NEWLINK` creating a link of `kind` (e.g. `wireguard`) named `name`; fails with
    /// `EEXIST` if it exists and `EOPNOTSUPP` if the kernel lacks the kind.
    public static func newLink(name: String, kind: String) -> NetlinkMessage {
        var attributes = AttributeEncoder(header: interfaceInfo(index: 0))
        attributes.string(LinkAttribute.name, name)
        // As iproute2 does: IFLA_LINKINFO unmarked, IFLA_INFO_KIND without a NUL (NLA_STRING).
        attributes.nested(LinkAttribute.linkInfo, marked: false) { $0.append(LinkAttribute.infoKind, Array(kind.utf8)) }
        return NetlinkMessage(type: RouteMessageType.newLink.rawValue, flags: [.request, .acknowledge, .exclusive, .create],
                              payload: attributes.bytes)
    }

    /// `RTM_NEWLINK` setting the MTU of link `index` (`ip link set dev X mtu N`).
    public static func setMTU(index: Int32, mtu: UInt32) -> NetlinkMessage {
        var attributes = AttributeEncoder(header: interfaceInfo(index: index))
        attributes.uint32(LinkAttribute.mtu, mtu)
        return NetlinkMessage(type: RouteMessageType.newLink.rawValue, flags: [.request, .acknowledge], payload: attributes.bytes)
    }

    /// `RTM_NEWLINK` setting link `index` up or down (`ip link set dev X up`).
    public static func setUp(index: Int32, _ up: Bool) -> NetlinkMessage {
        NetlinkMessage(type: RouteMessageType.newLink.rawValue, flags: [.request, .acknowledge],
                       payload: interfaceInfo(index: index, flags: up ? interfaceUp : 0, change: interfaceUp))
    }

    /// `RTM_DELLINK` deleting link `index`.
    public static func deleteLink(index: Int32) -> NetlinkMessage {
        NetlinkMessage(type: RouteMessageType.deleteLink.rawValue, flags: [.request, .acknowledge],
                       payload: interfaceInfo(index: index))
    }

    /// `RTM_GETLINK` for the link named `name`; the answer is one `RTM_NEWLINK` or `ENODEV`.
    public static func getLink(name: String) -> NetlinkMessage {
        var attributes = AttributeEncoder(header: interfaceInfo(index: 0))
        // RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS: no per-VF data, no counters.
        attributes.uint32(LinkAttribute.extendedMask, 1 | 8)
        attributes.string(LinkAttribute.name, name)
        return NetlinkMessage(type: RouteMessageType.getLink.rawValue, flags: [.request], payload: attributes.bytes)
    }

    /// `RTM_NEWADDR` adding `address/prefixLength` to link `index`; with `replace` an existing
    /// identical address is not an error (`ip addr replace`), else it is `EEXIST` (`ip addr add`).
    public static func newAddress(index: Int32, family: UInt8, address: [UInt8], prefixLength: UInt8,
                                  replace: Bool) -> NetlinkMessage {
        var header = [family, prefixLength, 0, 0]
        header.appendNative(UInt32(bitPattern: index))
        var attributes = AttributeEncoder(header: header)
        attributes.append(AddressAttribute.local, address)
        attributes.append(AddressAttribute.address, address)
        return NetlinkMessage(type: RouteMessageType.newAddress.rawValue,
                              flags: [.request, .acknowledge, .create, replace ? .replace : .exclusive],
                              payload: attributes.bytes)
    }

    /// `RTM_NEWROUTE` for `destination/prefixLength` out of link `index` in the main table,
    /// protocol boot, scope link for IPv4 (IPv6 routes are always universe), as
    /// `ip route add|replace DEST dev X` sends it.
    public static func newRoute(index: Int32, family: UInt8, destination: [UInt8], prefixLength: UInt8,
                                replace: Bool) -> NetlinkMessage {
        let scope = family == familyIPv4 ? scopeLink : scopeUniverse
        var header = [family, prefixLength, 0, 0, mainTable, protocolBoot, scope, routeUnicast]
        header.appendNative(UInt32(0))
        var attributes = AttributeEncoder(header: header)
        attributes.append(RouteAttribute.destination, destination)
        attributes.uint32(RouteAttribute.outputInterface, UInt32(bitPattern: index))
        return NetlinkMessage(type: RouteMessageType.newRoute.rawValue,
                              flags: [.request, .acknowledge, .create, replace ? .replace : .exclusive],
                              payload: attributes.bytes)
    }

    /// `RTM_DELROUTE` for `destination/prefixLength` out of link `index` in the main table, as
    /// `ip route del DEST dev X` sends it (protocol and type unspecified, scope "nowhere": the
    /// kernel matches on the destination, table and interface).
    public static func deleteRoute(index: Int32, family: UInt8, destination: [UInt8], prefixLength: UInt8) -> NetlinkMessage {
        var header = [family, prefixLength, 0, 0, mainTable, 0, scopeNowhere, 0]
        header.appendNative(UInt32(0))
        var attributes = AttributeEncoder(header: header)
        attributes.append(RouteAttribute.destination, destination)
        attributes.uint32(RouteAttribute.outputInterface, UInt32(bitPattern: index))
        return NetlinkMessage(type: RouteMessageType.deleteRoute.rawValue, flags: [.request, .acknowledge], payload: attributes.bytes)
    }

    /// `struct ifinfomsg`: family `AF_UNSPEC`, type 0, index, flags and the flags to change.
    public static func interfaceInfo(index: Int32, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0, 0]
        bytes.appendNative(index)
        bytes.appendNative(flags)
        bytes.appendNative(change)
        return bytes
    }

    /// Reads a link from an `RTM_NEWLINK` message (a reply to `getLink` or a dump).
    public static func decodeLink(_ message: NetlinkMessage) throws(NetlinkDecodeError) -> LinkAttributes {
        let bytes = message.payload
        guard message.type == RouteMessageType.newLink.rawValue, bytes.count >= 16 else {
            throw NetlinkDecodeError("expected RTM_NEWLINK with an ifinfomsg, got type \(message.type) with \(bytes.count) bytes")
        }
        var link = LinkAttributes(index: bytes.loadNative(Int32.self, at: 4), flags: bytes.loadNative(UInt32.self, at: 8))
        var attributes = AttributeDecoder(bytes, from: 16)
        while attributes.next() {
            switch attributes.type {
            case LinkAttribute.name: link.name = attributes.string()
            case LinkAttribute.mtu: link.mtu = attributes.uint32()
            case LinkAttribute.linkInfo:
                attributes.nested { info in
                    while info.next() {
                        if info.type == LinkAttribute.infoKind { link.kind = info.string() }
                    }
                }
            default: break
            }
        }
        try attributes.finish()
        return link
    }
}

/// What an `RTM_NEWLINK` message says about a link.
public struct LinkAttributes: Hashable, Sendable {
    /// `ifi_index`.
    public var index: Int32
    /// `ifi_flags` (`IFF_UP`, `IFF_LOWER_UP`...).
    public var flags: UInt32
    /// `IFLA_IFNAME`.
    public var name: String = ""
    /// `IFLA_MTU`.
    public var mtu: UInt32 = 0
    /// `IFLA_INFO_KIND` (e.g. `wireguard`, `tun`, `veth`), when the link has one.
    public var kind: String?

    public init(index: Int32, flags: UInt32, name: String = "", mtu: UInt32 = 0, kind: String? = nil) {
        self.index = index
        self.flags = flags
        self.name = name
        self.mtu = mtu
        self.kind = kind
    }

    /// Whether the link is administratively up.
    public var isUp: Bool { flags & RouteNetlink.interfaceUp != 0 }
}
