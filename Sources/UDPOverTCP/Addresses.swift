import HostPort
import NIOCore

/// Why an address argument was refused: a usage error, which the command line prefixes with the
/// flag it came from (`--tcp-listen: ...`).
public typealias AddressError = UsageError

/// A `host:port` pair as written on the command line: `1.2.3.4:80`, `[fd00::1]:80` or, where a
/// name is allowed, `gateway.example:443`.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    /// An IP literal (without brackets) or a DNS name.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; an IPv6 host must be in brackets, as Rust's `SocketAddr` requires.
    public init(parsing text: String) throws(AddressError) {
        let hostPart: Substring
        let portPart: Substring
        do {
            (hostPart, portPart) = try HostPortSyntax.split(text) { $0.contains(":") && (try? SocketAddress(ipAddress: String($0), port: 0)) != nil }
        } catch .missingPort where text.hasSuffix(":") {
            // Mullvad's wording for an empty port.
            throw AddressError("bad port \"\" in \"\(text)\"")
        } catch {
            throw AddressError(HostPortSyntax.message(error, in: text, example: "[::1]:5001"))
        }
        guard portPart.count <= 5, portPart.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let port = Int(portPart), port <= 65535
        else { throw AddressError("bad port \"\(portPart)\" in \"\(text)\"") }
        self.host = String(hostPart)
        self.port = port
    }

    /// The address when the host is an IP literal, else nil.
    public var ipAddress: SocketAddress? {
        try? SocketAddress(ipAddress: host, port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Parses an IP socket address such as `127.0.0.1:51820` or `[::1]:51820`.
public func parseSocketAddress(_ text: String) throws(AddressError) -> SocketAddress {
    let hostPort = try HostPort(parsing: text)
    guard let address = hostPort.ipAddress else { throw AddressError("\"\(hostPort.host)\" in \"\(text)\" is not an IP address") }
    return address
}

/// Parses a bare IP address such as `0.0.0.0` or `::1` into a socket address with port 0.
public func parseIPAddress(_ text: String) throws(AddressError) -> SocketAddress {
    guard let address = try? SocketAddress(ipAddress: text, port: 0) else { throw AddressError("\"\(text)\" is not an IP address") }
    return address
}

extension SocketAddress {
    /// The unspecified address (`0.0.0.0` or `::`) of this address's family, port 0.
    var unspecifiedOfSameFamily: SocketAddress {
        if case .v6 = self { return try! SocketAddress(ipAddress: "::", port: 0) }
        return try! SocketAddress(ipAddress: "0.0.0.0", port: 0)
    }

    /// `1.2.3.4:80` / `[::1]:80`, without NIO's `[IPv4]` decoration.
    var logDescription: String {
        guard let ip = ipAddress, let port else { return "\(self)" }
        if case .v6 = self { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
