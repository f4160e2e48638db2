#if canImport(Glibc)
import Glibc
#endif
import Config
import NetlinkTestSupport
import NodeBoot
import Testing
import WireGuard
import WireGuardModel

/// The whole boot and teardown of a node (Boot.prepare, Boot.bringUp, the host's undo steps)
/// against a fake kernel: the exact requests in order, undo in reverse, a failure at every step
/// leaving nothing behind, and a restarted wireguard-go configured again.
@Suite(.serialized) struct BootSequenceTests {
    static let privateKey = WireGuardKey(bytes: [UInt8](repeating: 7, count: 32))!
    static let peerKey = WireGuardKey(bytes: [UInt8](repeating: 9, count: 32))!.publicKey()

    /// Node a: 10.0.0.1/24, one UDP peer at 192.0.2.2 with 10.0.0.2/32 and 10.9.0.0/16 (the
    /// second needs a route of its own), forwarding on, no masquerading.
    static func environment(_ node: FakeNode, _ extra: [String: String] = [:]) -> [String: String] {
        [
            "VPN_DATA_DIR": node.dataDirectory, "WG_ADDRESS": "10.0.0.1/24", "WG_PRIVATE_KEY": privateKey.base64,
            "WG_IMPLEMENTATION": "kernel", "WG_MASQUERADE": "off", "VPN_NODE_NAME": "node-a",
            "WG_PEER_B_PUBLIC_KEY": peerKey.base64, "WG_PEER_B_ALLOWED_IPS": "10.0.0.2/32,10.9.0.0/16",
            "WG_PEER_B_ENDPOINT": "192.0.2.2:51820", "LOG_LEVEL": "error",
        ].merging(extra) { $1 }
    }

    /// Boots a node on `node`; the host keeps its undo steps.
    static func boot(_ node: FakeNode, _ host: FakeHost, _ extra: [String: String] = [:]) throws(BootFailure) -> Tunnel {
        let settings = try Boot.prepare(environment: environment(node, extra), exportPublicKey: false)
        return try Boot.bringUp(settings, host: host, system: node)
    }

    /// Boots a fresh node (`prepare` first sets up what the boot will find), runs `body` on it,
    /// then runs the undo steps and expects nothing left behind.
    static func whileBooted(_ extra: [String: String] = [:], prepare: (FakeNode, FakeHost) -> Void = { _, _ in },
                            _ body: (FakeNode, FakeHost, Tunnel) throws -> Void) throws {
        let node = FakeNode()
        let host = FakeHost()
        prepare(node, host)
        let tunnel = try boot(node, host, extra)
        try withExtendedLifetime(tunnel) { try body(node, host, tunnel) }
        #expect(host.tearDown().isEmpty)
        #expect(node.leftovers.isEmpty)
    }

    /// The kernel path, in order: the link (looked up, created, read back), the WireGuard family
    /// and the device configuration, the link again for its index, MTU, address, up and the
    /// route the address does not cover; then the firewall in one batch and the generation
    /// request.
    static let kernelBoot = [
        "route RTM_GETLINK", "route RTM_NEWLINK", "route RTM_GETLINK",
        "generic CTRL_CMD_GETFAMILY", "generic WG_CMD_SET_DEVICE",
        "route RTM_GETLINK", "route RTM_NEWLINK", "route RTM_NEWADDR", "route RTM_NEWLINK", "route RTM_NEWROUTE",
        "netfilter NFNL_MSG_BATCH_BEGIN", "netfilter NFT_MSG_NEWTABLE", "netfilter NFT_MSG_DELTABLE", "netfilter NFT_MSG_NEWTABLE",
        "netfilter NFT_MSG_NEWCHAIN", "netfilter NFT_MSG_NEWRULE", "netfilter NFT_MSG_NEWRULE", "netfilter NFT_MSG_NEWRULE",
        "netfilter NFT_MSG_NEWRULE", "netfilter NFNL_MSG_BATCH_END", "netfilter NFT_MSG_GETGEN",
    ]

    @Test func kernelBootSendsExactlyTheseRequests() throws {
        try Self.whileBooted { node, _, tunnel in
            #expect(node.log == Self.kernelBoot)
            #expect(tunnel.backend.implementation == .kernel)
            // What the kernel now holds.
            let link = try #require(node.network.links.first { $0.name == "wg0" })
            #expect(link.kind == "wireguard" && link.mtu == 1420 && link.flags & 1 == 1)
            let device = try #require(node.network.device(named: "wg0"))
            #expect(device.privateKey == Self.privateKey && device.listenPort == 51820)
            #expect(device.peers.map(\.publicKey) == [Self.peerKey])
            #expect(device.peers.first?.endpoint?.description == "192.0.2.2:51820")
            #expect(node.network.addresses.map(\.prefixLength) == [24])
            #expect(node.network.routes.map(\.prefixLength) == [16])
            #expect(node.tables == ["vpn_init_wg0"])
            #expect(node.sysctls.values == ["net.ipv4.ip_forward": "1"])
            #expect(access("\(node.runtimeDirectory)/wg0.identity", F_OK) == 0)
        }
    }

