#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink
import NetlinkSocket
import SystemCalls

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

    /// The link named `name`, or nil when there is none (`ENODEV`).
    public func link(named name: String) throws(SystemCallError) -> LinkAttributes? {
        try Self.validate(name: name, operation: RouteMessageType.getLink.description)
        let replies: [NetlinkMessage]
        do {
            replies = try connection.request(RouteNetlink.getLink(name: name), operation: RouteMessageType.getLink.description, object: name)
        } catch where error.errno == ENODEV {
            return nil
        }
        guard let reply = replies.first else {
            throw SystemCallError("netlink \(RouteMessageType.getLink)", name, errno: EPROTO, detail: "no reply")
        }
        do {
            return try RouteNetlink.decodeLink(reply)
        } catch {
            throw SystemCallError("netlink \(RouteMessageType.getLink)", name, errno: EPROTO, detail: error.reason)
        }
    }

    /// Creates a kernel WireGuard link named `name`. An existing link of that name is reused or
    /// replaced (never "File exists"); a kernel without WireGuard is reported as
    /// `.kernelLacksWireGuard`, not thrown, so the caller can start wireguard-go instead.
    public func addWireGuard(named name: String, ifExists: ExistingLink = .replace) throws(SystemCallError) -> WireGuardLink {
        for attempt in 1...2 {
            if let existing = try link(named: name) {
                if ifExists == .reuse && existing.kind == WireGuardNetlink.familyName { return .reused(existing) }
                try delete(existing)
            }
            do {
                return .created(try add(named: name, kind: WireGuardNetlink.familyName))
            } catch where error.errno == EOPNOTSUPP {
                return .kernelLacksWireGuard(error)
            } catch where error.errno == EEXIST && attempt == 1 {
                continue  // created by someone else in between: look again
            }
        }
        throw SystemCallError("netlink \(RouteMessageType.newLink)", name, errno: EEXIST)
    }

    /// Creates a link of `kind` (`wireguard`, `bridge`...) named `name`; `EEXIST` if one exists,
    /// `EOPNOTSUPP` if the kernel lacks the kind.
    @discardableResult
    public func add(named name: String, kind: String) throws(SystemCallError) -> LinkAttributes {
        try Self.validate(name: name, operation: RouteMessageType.newLink.description)
        try connection.request(RouteNetlink.newLink(name: name, kind: kind), operation: RouteMessageType.newLink.description, object: name)
        guard let link = try link(named: name) else {
            throw SystemCallError("netlink \(RouteMessageType.newLink)", name, errno: ENODEV, detail: "link vanished after creation")
        }
        return link
    }

    /// Deletes a link.
    public func delete(_ link: LinkAttributes) throws(SystemCallError) {
        try connection.request(RouteNetlink.deleteLink(index: link.index), operation: RouteMessageType.deleteLink.description, object: link.name)
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
        try connection.request(RouteNetlink.setMTU(index: link.index, mtu: mtu), operation: RouteMessageType.newLink.description, object: link.name)
    }

    /// Sets a link administratively up (or down).
    public func setUp(_ link: LinkAttributes, _ up: Bool = true) throws(SystemCallError) {
        try connection.request(RouteNetlink.setUp(index: link.index, up), operation: RouteMessageType.newLink.description, object: link.name)
    }

    /// Adds an address (`ip addr replace 10.0.0.1/24 dev wg0`); adding it again is no error.
    public func addAddress(_ address: IPNetwork, to link: LinkAttributes) throws(SystemCallError) {
        let request = RouteNetlink.newAddress(index: link.index, family: UInt8(address.address.family), address: address.address.bytes,
                                              prefixLength: UInt8(address.prefixLength), replace: true)
        try connection.request(request, operation: RouteMessageType.newAddress.description, object: "\(address) dev \(link.name)")
    }

    /// Adds a route to `destination` out of `link` (`ip route replace 10.1.0.0/16 dev wg0`):
    /// main table, protocol boot, scope link; adding it again is no error.
    public func addRoute(_ destination: IPNetwork, via link: LinkAttributes) throws(SystemCallError) {
        let network = destination.masked
        let request = RouteNetlink.newRoute(index: link.index, family: UInt8(network.address.family), destination: network.address.bytes,
                                            prefixLength: UInt8(network.prefixLength), replace: true)
        try connection.request(request, operation: RouteMessageType.newRoute.description, object: "\(network) dev \(link.name)")
    }

    /// Interface names the kernel accepts: 1-15 bytes, no `/`, `:` or white space.
    private static func validate(name: String, operation: String) throws(SystemCallError) {
        let bytes = name.utf8
        guard (1...15).contains(bytes.count),
              bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ":") }) else {
            throw SystemCallError("netlink \(operation)", name, errno: EINVAL, detail: "interface name must be 1-15 printable characters without / or :")
        }
    }
}
