import VPNLog
import DstackAgent
import WireGuardModel

/// Parsers for single values. Each throws a reason that quotes the value (escaped and shortened
/// by `Display`), except key parsers, which never quote what they were given.
enum Value {
    /// Longest path accepted (Linux `PATH_MAX` less the terminating NUL).
    static let maximumPathLength = 4095

    /// An absolute path without control characters, e.g. `/data/privatekey`.
    static func absolutePath(_ text: String) throws(ParseError) -> String {
        guard text.utf8.count <= maximumPathLength else {
            throw ParseError("path is too long (\(text.utf8.count) bytes, at most \(maximumPathLength))")
        }
        guard !text.unicodeScalars.contains(where: Display.isControl) else {
            throw ParseError("path \(Display.quoted(text)) contains a control character")
        }
        guard text.hasPrefix("/") else { throw ParseError("path \(Display.quoted(text)) is not absolute") }
        return text
    }

    /// An absolute path that names a file, not a directory (no trailing `/`).
    static func filePath(_ text: String) throws(ParseError) -> String {
        let path = try absolutePath(text)
        guard !path.hasSuffix("/") else { throw ParseError("path \(Display.quoted(text)) names a directory") }
        return path
    }

    /// A network interface name (`InterfaceName`): 1-15 characters of `[a-zA-Z0-9_=+.-]` as
    /// wg-quick requires, and not `.` or `..`.
    static func interfaceName(_ text: String) throws(ParseError) -> String {
        do {
            try InterfaceName.validate(text)
        } catch {
            throw ParseError(error.reason(quoting: Display.quoted(text)))
        }
        return text
    }

