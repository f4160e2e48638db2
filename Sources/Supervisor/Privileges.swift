#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A Linux capability a child may keep (capabilities(7)); the raw value is its number.
public enum Capability: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// Binding TCP and UDP ports below 1024.
    case netBindService = 10
    /// Network administration: SO_MARK, interfaces, routes, firewall, WireGuard devices.
    case netAdmin = 12

    public var description: String {
        switch self {
        case .netBindService: "CAP_NET_BIND_SERVICE"
        case .netAdmin: "CAP_NET_ADMIN"
        }
    }
}

/// What a child gives up before its program runs. The default leaves it everything vpn-init
/// has (the main command: it may need set-user-ID tools such as `su` or `ping`).
public struct Privileges: Sendable, Equatable {
    /// no_new_privs: no exec of the program or of anything it starts gains privileges
    /// (set-user-ID bits and file capabilities are ignored).
    public var noNewPrivileges: Bool
    /// The user it runs as, with that group and no supplementary groups; nil keeps vpn-init's.
    public var user: User?
    /// The only capabilities it has (in every set; ambient, so they survive exec under a
    /// non-root user), the bounding set limited to them; nil keeps vpn-init's.
    public var capabilities: Set<Capability>?

    /// A numeric user and group (no name lookup: the image has no NSS to ask).
    public struct User: Sendable, Equatable {
        public var uid: uid_t
        public var gid: gid_t

        public init(uid: uid_t, gid: gid_t) {
            self.uid = uid
            self.gid = gid
        }
    }

    public init(noNewPrivileges: Bool = false, user: User? = nil, capabilities: Set<Capability>? = nil) {
        self.noNewPrivileges = noNewPrivileges
        self.user = user
        self.capabilities = capabilities
    }

    /// Everything vpn-init has.
    public static let unchanged = Privileges()

    /// `user`, no_new_privs, and no capability but `keeping`.
    public static func unprivileged(as user: User, keeping: Set<Capability> = []) -> Privileges {
        Privileges(noNewPrivileges: true, user: user, capabilities: keeping)
    }

    /// The capabilities as a bit set, bit N for capability N.
    var capabilityMask: UInt64 {
        (capabilities ?? []).reduce(0) { $0 | (1 << UInt64($1.rawValue)) }
    }
}
