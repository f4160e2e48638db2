@testable import Config
import SeededRandom
import Testing
import WireGuardModel

/// The shared seeded generator, under the name these tests use.
typealias SplitMix64 = SeededGenerator

/// Fixed keys for tables: key(n) is 32 bytes of n.
func key(_ byte: UInt8) -> WireGuardKey { WireGuardKey(bytes: [UInt8](repeating: byte, count: 32))! }

enum Keys {
    static let peerA = key(1).base64
    static let peerB = key(2).base64
    static let privateKey = key(9).base64
    /// A valid key with its last character cut off.
    static let truncated = String(key(3).base64.dropLast(2)) + "="
}

/// The smallest valid environment: one address, no peers.
let minimalEnvironment = ["WG_ADDRESS": "10.0.0.1/24"]

/// The environment with `extra` added (and keys mapped to nil removed).
func environment(_ extra: [String: String?], base: [String: String] = minimalEnvironment) -> [String: String] {
    var env = base
    for (name, value) in extra { env[name] = value }
    return env
}

/// The problems of parsing `env`, or [] when it parses.
func problems(_ env: [String: String]) -> [ConfigProblem] {
    do {
        _ = try VPNConfig.parse(environment: env)
        return []
    } catch {
        return error.problems
    }
}

/// Whether a `*_KEY` value of the environment shows up in `text` (values that some other
/// variable holds too are skipped: that variable may quote its own value).
func leaksKey(_ text: String, from env: [String: String]) -> Bool {
    let others = Set(env.filter { !$0.key.hasSuffix("_KEY") }.values)
    return env.contains { name, value in
        name.hasSuffix("_KEY") && value.utf8.count >= 8 && !others.contains(value) && text.contains(value.prefix(24))
    }
}
