#if canImport(Glibc)
import Glibc
#endif
import Config
import Supervisor
import SystemCalls
import VPNLog

// vpn-init is the container's PID 1: with no subcommand it runs as init, and any arguments
// (after an optional `--`) are the main command, as with tini. The subcommands are tools for
// `docker exec`, the HEALTHCHECK and key handling.
let arguments = Array(ProcessArguments.all.dropFirst())
setLogLevel(from: ProcessEnvironment.current())

switch arguments.first {
case "--":
    InitMode.run(command: Array(arguments.dropFirst()))
case "genkey":
    exit(KeyCommands.genkey(Array(arguments.dropFirst())).rawValue)
case "pubkey":
    exit(KeyCommands.pubkey(Array(arguments.dropFirst())).rawValue)
case "public-key":
    exit(KeyCommands.publicKey(Array(arguments.dropFirst())).rawValue)
case "render":
    exit(RenderCommand.run(Array(arguments.dropFirst())).rawValue)
case "status":
    exit(StatusCommand.status(Array(arguments.dropFirst())).rawValue)
case "health":
    exit(StatusCommand.health(Array(arguments.dropFirst())).rawValue)
case "version", "--version":
    print("vpn-init \(vpnInitVersion)")
    exit(ExitCode.success.rawValue)
case "help", "--help", "-h":
    exit(Help.run(Array(arguments.dropFirst())).rawValue)
case let first? where first.hasPrefix("-"):
    Help.usageError("unknown option \(Log.quote(first)); to run a command that starts with \"-\", put \"--\" before it")
default:
    InitMode.run(command: arguments)
}
