#if canImport(Glibc)
import Glibc
#endif
import Config
import NodeBoot
import SeededRandom
import Testing
import VPNLog
import WireGuardModel

/// The seeded matrix of bad environments for the configuration half of boot, what
/// `vpn-init render` runs (Boot.parse, PeerKeys.load without waiting, Boot.prepare without the
/// public key export): node a's good environment with README.md's other variables, one to
/// three of them replaced by junk aimed at their syntax, removed, or an unknown one added; a
/// quarter of the data directories already hold a key. On each:
///   - never a crash (this process would die);
///   - exit 0 or 78 (.configuration);
///   - on 78 every line is `VARIABLE: reason` naming a variable that was set, or a required one;
///   - no private (inline or stored) or preshared key in any failure line or logged line;
///   - on 78 nothing is written: the case's directory (data directory included) is unchanged.
/// scripts/test-robustness keeps what only a real process shows: the exit status and the
/// format of the lines on stderr, stdout left empty, and read-only or full volumes.
@Suite("Bad environments", .serialized) struct BadEnvironmentTests {
    static let cases = 400

    /// A key from the seeded generator.
    static func key(_ random: inout SeededGenerator) -> WireGuardKey { WireGuardKey(bytes: random.bytes(32))! }

    struct Keys {
        var privateKey, storedKey, peerB, peerC, preshared: WireGuardKey
    }

    /// The seed's node a plus README.md's other variables with good values, optional ones
    /// left out at random.
    static func goodEnvironment(_ directory: String, shared: String, keys: Keys, _ random: inout SeededGenerator) -> [String: String] {
        let data = directory + "/data"
        var environment = [
            "VPN_DATA_DIR": data, "WG_ADDRESS": "10.0.0.1/24", "WG_PEER_B_PUBLIC_KEY": keys.peerB.base64,
            "WG_PEER_B_ALLOWED_IPS": "10.0.0.2/32", "WG_PEER_B_ENDPOINT": "node-b:51820", "WG_PEER_B_PERSISTENT_KEEPALIVE": "25",
        ]
        let optional = [
            "WG_INTERFACE": "wg0", "WG_LISTEN_PORT": "51820", "WG_PRIVATE_KEY_FILE": data + "/privatekey",
            "WG_PRIVATE_KEY": keys.privateKey.base64, "WG_PUBLIC_KEY_EXPORT": directory + "/export/a.pub", "WG_MTU": "1420",
            "WG_FWMARK": "0x1234", "WG_FORWARD": "true", "WG_MASQUERADE": "auto", "WG_IMPLEMENTATION": "auto",
            "WG_USERSPACE_BIN": "/usr/bin/wireguard-go", "WG_TCP_LISTEN": "0.0.0.0:443", "WG_PEER_KEY_WAIT": "60",
            "VPN_SHUTDOWN_GRACE": "8", "LOG_LEVEL": "info", "WG_PEER_B_PRESHARED_KEY_FILE": shared + "/psk",
        ]
        for name in optional.keys.sorted() where random.chance(0.5) { environment[name] = optional[name] }
        if random.chance(0.4) {
            environment.merge([
                "WG_PEER_C_PUBLIC_KEY_FILE": shared + "/c.pub", "WG_PEER_C_ALLOWED_IPS": "10.0.1.0/24",
                "WG_PEER_C_TCP_ENDPOINT": "gw.example:443", "WG_PEER_C_TLS_SNI": "app-443.gw.example",
                "WG_PEER_C_TLS_CA_FILE": shared + "/ca.pem",
            ]) { $1 }
        }
        return environment
    }

