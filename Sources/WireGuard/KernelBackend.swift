#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink
import NetlinkSocket
import SystemCalls

/// The kernel's WireGuard, driven over generic netlink like `wg`: the family id is looked up
/// once (`CTRL_CMD_GETFAMILY` "wireguard"), then `WG_CMD_SET_DEVICE` requests (split when
/// large) and `WG_CMD_GET_DEVICE` dumps. Errors read like
/// `netlink WG_CMD_SET_DEVICE wg0: No such device (ENODEV)`.
public final class KernelWireGuard: WireGuardBackend {
    public let interfaceName: String
    public var implementation: WireGuardImplementation { .kernel }
    /// The generic netlink connection requests go through.
    public let connection: NetlinkConnection
    /// The largest SET message to send.
    public let messageLimit: Int
    private var family: UInt16?

    /// A backend over `connection` (a `NETLINK_GENERIC` socket, or a fake kernel).
    public init(interfaceName: String, connection: NetlinkConnection, messageLimit: Int = WireGuardNetlink.defaultMessageLimit) {
        self.interfaceName = interfaceName
        self.connection = connection
        self.messageLimit = messageLimit
    }

    /// A backend over a new `NETLINK_GENERIC` socket.
    public convenience init(interfaceName: String) throws(SystemCallError) {
        self.init(interfaceName: interfaceName, connection: NetlinkConnection(transport: try MnlSocket(.generic)))
    }

    /// The WireGuard family id; `ENOENT` when the kernel has no WireGuard.
    public func familyID() throws(SystemCallError) -> UInt16 {
        if let family { return family }
        let replies = try connection.request(GenericNetlink.getFamilyRequest(name: WireGuardNetlink.familyName),
                                             operation: ControllerCommand.getFamily.description, object: WireGuardNetlink.familyName)
        guard let reply = replies.first else {
            throw SystemCallError("netlink \(ControllerCommand.getFamily)", WireGuardNetlink.familyName, errno: EPROTO, detail: "no reply")
        }
        do {
            let id = try GenericNetlink.decodeFamily(reply).id
            family = id
            return id
        } catch {
            throw SystemCallError("netlink \(ControllerCommand.getFamily)", WireGuardNetlink.familyName, errno: EPROTO, detail: error.reason)
        }
    }

    public func configure(_ config: WireGuardDeviceConfig) throws(SystemCallError) {
        let operation = WireGuardCommand.setDevice.description
        guard config.interfaceName == interfaceName else {
            throw SystemCallError("netlink \(operation)", interfaceName, errno: EINVAL,
                                  detail: "configuration is for \"\(config.interfaceName)\"")
        }
        let requests: [NetlinkMessage]
        do {
            requests = try WireGuardNetlink.setDeviceRequests(family: try familyID(), config: config, limit: messageLimit)
        } catch let error as NetlinkEncodeError {
            throw SystemCallError("netlink \(operation)", interfaceName, errno: EINVAL, detail: error.reason)
        } catch let error as SystemCallError {
            throw error
        } catch {
            throw SystemCallError("netlink \(operation)", interfaceName, errno: EINVAL, detail: "\(error)")
        }
        for request in requests {
            try connection.request(request, operation: operation, object: interfaceName)
        }
    }

    public func device() throws(SystemCallError) -> WireGuardDevice {
        let operation = WireGuardCommand.getDevice.description
        let request = WireGuardNetlink.getDeviceRequest(family: try familyID(), interfaceName: interfaceName)
        var attempt = 0
        while true {
            attempt += 1
            let replies: [NetlinkMessage]
            do {
                replies = try connection.request(request, operation: operation, object: interfaceName)
            } catch where error.errno == EINTR && attempt < 3 {
                continue  // peers changed during the dump: read again
            }
            do {
                return try WireGuardDevice(dump: replies)
            } catch {
                throw SystemCallError("netlink \(operation)", interfaceName, errno: EPROTO, detail: error.reason)
            }
        }
    }
}
