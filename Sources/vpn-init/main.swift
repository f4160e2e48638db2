#if canImport(Glibc)
import Glibc
#endif
import SystemCalls
import VPNLog

// vpn-init is the container's PID 1: with no subcommand it runs as init, and any arguments
// (after an optional `--`) are the main command, as with tini. The subcommands are tools for
// `docker exec`, the HEALTHCHECK and key handling.
let arguments = Array(ProcessArguments.all.dropFirst())
setLogLevel(from: environmentDictionary())

switch arguments.first {
case "--":
    InitMode.run(command: Array(arguments.dropFirst()))
case "genkey":
    exit(KeyCommands.genkey(Array(arguments.dropFirst())))
case "pubkey":
    exit(KeyCommands.pubkey(Array(arguments.dropFirst())))
case "public-key":
    exit(KeyCommands.publicKey(Array(arguments.dropFirst())))
case "render":
    exit(RenderCommand.run(Array(arguments.dropFirst())))
case "status":
    exit(StatusCommand.status(Array(arguments.dropFirst())))
case "health":
    exit(StatusCommand.health(Array(arguments.dropFirst())))
case "version", "--version":
    print("vpn-init \(vpnInitVersion)")
    exit(0)
case "help", "--help", "-h":
    exit(Help.run(Array(arguments.dropFirst())))
case let first? where first.hasPrefix("-"):
    Help.usageError("unknown option \(Log.quote(first)); to run a command that starts with \"-\", put \"--\" before it")
default:
    InitMode.run(command: arguments)
}
