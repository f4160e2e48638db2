/// The exit statuses of vpn-init's own outcomes (README.md, "Exit codes"; sysexits.h names). A
/// main command's status is passed through as it is and is not one of these.
public enum ExitCode: Int32, Sendable, CustomStringConvertible {
    /// A clean shutdown, or a tool that did its job.
    case success = 0
    /// Any other failure: a kernel request refused, a read-only data volume, an unhealthy node.
    case failure = 1
    /// EX_USAGE: a bad command line.
    case usage = 64
    /// EX_UNAVAILABLE: no WireGuard (no kernel support, no userspace binary), a missing helper
    /// program, or the dstack guest agent absent or answering nonsense.
    case unavailable = 69
    /// EX_CONFIG: an invalid configuration or an unusable key file.
    case configuration = 78

    public var description: String { String(rawValue) }
}
