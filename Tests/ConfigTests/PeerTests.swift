@testable import Config
import Testing
import WireGuardModel

/// Peer B with the two required fields.
let peerB = environment([
    "WG_PEER_B_PUBLIC_KEY": Keys.peerB,
    "WG_PEER_B_ALLOWED_IPS": "10.0.0.2/32",
])

let goodPeerCases: [(ValueCase, @Sendable (PeerConfig) -> Bool)] = [
    (ValueCase(variable: "WG_PEER_B_PUBLIC_KEY", value: " \(Keys.peerA) "), { $0.publicKey == .inline(key(1)) }),
    (ValueCase(variable: "WG_PEER_B_PUBLIC_KEY_FILE", value: "/shared/b.pub", extra: ["WG_PEER_B_PUBLIC_KEY": nil]),
     { $0.publicKey == .file("/shared/b.pub") }),
    (ValueCase(variable: "WG_PEER_B_PRESHARED_KEY_FILE", value: "/run/secrets/psk"), { $0.presharedKeyFile == "/run/secrets/psk" }),
    (ValueCase(variable: "WG_PEER_B_ALLOWED_IPS", value: "10.0.0.0/24, fd00::/64,192.168.1.1"),
     { $0.allowedIPs.map(\.description) == ["10.0.0.0/24", "fd00::/64", "192.168.1.1/32"] }),
    (ValueCase(variable: "WG_PEER_B_ALLOWED_IPS", value: "0.0.0.0/0,::/0"), { $0.allowedIPs.count == 2 }),
    (ValueCase(variable: "WG_PEER_B_ENDPOINT", value: "node-b:51820"), { $0.endpoint?.description == "node-b:51820" }),
    (ValueCase(variable: "WG_PEER_B_ENDPOINT", value: "[fd00::2]:1"), { $0.endpoint?.description == "[fd00::2]:1" }),
    (ValueCase(variable: "WG_PEER_B_ENDPOINT", value: "192.0.2.1:65535"), { $0.endpoint?.port == 65535 }),
    (ValueCase(variable: "WG_PEER_B_PERSISTENT_KEEPALIVE", value: "25"), { $0.persistentKeepalive == 25 }),
    (ValueCase(variable: "WG_PEER_B_PERSISTENT_KEEPALIVE", value: "0"), { $0.persistentKeepalive == nil }),
    (ValueCase(variable: "WG_PEER_B_PERSISTENT_KEEPALIVE", value: "off"), { $0.persistentKeepalive == nil }),
    (ValueCase(variable: "WG_PEER_B_PERSISTENT_KEEPALIVE", value: "65535"), { $0.persistentKeepalive == 65535 }),
    (ValueCase(variable: "WG_PEER_B_TCP_ENDPOINT", value: "gw.example:443"), { $0.tcpEndpoint?.description == "gw.example:443" }),
    (ValueCase(variable: "WG_PEER_B_TLS_SNI", value: "0123abcd-443.dstack.example", extra: ["WG_PEER_B_TCP_ENDPOINT": "gw:443"]),
     { $0.tlsSNI == "0123abcd-443.dstack.example" }),
    (ValueCase(variable: "WG_PEER_B_TLS_CA_FILE", value: "/etc/ssl/ca.pem",
               extra: ["WG_PEER_B_TCP_ENDPOINT": "gw:443", "WG_PEER_B_TLS_SNI": "gw.example"]),
     { $0.tlsCAFile == "/etc/ssl/ca.pem" }),
]

