import VPNLog

/// What boot needs before the supervisor starts: the validated settings.
struct BootSettings: Sendable {
    /// Seconds children get between SIGTERM and SIGKILL (`VPN_SHUTDOWN_GRACE`).
    var shutdownGrace: Double
}

/// A boot step that failed, with the exit code DESIGN.md assigns to it.
struct BootFailure: Error, CustomStringConvertible {
    var exitCode: Int32
    var lines: [String]
    var description: String { lines.joined(separator: "\n") }
}

enum Boot {
    /// Validates the environment and prepares the node (keys, config). Writes nothing on error.
    static func prepare(environment: [String: String]) throws(BootFailure) -> BootSettings {
        var grace = 8.0
        if let text = environment["VPN_SHUTDOWN_GRACE"] {
            guard let value = Double(text), value >= 0, value <= 3600 else {
                throw BootFailure(exitCode: 78, lines: ["VPN_SHUTDOWN_GRACE: \"\(text)\" is not a number of seconds 0-3600"])
            }
            grace = value
        }
        return BootSettings(shutdownGrace: grace)
    }
}