    static let general = [
        "", " ", "\t", String(repeating: "x", count: 100_000), String(repeating: "9", count: 100_000), "ünïcødé", "\u{1F600}",
        "\u{202e}1", "\u{2028}", "５１８２０", "a\nb", "\n", "line\r\n", "\u{1}", "\u{1b}[2J", "\u{7f}", "a\\0b", "\\n", "\\x00", "-1",
        "+1", "0", "-0", "99999999999999999999999", " 1", "1 ", "1 2", "true false", "null", "${WG_ADDRESS}", "'quoted'",
        "\"quoted\"", "%s%n", ",", ",,", "=", "==", ";",
    ]
    static let networks = [
        "10.0.0.1/33", "10.0.0.1/-1", "10.0.0.1/-0", "10.0.0.1/+24", "10.0.0.1/024", "10.0.0.1/", "/24", "10.0.0.256/24", "10.0.0/24",
        "10.0.0.1/24,", ",10.0.0.1/24", "10.0.0.1/24,,fd00::1/64", "fd00::1/129", "fd00::1/64/1", "10.0.0.1 /24",
        "10.0.0.1/24, 10.0.0.1/24", "[fd00::1]/64", "0x0a000001/24", "10.0.0.1/24\n",
    ]
    static let endpoints = [
        "node-b", "node-b:", ":51820", "[fd00::2]", "[fd00::2", "fd00::2]:51820", "[fd00::2]:", "fd00::2:51820", "node-b:0",
        "node-b:65536", "node-b:-1", "node-b:+1", "node-b: 1", "node b:1", "-node:1", "a..b:1", String(repeating: "x", count: 300) + ":1",
        "[node-b]:1", "[::1]:99999", "node-b:51820:1", "10.0.0.2:51820/32",
    ]
    static let numbers = [
        "WG_LISTEN_PORT": ["0", "65536", "-1", "+51820", " 51820", "51820 ", "0x10", "1e3", "51820.0"],
        "WG_MTU": ["575", "65536", "-1420", "+1420", "1420.5", "0"],
        "WG_FWMARK": ["0x100000000", "4294967296", "-1", "0x", "0xg", "+1", "0x-1"],
        "WG_PEER_KEY_WAIT": ["86401", "-1", "1e3", ".5", "5.", "inf", "nan", "1..2"],
        "VPN_SHUTDOWN_GRACE": ["3601", "-0.5", "+8", "8s", "infinity"],
        "WG_PEER_B_PERSISTENT_KEEPALIVE": ["65536", "-25", "+25", "25.0", "0x19"],
    ]
    static let words = [
        "WG_INTERFACE": ["wg0-name-too-long", "wg 0", "wg/0", ".", "..", "wg:0", "ü"],
        "WG_FORWARD": ["maybe", "TRUE ", "2", "yes!"],
        "WG_MASQUERADE": ["eth0 eth1", "eth0,,eth1", "eth0,eth0", "autos", String(repeating: "x", count: 16)],
        "WG_IMPLEMENTATION": ["bpf", "Kernel ", "user space"],
        "LOG_LEVEL": ["loud", "trace", "0"],
        "WG_TCP_LISTEN": ["0.0.0.0", ":443", "host:443", "0.0.0.0:99999", "[::]", "[::", "0.0.0.0:0"],
        "WG_PEER_C_TLS_SNI": ["10.0.0.1", "-bad.example", "a..b", String(repeating: "x", count: 254), "gw_example"],
        "WG_PEER_C_TCP_ENDPOINT": endpoints,
    ]
    static let pathVariables: Set = [
        "VPN_DATA_DIR", "WG_PRIVATE_KEY_FILE", "WG_PUBLIC_KEY_EXPORT", "WG_USERSPACE_BIN", "WG_PEER_C_PUBLIC_KEY_FILE",
        "WG_PEER_B_PRESHARED_KEY_FILE", "WG_PEER_C_TLS_CA_FILE",
    ]
    static let unknown = [
        "WG_ADRESS", "WG_PEER_B_ENDPIONT", "WG_PEER_b_ENDPOINT", "WG_PEER_B_PRESHARED_KEY", "VPN_DATADIR", "WG_PEER__ALLOWED_IPS",
        "WG_PEER_B-C_ENDPOINT", "WG_LISTENPORT",
    ]

