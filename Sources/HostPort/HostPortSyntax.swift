/// The one `host:port` splitter of the project: `1.2.3.4:80`, `[fd00::1]:80`, `name:443`. It cuts
/// the text into host and port and checks the shape only: an IPv6 host must be in brackets (as
/// Rust's `SocketAddr` and most tools require), a bracketed host must be IPv6, neither part may be
/// empty. What a valid host or port is, and the wording of errors, are the caller's: WireGuard's
/// endpoints (`WG_PEER_*_ENDPOINT`) and udp2tcp's Mullvad-compatible arguments share this.
public enum HostPortSyntax {
    /// Why a text is not `host:port`.
    public enum Problem: Error, Equatable, Sendable {
        /// `[` without its `]`.
        case missingCloseBracket
        /// No `:PORT` (or an empty port).
        case missingPort
        /// Nothing before the colon.
        case missingHost
        /// `[HOST]` whose HOST is not an IPv6 address.
        case bracketedHostNotIPv6(Substring)
        /// An IPv6 address without brackets.
        case unbracketedIPv6
    }

    /// Splits `text` into its host (brackets removed) and its port text. `isIPv6` says whether a
    /// bracketed host is an IPv6 address.
    public static func split(_ text: String, isIPv6: (Substring) -> Bool) throws(Problem) -> (host: Substring, port: Substring) {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .missingCloseBracket }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .missingPort }
            port = rest.dropFirst()
            guard isIPv6(host) else { throw .bracketedHostNotIPv6(host) }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .missingPort }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { throw .unbracketedIPv6 }
        }
        guard !host.isEmpty else { throw .missingHost }
        guard !port.isEmpty else { throw .missingPort }
        return (host, port)
    }

    /// The usual wording of `problem` in `text`; `example` is a bracketed address for the
    /// unbracketed-IPv6 hint.
    public static func message(_ problem: Problem, in text: String, example: String) -> String {
        switch problem {
        case .missingCloseBracket: "missing \"]\" in \"\(text)\""
        case .missingPort: "missing port in \"\(text)\""
        case .missingHost: "missing host in \"\(text)\""
        case .bracketedHostNotIPv6(let host): "\"\(host)\" in brackets is not an IPv6 address"
        case .unbracketedIPv6: "IPv6 address in \"\(text)\" must be in brackets, e.g. \(example)"
        }
    }
}
