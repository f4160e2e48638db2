#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink
import NetlinkSocket
import SystemCalls
import WireGuardModel

/// Links, addresses and routes over rtnetlink, the requests `ip link`, `ip addr replace` and
/// `ip route replace` send. Errors read like
/// `netlink RTM_NEWLINK wg0: Operation not permitted (EPERM)`.
public final class Links {
    /// The `NETLINK_ROUTE` connection requests go through.
    public let connection: NetlinkConnection

    /// Links over `connection` (a `NETLINK_ROUTE` socket, or a fake kernel).
    public init(connection: NetlinkConnection) {
        self.connection = connection
    }

    /// Links over a new `NETLINK_ROUTE` socket.
    public convenience init() throws(SystemCallError) {
        self.init(connection: NetlinkConnection(transport: try MnlSocket(.route)))
    }

    /// What to do with a link that already has the name a new WireGuard link needs.
    public enum ExistingLink: Sendable {
        /// Keep a WireGuard link as it is (any other kind of link is replaced).
        case reuse
        /// Delete it and create a fresh one.
        case replace
    }

    /// The outcome of `addWireGuard`.
    public enum WireGuardLink: Sendable {
        /// A new kernel WireGuard link.
        case created(LinkAttributes)
        /// An existing kernel WireGuard link, kept (`ExistingLink.reuse`).
        case reused(LinkAttributes)
        /// The kernel has no WireGuard (`EOPNOTSUPP`, "Unknown device type"): use wireguard-go.
        case kernelLacksWireGuard(SystemCallError)
    }

    /// The link named `name`, or nil when there is none (`ENODEV`). A string that is not an
    /// interface name (`InterfaceName`) names no link this project makes: nil, without asking
    /// the kernel (which would cut the name at a NUL, for one).
    public func link(named name: String) throws(SystemCallError) -> LinkAttributes? {
        guard InterfaceName.isValid(name) else { return nil }
        do {
            return try connection.request(RouteNetlink.getLink(name: name), Self.name(.getLink, name),
                                          decodingReply: RouteNetlink.decodeLink)
        } catch where error.errno == ENODEV {
            return nil
        }
    }

    /// Creates a kernel WireGuard link named `name`. An existing link of that name is reused or
    /// replaced (never "File exists"); a kernel without WireGuard is reported as
    /// `.kernelLacksWireGuard`, not thrown, so the caller can start wireguard-go instead. A name
    /// that is not an interface name is refused before anything is sent.
    public func addWireGuard(named name: String, ifExists: ExistingLink = .replace) throws(LinkError) -> WireGuardLink {
        try Self.validate(name)
        do throws(SystemCallError) {
            for attempt in 1...2 {
                if let existing = try link(named: name) {
                    if ifExists == .reuse && existing.kind == WireGuardNetlink.familyName { return .reused(existing) }
                    try delete(existing)
                }
                do {
                    return .created(try create(named: name, kind: WireGuardNetlink.familyName))
                } catch where error.errno == EOPNOTSUPP {
                    return .kernelLacksWireGuard(error)
                } catch where error.errno == EEXIST && attempt == 1 {
                    continue  // created by someone else in between: look again
                }
            }
            throw NetlinkError.outcome(Self.name(.newLink, name), errno: EEXIST)
        } catch {
            throw .system(error)
        }
    }

    /// Creates a link of `kind` (`wireguard`, `bridge`...) named `name`; `EEXIST` if one exists,
    /// `EOPNOTSUPP` if the kernel lacks the kind. A name that is not an interface name is
    /// refused before anything is sent.
    @discardableResult
    public func add(named name: String, kind: String) throws(LinkError) -> LinkAttributes {
        try Self.validate(name)
        do {
            return try create(named: name, kind: kind)
        } catch {
            throw .system(error)
        }
    }

    /// Deletes a link.
    public func delete(_ link: LinkAttributes) throws(SystemCallError) {
        try connection.request(RouteNetlink.deleteLink(index: link.index), Self.name(.deleteLink, link.name))
    }