    /// Junk for `variable`: general values and ones aimed at its syntax. Absolute paths stay
    /// inside the case's directory (or are too long to be one), so no junk path writes elsewhere.
    static func junk(for variable: String, _ directory: String, keys: Keys, _ random: inout SeededGenerator) -> String {
        var choices = general
        if variable == "WG_PRIVATE_KEY" || variable == "WG_PEER_B_PUBLIC_KEY" {
            let key = variable == "WG_PRIVATE_KEY" ? keys.privateKey.base64 : keys.peerB.base64
            let head: String = String(key.prefix(20)), tail: String = String(key.dropFirst(20))
            let withoutPadding: String = key.filter { $0 != "=" }
            var broken: [String] = [String(key.dropLast()), String(key.prefix(43)), String(key.dropFirst()), key + "="]
            broken += [String(key.dropLast()) + "A=", withoutPadding, " " + key + " ", head + " " + tail]
            broken += [WireGuardKey(base64: key)!.hex, String(repeating: "A", count: 43) + "=", key + key, key.lowercased()]
            choices += broken + broken + broken
        }
        if pathVariables.contains(variable) {
            let paths = [
                "relative/key", "./key", "~/key", "key", directory + "/dir/", directory + "/a\tb", directory + "/ünï/k",
                "/" + String(repeating: "x", count: 5000), directory + "/" + String(repeating: "y", count: 4100),
                directory + "//double//slash", directory + "/sub/../x",
            ]
            choices += paths + paths + paths
        }
        if ["WG_ADDRESS", "WG_PEER_B_ALLOWED_IPS", "WG_PEER_C_ALLOWED_IPS"].contains(variable) { choices += networks + networks }
        if variable == "WG_PEER_B_ENDPOINT" { choices += endpoints + endpoints }
        for _ in 0..<4 { choices += (numbers[variable] ?? []) + (words[variable] ?? []) }
        return random.pick(choices.filter { !$0.hasPrefix("/") || $0.hasPrefix(directory) || $0.utf8.count > 4095 })
    }

