@testable import Config
import DstackAgent
import Testing
import WireGuardModel

/// A dstack-mode node: derived key, named node-a.
let dstackNode = environment(["VPN_KEY_SOURCE": "dstack", "VPN_NODE_NAME": "node-a"])

/// Peer B as a node of the same app, reached through the gateway.
let gatewayPeerB = environment([
    "WG_PEER_B_NODE": "node-b", "WG_PEER_B_ALLOWED_IPS": "10.0.0.2/32",
    "WG_PEER_B_GATEWAY": "0123abcd-51820.dstack.example",
], base: dstackNode)

@Suite struct DstackConfigTests {
    @Test func dstackModeDerivesTheKeyForTheNodeName() throws {
        let config = try VPNConfig.parse(environment: gatewayPeerB)
        #expect(config.keySource == .dstack && config.nodeName == "node-a")
        #expect(config.privateKey == .dstack(nodeName: "node-a"))
        #expect(config.agentEndpoint == nil && config.gatewayConnectionLifetime == 16200)
        let peer = try #require(config.peers.first)
        #expect(peer.publicKey == .node("node-b"))
        #expect(peer.dialTarget?.description == "0123abcd-51820.dstack.example:443")
        #expect(peer.dialServerName == "0123abcd-51820.dstack.example")
        #expect(peer.persistentKeepalive == 25, "a gateway peer keeps its connection alive by default")
        #expect(config.usesTCPTransport)
    }

    @Test func gatewayPortAndKeepaliveCanBeSet() throws {
        let config = try VPNConfig.parse(environment: environment([
            "WG_PEER_B_GATEWAY": "b-51820.gw.example:8443", "WG_PEER_B_PERSISTENT_KEEPALIVE": "off",
            "VPN_GATEWAY_CONNECTION_LIFETIME": "0", "DSTACK_SIMULATOR_ENDPOINT": "http://127.0.0.1:8090",
        ], base: gatewayPeerB))
        #expect(config.peers[0].dialTarget?.port == 8443)
        #expect(config.peers[0].persistentKeepalive == nil)
        #expect(config.gatewayConnectionLifetime == 0)
        #expect(config.agentEndpoint == .http(host: "127.0.0.1", port: 8090))
    }

    @Test func fileModeIsTheDefault() throws {
        let config = try VPNConfig.parse(environment: minimalEnvironment)
        #expect(config.keySource == .file && config.nodeName == nil)
    }

