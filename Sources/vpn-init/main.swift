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

/// The tools: each takes its arguments and returns its exit status.
let tools: [String: ([String]) -> ExitCode] = [
    "genkey": KeyCommands.genkey, "pubkey": KeyCommands.pubkey, "public-key": KeyCommands.publicKey,
    "render": RenderCommand.run, "status": StatusCommand.status, "health": StatusCommand.health,
    "reload": ReloadCommand.run,
]

if let name = arguments.first, let tool = tools[name] {
    exit(tool(Array(arguments.dropFirst())).rawValue)
}

switch arguments.first {
case "--":
    InitMode.run(command: Array(arguments.dropFirst()))
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