    @Test func teardownUndoesInReverseOrder() throws {
        let node = FakeNode()
        let host = FakeHost()
        let tunnel = try Self.boot(node, host)
        #expect(host.teardownNames == ["identity file", "interface wg0", "nftables table inet vpn_init_wg0"])
        let booted = node.log.count
        #expect(host.tearDown().isEmpty)
        // The table goes first (one batch), then the link: the reverse of their creation.
        #expect(Array(node.log[booted...]) == [
            "netfilter NFNL_MSG_BATCH_BEGIN", "netfilter NFT_MSG_DELTABLE", "netfilter NFNL_MSG_BATCH_END", "netfilter NFT_MSG_GETGEN",
            "route RTM_GETLINK", "route RTM_DELLINK",
        ])
        #expect(node.leftovers.isEmpty)
        withExtendedLifetime(tunnel) {}
    }

    /// Every request of the boot fails in turn: the boot fails with the failed request named,
    /// and the undo steps leave no link, no table and no identity file.
    @Test func aFailureAtEachStepLeavesNothingBehind() throws {
        for step in 1...Self.kernelBoot.count {
            let node = FakeNode()
            node.failing = step
            let host = FakeHost()
            do {
                let tunnel = try Self.boot(node, host)
                Issue.record("step \(step) (\(Self.kernelBoot[step - 1])): the boot should fail")
                withExtendedLifetime(tunnel) {}
            } catch {
                #expect(error.exitCode == .failure || error.exitCode == .unavailable, "step \(step): \(error)")
                #expect(error.description.contains("Operation not permitted"), "step \(step): \(error)")
            }
            #expect(Array(node.log.prefix(step)) == Array(Self.kernelBoot.prefix(step)), "step \(step)")
            host.tearDown()
            #expect(node.leftovers.isEmpty, "step \(step) (\(Self.kernelBoot[step - 1])): \(node.leftovers)")
        }
    }

    /// A link of the interface's name left by a crash is replaced; the boot is otherwise the same.
    @Test func aStaleLinkIsReplaced() throws {
        try Self.whileBooted(prepare: { node, _ in node.network.addLink("wg0", kind: "veth") }) { node, _, _ in
            #expect(Array(node.log.prefix(3)) == ["route RTM_GETLINK", "route RTM_DELLINK", "route RTM_NEWLINK"])
            #expect(node.network.links.filter { $0.name == "wg0" }.map(\.kind) == ["wireguard"])
        }
    }

    /// The userspace path: wireguard-go is a supervised child on a TUN device, configured over the
    /// UAPI socket vpn-init hands it; after a restart it gets a new socket and the configuration
    /// and MTU again.
    @Test func aRestartedWireGuardGoIsConfiguredAgain() throws {
        let wireguardGo = FakeWireGuardGo()
        try Self.whileBooted(["WG_IMPLEMENTATION": "userspace", "WG_USERSPACE_BIN": "/bin/true"],
                             prepare: { _, host in host.wireguardGo = wireguardGo }) { node, host, tunnel in
            #expect(tunnel.backend.implementation == .userspace)
            #expect(host.children.map(\.name) == ["wireguard-go"])
            #expect(host.children.first?.arguments == ["/bin/true", "-f", "wg0"])
            #expect(node.network.links.first { $0.name == "wg0" }?.kind == "tun")
            #expect(wireguardGo.requests.count == 1)
            let request = try #require(wireguardGo.requests.first)
            #expect(request.hasPrefix("set=1\n") && request.contains("private_key=\(Self.privateKey.hex)"))
            #expect(request.contains("public_key=\(Self.peerKey.hex)") && request.contains("endpoint=192.0.2.2:51820"))
            // wireguard-go sets its own MTU as it starts: vpn-init sets the chosen one after its answer.
            node.network.links[node.network.links.firstIndex { $0.name == "wg0" }!].mtu = 1420
            let before = node.log.count
            try host.restart("wireguard-go", starts: 2)
            #expect(wireguardGo.requests.count == 2)
            #expect(wireguardGo.requests.last == request)
            #expect(node.log[before...].contains("route RTM_NEWLINK"))
        }
    }

    /// The configured MTU (`WG_MTU`, which the MTU rule lets win) reaches the kernel link.
    @Test func theChosenMTUIsSet() throws {
        try Self.whileBooted(["WG_MTU": "1300"]) { node, _, _ in
            #expect(node.network.links.first { $0.name == "wg0" }?.mtu == 1300)
        }
    }
}