    /// Each environment and the problems it must give (variable: reason fragment).
    static let badCases: [([String: String?], [String])] = [
        (["VPN_KEY_SOURCE": "tdx"], ["VPN_KEY_SOURCE"]),
        (["VPN_KEY_SOURCE": "dstack"], ["VPN_NODE_NAME"]),
        (["VPN_NODE_NAME": "Node_A"], ["VPN_NODE_NAME"]),
        (["VPN_NODE_NAME": String(repeating: "a", count: 64)], ["VPN_NODE_NAME"]),
        (["VPN_KEY_SOURCE": "dstack", "VPN_NODE_NAME": "a", "WG_PRIVATE_KEY": Keys.privateKey], ["WG_PRIVATE_KEY"]),
        (["VPN_KEY_SOURCE": "dstack", "VPN_NODE_NAME": "a", "WG_PRIVATE_KEY_FILE": "/k"], ["WG_PRIVATE_KEY_FILE"]),
        (["DSTACK_SIMULATOR_ENDPOINT": "dstack.sock"], ["DSTACK_SIMULATOR_ENDPOINT"]),
        (["DSTACK_SIMULATOR_ENDPOINT": "https://127.0.0.1:1"], ["DSTACK_SIMULATOR_ENDPOINT"]),
        (["VPN_GATEWAY_CONNECTION_LIFETIME": "-1"], ["VPN_GATEWAY_CONNECTION_LIFETIME"]),
        (["VPN_GATEWAY_CONNECTION_LIFETIME": "4.5h"], ["VPN_GATEWAY_CONNECTION_LIFETIME"]),
        // NODE without the dstack source, equal to the node's own name, or with a key.
        (["WG_PEER_C_NODE": "node-c", "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32"], ["WG_PEER_C_NODE"]),
        (["WG_PEER_C_NODE": "node-a", "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32"].merging(dstackNode) { mine, _ in mine }, ["WG_PEER_C_NODE"]),
        (["WG_PEER_C_NODE": "node-c", "WG_PEER_C_PUBLIC_KEY": Keys.peerA, "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32"]
            .merging(dstackNode) { mine, _ in mine }, ["WG_PEER_C_NODE"]),
        (["WG_PEER_C_NODE": "Node C", "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32"].merging(dstackNode) { mine, _ in mine }, ["WG_PEER_C_NODE"]),
        // Two peers naming one node.
        (["WG_PEER_C_NODE": "node-b", "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32"].merging(gatewayPeerB) { mine, _ in mine }, ["WG_PEER_C_NODE"]),
        // GATEWAY is a DNS name, and excludes the other ways of reaching the peer.
        (["WG_PEER_B_GATEWAY": "192.0.2.1:443"].merging(gatewayPeerB) { mine, _ in mine }, ["WG_PEER_B_GATEWAY"]),
        (["WG_PEER_B_GATEWAY": "gw.example:0"].merging(gatewayPeerB) { mine, _ in mine }, ["WG_PEER_B_GATEWAY"]),
        (["WG_PEER_B_GATEWAY": "under_score.example"].merging(gatewayPeerB) { mine, _ in mine }, ["WG_PEER_B_GATEWAY"]),
        (["WG_PEER_B_ENDPOINT": "b:51820"].merging(gatewayPeerB) { mine, _ in mine }, ["WG_PEER_B_ENDPOINT"]),
        (["WG_PEER_B_TCP_ENDPOINT": "b:51820"].merging(gatewayPeerB) { mine, _ in mine }, ["WG_PEER_B_TCP_ENDPOINT"]),
        (["WG_PEER_B_TLS_SNI": "b.example"].merging(gatewayPeerB) { mine, _ in mine }, ["WG_PEER_B_TLS_SNI"]),
    ]

    @Test(arguments: badCases)
    func badInput(_ extra: [String: String?], _ variables: [String]) {
        let found = problems(environment(extra))
        #expect(found.map(\.variable) == variables, "\(found)")
        #expect(!found.contains { $0.description.contains("\n") })
    }

    @Test func problemsSayWhatToDo() {
        let withoutSource = problems(environment(["WG_PEER_C_NODE": "node-c", "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32"]))
        #expect(withoutSource.first?.reason.contains("VPN_KEY_SOURCE=dstack") == true)
        #expect(withoutSource.first?.reason.contains("WG_PEER_C_PUBLIC_KEY") == true)
        let own = problems(environment(["WG_PEER_C_NODE": "node-a", "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32"], base: dstackNode))
        #expect(own.first?.reason == "\"node-a\" is this node's own name (VPN_NODE_NAME)")
    }

    @Test func gatewayCAFileIsAllowed() throws {
        let config = try VPNConfig.parse(environment: environment(["WG_PEER_B_TLS_CA_FILE": "/etc/ca.pem"], base: gatewayPeerB))
        #expect(config.peers[0].tlsCAFile == "/etc/ca.pem")
    }

    @Test func renderLeavesTheDerivedKeyOut() throws {
        let config = try VPNConfig.parse(environment: gatewayPeerB)
        let text = config.quickConfig(privateKey: key(9), peerKeys: [(key(2), nil)]).render(privateKeyNote: "derived")
        #expect(!text.contains(key(9).base64))
        #expect(text.contains("# PrivateKey: derived"))
        #expect(!text.contains("Endpoint"), "a gateway peer has no endpoint until its udp2tcp is started")
    }

    @Test func derivationPathAndClamping() {
        #expect(DstackKeys.path(node: "node-a") == "dstack-vpn/wireguard/node-a")
        let secret = [UInt8](repeating: 0xFF, count: 64)
        let key = WireGuardKey(privateFrom: secret)!
        #expect(key.bytes[0] == 0xF8 && key.bytes[31] == 0x7F && key.bytes.count == 32)
        #expect(WireGuardKey(privateFrom: [UInt8](repeating: 1, count: 31)) == nil)
        // Clamping never changes the public key.
        let unclamped = WireGuardKey(bytes: Array(secret.prefix(32)))!
        #expect(unclamped.publicKey() == key.publicKey())
    }
}
