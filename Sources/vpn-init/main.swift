import VPNLog
#if canImport(Glibc)
import Glibc
#endif

// Placeholder dispatcher: replaced by the CLI of issue 2.
let arguments = Array(CommandLine.arguments.dropFirst())
print("vpn-init \(arguments)")
