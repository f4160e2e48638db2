/// `NLA_F_NESTED`: the attribute's payload is itself a list of attributes.
public let netlinkNestedFlag: UInt16 = 0x8000
/// `NLA_F_NET_BYTEORDER`: the attribute's payload is in network byte order.
public let netlinkByteOrderFlag: UInt16 = 0x4000
/// The length of `struct nlattr`.
public let netlinkAttributeHeaderLength = 4
/// The largest payload an attribute can carry (`nla_len` is 16 bits and counts the header).
public let netlinkAttributeMaximumPayload = Int(UInt16.max) - netlinkAttributeHeaderLength

/// Builds a list of netlink attributes (`struct nlattr` + payload, each padded to 4 bytes),
/// usually after a fixed family header. The first error (an attribute too long for its 16-bit
/// length) sticks: later calls do nothing and `finish()` throws it.
public struct AttributeEncoder: Sendable {
    /// The bytes so far: the initial header and every attribute.
    public private(set) var bytes: [UInt8]
    /// The first error, if any.
    public private(set) var error: NetlinkEncodeError?
    private var openNests: [Int] = []

    /// Starts with `header` (e.g. an `ifinfomsg` or a `genlmsghdr`), padded to 4 bytes.
    public init(header: [UInt8] = []) {
        bytes = header
        bytes += repeatElement(0, count: netlinkAligned(header.count) - header.count)
    }

    /// The number of bytes so far, for size checks and `rollback(to:)`.
    public var count: Int { bytes.count }

    /// Appends an attribute with a raw payload.
    public mutating func append(_ type: UInt16, _ payload: some Collection<UInt8>) {
        guard error == nil else { return }
        guard payload.count <= netlinkAttributeMaximumPayload else {
            error = NetlinkEncodeError("attribute \(type & 0x3fff) has \(payload.count) bytes, more than \(netlinkAttributeMaximumPayload)")
            return
        }
        bytes.appendNative(UInt16(netlinkAttributeHeaderLength + payload.count))
        bytes.appendNative(type)
        bytes += payload
        bytes += repeatElement(0, count: netlinkAligned(payload.count) - payload.count)
    }

    /// Appends an 8-bit attribute.
    public mutating func uint8(_ type: UInt16, _ value: UInt8) { append(type, [value]) }
    /// Appends a 16-bit attribute in host byte order.
    public mutating func uint16(_ type: UInt16, _ value: UInt16) { appendInteger(type, value) }
    /// Appends a 32-bit attribute in host byte order.
    public mutating func uint32(_ type: UInt16, _ value: UInt32) { appendInteger(type, value) }
    /// Appends a 64-bit attribute in host byte order.
    public mutating func uint64(_ type: UInt16, _ value: UInt64) { appendInteger(type, value) }
    /// Appends a NUL-terminated string attribute (`NLA_NUL_STRING`, `mnl_attr_put_strz`).
    public mutating func string(_ type: UInt16, _ value: String) { append(type, Array(value.utf8) + [0]) }
    /// Appends an attribute with no payload (`NLA_FLAG`).
    public mutating func flag(_ type: UInt16) { append(type, EmptyCollection<UInt8>()) }

    /// Appends a nested attribute whose attributes `body` appends. It is marked `NLA_F_NESTED`
    /// unless `marked` is false (rtnetlink's older attributes, which iproute2 sends unmarked).
    public mutating func nested(_ type: UInt16, marked: Bool = true, _ body: (inout AttributeEncoder) -> Void) {
        let start = beginNested(type, marked: marked)
        body(&self)
        endNested(start)
    }

    /// Opens a nested attribute and returns its start for `endNested` (or `rollback(to:)`).
    public mutating func beginNested(_ type: UInt16, marked: Bool = true) -> Int {
        let start = bytes.count
        openNests.append(start)
        guard error == nil else { return start }
        bytes.appendNative(UInt16(netlinkAttributeHeaderLength))
        bytes.appendNative(marked ? type | netlinkNestedFlag : type)
        return start
    }

    /// Closes the nested attribute opened at `start`, writing its length.
    public mutating func endNested(_ start: Int) {
        if let index = openNests.lastIndex(of: start) { openNests.removeSubrange(index...) }
        guard error == nil, start < bytes.count else { return }
        let length = bytes.count - start
        guard length <= Int(UInt16.max) else {
            error = NetlinkEncodeError("nested attribute \(bytes.loadNative(UInt16.self, at: start + 2) & 0x3fff) has \(length) bytes, more than \(UInt16.max)")
            return
        }
        withUnsafeBytes(of: UInt16(length)) { bytes[start] = $0[0]; bytes[start + 1] = $0[1] }
    }

