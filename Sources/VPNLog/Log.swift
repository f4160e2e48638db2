#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How much vpn-init says: `LOG_LEVEL`.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    case debug, info, warn, error

    /// Parses `debug`, `info`, `warn` (or `warning`) and `error`, in any case.
    public init?(name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warn", "warning": self = .warn
        case "error": self = .error
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Logfmt lines on stderr: `level=info msg="ready" interface=wg0`, one `write` per line so
/// lines from several processes never interleave mid-line.
public enum Log {
    /// The least severe level that is printed. Set once at start-up, before any thread starts.
    nonisolated(unsafe) public static var level: LogLevel = .info
    /// Where lines go; tests may point it elsewhere.
    nonisolated(unsafe) public static var fileDescriptor: Int32 = 2
    /// A fixed first field for every line (e.g. `prog=udp2tcp`), or empty.
    nonisolated(unsafe) public static var prefix: String = ""

    public static func debug(_ message: String, _ fields: (String, Any?)...) { emit(.debug, message, fields) }
    public static func info(_ message: String, _ fields: (String, Any?)...) { emit(.info, message, fields) }
    public static func warn(_ message: String, _ fields: (String, Any?)...) { emit(.warn, message, fields) }
    public static func error(_ message: String, _ fields: (String, Any?)...) { emit(.error, message, fields) }

    /// Writes one line when `level` is at or above the configured level. Nil values are left out.
    public static func emit(_ level: LogLevel, _ message: String, _ fields: [(String, Any?)]) {
        guard level >= Log.level else { return }
        var line = format(level, message, fields)
        line += "\n"
        var utf8 = Array(line.utf8)
        var offset = 0
        while offset < utf8.count {
            let written = utf8.withUnsafeMutableBytes { write(fileDescriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if currentErrnoValue() == EINTR { continue }
                return
            }
            offset += written
        }
        utf8.removeAll()
    }

    /// The line for an event, without its newline.
    public static func format(_ level: LogLevel, _ message: String, _ fields: [(String, Any?)]) -> String {
        var line = prefix.isEmpty ? "" : prefix + " "
        line += "level=\(level) msg=\(quote(message))"
        for (key, value) in fields {
            guard let value else { continue }
            line += " \(key)=\(quote(String(describing: value)))"
        }
        return line
    }

    /// A logfmt value: bare when it is a plain word, else quoted with `"`, `\` and control
    /// characters escaped, so a hostile value cannot forge a field or a line.
    public static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value < 0x7f && scalar != "\"" && scalar != "=" && scalar != "\\"
        }
        return plain ? value : "\"" + escaped(value) + "\""
    }

    /// `value` with `"`, `\` and control characters escaped as in JSON (RFC 8259), so it can
    /// stand between double quotes in a logfmt line or a JSON document.
    public static func escaped(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

@inline(__always)
private func currentErrnoValue() -> Int32 {
    #if canImport(Glibc) || canImport(Musl)
    return Glibc.errno
    #else
    return Darwin.errno
    #endif
}
