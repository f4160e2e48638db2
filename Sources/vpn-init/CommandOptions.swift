import Config
import Supervisor

/// The options of the tools that act on a running node (`status`, `health`, `reload`): the
/// interface (`--interface NAME` or `-i NAME`; else `WG_INTERFACE` from the environment, as
/// `docker exec` passes the container's, else `wg0`), `--help`, and the tool's own options.
enum CommandOptions {
    enum Parsed {
        /// The interface, and each given option of the tool's with its value ("" for a flag).
        case options(interface: String, [String: String])
        /// Help was shown, or the arguments were refused.
        case exit(ExitCode)

        var exitCode: ExitCode {
            if case .exit(let code) = self { return code }
            return .success
        }
    }

    /// `flags` are options without a value, `valued` options that take the next argument.
    static func parse(_ command: String, _ arguments: [String], flags: Set<String> = [], valued: Set<String> = []) -> Parsed {
        var interface = ProcessEnvironment.current()["WG_INTERFACE"] ?? "wg0"
        var options: [String: String] = [:]
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--interface", "-i":
                guard let name = rest.popFirst() else { return .exit(Help.usageError("\(command): --interface needs a name", exitNow: false)) }
                interface = name
            case "--help", "-h":
                return .exit(Help.run([command]))
            case _ where flags.contains(argument):
                options[argument] = ""
            case _ where valued.contains(argument):
                guard let value = rest.popFirst() else { return .exit(Help.usageError("\(command): \(argument) needs a value", exitNow: false)) }
                options[argument] = value
            default:
                return .exit(Help.usageError("\(command): unknown argument \"\(argument)\"", exitNow: false))
            }
        }
        return .options(interface: interface, options)
    }
}
