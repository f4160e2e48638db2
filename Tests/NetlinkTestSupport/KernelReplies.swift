import Netlink

// The replies a kernel sends, encoded for fake kernels: production code only decodes them.

extension NetlinkAcknowledgement {
    /// The wire form of an acknowledgement for `request`, as the kernel sends it (capped, with
    /// extended-ACK attributes when there is a message).
    public static func encode(errno: Int32, for request: NetlinkMessage, message text: String? = nil,
                              portID: UInt32 = 0) -> NetlinkMessage {
        var payload = [UInt8]()
        payload.appendNative(-errno)
        var echoed = request
        echoed.payload = []
        payload += echoed.encoded().prefix(NetlinkMessage.headerLength)
        payload.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(request.length), toByteOffset: 4, as: UInt32.self) }
        var flags: NetlinkFlags = .capped
        if let text {
            var attributes = AttributeEncoder()
            attributes.string(1, text)
            payload += attributes.bytes
            flags.insert(.acknowledgementAttributes)
        }
        return NetlinkMessage(type: NetlinkControlType.error.rawValue, flags: flags,
                              sequence: request.sequence, portID: portID, payload: payload)
    }
}

extension GenericNetlink {
    /// The `CTRL_CMD_NEWFAMILY` reply a kernel sends for `family`.
    public static func familyReply(_ family: GenericNetlinkFamily, sequence: UInt32) -> NetlinkMessage {
        var attributes = AttributeEncoder()
        attributes.string(ControllerAttribute.familyName, family.name)
        attributes.uint16(ControllerAttribute.familyID, family.id)
        attributes.uint32(ControllerAttribute.version, family.version)
        var reply = GenericNetlink.message(family: controllerFamily, command: ControllerCommand.newFamily.rawValue, version: 2,
                                           flags: [], attributes: attributes.bytes)
        reply.sequence = sequence
        return reply
    }
}
