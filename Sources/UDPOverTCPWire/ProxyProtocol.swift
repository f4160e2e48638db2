import NIOCore

/// A PROXY protocol header (haproxy's `send-proxy` / `send-proxy-v2`): who the real client of a
/// proxied connection is. Spec: https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt
public struct ProxyHeader: Equatable, Sendable, CustomStringConvertible {
    /// Which of the two encodings carried the header.
    public enum Version: Equatable, Sendable {
        /// The human-readable `PROXY TCP4 ...\r\n` line.
        case v1
        /// The binary header starting with `\r\n\r\n\0\r\nQUIT\n`.
        case v2
    }

    /// What the proxy says about the connection.
    public enum Command: Equatable, Sendable {
        /// The proxy opened the connection itself (a health check): the addresses mean nothing.
        case local
        /// The connection is relayed for `source`.
        case proxy
    }

    /// One type-length-value extension of a v2 header.
    public struct Extension: Equatable, Sendable {
        /// The `PP2_TYPE_*` code.
        public var type: UInt8
        /// The raw value.
        public var value: [UInt8]

        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = value
        }
    }

    public var version: Version
    public var command: Command
    /// The real client, or nil for `LOCAL`, `UNKNOWN`, UNIX and unspecified families.
    public var source: SocketAddress?
    /// The address the client connected to, when known.
    public var destination: SocketAddress?
    /// v2 extensions in the order sent.
    public var extensions: [Extension]

    public init(version: Version, command: Command, source: SocketAddress? = nil, destination: SocketAddress? = nil, extensions: [Extension] = []) {
        self.version = version
        self.command = command
        self.source = source
        self.destination = destination
        self.extensions = extensions
    }

    public var description: String {
        let source = self.source.map { "\($0)" } ?? "unknown"
        return "PROXY \(version) \(command) from \(source)"
    }
}

/// Why a connection's PROXY header was refused.
public enum ProxyHeaderError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The first bytes are neither `PROXY ` nor the v2 signature.
    case notProxyProtocol
    /// A v1 line had no CRLF within the 107 bytes the spec allows.
    case lineTooLong
    /// A v1 line that does not follow the grammar; the reason says where.
    case malformedLine(String)
    /// A v2 header whose version nibble is not 2.
    case unsupportedVersion(UInt8)
    /// A v2 command other than LOCAL (0) and PROXY (1).
    case unsupportedCommand(UInt8)
    /// A v2 address family / transport byte this spec does not define.
    case unsupportedFamily(UInt8)
    /// A v2 length shorter than the address block of its family.
    case addressBlockTooShort(length: Int, needed: Int)
    /// v2 extensions that do not add up to the header length.
    case malformedExtensions

    public var description: String {
        switch self {
        case .notProxyProtocol: "PROXY header: connection does not start with a PROXY protocol header"
        case .lineTooLong: "PROXY header: v1 line has no CRLF within 107 bytes"
        case .malformedLine(let reason): "PROXY header: malformed v1 line: \(reason)"
        case .unsupportedVersion(let version): "PROXY header: unsupported v2 version \(version)"
        case .unsupportedCommand(let command): "PROXY header: unsupported v2 command \(command)"
        case .unsupportedFamily(let family): "PROXY header: unsupported v2 family/transport 0x\(String(family, radix: 16))"
        case .addressBlockTooShort(let length, let needed): "PROXY header: v2 length \(length) is shorter than the \(needed)-byte address block"
        case .malformedExtensions: "PROXY header: v2 extensions overrun the header"
        }
    }
}

/// The outcome of looking at the first bytes of a connection.
public enum ProxyParseResult: Equatable, Sendable {
    /// The bytes so far are a valid beginning; read more.
    case needMoreData
    /// A complete header of `length` bytes; what follows it is the proxied stream.
    case header(ProxyHeader, length: Int)
}

/// Parses PROXY protocol v1 and v2 headers.
public enum ProxyProtocol {
    /// The 12 bytes every v2 header starts with.
    public static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// The longest v1 line, CRLF included.
    public static let maximumV1Length = 107
    static let v1Prefix = Array("PROXY ".utf8)

    /// Parses the header at the start of `bytes`, which may hold more (the proxied stream) or
    /// less (read more and call again).
    public static func parse(_ bytes: some Collection<UInt8>) throws(ProxyHeaderError) -> ProxyParseResult {
        let bytes = Array(bytes)
        if bytes.starts(with: v1Prefix.prefix(bytes.count)) {
            return bytes.count < v1Prefix.count ? .needMoreData : try parseV1(bytes)
        }
        if bytes.starts(with: v2Signature.prefix(bytes.count)) {
            return bytes.count < v2Signature.count ? .needMoreData : try parseV2(bytes)
        }
        throw .notProxyProtocol
    }

