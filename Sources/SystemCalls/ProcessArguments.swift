import CSystemShims

/// The process's arguments as the kernel passed them (`argv`), saved before any Swift ran.
///
/// Use this instead of `CommandLine.arguments`: on Linux that reads /proc/self/cmdline, which
/// is empty in a mount namespace whose /proc belongs to another PID namespace (`nsenter -m`
/// into a container), and an empty argument list would turn `vpn-init status` into init mode.
public enum ProcessArguments {
    /// Every argument, the program name first.
    public static var all: [String] {
        let count = Int(vpn_argument_count())
        guard count > 0, let vector = vpn_argument_vector() else { return [] }
        return (0..<count).compactMap { vector[$0].map { String(cString: $0) } }
    }
}
