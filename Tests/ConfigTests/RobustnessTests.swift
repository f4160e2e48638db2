@testable import Config
import Testing
import WireGuardModel

/// Valid values for each variable, to build random good environments from.
let goodValues: [String: [String]] = [
    "VPN_DATA_DIR": ["/data", "/var/lib/vpn/"],
    "WG_INTERFACE": ["wg0", "vpn.1"],
    "WG_ADDRESS": ["10.0.0.1/24", "10.0.0.1/24, fd00::1/64"],
    "WG_LISTEN_PORT": ["51820", "1", "65535"],
    "WG_PRIVATE_KEY_FILE": ["/data/privatekey", "/run/secrets/key"],
    "WG_PRIVATE_KEY": [key(9).base64, key(10).base64],
    "WG_PUBLIC_KEY_EXPORT": ["/shared/node.pub"],
    "WG_MTU": ["1280", "1420", "9000"],
    "WG_FWMARK": ["0", "0x51820", "51820"],
    "WG_FORWARD": ["true", "off", "1"],
    "WG_MASQUERADE": ["auto", "off", "eth0,eth1"],
    "WG_IMPLEMENTATION": ["auto", "kernel", "userspace"],
    "WG_USERSPACE_BIN": ["/usr/bin/wireguard-go"],
    "WG_TCP_LISTEN": ["0.0.0.0:443", "[::]:8443", "127.0.0.1:5000"],
    "WG_PEER_KEY_WAIT": ["60", "0.5", "86400"],
    "VPN_SHUTDOWN_GRACE": ["8", "0", "3600"],
    "LOG_LEVEL": ["debug", "INFO", "warn", "error"],
]

/// Values that are wrong for most variables: empty, huge, unicode, control characters,
/// off-by-one numbers, broken keys and endpoints.
let junkValues: [String] = [
    "", " ", String(repeating: "9", count: 1 << 20), "ünïcødé", "\u{1F600}", "a\nb", "\u{0}", "\u{1b}[2J", "\u{202e}",
    "0", "-1", "65536", "575", "1279", "4294967296", "0x100000000", "86401", "3601", "1e9", "nan",
    String(key(9).base64.dropLast(2)) + "=", String(key(2).base64.dropFirst()), key(0).base64,
    "host:", ":51820", "[fd00::1]", "[::1]:", "fd00::1:51820", "node-b:0", "0x", "10.0.0.1/33", "relative/path",
    "/ok/path\n", String(repeating: "a.", count: 200) + ":1",
]

extension SplitMix64 {
    /// A random valid environment: some settings, 0-3 peers.
    mutating func goodEnvironment() -> [String: String] {
        var env = ["WG_ADDRESS": pick(goodValues["WG_ADDRESS"]!), "PATH": "/usr/bin", "HOSTNAME": "node-a"]
        for (name, values) in goodValues where chance(0.3) { env[name] = pick(values) }
        if env["WG_ADDRESS"]!.contains(":"), let mtu = env["WG_MTU"], Int(mtu)! < 1280 { env["WG_MTU"] = "1280" }
        let names: [String?] = [nil, "B", "NODE2", "Z9"]
        for (index, name) in names.enumerated() where chance(0.4) {
            let prefix = PeerField.prefix(name: name)
            if chance(0.7) {
                env[prefix + "PUBLIC_KEY"] = key(UInt8(20 + index)).base64
            } else {
                env[prefix + "PUBLIC_KEY_FILE"] = "/shared/peer\(index).pub"
            }
            env[prefix + "ALLOWED_IPS"] = "10.0.\(index + 1).0/24, fd00:\(index + 1)::/64"
            if chance(0.3) { env[prefix + "PRESHARED_KEY_FILE"] = "/run/secrets/psk\(index)" }
            if chance(0.3) { env[prefix + "PERSISTENT_KEEPALIVE"] = pick(["0", "25", "off"]) }
            if chance(0.5) {
                env[prefix + "TCP_ENDPOINT"] = pick(["gw.example:443", "[fd00::9]:443"])
                if chance(0.5) { env[prefix + "TLS_SNI"] = "abc-443.gw.example" }
                if env[prefix + "TLS_SNI"] != nil && chance(0.5) { env[prefix + "TLS_CA_FILE"] = "/etc/ssl/ca.pem" }
            } else if chance(0.7) {
                env[prefix + "ENDPOINT"] = pick(["node-b:51820", "192.0.2.1:1", "[2001:db8::1]:65535"])
            }
        }
        return env
    }
}

@Suite struct RobustnessTests {
    @Test func randomGoodEnvironmentsParse() throws {
        var random = SplitMix64(seed: 42)
        for _ in 0..<500 {
            let env = random.goodEnvironment()
            let found = problems(env)
            #expect(found.isEmpty, "\(env): \(found)")
        }
    }

    @Test func junkNeverCrashesAndIsAlwaysNamed() {
        var random = SplitMix64(seed: 0xf022)
        var failures = 0
        for round in 0..<2000 {
            var env = random.goodEnvironment()
            let ours = env.keys.filter { $0 != "PATH" && $0 != "HOSTNAME" }.sorted()
            for _ in 0..<Int.random(in: 1...3, using: &random) { env[random.pick(ours)] = random.pick(junkValues) }
            do {
                _ = try VPNConfig.parse(environment: env)
            } catch {
                failures += 1
                #expect(!error.problems.isEmpty)
                for problem in error.problems {
                    let present = env[problem.variable] != nil
                    #expect(present, "round \(round): \(problem)")
                    let line = problem.description
                    #expect(!line.contains("\n") && line.utf8.count < 400, "round \(round): \(line)")
                }
                let message = error.description
                let leaked = leaksKey(message, from: env)
                #expect(!leaked, "round \(round): \(message)")
                for secret in [key(9), key(10)] + (20..<24).map({ key(UInt8($0)) }) {
                    let shown = message.contains(secret.base64.prefix(24))
                    #expect(!shown, "round \(round): \(message)")
                }
            }
        }
        #expect(failures > 1000)
    }

    @Test func junkFilesNeverCrash() {
        var random = SplitMix64(seed: 7)
        let junkLines = ["[Interface", "=", "= =", "Key", "PrivateKey = =", "[Peer]", "AllowedIPs = ,", "Endpoint = [", "MTU = 1e3",
                         "ListenPort = 65536", "FwMark = 0x", "# Name = \u{0}", "\u{feff}[Interface]", String(repeating: "#", count: 5000)]
        for _ in 0..<500 {
            var lines = random.quickConfig().render().split(separator: "\n").map(String.init)
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                lines.insert(random.pick(junkLines + junkValues), at: Int.random(in: 0...lines.count, using: &random))
            }
            do {
                _ = try WireGuardQuickConfig.parse(lines.joined(separator: "\n"), file: "junk.conf")
            } catch {
                for problem in error.problems {
                    #expect((1...lines.count + 1).contains(problem.line))
                    #expect(!problem.description.contains("\n"))
                }
            }
        }
    }
}
