#if canImport(Glibc)
import Glibc
#endif
import Config
import WireGuard

/// `vpn-init genkey` and `vpn-init pubkey`: the same contract as `wg genkey` / `wg pubkey`.
enum KeyCommands {
    /// Prints a new clamped private key in base64.
    static func genkey(_ arguments: [String]) -> Int32 {
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return Help.run(["genkey"]) }
        guard arguments.isEmpty else { return Help.usageError("genkey takes no arguments", exitNow: false) }
        do {
            print(try WireGuardKey.generatePrivate().base64)
            return 0
        } catch {
            printError("vpn-init genkey: \(error)")
            return 1
        }
    }

    /// Reads a private key in base64 on stdin and prints its public key.
    static func pubkey(_ arguments: [String]) -> Int32 {
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
            return 1
        }
        print(key.publicKey().base64)
        return 0
    }
}
