#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink
import NetlinkSocket
import SystemCalls
import WireGuardModel

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
        let id = try connection.request(GenericNetlink.getFamilyRequest(name: WireGuardNetlink.familyName),
                                        NetlinkRequestName(ControllerCommand.getFamily, object: WireGuardNetlink.familyName),
                                        decodingReply: { (reply: NetlinkMessage) throws(NetlinkDecodeError) -> UInt16 in
                                            try GenericNetlink.decodeFamily(reply).id
                                        })
        family = id
        return id
    }

    public func configure(_ config: WireGuardDeviceConfig) throws(WireGuardConfigError) {
        try config.check(for: interfaceName)
        let family: UInt16
        do {
            family = try familyID()
        } catch {
            throw .system(error)
        }
        let requests: [NetlinkMessage]
        do {
            requests = try WireGuardNetlink.setDeviceRequests(family: family, config: config, limit: messageLimit)
        } catch {
            throw .invalid(interface: interfaceName, reason: error.reason)
        }
        let name = NetlinkRequestName(WireGuardCommand.setDevice, object: interfaceName)
        do throws(SystemCallError) {
            for request in requests { try connection.request(request, name) }
        } catch {
            throw .system(error)
        }
    }

    public func device() throws(SystemCallError) -> WireGuardDevice {
        let name = NetlinkRequestName(WireGuardCommand.getDevice, object: interfaceName)
        let request = WireGuardNetlink.getDeviceRequest(family: try familyID(), interfaceName: interfaceName)
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try connection.request(request, name, decoding: { (replies: [NetlinkMessage]) throws(NetlinkDecodeError) in
                    try WireGuardDevice(dump: replies)
                })
            } catch where error.errno == EINTR && attempt < 3 {
                continue  // peers changed during the dump: read again
            }
        }
    }
}
