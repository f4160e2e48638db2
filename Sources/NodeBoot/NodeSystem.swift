#if canImport(Glibc)
import Glibc
#endif
import Firewall
import FirewallRules
import Netlink
import NetlinkSocket
import Supervisor
import SystemCalls
import WireGuard
import WireGuardModel

/// The kernel and file system as the boot sequence sees them: every netlink socket, sysctl, TUN
/// device and runtime path it uses comes from here. `LinuxSystem` is the real one; the tests give
/// a fake kernel instead, so the whole boot and teardown runs without root.
public protocol NodeSystem: AnyObject {
    /// A new netlink socket of `netlinkProtocol` (`.route`, `.generic`, `.netfilter`).
    func netlink(_ netlinkProtocol: NetlinkProtocol) throws(SystemCallError) -> any NetlinkTransport
    /// Reads and writes `/proc/sys`.
    var sysctl: any SysctlAccess { get }
    /// Creates the persistent TUN device wireguard-go attaches to; `EBUSY` when a link of that
    /// name exists.
    func createTunDevice(named name: String) throws(SystemCallError)
    /// Where wireguard-go's UAPI sockets live (`/var/run/wireguard`).
    var userspaceSocketDirectory: String { get }
    /// Where the node's identity file for `status` goes (`/run/vpn-init`).
    var runtimeDirectory: String { get }
}

/// What the boot sequence needs of the process supervisor: children kept running, undo steps
/// run in reverse order at shutdown (or after a failed boot), timers and descriptor watches on
/// its loop. `Supervisor` is the real one.
public protocol BootHost: AnyObject {
    /// Starts `spec` now and keeps it running by its restart policy.
    func start(_ spec: ChildSpec)
    /// The PID of the running child `name`, if it runs.
    func pid(of name: String) -> pid_t?
    /// Registers an undo step; steps run in reverse order of registration.
    func addTeardown(_ name: String, _ body: @escaping () throws -> Void)
    /// Runs `handler` on the loop after `delay`.
    func schedule(after delay: Duration, _ handler: @escaping () -> Void)
    /// Calls `handler` on the loop whenever `fileDescriptor` is readable.
    func watch(fileDescriptor: Int32, _ handler: @escaping () -> Void)
    /// Stops watching `fileDescriptor`.
    func unwatch(fileDescriptor: Int32)
    /// Stops the child `name` for good.
    func stop(_ name: String)
    /// Calls `handler` on the loop whenever `signal` arrives.
    func onSignal(_ signal: Int32, _ handler: @escaping () -> Void)
    /// How often each supervised child was started again.
    func restartCounts() -> [(child: String, restarts: Int)]
}

extension Supervisor: BootHost {}

/// The running Linux system.
public final class LinuxSystem: NodeSystem {
    public init() {}

    public func netlink(_ netlinkProtocol: NetlinkProtocol) throws(SystemCallError) -> any NetlinkTransport {
        try MnlSocket(netlinkProtocol)
    }

    public let sysctl: any SysctlAccess = ProcSysctl()

    public func createTunDevice(named name: String) throws(SystemCallError) {
        try TunDevice.createPersistent(named: name)
    }

    public var userspaceSocketDirectory: String { UserspaceWireGuard.defaultSocketDirectory }

    public var runtimeDirectory: String { NodeIdentity.directory }
}