    /// A comma-separated list of CIDRs (a bare address is a host network); spaces around
    /// commas are fine, empty items and repeats are not.
    static func networks(_ text: String) throws(ParseError) -> [IPNetwork] {
        var networks: [IPNetwork] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = trimmed(item)
            guard !trimmed.isEmpty else { throw ParseError("empty item in list \(Display.quoted(text))") }
            guard trimmed.utf8.count <= 64 else { throw ParseError("\(Display.quoted(trimmed)) is not an IP network") }
            let network: IPNetwork
            do {
                network = try IPNetwork(parsing: trimmed)
            } catch {
                // The reason may quote the item already ("x" is not an IP address).
                let quoted = Display.quoted(trimmed)
                throw ParseError(error.reason.hasPrefix(quoted) ? error.reason : "\(quoted): \(error.reason)")
            }
            guard !networks.contains(network) else { throw ParseError("\(network) is listed twice") }
            networks.append(network)
        }
        return networks
    }

    /// A decimal number with no sign, spaces or leading `+`, within `range`.
    static func integer(_ text: String, in range: ClosedRange<Int>, what: String) throws(ParseError) -> Int {
        guard text.utf8.count <= 20, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let value = Int(text) else {
            throw ParseError("\(what) \(Display.quoted(text)) is not a number")
        }
        guard range.contains(value) else {
            throw ParseError("\(what) \(Display.quoted(text)) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return value
    }

    /// A port 1-65535: `port "70000" is out of range 1-65535`.
    static func port(_ text: String) throws(ParseError) -> UInt16 {
        UInt16(try integer(text, in: 1...65535, what: "port"))
    }

    /// A base64 key as `wg genkey` / `wg pubkey` print it. The reason never quotes the value.
    static func key(_ text: String) throws(ParseError) -> WireGuardKey {
        let trimmed = trimmed(Substring(text))
        guard trimmed.utf8.count <= 64, let key = WireGuardKey(base64: trimmed) else {
            throw ParseError("is not a valid base64 key (44 characters ending in \"=\", as wg genkey prints; value not shown)")
        }
        guard !key.isZero else { throw ParseError("is the all-zero key, which WireGuard treats as no key") }
        return key
    }

    /// A firewall mark: decimal or `0x` hex up to 0xffffffff; 0 means off (nil).
    static func fwmark(_ text: String) throws(ParseError) -> UInt32? {
        let lower = text.lowercased()
        let value: UInt64?
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            let isHex = !digits.isEmpty && digits.utf8.count <= 16
                && digits.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
            value = isHex ? UInt64(digits, radix: 16) : nil
        } else {
            let isDecimal = !text.isEmpty && text.utf8.count <= 20 && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
            value = isDecimal ? UInt64(text) : nil
        }
        guard let value else { throw ParseError("fwmark \(Display.quoted(text)) is not a decimal or 0x hex number") }
        guard value <= UInt64(UInt32.max) else {
            throw ParseError("fwmark \(Display.quoted(text)) is out of range 0-0xffffffff")
        }
        return value == 0 ? nil : UInt32(value)
    }

    /// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case.
    static func bool(_ text: String) throws(ParseError) -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ParseError("\(Display.quoted(text)) is not a boolean (true/false, 1/0, yes/no, on/off)")
        }
    }

    /// Seconds as a decimal number (`60`, `0.5`) within `0...maximum`.
    static func seconds(_ text: String, maximum: Double) throws(ParseError) -> Double {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let digitsOnly = parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }
        guard text.utf8.count <= 32, digitsOnly, let value = Double(text) else {
            throw ParseError("\(Display.quoted(text)) is not a number of seconds")
        }
        guard value <= maximum else {
            throw ParseError("\(Display.quoted(text)) seconds is out of range 0-\(Int(maximum))")
        }
        return value
    }

    /// `host:port`, with an IPv6 host in brackets; the host may be a name to resolve.
    static func endpoint(_ text: String) throws(ParseError) -> Endpoint {
        // A DNS name is at most 253 bytes; longer input is refused before it is quoted anywhere.
        guard text.utf8.count <= 253 + 8 else { throw ParseError("endpoint \(Display.quoted(text)) is too long") }
        guard text.unicodeScalars.allSatisfy({ $0.isASCII && !Display.isControl($0) }) else {
            throw ParseError("endpoint \(Display.quoted(text)) may only contain ASCII letters, digits and .-_:[]")
        }
        return try Endpoint(parsing: text)
    }

    /// `ADDR:PORT` with a literal address (IPv6 in brackets), e.g. `0.0.0.0:443`.
    static func listenAddress(_ text: String) throws(ParseError) -> TCPListen {
        let endpoint = try endpoint(text)
        guard case .address(let address) = endpoint.host else {
            throw ParseError("\(Display.quoted(endpoint.host.description)) is not an IP address (ADDR:PORT, e.g. 0.0.0.0:443)")
        }
        return TCPListen(address: address, port: endpoint.port)
    }

    /// A TLS server name (RFC 6066): a DNS name of letters, digits and `-`, not an IP address.
    static func serverName(_ text: String) throws(ParseError) -> String {
        guard text.utf8.count <= 253, IPAddress(text) == nil,
              text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isDNSLabel) else {
            throw ParseError("\(Display.quoted(text)) is not a valid DNS name for TLS SNI")
        }
        return text
    }

    /// A node name: 1-63 of `a-z`, `0-9` and `-` (it becomes part of the key derivation path).
    static func nodeName(_ text: String) throws(ParseError) -> String {
        guard DstackKeys.isValidNodeName(text) else {
            throw ParseError("\(Display.quoted(text)) is not a node name: 1-63 of a-z, 0-9 and -")
        }
        return text
    }

    /// `file` or `dstack`, in any case.
    static func keySource(_ text: String) throws(ParseError) -> KeySource {
        guard let source = KeySource(rawValue: text.lowercased()) else {
            throw ParseError("\(Display.quoted(text)) is not one of file, dstack")
        }
        return source
    }

    /// A guest agent endpoint: a socket path or `http://host:port`.
    static func agentEndpoint(_ text: String) throws(ParseError) -> AgentEndpoint {
        do { return try AgentEndpoint(parsing: text) } catch { throw ParseError(error.reason) }
    }

    /// `<host>[:port]` of the dstack gateway: a DNS name (it is the TLS server name), port 443
    /// when absent.
    static func gateway(_ text: String) throws(ParseError) -> Endpoint {
        let hasPort = text.contains(":")
        let endpoint = try endpoint(hasPort ? text : text + ":443")
        guard case .name(let host) = endpoint.host else {
            throw ParseError("\(Display.quoted(text)) is an IP address; the gateway is dialed by name, e.g. <instance-id>-51820.<gateway-domain>")
        }
        _ = try serverName(host)
        return endpoint
    }

    /// `auto`, `off`, or a comma list of interface names.
    static func masquerade(_ text: String) throws(ParseError) -> Masquerade {
        switch text.lowercased() {
        case "auto": return .auto
        case "off": return .off
        default: break
        }
        var names: [String] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = trimmed(item)
            guard !name.isEmpty else { throw ParseError("empty item in list \(Display.quoted(text))") }
            let valid = try interfaceName(String(name))
            guard !names.contains(valid) else { throw ParseError("interface \(valid) is listed twice") }
            names.append(valid)
        }
        return .interfaces(names)
    }

    /// `auto`, `kernel` or `userspace`, in any case.
    static func implementation(_ text: String) throws(ParseError) -> Implementation {
        guard let value = Implementation(rawValue: text.lowercased()) else {
            throw ParseError("\(Display.quoted(text)) is not one of auto, kernel, userspace")
        }
        return value
    }

    /// `debug`, `info`, `warn` or `error`, in any case.
    static func logLevel(_ text: String) throws(ParseError) -> LogLevel {
        guard let level = LogLevel(name: text) else {
            throw ParseError("\(Display.quoted(text)) is not one of debug, info, warn, error")
        }
        return level
    }

    private static func isDNSLabel(_ label: Substring) -> Bool {
        !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
            && label.utf8.allSatisfy { byte in
                (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45
            }
    }

    /// The text without leading and trailing spaces and tabs.
    static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
