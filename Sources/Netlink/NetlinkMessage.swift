
/// Rounds a length up to netlink's 4-byte alignment (`NLMSG_ALIGN`, `NLA_ALIGN`).
@inline(__always)
public func netlinkAligned(_ length: Int) -> Int { (length + 3) & ~3 }

/// One netlink message: the 16-byte `struct nlmsghdr` fields and the payload after it.
public struct NetlinkMessage: Hashable, Sendable {
    /// The length of `struct nlmsghdr`.
    public static let headerLength = 16

    /// `nlmsg_type`: a control type (`NLMSG_ERROR`...), an rtnetlink type or a generic netlink
    /// family id.
    public var type: UInt16
    /// `nlmsg_flags`.
    public var flags: NetlinkFlags
    /// `nlmsg_seq`: matches replies to their request.
    public var sequence: UInt32
    /// `nlmsg_pid`: the sending socket's port id (0 from and for the kernel).
    public var portID: UInt32
    /// The bytes after the header (a family header, then attributes), unpadded.
    public var payload: [UInt8]

    public init(type: UInt16, flags: NetlinkFlags, sequence: UInt32 = 0, portID: UInt32 = 0, payload: [UInt8] = []) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
        self.payload = payload
    }

    /// `nlmsg_len`: the header and the unpadded payload.
    public var length: Int { Self.headerLength + payload.count }

    /// The wire form: header, payload, and padding to a 4-byte boundary.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(netlinkAligned(length))
        appendEncoded(to: &bytes)
        return bytes
    }

    /// Appends the wire form to a datagram being built.
    public func appendEncoded(to bytes: inout [UInt8]) {
        bytes.appendNative(UInt32(length))
        bytes.appendNative(type)
        bytes.appendNative(flags.rawValue)
        bytes.appendNative(sequence)
        bytes.appendNative(portID)
        bytes += payload
        bytes += repeatElement(0, count: netlinkAligned(length) - length)
    }

    /// Splits a received datagram into its messages; throws on a truncated or malformed header.
    public static func decode(datagram bytes: [UInt8]) throws(NetlinkDecodeError) -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= headerLength else {
                throw NetlinkDecodeError("datagram has \(bytes.count - offset) bytes left, less than a netlink header")
            }
            let length = Int(bytes.loadNative(UInt32.self, at: offset))
            guard length >= headerLength, length <= bytes.count - offset else {
                throw NetlinkDecodeError("netlink message at offset \(offset) claims \(length) bytes; \(bytes.count - offset) are left")
            }
            messages.append(NetlinkMessage(
                type: bytes.loadNative(UInt16.self, at: offset + 4),
                flags: NetlinkFlags(rawValue: bytes.loadNative(UInt16.self, at: offset + 6)),
                sequence: bytes.loadNative(UInt32.self, at: offset + 8),
                portID: bytes.loadNative(UInt32.self, at: offset + 12),
                payload: Array(bytes[(offset + headerLength)..<(offset + length)])
            ))
            offset += min(netlinkAligned(length), bytes.count - offset)
        }
        return messages
    }
}

/// Why received netlink bytes could not be decoded.
public struct NetlinkDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension Array where Element == UInt8 {
    /// Appends an integer in host byte order, as netlink carries them.
    @inline(__always)
    public mutating func appendNative<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value) { append(contentsOf: $0) }
    }

    /// Appends an integer in network byte order (ports and addresses inside `sockaddr`).
    @inline(__always)
    public mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    /// Reads a host-byte-order integer at `offset`; the caller has checked the bounds.
    @inline(__always)
    public func loadNative<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
}