let badPeerCases: [ValueCase] = [
    ValueCase(variable: "WG_PEER_B_PUBLIC_KEY_FILE", value: "b.pub", extra: ["WG_PEER_B_PUBLIC_KEY": nil]),
    ValueCase(variable: "WG_PEER_B_ENDPOINT", value: "node-b:51820", extra: ["WG_PEER_B_TCP_ENDPOINT": "gw:443"]),
    ValueCase(variable: "WG_PEER_B_TLS_SNI", value: "192.0.2.1", extra: ["WG_PEER_B_TCP_ENDPOINT": "gw:443"]),
    ValueCase(variable: "WG_PEER_B_TLS_SNI", value: "under_score.example", extra: ["WG_PEER_B_TCP_ENDPOINT": "gw:443"]),
    ValueCase(variable: "WG_PEER_B_TLS_SNI", value: "a..b", extra: ["WG_PEER_B_TCP_ENDPOINT": "gw:443"]),
    ValueCase(variable: "WG_PEER_B_TLS_CA_FILE", value: "/etc/ssl/ca.pem", extra: ["WG_PEER_B_TCP_ENDPOINT": "gw:443"]),
    ValueCase(variable: "WG_PEER_B_TLS_CA_FILE", value: "ca.pem",
              extra: ["WG_PEER_B_TCP_ENDPOINT": "gw:443", "WG_PEER_B_TLS_SNI": "gw.example"]),
]
    + ValueCase.each("WG_PEER_B_PUBLIC_KEY", [
        Keys.truncated, String(Keys.peerB.dropLast()), key(0).base64, Keys.privateKey + "\n",
    ])
    + ValueCase.each("WG_PEER_B_PUBLIC_KEY_FILE", ["/shared/b.pub"])
    + ValueCase.each("WG_PEER_B_PRESHARED_KEY_FILE", ["psk", "/psk\u{0}"])
    + ValueCase.each("WG_PEER_B_ALLOWED_IPS", ["10.0.0.2/32,", "10.0.0.256/32", "any"])
    + ValueCase.each("WG_PEER_B_ENDPOINT", [
        "node-b", "node-b:", ":51820", "[fd00::2]", "fd00::2:51820", "node-b:0", "node-b:65536",
        "nöde:51820", "-node:51820",
    ])
    + ValueCase.each("WG_PEER_B_PERSISTENT_KEEPALIVE", ["65536", "25s"])
    + ValueCase.each("WG_PEER_B_TCP_ENDPOINT", ["gw", "[gw]:443"])
    + ValueCase.each("WG_PEER_B_TLS_SNI", ["gw.example"])
    + PeerField.allCases.map { field in
        // Each empty field, with what it needs beside it, so its emptiness is the only problem.
        let extra: [String: String?] = switch field {
        case .publicKeyFile, .node: ["WG_PEER_B_PUBLIC_KEY": nil]
        case .tlsSNI: ["WG_PEER_B_TCP_ENDPOINT": "gw:443"]
        case .tlsCAFile: ["WG_PEER_B_TCP_ENDPOINT": "gw:443", "WG_PEER_B_TLS_SNI": "gw.example"]
        default: [:]
        }
        return ValueCase(variable: "WG_PEER_B_" + field.rawValue, value: "", extra: extra)
    }

/// Variable names and the peer and field they mean.
let peerNameCases: [(String, VariableName)] = [
    ("WG_PEER_PUBLIC_KEY", .peer(name: nil, field: .publicKey)),
    ("WG_PEER_PUBLIC_KEY_FILE", .peer(name: nil, field: .publicKeyFile)),
    ("WG_PEER_TCP_ENDPOINT", .peer(name: nil, field: .tcpEndpoint)),
    ("WG_PEER_ENDPOINT", .peer(name: nil, field: .endpoint)),
    ("WG_PEER_B_PUBLIC_KEY", .peer(name: "B", field: .publicKey)),
    ("WG_PEER_B_PUBLIC_KEY_FILE", .peer(name: "B", field: .publicKeyFile)),
    ("WG_PEER_NODE2_TCP_ENDPOINT", .peer(name: "NODE2", field: .tcpEndpoint)),
    ("WG_PEER_TCP_TCP_ENDPOINT", .peer(name: "TCP", field: .tcpEndpoint)),
    ("WG_PEER_PUBLIC_PUBLIC_KEY", .peer(name: "PUBLIC", field: .publicKey)),
    ("WG_PEER_7_TLS_CA_FILE", .peer(name: "7", field: .tlsCAFile)),
    ("WG_PEER_NODE_B_ENDPOINT", .invalidPeerName(name: "NODE_B", field: .endpoint)),
    ("WG_PEER_b_ENDPOINT", .invalidPeerName(name: "b", field: .endpoint)),
    ("WG_PEER__ENDPOINT", .invalidPeerName(name: "", field: .endpoint)),
    ("WG_PEER_NÖDE_ENDPOINT", .invalidPeerName(name: "NÖDE", field: .endpoint)),
    ("WG_PEER_KEY_WAIT", .setting(.peerKeyWait)),
    ("WG_PEER_B_ENDPOIN", .unknown),
    ("WG_PEER_", .unknown),
    ("WG_PEER_B", .unknown),
    ("WG_PEER_B_endpoint", .unknown),
    ("VPN_DEBUG", .unknown),
    ("WG_", .unknown),
    ("PATH", .foreign),
    ("wg_address", .foreign),
    ("LOG_LEVEL", .setting(.logLevel)),
]

