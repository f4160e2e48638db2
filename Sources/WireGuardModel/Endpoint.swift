import HostPort

/// A peer address: `host:port`, with an IPv6 host in brackets (`[fd00::1]:51820`).
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// A literal address or a name to resolve (a compose service name, a DNS name).
    public enum Host: Hashable, Sendable, CustomStringConvertible {
        case address(IPAddress)
        case name(String)

        public var description: String {
            switch self {
            case .address(let address): "\(address)"
            case .name(let name): name
            }
        }
    }

    public var host: Host
    public var port: UInt16

    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; throws a reason such as `missing port in "node-b"`.
    public init(parsing text: some StringProtocol) throws(ParseError) {
        let text = String(text)
        let hostPart: Substring
        let portPart: Substring
        do {
            (hostPart, portPart) = try HostPortSyntax.split(text) { IPAddress($0)?.isV6 == true }
        } catch {
            throw ParseError(HostPortSyntax.message(error, in: text, example: "[fd00::1]:51820"))
        }
        let port = try Endpoint.parsePort(portPart)
        guard port != 0 else { throw ParseError("port 0 is not allowed in \"\(text)\"") }
        if let address = IPAddress(hostPart) {
            host = .address(address)
        } else {
            guard Endpoint.isValidHostName(hostPart) else { throw ParseError("\"\(hostPart)\" is not a valid host name") }
            host = .name(String(hostPart))
        }
        self.port = port
    }

    /// Parses a decimal port 0-65535 with no sign or spaces.
    public static func parsePort(_ text: some StringProtocol) throws(ParseError) -> UInt16 {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(text) else {
            throw ParseError("port \"\(text)\" is not a number")
        }
        guard value <= 65535 else { throw ParseError("port \(value) is out of range 1-65535") }
        return UInt16(value)
    }

    /// RFC 1123 host names: dot-separated labels of letters, digits and `-` (and `_`, which
    /// Docker service names use), each 1-63 characters, 253 in all.
    public static func isValidHostName(_ name: some StringProtocol) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { byte in
                    (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                }
        }
    }

    public var description: String {
        if case .address(let address) = host, address.isV6 { return "[\(address)]:\(port)" }
        return "\(host):\(port)"
    }
}