    /// Case `number`: its environment, what was changed, and whether the data directory holds a key.
    static func makeCase(_ number: Int, _ directory: String, shared: String, keys: Keys, seed: UInt64)
        -> (environment: [String: String], changes: [String], storedKey: Bool)
    {
        var random = SeededGenerator(seed: seed &* 1_000_003 &+ UInt64(number))
        var environment = goodEnvironment(directory, shared: shared, keys: keys, &random)
        var changes: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let roll = Double.random(in: 0..<1, using: &random)
            if roll < 0.08 {
                let name = random.pick(unknown)
                environment[name] = name.hasSuffix("PRESHARED_KEY") ? keys.preshared.base64 : "1"
                changes.append("+" + name)
            } else if roll < 0.14 {
                let name = random.pick(["WG_ADDRESS", "WG_PEER_B_ALLOWED_IPS", "WG_PEER_B_PUBLIC_KEY"])
                environment[name] = nil
                changes.append("-" + name)
            } else {
                let name = random.pick(environment.keys.sorted())
                environment[name] = junk(for: name, directory, keys: keys, &random)
                changes.append(name)
            }
        }
        return (environment, changes, random.chance(0.25))
    }

    /// Every path under `directory` with its mode and size.
    static func snapshot(_ directory: String) -> [String: String] {
        var result: [String: String] = [:]
        func walk(_ path: String) {
            guard let handle = opendir(path) else { return }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name == "." || name == ".." { continue }
                let child = path + "/" + name
                var info = stat()
                guard lstat(child, &info) == 0 else { continue }
                result[child] = "\(info.st_mode) \(info.st_size)"
                if info.st_mode & S_IFMT == S_IFDIR { walk(child) }
            }
        }
        walk(directory)
        return result
    }

    static func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = text.utf8CString.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    static func read(_ path: String) -> String {
        guard let file = fopen(path, "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while case let count = fread(&buffer, 1, buffer.count, file), count > 0 { bytes += buffer[0..<count] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` shows `key`: any 24 characters of its base64 or a half of its hex.
    static func shows(_ text: String, _ key: WireGuardKey) -> Bool {
        let base64 = Array(key.base64), hex = key.hex
        return (0...20).contains { text.contains(String(base64[$0..<$0 + 24])) }
            || text.contains(String(hex.prefix(32))) || text.contains(String(hex.suffix(32)))
    }

    @Test("400 seeded bad environments: exit 0 or 78, named variables, no key shown, nothing written on 78")
    func matrix() throws {
        let seed = UInt64(getenv("ROBUSTNESS_SEED").flatMap { UInt64(String(cString: $0)) } ?? 1)
        var random = SeededGenerator(seed: seed)
        let keys = Keys(
            privateKey: Self.key(&random), storedKey: Self.key(&random), peerB: Self.key(&random).publicKey(),
            peerC: Self.key(&random).publicKey(), preshared: Self.key(&random)
        )
        var template = Array("/tmp/bad-environments.XXXXXX".utf8CString)
        let work = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { _ = system("rm -rf '\(work)'") }
        let shared = work + "/shared"
        mkdir(shared, 0o700)
        Self.write(keys.peerC.base64 + "\n", to: shared + "/c.pub")
        Self.write(keys.preshared.base64 + "\n", to: shared + "/psk")
        Self.write("not read by render\n", to: shared + "/ca.pem")
        // Logged lines (a readable preshared key file's warning, say) go to a file of their own.
        let logPath = work + "/log"
        let logFile = open(logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        let (savedDescriptor, savedLevel) = (Log.fileDescriptor, Log.level)
        Log.fileDescriptor = logFile
        defer { (Log.fileDescriptor, Log.level) = (savedDescriptor, savedLevel); close(logFile) }

        var statuses: [Int32: Int] = [:]
        for number in 1...Self.cases {
            let directory = "\(work)/case-\(number)"
            mkdir(directory, 0o700)
            let (environment, changes, storedKey) = Self.makeCase(number, directory, shared: shared, keys: keys, seed: seed)
            if storedKey {
                mkdir(directory + "/data", 0o700)
                Self.write(keys.storedKey.base64 + "\n", to: directory + "/data/privatekey")
            }
            let before = Self.snapshot(directory)
            ftruncate(logFile, 0)
            var failure: BootFailure?
            do {
                let config = try Boot.parse(environment: environment)
                _ = try PeerKeys.load(config.peers, wait: 0, agent: nil)
                _ = try Boot.prepare(environment: environment, exportPublicKey: false)
            } catch {
                failure = error
            }
            let status = failure?.exitCode.rawValue ?? 0
            statuses[status, default: 0] += 1
            let label = "seed \(seed) case \(number) (changed \(changes.joined(separator: ", ")))"
            #expect(status == 0 || status == ExitCode.configuration.rawValue, "\(label): exit \(status): \(failure?.lines ?? [])")
            // No key in a failure line nor in anything logged, whatever the outcome.
            var secrets = [keys.privateKey, keys.storedKey, keys.preshared]
            if let stored = WireGuardKey(base64: Self.read(directory + "/data/privatekey").prefix(44)) { secrets.append(stored) }
            let text = (failure?.description ?? "") + "\n" + Self.read(logPath)
            for secret in secrets { #expect(!Self.shows(text, secret), "\(label): a key is shown") }
            guard let failure else { continue }
            #expect(!failure.lines.isEmpty, "\(label): exit \(status) without a message")
            for line in failure.lines {
                let variable = line.prefix { $0 != ":" }
                let named = line.contains(": ") && (environment[String(variable)] != nil || line.hasPrefix("\(variable): is required"))
                #expect(named, "\(label): \(line.prefix(200))")
            }
            if failure.exitCode == .configuration {
                #expect(Self.snapshot(directory) == before, "\(label): exit 78 changed the case's directory")
            }
        }
        print("bad environments (seed \(seed)): " + statuses.sorted { $0.key < $1.key }.map { "exit \($0.key): \($0.value)" }.joined(separator: ", "))
        #expect(statuses[0, default: 0] > 0 && statuses[ExitCode.configuration.rawValue, default: 0] > Self.cases / 2)
    }
}
