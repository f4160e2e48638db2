/// The exit statuses of vpn-init's own outcomes (README.md, "Exit codes"; sysexits.h names). A
/// main command's status is passed through as it is and is not one of these.
public struct ExitCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// A clean shutdown, or a tool that did its job.
    public static let success = ExitCode(rawValue: 0)
    /// Any other failure: a kernel request refused, a read-only data volume, an unhealthy node.
    public static let failure = ExitCode(rawValue: 1)
    /// EX_USAGE: a bad command line.
    public static let usage = ExitCode(rawValue: 64)
    /// EX_UNAVAILABLE: no WireGuard (no kernel support, no userspace binary), a missing helper
    /// program, or the dstack guest agent absent or answering nonsense.
    public static let unavailable = ExitCode(rawValue: 69)
    /// EX_CONFIG: an invalid configuration or an unusable key file.
    public static let configuration = ExitCode(rawValue: 78)

    public var description: String { String(rawValue) }
}