    static func parseV1(_ bytes: [UInt8]) throws(ProxyHeaderError) -> ProxyParseResult {
        let window = bytes.prefix(maximumV1Length)
        guard let newline = window.firstIndex(of: 0x0A) else {
            if bytes.count >= maximumV1Length { throw .lineTooLong }
            return .needMoreData
        }
        guard newline > 0, bytes[newline - 1] == 0x0D else { throw .malformedLine("line does not end with CRLF") }
        let line = bytes[..<(newline - 1)]
        guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw .malformedLine("non-printable byte") }
        let fields = line.split(separator: 0x20, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let length = newline + 1
        switch fields.count > 1 ? fields[1] : "" {
        case "UNKNOWN":
            // The spec lets anything follow UNKNOWN; the receiver uses the real peer address.
            return .header(ProxyHeader(version: .v1, command: .proxy), length: length)
        case "TCP4", "TCP6":
            guard fields.count == 6 else { throw .malformedLine("expected 6 fields, got \(fields.count)") }
            let wantV6 = fields[1] == "TCP6"
            let source = try v1Address(fields[2], port: fields[4], v6: wantV6)
            let destination = try v1Address(fields[3], port: fields[5], v6: wantV6)
            return .header(ProxyHeader(version: .v1, command: .proxy, source: source, destination: destination), length: length)
        default:
            throw .malformedLine("unknown protocol \"\(fields.count > 1 ? fields[1] : "")\"")
        }
    }

    static func v1Address(_ address: String, port: String, v6: Bool) throws(ProxyHeaderError) -> SocketAddress {
        // Decimal, no sign, no leading zero (the spec's grammar), at most 65535.
        guard !port.isEmpty, port.count <= 5, port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            port == "0" || !port.hasPrefix("0"), let number = Int(port), number <= 65535
        else { throw .malformedLine("bad port \"\(port)\"") }
        guard v6 == address.contains(":"), let parsed = try? SocketAddress(ipAddress: address, port: number) else {
            throw .malformedLine("bad \(v6 ? "IPv6" : "IPv4") address \"\(address)\"")
        }
        return parsed
    }

    static func parseV2(_ bytes: [UInt8]) throws(ProxyHeaderError) -> ProxyParseResult {
        guard bytes.count >= 16 else { return .needMoreData }
        let versionAndCommand = bytes[12]
        guard versionAndCommand >> 4 == 2 else { throw .unsupportedVersion(versionAndCommand >> 4) }
        let command: ProxyHeader.Command
        switch versionAndCommand & 0x0F {
        case 0: command = .local
        case 1: command = .proxy
        default: throw .unsupportedCommand(versionAndCommand & 0x0F)
        }
        let family = bytes[13]
        let addressLength: Int
        switch family {
        case 0x00: addressLength = 0  // UNSPEC
        case 0x11, 0x12: addressLength = 12  // TCP/UDP over IPv4
        case 0x21, 0x22: addressLength = 36  // TCP/UDP over IPv6
        case 0x31, 0x32: addressLength = 216  // UNIX stream/datagram
        default: throw .unsupportedFamily(family)
        }
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        guard length >= addressLength else { throw .addressBlockTooShort(length: length, needed: addressLength) }
        guard bytes.count >= 16 + length else { return .needMoreData }
        let block = Array(bytes[16..<(16 + addressLength)])
        var header = ProxyHeader(version: .v2, command: command)
        if command == .proxy, addressLength == 12 || addressLength == 36 {
            let half = (addressLength - 4) / 2
            header.source = v2Address(block[0..<half], port: block[(2 * half)..<(2 * half + 2)])
            header.destination = v2Address(block[half..<(2 * half)], port: block[(2 * half + 2)..<(2 * half + 4)])
        }
        header.extensions = try v2Extensions(bytes[(16 + addressLength)..<(16 + length)])
        return .header(header, length: 16 + length)
    }

    static func v2Address(_ address: ArraySlice<UInt8>, port: ArraySlice<UInt8>) -> SocketAddress? {
        let number = Int(port[port.startIndex]) << 8 | Int(port[port.startIndex + 1])
        return try? SocketAddress(packedIPAddress: ByteBuffer(bytes: address), port: number)
    }

    static func v2Extensions(_ bytes: ArraySlice<UInt8>) throws(ProxyHeaderError) -> [ProxyHeader.Extension] {
        var extensions: [ProxyHeader.Extension] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes.endIndex - index >= 3 else { throw .malformedExtensions }
            let length = Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            guard bytes.endIndex - index - 3 >= length else { throw .malformedExtensions }
            extensions.append(.init(type: bytes[index], value: Array(bytes[(index + 3)..<(index + 3 + length)])))
            index += 3 + length
        }
        return extensions
    }
}
