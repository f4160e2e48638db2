#if canImport(Glibc)
import Glibc
#endif
import SystemCalls

/// One executable for both tools (as busybox does): the image ships `udp-over-tcp` once, with
/// `udp2tcp` and `tcp2udp` as links to it, so NIO, BoringSSL and the Swift runtime are stored
/// once instead of twice.
public enum MultiCall {
    /// The tools the executable can be.
    public enum Tool: String, CaseIterable, Sendable {
        case udp2tcp
        case tcp2udp
    }

    /// What a command line asks for.
    public enum Resolution: Equatable, Sendable {
        /// Run `tool` with these arguments (without the program or tool name).
        case run(Tool, arguments: [String])
        /// Neither the program name nor the first argument names a tool.
        case usage
    }

    /// Picks the tool from the program's name (`.../udp2tcp`, through a link) or, when the
    /// program is called by another name, from the first argument (`udp-over-tcp udp2tcp ...`).
    public static func resolve(_ commandLine: [String]) -> Resolution {
        guard let program = commandLine.first else { return .usage }
        let name = program.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? program
        if let tool = Tool(rawValue: name) {
            return .run(tool, arguments: Array(commandLine.dropFirst()))
        }
        if commandLine.count >= 2, let tool = Tool(rawValue: commandLine[1]) {
            return .run(tool, arguments: Array(commandLine.dropFirst(2)))
        }
        return .usage
    }

    /// The text printed for ``Resolution/usage``.
    public static let usageText = """
        Usage: udp2tcp [OPTIONS] | tcp2udp [OPTIONS]
               udp-over-tcp udp2tcp|tcp2udp [OPTIONS]
        One executable for both halves of Mullvad's udp-over-tcp; it runs the tool named by the
        link it was started through, or by its first argument. `TOOL --help` lists the options.

        """

    /// Runs the tool the process's command line names; exits 2 with the usage text otherwise.
    public static func main() -> Never {
        switch resolve(ProcessArguments.all) {
        case .run(.udp2tcp, let arguments):
            Udp2TcpCommand.main(arguments: arguments)
        case .run(.tcp2udp, let arguments):
            Tcp2UdpCommand.main(arguments: arguments)
        case .usage:
            var bytes = Array(usageText.utf8)
            _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
            exit(2)
        }
    }
}
