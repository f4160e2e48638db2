import Config
import FuzzSupport
import WireGuardModel

// VPNConfig.parse(environment:) on NAME=VALUE lines (the first definition of a name wins, as
// with getenv). Properties:
// - a failure names, in every problem, a variable that was set (or a required one that is
//   missing); each problem is one line; no key-like text appears in the messages;
// - a success renders (with placeholder keys where keys come from files) to a wg-quick file
//   that parses back to the same configuration, and every number it accepted was written in
//   plain digits (no sign, no space: "-0" and "+24" are mistakes, not values).

runFuzzer(fuzzEnvironment)

func fuzzEnvironment(_ input: [UInt8]) {
    let environment = environmentLines(input)
    do {
        let config = try VPNConfig.parse(environment: environment)
        checkRendersAndParsesBack(config)
        checkPlainNumbers(environment)
    } catch {
        checkProblems(error, environment: environment)
    }
}

func environmentLines(_ bytes: [UInt8]) -> [String: String] {
    var environment: [String: String] = [:]
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
        guard let equals = line.firstIndex(of: "="), equals != line.startIndex else { continue }
        let name = String(line[..<equals])
        if environment[name] == nil { environment[name] = String(line[line.index(after: equals)...]) }
    }
    return environment
}

func checkProblems(_ errors: ConfigErrors, environment: [String: String]) {
    require(!errors.problems.isEmpty, "ConfigErrors without a problem")
    for problem in errors.problems {
        // A problem names a variable that was set, or one that is required and missing.
        require(environment[problem.variable] != nil || problem.reason.hasPrefix("is required"),
                "problem names \(problem.variable.debugDescription), which was not set: \(problem)")
        let line = problem.description
        require(!line.contains("\n") && !line.contains("\r"), "problem is not one line: \(line.debugDescription)")
        require(!line.isEmpty && !problem.reason.isEmpty, "problem without a reason for \(problem.variable)")
    }
    let input = environment.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
    if let key = keyLikeText(in: errors.description, from: input) {
        require(false, "a key appears in the messages: \(key.prefix(6))... in \(errors.description.debugDescription)")
    }
}

func checkRendersAndParsesBack(_ config: VPNConfig) {
    let privateKey: WireGuardKey = if case .inline(let key) = config.privateKey { key } else { placeholderKey(0) }
    let peerKeys = config.peers.indices.map { index in
        let peer = config.peers[index]
        let publicKey: WireGuardKey = if case .inline(let key) = peer.publicKey { key } else { placeholderKey(index + 1) }
        return (publicKey: publicKey, presharedKey: peer.presharedKeyFile == nil ? nil : placeholderKey(index + 1, tag: 0xf8))
    }
    // Placeholder keys could equal a key given inline; such a clash says nothing about parsing.
    guard Set(peerKeys.map(\.publicKey)).count == peerKeys.count else { return }
    var tcpEndpoints: [Int: Endpoint] = [:]
    for index in config.peers.indices where config.peers[index].dialTarget != nil {
        tcpEndpoints[index] = Endpoint(host: .address(IPAddress("127.0.0.1")!), port: UInt16(40000 + index % 1000))
    }
    let quick = config.quickConfig(privateKey: privateKey, peerKeys: peerKeys, tcpPeerEndpoints: tcpEndpoints)
    let text = quick.render()
    do {
        let parsed = try WireGuardQuickConfig.parse(text, file: "rendered.conf")
        require(parsed == quick, "rendered config parses to something else:\n\(text)\nparsed: \(parsed)\nwant: \(quick)")
    } catch {
        require(false, "the rendered config of a valid environment does not parse: \(error)\n\(text)")
    }
    require(config.effectiveMTU >= 576 && config.effectiveMTU <= 65535, "MTU \(config.effectiveMTU) out of range")
}

/// Accepted numbers are plain: ports, MTU, keepalive, waits and prefix lengths hold only digits
/// (and one "." in the waits); a fwmark is decimal or 0x hex.
func checkPlainNumbers(_ environment: [String: String]) {
    let digits = Set("0123456789")
    for (name, value) in environment {
        if ["WG_LISTEN_PORT", "WG_MTU", "WG_PEER_KEY_WAIT", "VPN_SHUTDOWN_GRACE", "VPN_GATEWAY_CONNECTION_LIFETIME"].contains(name)
            || name.hasSuffix("_PERSISTENT_KEEPALIVE") {
            require(value.allSatisfy { digits.contains($0) || $0 == "." }, "\(name)=\(value.debugDescription) accepted")
        }
        if name == "WG_ADDRESS" || name.hasSuffix("_ALLOWED_IPS") {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2 else { continue }
                let prefix = parts[1].drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }
                require(!prefix.isEmpty && prefix.allSatisfy { digits.contains($0) }, "\(name)=\(value.debugDescription) accepted")
            }
        }
    }
}