    /// Drops everything after `count` bytes (an attribute that did not fit), closing the nests
    /// opened after it.
    public mutating func rollback(to count: Int) {
        bytes.removeSubrange(count...)
        openNests.removeAll { $0 >= count }
    }

    /// The encoded attributes, or the first error.
    public func finish() throws(NetlinkEncodeError) -> [UInt8] {
        if let error { throw error }
        return bytes
    }

    private mutating func appendInteger<T: FixedWidthInteger>(_ type: UInt16, _ value: T) {
        var payload = [UInt8]()
        payload.appendNative(value)
        append(type, payload)
    }
}

/// Why attributes could not be encoded.
public struct NetlinkEncodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Walks a list of netlink attributes. Call `next()` until it returns false, read the current
/// attribute with the typed accessors, and call `finish()` at the end. The first error (a
/// malformed attribute, a payload of the wrong size) sticks: `next()` then returns false and
/// accessors return zero values.
public struct AttributeDecoder: Sendable {
    private let bytes: [UInt8]
    private var offset: Int
    private let end: Int
    private var payloadRange: Range<Int> = 0..<0
    /// The current attribute's type, without the `NLA_F_NESTED` and byte-order flags.
    public private(set) var type: UInt16 = 0
    /// Whether the current attribute is marked `NLA_F_NESTED`.
    public private(set) var isNested = false
    /// The first error, if any.
    public private(set) var error: NetlinkDecodeError?

    /// Decodes the attributes in `bytes[start..<end]` (all of `bytes` by default).
    public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.end = min(end ?? bytes.count, bytes.count)
        offset = min(start, self.end)
    }

    /// Moves to the next attribute; false at the end or after an error.
    public mutating func next() -> Bool {
        guard error == nil, end - offset >= netlinkAttributeHeaderLength else {
            if error == nil, offset < end { fail("\(end - offset) trailing bytes after the last attribute") }
            return false
        }
        let length = Int(bytes.loadNative(UInt16.self, at: offset))
        let rawType = bytes.loadNative(UInt16.self, at: offset + 2)
        guard length >= netlinkAttributeHeaderLength, length <= end - offset else {
            fail("attribute \(rawType & 0x3fff) claims \(length) bytes; \(end - offset) are left")
            return false
        }
        type = rawType & 0x3fff
        isNested = rawType & netlinkNestedFlag != 0
        payloadRange = (offset + netlinkAttributeHeaderLength)..<(offset + length)
        offset = min(offset + netlinkAligned(length), end)
        return true
    }

    /// The current attribute's payload.
    public var payload: ArraySlice<UInt8> { bytes[payloadRange] }

    /// The payload as an 8-bit integer.
    public mutating func uint8() -> UInt8 { integer() }
    /// The payload as a host-byte-order 16-bit integer.
    public mutating func uint16() -> UInt16 { integer() }
    /// The payload as a host-byte-order 32-bit integer.
    public mutating func uint32() -> UInt32 { integer() }
    /// The payload as a host-byte-order 64-bit integer.
    public mutating func uint64() -> UInt64 { integer() }

    /// The payload as a string, up to its first NUL.
    public func string() -> String {
        let text = payload.prefix { $0 != 0 }
        return String(decoding: text, as: UTF8.self)
    }

    /// The payload bytes, which must number `count` when given.
    public mutating func bytes(count: Int? = nil) -> [UInt8] {
        if let count, payload.count != count {
            fail("attribute \(type) has \(payload.count) bytes, want \(count)")
            return [UInt8](repeating: 0, count: count)
        }
        return Array(payload)
    }

    /// Decodes the current attribute's payload as nested attributes with `body`; an error
    /// there becomes this decoder's error.
    public mutating func nested(_ body: (inout AttributeDecoder) -> Void) {
        guard error == nil else { return }
        var inner = AttributeDecoder(bytes, from: payloadRange.lowerBound, to: payloadRange.upperBound)
        body(&inner)
        if error == nil, let innerError = inner.error {
            error = NetlinkDecodeError("in attribute \(type): \(innerError.reason)")
        }
    }

    /// Records an error found by the caller (a missing or invalid value), unless one is set.
    public mutating func fail(_ reason: String) {
        if error == nil { error = NetlinkDecodeError(reason) }
    }

    /// Throws the first error, if any.
    public func finish() throws(NetlinkDecodeError) {
        if let error { throw error }
    }

    private mutating func integer<T: FixedWidthInteger>() -> T {
        guard payloadRange.count == MemoryLayout<T>.size else {
            fail("attribute \(type) has \(payloadRange.count) bytes, want \(MemoryLayout<T>.size)")
            return 0
        }
        return bytes.loadNative(T.self, at: payloadRange.lowerBound)
    }
}