@Suite struct PeerTests {
    @Test(arguments: goodPeerCases)
    func goodValue(_ item: ValueCase, _ check: @Sendable (PeerConfig) -> Bool) throws {
        let env = environment(item.extra, base: peerB).merging([item.variable: item.value]) { $1 }
        let config = try VPNConfig.parse(environment: env)
        #expect(config.peers.count == 1 && config.peers[0].name == "B")
        #expect(check(config.peers[0]))
    }

    @Test(arguments: badPeerCases)
    func badValue(_ item: ValueCase) {
        let env = environment(item.extra, base: peerB).merging([item.variable: item.value]) { $1 }
        let found = problems(env)
        #expect(found.map(\.variable) == [item.variable], "\(found)")
        for problem in found {
            #expect(!problem.description.contains("\n"))
            if item.variable.hasSuffix("_KEY") && !item.value.isEmpty {
                #expect(!problem.description.contains(String(item.value.prefix(16))))
            }
        }
    }

    @Test(arguments: peerNameCases)
    func variableName(_ name: String, _ expected: VariableName) {
        #expect(VariableName(name) == expected)
    }

    @Test func unnamedPeerComesFirstThenByName() throws {
        let env = environment([
            "WG_PEER_PUBLIC_KEY": key(1).base64, "WG_PEER_ALLOWED_IPS": "10.0.0.9/32",
            "WG_PEER_Z_PUBLIC_KEY": key(2).base64, "WG_PEER_Z_ALLOWED_IPS": "10.0.0.2/32",
            "WG_PEER_A1_PUBLIC_KEY_FILE": "/shared/a1.pub", "WG_PEER_A1_ALLOWED_IPS": "10.0.0.3/32",
        ])
        let config = try VPNConfig.parse(environment: env)
        #expect(config.peers.map(\.name) == [nil, "A1", "Z"])
        #expect(config.peers.map(\.variablePrefix) == ["WG_PEER_", "WG_PEER_A1_", "WG_PEER_Z_"])
    }

    @Test func invalidPeerNameIsNamed() {
        let found = problems(environment(["WG_PEER_NODE_B_ENDPOINT": "node-b:51820"]))
        #expect(found.map(\.variable) == ["WG_PEER_NODE_B_ENDPOINT"])
        #expect(found.first?.reason.contains("WG_PEER_NODEB_ENDPOINT") == true)
    }

    @Test func requiredFields() {
        let found = problems(environment(["WG_PEER_C_ENDPOINT": "node-c:51820"]))
        #expect(found.map(\.variable) == ["WG_PEER_C_PUBLIC_KEY", "WG_PEER_C_ALLOWED_IPS"])
        let both = problems(environment(["WG_PEER_C_PUBLIC_KEY_FILE": "/c.pub", "WG_PEER_C_PUBLIC_KEY": Keys.peerA], base: peerB))
        #expect(both.map(\.variable) == ["WG_PEER_C_PUBLIC_KEY_FILE", "WG_PEER_C_ALLOWED_IPS"])
    }

