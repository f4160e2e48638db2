import Supervisor

/// What each child of vpn-init may do: the least each needs (README, "Privileges of the
/// children"). A drop that fails is a failed start, logged with the step that failed; the
/// program never runs with more than this.
enum ChildPrivileges {
    /// The user tcp2udp and udp2tcp run as: `vpn-helper` in the image's /etc/passwd, with a group
    /// of its own. Numeric, since vpn-init looks no name up, and not `nobody` (65534), which a
    /// main command's own daemons often use: processes of one user may signal and trace each
    /// other. Below 65536, so a user namespace of the usual 65536 ids maps it.
    static let helperUser = Privileges.User(uid: 65533, gid: 65533)

    /// tcp2udp parses whatever anyone who can reach the port sends: no capability at all. vpn-init
    /// binds its listening socket (any port, SO_MARK), which the connections it accepts inherit.
    static let tcp2udp = Privileges.unprivileged(as: helperUser)

    /// udp2tcp opens a new TCP connection at every reconnect and rotation, so a socket handed
    /// over once cannot carry a fwmark: with `WG_FWMARK` it keeps CAP_NET_ADMIN (for SO_MARK)
    /// as its one ambient capability, otherwise none.
    static func udp2tcp(fwmark: UInt32?) -> Privileges {
        .unprivileged(as: helperUser, keeping: fwmark != nil ? [.netAdmin] : [])
    }

    /// wireguard-go attaches to the TUN device, sets its MTU and marks its sockets, all of which
    /// need CAP_NET_ADMIN, and binds the listen port (CAP_NET_BIND_SERVICE below 1024). It stays
    /// root only so it can open /dev/net/tun whatever the device node's mode, with nothing else:
    /// no_new_privs, and no other capability in any set (root's exec gains none back).
    static func wireguardGo(listenPort: UInt16) -> Privileges {
        Privileges(noNewPrivileges: true, capabilities: (1..<1024).contains(listenPort) ? [.netAdmin, .netBindService] : [.netAdmin])
    }
}
