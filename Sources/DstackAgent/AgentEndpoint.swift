/// Where the dstack guest agent listens: a Unix socket (the CVM's `/var/run/dstack.sock`, mounted
/// into the container) or, for a simulator, `http://host:port`.
public enum AgentEndpoint: Equatable, Sendable, CustomStringConvertible {
    case unixSocket(String)
    case http(host: String, port: UInt16)

    /// The sockets the official SDKs try, in their order, when `DSTACK_SIMULATOR_ENDPOINT` is unset.
    public static let defaultSocketPaths = [
        "/var/run/dstack.sock", "/run/dstack.sock", "/var/run/dstack/dstack.sock", "/run/dstack/dstack.sock",
    ]

    /// `DSTACK_SIMULATOR_ENDPOINT` as the SDK reads it: `http://host:port` (port 80 when absent)
    /// or a socket path. `https://` is refused: the agent is local and speaks plain HTTP.
    public init(parsing text: String) throws(HTTPError) {
        if text.hasPrefix("https://") {
            throw HTTPError("\(printable(text)): https is not supported; the guest agent speaks plain HTTP (http://host:port) or a socket path")
        }
        guard text.hasPrefix("http://") else {
            guard text.hasPrefix("/") else { throw HTTPError("\(printable(text)) is neither an absolute socket path nor http://host:port") }
            guard text.utf8.count < 108 else { throw HTTPError("socket path \(printable(text)) is longer than 107 bytes") }
            self = .unixSocket(text)
            return
        }
        var authority = Substring(text.dropFirst("http://".count))
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@") else {
            throw HTTPError("\(printable(text)): expected http://host:port with no path")
        }
        var host = authority
        var port: UInt16 = 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let value = UInt16(authority[authority.index(after: colon)...]), value != 0 else {
                throw HTTPError("\(printable(text)): invalid port")
            }
            port = value
            host = authority[..<colon]
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { throw HTTPError("\(printable(text)): missing host") }
        self = .http(host: String(host), port: port)
    }

    /// The endpoint to use: `configured` when given, else the first default socket that exists
    /// (`exists` checks a path), else the first default, whose absence the connection reports.
    public static func discover(configured: AgentEndpoint?, exists: (String) -> Bool) -> AgentEndpoint {
        if let configured { return configured }
        return .unixSocket(defaultSocketPaths.first(where: exists) ?? defaultSocketPaths[0])
    }

    public var description: String {
        switch self {
        case .unixSocket(let path): path
        case .http(let host, let port): host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
        }
    }

    /// The `Host` header value (`localhost` on a socket, as the SDK's HTTP client sends it).
    var hostHeader: String {
        switch self {
        case .unixSocket: "localhost"
        case .http(let host, let port): (host.contains(":") ? "[\(host)]" : host) + (port == 80 ? "" : ":\(port)")
        }
    }
}
