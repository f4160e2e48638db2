#if canImport(Glibc)
import Glibc
#endif
import VPNLog

/// Applies `LOG_LEVEL` early, so even configuration errors are logged at the right level.
/// An invalid value is reported by the configuration check; until then `info` applies.
func setLogLevel(from environment: [String: String]) {
    if let name = environment["LOG_LEVEL"], let level = LogLevel(name: name) {
        Log.level = level
    }
}

/// Writes a line to standard error in one `write` call.
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return }
        offset += written
    }
}