    @Test func sameKeyTwiceAndOwnKey() {
        let own = key(9).publicKey().base64
        let env = environment([
            "WG_PRIVATE_KEY": Keys.privateKey,
            "WG_PEER_C_PUBLIC_KEY": Keys.peerB, "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32",
            "WG_PEER_D_PUBLIC_KEY": own, "WG_PEER_D_ALLOWED_IPS": "10.0.0.4/32",
        ], base: peerB)
        let found = problems(env)
        #expect(found.map(\.variable) == ["WG_PEER_C_PUBLIC_KEY", "WG_PEER_D_PUBLIC_KEY"])
        #expect(found[0].reason == "is the same key as WG_PEER_B_PUBLIC_KEY")
        #expect(found[1].reason == "is this node's own public key (from WG_PRIVATE_KEY)")
        #expect(!found.contains { leaksKey($0.description, from: env) })
    }

    @Test func networkRoutedToTwoPeers() {
        let env = environment(["WG_PEER_C_PUBLIC_KEY": Keys.peerA, "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32, 10.0.0.2/32"], base: peerB)
        #expect(problems(env).map(\.description) == ["WG_PEER_C_ALLOWED_IPS: 10.0.0.2/32 is also in WG_PEER_B_ALLOWED_IPS"])
    }

    @Test func aPeerDialedOverTCPAloneGivesTheJumboMTU() throws {
        let config = try VPNConfig.parse(environment: environment(["WG_PEER_B_TCP_ENDPOINT": "gw:443"], base: peerB))
        #expect(config.usesTCPTransport && config.effectiveMTU == MTUChoice.jumboMTU)
    }

    @Test func unknownVariablesAreRejectedWithSuggestions() {
        let env = environment(["WG_ADRESS": "10.0.0.1/24", "WG_PEER_B_ENDPOIN": "x:1", "VPN_DEBUG": "1",
                               "WG_listen_port": "1", "WG_PEER_Q_ALLOWEDIPS": "10.0.0.5/32", "PATH": "/bin", "HOSTNAME": "a"])
        let found = problems(env)
        #expect(found.map(\.description) == [
            "VPN_DEBUG: unknown variable",
            "WG_ADRESS: unknown variable (did you mean WG_ADDRESS?)",
            "WG_PEER_B_ENDPOIN: unknown variable (did you mean WG_PEER_B_ENDPOINT?)",
            "WG_PEER_Q_ALLOWEDIPS: unknown variable (did you mean WG_PEER_Q_ALLOWED_IPS?)",
            "WG_listen_port: unknown variable (did you mean WG_LISTEN_PORT?)",
        ])
    }

    @Test func allProblemsAreCollectedAtOnce() {
        let env: [String: String] = [
            "WG_LISTEN_PORT": "70000", "WG_MTU": "12", "WG_FORWARD": "perhaps", "WG_PRIVATE_KEY": Keys.truncated,
            "WG_PEER_B_ENDPOINT": "node-b", "WG_PEER_B_PUBLIC_KEY": "nope", "WG_PEER_TLS_SNI": "x.example",
            "WG_PEER_ALLOWED_IPS": "10.0.0.3/32", "WG_PEER_PUBLIC_KEY_FILE": "/k", "WG_TYPO": "1",
        ]
        let found = problems(env)
        #expect(found.map(\.variable) == [
            "WG_ADDRESS", "WG_LISTEN_PORT", "WG_PRIVATE_KEY", "WG_MTU", "WG_FORWARD",
            "WG_PEER_TLS_SNI", "WG_PEER_B_PUBLIC_KEY", "WG_PEER_B_ENDPOINT", "WG_PEER_B_ALLOWED_IPS", "WG_TYPO",
        ])
        do {
            _ = try VPNConfig.parse(environment: env)
        } catch {
            #expect(error.description.split(separator: "\n").count == found.count)
            #expect(error.description.contains("WG_PEER_B_ENDPOINT: missing port in \"node-b\""))
            #expect(!error.description.contains(Keys.truncated))
        }
    }

    @Test func noPeersIsValid() throws {
        #expect(try VPNConfig.parse(environment: minimalEnvironment).peers.isEmpty)
    }
}
