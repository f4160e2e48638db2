/// Generic netlink (linux/genetlink.h): messages whose type is a family id resolved at run time
/// through the `nlctrl` controller, with a 4-byte `struct genlmsghdr` before the attributes.
public enum GenericNetlink {
    /// `GENL_HDRLEN`: `cmd`, `version`, and two reserved bytes.
    public static let headerLength = 4
    /// `GENL_ID_CTRL`: the controller family's fixed id.
    public static let controllerFamily: UInt16 = 0x10

    /// A generic netlink message for `family` with `command`, `version` and `attributes`.
    public static func message(family: UInt16, command: UInt8, version: UInt8, flags: NetlinkFlags,
                               attributes: [UInt8]) -> NetlinkMessage {
        NetlinkMessage(type: family, flags: flags, payload: [command, version, 0, 0] + attributes)
    }

    /// The `genlmsghdr` command of a received message.
    public static func command(of message: NetlinkMessage) throws(NetlinkDecodeError) -> UInt8 {
        guard message.payload.count >= headerLength else {
            throw NetlinkDecodeError("generic netlink message has \(message.payload.count) bytes, less than its header")
        }
        return message.payload[0]
    }

    /// A decoder over a received message's attributes (after `genlmsghdr`).
    public static func attributes(of message: NetlinkMessage) throws(NetlinkDecodeError) -> AttributeDecoder {
        _ = try command(of: message)
        return AttributeDecoder(message.payload, from: headerLength)
    }

    /// The `CTRL_CMD_GETFAMILY` request that resolves a family by name (e.g. `wireguard`).
    public static func getFamilyRequest(name: String) -> NetlinkMessage {
        var attributes = AttributeEncoder()
        attributes.string(ControllerAttribute.familyName, name)
        return message(family: controllerFamily, command: ControllerCommand.getFamily.rawValue, version: 1,
                       flags: [.request, .acknowledge], attributes: attributes.bytes)
    }

    /// Reads the family id, name and version from a `CTRL_CMD_NEWFAMILY` reply.
    public static func decodeFamily(_ message: NetlinkMessage) throws(NetlinkDecodeError) -> GenericNetlinkFamily {
        var attributes = try attributes(of: message)
        var id: UInt16?
        var name = ""
        var version: UInt32 = 0
        while attributes.next() {
            switch attributes.type {
            case ControllerAttribute.familyID: id = attributes.uint16()
            case ControllerAttribute.familyName: name = attributes.string()
            case ControllerAttribute.version: version = attributes.uint32()
            default: break
            }
        }
        try attributes.finish()
        guard let id else { throw NetlinkDecodeError("CTRL_CMD_NEWFAMILY reply has no CTRL_ATTR_FAMILY_ID") }
        return GenericNetlinkFamily(id: id, name: name, version: version)
    }

}

/// A resolved generic netlink family.
public struct GenericNetlinkFamily: Hashable, Sendable {
    /// The message type to use for this family.
    public var id: UInt16
    /// The family's name, e.g. `wireguard`.
    public var name: String
    /// The family's version.
    public var version: UInt32

    public init(id: UInt16, name: String, version: UInt32) {
        self.id = id
        self.name = name
        self.version = version
    }
}
