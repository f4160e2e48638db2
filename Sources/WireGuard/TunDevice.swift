#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSystemShims
import SystemCalls
import WireGuardModel

/// The TUN device a userspace WireGuard runs on, created before the program starts so its link
/// can be configured while the program is still starting.
///
/// The device is persistent: it outlives every process attached to it until it is deleted
/// (`ip link delete`). wireguard-go opens `/dev/net/tun` with the device's name, which attaches it
/// to this device with the flags its own version expects (packet information or not, offloads),
/// so any version works; a restarted wireguard-go finds the link with its addresses and routes.
/// Errors read like `ioctl TUNSETIFF wg0: Device or resource busy (EBUSY)`.
public enum TunDevice {
    /// The TUN clone device.
    public static let clonePath = "/dev/net/tun"

    /// Creates the persistent TUN device `name`. Fails with EBUSY when a link of that name exists.
    public static func createPersistent(named name: String) throws(SystemCallError) {
        let fd = try valueOrErrno("open", clonePath) { open(clonePath, O_RDWR | O_CLOEXEC) }
        // Closing the descriptor detaches it; the device stays because it is persistent, or
        // goes away with it when marking it failed.
        defer { _ = close(fd) }
        let flags = Int32(VPN_TUN_FLAG_TUN | VPN_TUN_FLAG_EXCLUSIVE)
        _ = try valueOrErrno("ioctl TUNSETIFF", name) { vpn_tun_set_interface(fd, name, flags) }
        _ = try valueOrErrno("ioctl TUNSETPERSIST", name) { vpn_tun_set_persistent(fd, 1) }
    }
}
