import FirewallRules
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink
import NetlinkSocket
import SystemCalls

/// Routes as an `RTM_GETROUTE` dump reports them (linux/rtnetlink.h, `struct rtmsg` and
/// `RTA_*`): just what choosing the default-route interface needs.
public struct RouteEntry: Hashable, Sendable {
    /// `rtm_family`: `AF_INET` or `AF_INET6`.
    public var family: UInt8
    /// `rtm_dst_len`: 0 for a default route.
    public var destinationLength: UInt8
    /// The routing table (`RTA_TABLE`, else `rtm_table`).
    public var table: UInt32
    /// `rtm_type`: `RTN_UNICAST` for a route through an interface.
    public var type: UInt8
    /// `RTA_PRIORITY`: the metric; lower wins.
    public var priority: UInt32
    /// The output interfaces: `RTA_OIF`, or each next hop's of `RTA_MULTIPATH`.
    public var outputInterfaces: [Int32]

    public init(family: UInt8, destinationLength: UInt8, table: UInt32 = UInt32(RouteNetlink.mainTable),
                type: UInt8 = RouteNetlink.routeUnicast, priority: UInt32 = 0, outputInterfaces: [Int32]) {
        self.family = family
        self.destinationLength = destinationLength
        self.table = table
        self.type = type
        self.priority = priority
        self.outputInterfaces = outputInterfaces
    }

    /// The length of `struct rtmsg`.
    public static let headerLength = 12

    /// `RTM_GETROUTE` dumping every route of `family` (all tables; the kernel filters nothing
    /// unless the socket asks for strict checking).
    public static func dumpRequest(family: UInt8) -> NetlinkMessage {
        var header = [UInt8](repeating: 0, count: headerLength)
        header[0] = family
        return NetlinkMessage(type: RouteMessageType.getRoute.rawValue, flags: [.request, .dump], payload: header)
    }

    /// Reads a route from an `RTM_NEWROUTE` message of a dump.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        let bytes = message.payload
        guard message.type == RouteMessageType.newRoute.rawValue, bytes.count >= Self.headerLength else {
            throw NetlinkDecodeError("expected RTM_NEWROUTE with an rtmsg, got type \(message.type) with \(bytes.count) bytes")
        }
        self.init(family: bytes[0], destinationLength: bytes[1], table: UInt32(bytes[4]), type: bytes[7], outputInterfaces: [])
        var attributes = AttributeDecoder(bytes, from: Self.headerLength)
        while attributes.next() {
            switch attributes.type {
            case RouteNetlink.RouteAttribute.table: table = attributes.uint32()
            case RouteNetlink.RouteAttribute.priority: priority = attributes.uint32()
            case RouteNetlink.RouteAttribute.outputInterface: outputInterfaces = [Int32(bitPattern: attributes.uint32())]
            case RouteNetlink.RouteAttribute.multipath: outputInterfaces = Self.nextHopInterfaces(Array(attributes.payload))
            default: break
            }
        }
        try attributes.finish()
    }

    /// The `rtnh_ifindex` of each `struct rtnexthop` (length u16, flags u8, hops u8, ifindex).
    private static func nextHopInterfaces(_ bytes: [UInt8]) -> [Int32] {
        var interfaces: [Int32] = []
        var offset = 0
        while bytes.count - offset >= 8 {
            let length = Int(bytes.loadNative(UInt16.self, at: offset))
            interfaces.append(bytes.loadNative(Int32.self, at: offset + 4))
            guard length >= 8 else { break }
            offset += netlinkAligned(length)
        }
        return interfaces
    }

    /// The interfaces of the default route traffic takes: among the main table's unicast
    /// default routes with an interface, the lowest metric's (every next hop of a multipath
    /// route). Empty when there is no default route.
    public static func defaultInterfaces(of routes: [RouteEntry]) -> [Int32] {
        let defaults = routes.filter {
            $0.destinationLength == 0 && $0.table == UInt32(RouteNetlink.mainTable)
                && $0.type == RouteNetlink.routeUnicast && !$0.outputInterfaces.isEmpty
        }
        return defaults.min { $0.priority < $1.priority }?.outputInterfaces ?? []
    }
}

/// Finds the default-route interface over rtnetlink, as `ip route show default` would show it.
public final class DefaultRoutes {
    /// The `NETLINK_ROUTE` connection requests go through.
    public let connection: NetlinkConnection

    public init(connection: NetlinkConnection) {
        self.connection = connection
    }

    /// The names of the interfaces the default route of `family` (`AF_INET`, `AF_INET6`) goes
    /// out of; empty when there is none.
    public func interfaceNames(family: UInt8) throws(SystemCallError) -> [String] {
        let object = family == RouteNetlink.familyIPv6 ? "default route ipv6" : "default route ipv4"
        let routes = try connection.request(RouteEntry.dumpRequest(family: family), NetlinkRequestName(RouteMessageType.getRoute, object: object),
                                            decoding: { (replies: [NetlinkMessage]) throws(NetlinkDecodeError) -> [RouteEntry] in
                                                var routes: [RouteEntry] = []
                                                for reply in replies { routes.append(try RouteEntry(decoding: reply)) }
                                                return routes
                                            })
        var names: [String] = []
        for index in RouteEntry.defaultInterfaces(of: routes) {
            let name = try interfaceName(index: index)
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// The name of link `index` (`RTM_GETLINK` by index).
    public func interfaceName(index: Int32) throws(SystemCallError) -> String {
        var attributes = AttributeEncoder(header: RouteNetlink.interfaceInfo(index: index))
        // RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS, as iproute2 asks: no per-VF data, no counters.
        attributes.uint32(RouteNetlink.LinkAttribute.extendedMask, 1 | 8)
        let request = NetlinkMessage(type: RouteMessageType.getLink.rawValue, flags: [.request], payload: attributes.bytes)
        return try connection.request(request, NetlinkRequestName(RouteMessageType.getLink, object: "ifindex \(index)"),
                                      decodingReply: { (reply: NetlinkMessage) throws(NetlinkDecodeError) -> String in
                                          try RouteNetlink.decodeLink(reply).name
                                      })
    }
}
