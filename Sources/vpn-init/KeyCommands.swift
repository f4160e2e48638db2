#if canImport(Glibc)
import Glibc
#endif
import Config
import Supervisor
import NodeBoot
import DstackAgent
import WireGuard
import WireGuardModel

/// `vpn-init genkey` and `vpn-init pubkey`: the same contract as `wg genkey` / `wg pubkey`.
enum KeyCommands {
    /// Prints a new clamped private key in base64.
    static func genkey(_ arguments: [String]) -> ExitCode {
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return Help.run(["genkey"]) }
        guard arguments.isEmpty else { return Help.usageError("genkey takes no arguments", exitNow: false) }
        do {
            print(try WireGuardKey.generatePrivate().base64)
            return .success
        } catch {
            printError("vpn-init genkey: \(error)")
            return .failure
        }
    }

    /// Reads a private key in base64 on stdin and prints its public key.
    static func pubkey(_ arguments: [String]) -> ExitCode {
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return Help.run(["pubkey"]) }
        guard arguments.isEmpty else { return Help.usageError("pubkey takes no arguments", exitNow: false) }
        var input: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while input.count <= 4096 {
            let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            input += buffer[0..<count]
        }
        // Like `wg pubkey`: the key, then nothing but white space.
        guard let key = WireGuardKey(base64: trimmed(input)) else {
            printError("vpn-init pubkey: Key is not the correct length or format")
            return .failure
        }
        print(key.publicKey().base64)
        return .success
    }

    /// `vpn-init public-key [--node NAME]`: this node's public key as boot sets it, or another
    /// node's of the same dstack app.
    static func publicKey(_ arguments: [String]) -> ExitCode {
        var node: String?
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--node":
                guard let name = rest.popFirst(), DstackKeys.isValidNodeName(name) else {
                    return Help.usageError("public-key: --node needs a node name (1-63 of a-z, 0-9 and -)", exitNow: false)
                }
                node = name
            case "--help", "-h": return Help.run(["public-key"])
            default: return Help.usageError("public-key: unknown argument \"\(argument)\"", exitNow: false)
            }
        }
        do throws(BootFailure) {
            let config = try Boot.parse(environment: ProcessEnvironment.current())
            if let node {
                guard config.keySource == .dstack else {
                    throw BootFailure(exitCode: .configuration, "public-key --node needs VPN_KEY_SOURCE=dstack (nodes of one app derive each other's keys)")
                }
                var probe = config
                probe.privateKey = .dstack(nodeName: node)
                print(try Boot.loadPrivateKey(probe, agent: DstackMode.agent(config)).publicKey().base64)
            } else {
                print(try Boot.loadPrivateKey(config, agent: nil).publicKey().base64)
            }
            return .success
        } catch {
            error.log()
            return error.exitCode
        }
    }
}
