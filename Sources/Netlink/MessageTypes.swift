/// Netlink's own message types (`NLMSG_*` in linux/netlink.h), shared by every family.
public struct NetlinkControlType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `NLMSG_NOOP`: to be ignored.
    public static let noop = NetlinkControlType(rawValue: 1)
    /// `NLMSG_ERROR`: an error, or an acknowledgement when its error is 0.
    public static let error = NetlinkControlType(rawValue: 2)
    /// `NLMSG_DONE`: the end of a multipart reply.
    public static let done = NetlinkControlType(rawValue: 3)
    /// `NLMSG_OVERRUN`: data was lost.
    public static let overrun = NetlinkControlType(rawValue: 4)

    public var description: String {
        switch self {
        case .noop: "NLMSG_NOOP"
        case .error: "NLMSG_ERROR"
        case .done: "NLMSG_DONE"
        case .overrun: "NLMSG_OVERRUN"
        default: "NLMSG \(rawValue)"
        }
    }
}

/// rtnetlink message types (`RTM_*` in linux/rtnetlink.h) this project sends or reads.
public struct RouteMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `RTM_NEWLINK`: create or change a link.
    public static let newLink = RouteMessageType(rawValue: 16)
    /// `RTM_DELLINK`: delete a link.
    public static let deleteLink = RouteMessageType(rawValue: 17)
    /// `RTM_GETLINK`: read a link (or dump all).
    public static let getLink = RouteMessageType(rawValue: 18)
    /// `RTM_NEWADDR`: add an interface address.
    public static let newAddress = RouteMessageType(rawValue: 20)
    /// `RTM_DELADDR`: remove an interface address.
    public static let deleteAddress = RouteMessageType(rawValue: 21)
    /// `RTM_GETADDR`: dump interface addresses.
    public static let getAddress = RouteMessageType(rawValue: 22)
    /// `RTM_NEWROUTE`: add a route.
    public static let newRoute = RouteMessageType(rawValue: 24)
    /// `RTM_DELROUTE`: delete a route.
    public static let deleteRoute = RouteMessageType(rawValue: 25)
    /// `RTM_GETROUTE`: dump routes.
    public static let getRoute = RouteMessageType(rawValue: 26)

    public var description: String {
        switch self {
        case .newLink: "RTM_NEWLINK"
        case .deleteLink: "RTM_DELLINK"
        case .getLink: "RTM_GETLINK"
        case .newAddress: "RTM_NEWADDR"
        case .deleteAddress: "RTM_DELADDR"
        case .getAddress: "RTM_GETADDR"
        case .newRoute: "RTM_NEWROUTE"
        case .deleteRoute: "RTM_DELROUTE"
        case .getRoute: "RTM_GETROUTE"
        default: "RTM \(rawValue)"
        }
    }
}

/// Netlink protocols (the third argument of `socket(AF_NETLINK, ...)`).
public struct NetlinkProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `NETLINK_ROUTE`: links, addresses, routes.
    public static let route = NetlinkProtocol(rawValue: 0)
    /// `NETLINK_NETFILTER`: nftables.
    public static let netfilter = NetlinkProtocol(rawValue: 12)
    /// `NETLINK_GENERIC`: generic netlink families such as WireGuard.
    public static let generic = NetlinkProtocol(rawValue: 16)

    public var description: String {
        switch self {
        case .route: "NETLINK_ROUTE"
        case .netfilter: "NETLINK_NETFILTER"
        case .generic: "NETLINK_GENERIC"
        default: "netlink protocol \(rawValue)"
        }
    }
}
