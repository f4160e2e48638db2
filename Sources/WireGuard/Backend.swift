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
    func configure(_ config: WireGuardDeviceConfig) throws(WireGuardConfigError)
    /// Sends `config` and returns its answer to wait for: wireguard-go answers once it has
    /// started, so boot goes on meanwhile; the kernel applies it at once (`PendingRequest.done`).
    func beginConfiguration(_ config: WireGuardDeviceConfig) throws(WireGuardConfigError) -> PendingRequest
    /// Reads the interface's keys, port and peers with their counters.
    func device() throws(SystemCallError) -> WireGuardDevice
}

extension WireGuardBackend {
    /// `configure`, already answered: for a backend whose requests are synchronous.
    public func beginConfiguration(_ config: WireGuardDeviceConfig) throws(WireGuardConfigError) -> PendingRequest {
        try configure(config)
        return .done
    }
}

/// Why a backend did not apply a configuration.
public enum WireGuardConfigError: Error, Equatable, CustomStringConvertible {
    /// Refused before anything was sent: the configuration is for another interface, or an
    /// endpoint is a name, not an address.
    case invalid(interface: String, reason: String)
    /// The request failed, or the kernel or wireguard-go refused it.
    case system(SystemCallError)

    public var description: String {
        switch self {
        case .invalid(let interface, let reason): "invalid WireGuard configuration for \(interface): \(reason)"
        case .system(let error): error.description
        }
    }
}

extension WireGuardDeviceConfig {
    /// What every backend checks before it sends `self` to `interface`.
    func check(for interface: String) throws(WireGuardConfigError) {
        guard interfaceName == interface else {
            throw .invalid(interface: interface, reason: "the configuration is for \"\(interfaceName)\"")
        }
        do {
            try validate()
        } catch {
            throw .invalid(interface: interface, reason: error.reason)
        }
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