    /// Deletes the link named `name`; false when there was none.
    @discardableResult
    public func delete(named name: String) throws(SystemCallError) -> Bool {
        guard let link = try link(named: name) else { return false }
        do {
            try delete(link)
        } catch where error.errno == ENODEV {
            return false
        }
        return true
    }

    /// Sets a link's MTU.
    public func setMTU(_ mtu: UInt32, of link: LinkAttributes) throws(SystemCallError) {
        try connection.request(RouteNetlink.setMTU(index: link.index, mtu: mtu), Self.name(.newLink, link.name))
    }

    /// Sets a link administratively up (or down).
    public func setUp(_ link: LinkAttributes, _ up: Bool = true) throws(SystemCallError) {
        try connection.request(RouteNetlink.setUp(index: link.index, up), Self.name(.newLink, link.name))
    }

    /// Adds an address (`ip addr replace 10.0.0.1/24 dev wg0`); adding it again is no error.
    public func addAddress(_ address: IPNetwork, to link: LinkAttributes) throws(SystemCallError) {
        let request = RouteNetlink.newAddress(index: link.index, family: UInt8(address.address.family), address: address.address.bytes,
                                              prefixLength: UInt8(address.prefixLength), replace: true)
        try connection.request(request, Self.name(.newAddress, "\(address) dev \(link.name)"))
    }

    /// Adds a route to `destination` out of `link` (`ip route replace 10.1.0.0/16 dev wg0`):
    /// main table, protocol boot, scope link; adding it again is no error.
    public func addRoute(_ destination: IPNetwork, via link: LinkAttributes) throws(SystemCallError) {
        let network = destination.masked
        let request = RouteNetlink.newRoute(index: link.index, family: UInt8(network.address.family), destination: network.address.bytes,
                                            prefixLength: UInt8(network.prefixLength), replace: true)
        try connection.request(request, Self.name(.newRoute, "\(network) dev \(link.name)"))
    }

    /// Deletes the route to `destination` out of `link` (`ip route del 10.1.0.0/16 dev wg0`);
    /// a route that is not there (`ESRCH`) is no error.
    public func deleteRoute(_ destination: IPNetwork, via link: LinkAttributes) throws(SystemCallError) {
        let network = destination.masked
        let request = RouteNetlink.deleteRoute(index: link.index, family: UInt8(network.address.family),
                                               destination: network.address.bytes, prefixLength: UInt8(network.prefixLength))
        do {
            try connection.request(request, Self.name(.deleteRoute, "\(network) dev \(link.name)"))
        } catch where error.errno == ESRCH {
            return
        }
    }

    /// `RTM_NEWLINK` for a link named `name` (already validated), read back once created.
    private func create(named name: String, kind: String) throws(SystemCallError) -> LinkAttributes {
        try connection.request(RouteNetlink.newLink(name: name, kind: kind), Self.name(.newLink, name))
        guard let link = try link(named: name) else {
            throw NetlinkError.outcome(Self.name(.newLink, name), errno: ENODEV, detail: "link vanished after creation")
        }
        return link
    }

    private static func validate(_ name: String) throws(LinkError) {
        do {
            try InterfaceName.validate(name)
        } catch {
            throw .invalidName(error)
        }
    }

    private static func name(_ type: RouteMessageType, _ object: String) -> NetlinkRequestName {
        NetlinkRequestName(type, object: object)
    }
}

/// Why `Links.add` or `Links.addWireGuard` failed: a name no link may have (a validation error,
/// refused before anything is sent), or the kernel's error.
public enum LinkError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name is not an interface name (`InterfaceName`).
    case invalidName(InterfaceNameError)
    /// A netlink request failed.
    case system(SystemCallError)

    public var description: String {
        switch self {
        case .invalidName(let error): error.description
        case .system(let error): error.description
        }
    }
}
