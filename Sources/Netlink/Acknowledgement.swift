/// An `NLMSG_ERROR` message (an acknowledgement when `errno` is 0) or the status that ends a
/// dump (`NLMSG_DONE`), with the extended-ACK attributes the kernel adds when the socket has
/// `NETLINK_EXT_ACK` set. See linux/netlink.h, `struct nlmsgerr` and `enum nlmsgerr_attrs`.
public struct NetlinkAcknowledgement: Hashable, Sendable {
    /// The positive errno, or 0 for success (the kernel sends it negated).
    public var errno: Int32
    /// The type of the request this answers (0 for `NLMSG_DONE`).
    public var requestType: UInt16
    /// The sequence number of the request this answers.
    public var requestSequence: UInt32
    /// `NLMSGERR_ATTR_MSG`: the kernel's text, e.g. `Unknown device type`.
    public var message: String?
    /// `NLMSGERR_ATTR_OFFS`: the offset in the request of the attribute at fault.
    public var attributeOffset: UInt32?
    /// `NLMSGERR_ATTR_MISS_TYPE`: the type of a missing attribute.
    public var missingAttribute: UInt32?

    public init(errno: Int32, requestType: UInt16 = 0, requestSequence: UInt32 = 0,
                message: String? = nil, attributeOffset: UInt32? = nil, missingAttribute: UInt32? = nil) {
        self.errno = errno
        self.requestType = requestType
        self.requestSequence = requestSequence
        self.message = message
        self.attributeOffset = attributeOffset
        self.missingAttribute = missingAttribute
    }

    /// Whether this reports success.
    public var isSuccess: Bool { errno == 0 }

    /// Decodes an `NLMSG_ERROR` message.
    public init(error message: NetlinkMessage) throws(NetlinkDecodeError) {
        let bytes = message.payload
        guard bytes.count >= 4 + NetlinkMessage.headerLength else {
            throw NetlinkDecodeError("NLMSG_ERROR has \(bytes.count) bytes, less than struct nlmsgerr")
        }
        let requestLength = Int(bytes.loadNative(UInt32.self, at: 4))
        // Wrapping negation: a reply carrying INT32_MIN must not trap.
        self.init(errno: 0 &- bytes.loadNative(Int32.self, at: 0),
                  requestType: bytes.loadNative(UInt16.self, at: 8),
                  requestSequence: bytes.loadNative(UInt32.self, at: 12))
        // The request is echoed whole unless capped; the attributes follow it.
        let attributesStart = message.flags.contains(.capped)
            ? 4 + NetlinkMessage.headerLength : 4 + netlinkAligned(requestLength)
        if message.flags.contains(.acknowledgementAttributes) {
            try decodeAttributes(bytes, from: attributesStart)
        }
    }

    /// Decodes the status of an `NLMSG_DONE` message (a dump that failed part way carries the
    /// error here).
    public init(done message: NetlinkMessage) throws(NetlinkDecodeError) {
        let bytes = message.payload
        let code: Int32 = bytes.count >= 4 ? bytes.loadNative(Int32.self, at: 0) : 0
        self.init(errno: 0 &- code, requestSequence: message.sequence)
        if message.flags.contains(.acknowledgementAttributes), bytes.count > 4 {
            try decodeAttributes(bytes, from: 4)
        }
    }

    private mutating func decodeAttributes(_ bytes: [UInt8], from start: Int) throws(NetlinkDecodeError) {
        var attributes = AttributeDecoder(bytes, from: start)
        while attributes.next() {
            switch attributes.type {
            case 1: message = attributes.string()
            case 2: attributeOffset = attributes.uint32()
            case 5: missingAttribute = attributes.uint32()
            default: break
            }
        }
        try attributes.finish()
    }
}
