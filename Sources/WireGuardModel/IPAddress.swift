#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An IPv4 or IPv6 address, parsed and printed like `inet_pton` / `inet_ntop`.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4([UInt8])
    case v6([UInt8])

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no brackets, no zone).
    public init?(_ text: some StringProtocol) {
        let string = String(text)
        var v4 = in_addr()
        if inet_pton(AF_INET, string, &v4) == 1 {
            self = .v4(withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, string, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        return nil
    }

    /// The address bytes in network order (4 or 16 of them).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let bytes), .v6(let bytes): bytes
        }
    }

    /// `AF_INET` or `AF_INET6`.
    public var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        }
    }

    /// The largest prefix length of this family: 32 or 128.
    public var bitWidth: Int { bytes.count * 8 }

    public var isV6: Bool { if case .v6 = self { true } else { false } }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var bytes = self.bytes
        _ = bytes.withUnsafeMutableBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This address with every bit after the first `prefixLength` cleared.
    public func masked(to prefixLength: Int) -> IPAddress {
        var bytes = self.bytes
        for index in bytes.indices {
            let bitsBefore = index * 8
            if bitsBefore >= prefixLength {
                bytes[index] = 0
            } else if bitsBefore + 8 > prefixLength {
                bytes[index] &= UInt8(0xff) << UInt8(8 - (prefixLength - bitsBefore))
            }
        }
        return isV6 ? .v6(bytes) : .v4(bytes)
    }
}

/// An address with a prefix length, as in `10.0.0.1/24` (`WG_ADDRESS`, `AllowedIPs`).
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        precondition(prefixLength >= 0 && prefixLength <= address.bitWidth)
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `ADDRESS/PREFIX`, or a bare address as a host network (/32 or /128); throws a
    /// reason such as `prefix length 33 is out of range 0-32`.
    public init(parsing text: some StringProtocol) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else {
            throw ParseError(parts[0].isEmpty ? "missing address" : "\"\(parts[0])\" is not an IP address")
        }
        var prefix = address.bitWidth
        if parts.count == 2 {
            // Digits only: Int() would also take "-0" (a /0, every address) and "+24".
            guard (1...3).contains(parts[1].utf8.count), parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let value = Int(parts[1]) else {
                throw ParseError("prefix length \"\(parts[1])\" is not a number")
            }
            guard (0...address.bitWidth).contains(value) else {
                throw ParseError("prefix length \(value) is out of range 0-\(address.bitWidth)")
            }
            prefix = value
        }
        self.init(address: address, prefixLength: prefix)
    }

    /// The network with host bits cleared, e.g. `10.0.0.0/24` for `10.0.0.1/24`.
    public var masked: IPNetwork { IPNetwork(address: address.masked(to: prefixLength), prefixLength: prefixLength) }

    /// Whether `other` lies entirely inside this network.
    public func contains(_ other: IPNetwork) -> Bool {
        address.family == other.address.family && prefixLength <= other.prefixLength
            && other.address.masked(to: prefixLength) == address.masked(to: prefixLength)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// Why a value did not parse, in words fit for an error line after the variable's name.
public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
