import SystemCalls
import WireGuardModel

/// Which implementation runs a WireGuard interface (`vpn-init status` reports it).
public enum WireGuardImplementation: String, Hashable, Sendable {
    /// The kernel module, configured over generic netlink.
    case kernel
    /// wireguard-go, configured over its UAPI socket.
    case userspace
}

/// Configures and reads one WireGuard interface, whichever implementation runs it.
public protocol WireGuardBackend: AnyObject {
    /// The interface this backend drives.
    var interfaceName: String { get }
    /// Which implementation it talks to.
    var implementation: WireGuardImplementation { get }
    /// Applies `config` (whose `interfaceName` must be this backend's); nil fields stay as they are.
    func configure(_ config: WireGuardDeviceConfig) throws(SystemCallError)
    /// Sends `config` and returns its answer to wait for: wireguard-go answers once it has
    /// started, so boot goes on meanwhile; the kernel applies it at once (`PendingRequest.done`).
    func beginConfiguration(_ config: WireGuardDeviceConfig) throws(SystemCallError) -> PendingRequest
    /// Reads the interface's keys, port and peers with their counters.
    func device() throws(SystemCallError) -> WireGuardDevice
}

extension WireGuardBackend {
    /// `configure`, already answered: for a backend whose requests are synchronous.
    public func beginConfiguration(_ config: WireGuardDeviceConfig) throws(SystemCallError) -> PendingRequest {
        try configure(config)
        return .done
    }
}

/// Picking the backend for an interface that already exists.
public enum WireGuardBackends {
    /// The backend for a running interface: userspace when wireguard-go's UAPI socket for it
    /// exists in `socketDirectory`, the kernel otherwise.
    public static func existing(interfaceName: String,
                                socketDirectory: String = UserspaceWireGuard.defaultSocketDirectory) throws(SystemCallError) -> any WireGuardBackend {
        let userspace = UserspaceWireGuard(interfaceName: interfaceName, socketDirectory: socketDirectory)
        if Files.exists(userspace.socketPath) { return userspace }
        return try KernelWireGuard(interfaceName: interfaceName)
    }
}
