@testable import Config
import Testing
import WireGuard

/// A small seeded generator (SplitMix64), so every property test run is reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }

    mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &self)! }
}

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
