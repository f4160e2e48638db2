import Netlink
import NetlinkSocket
import NetlinkTestSupport
import SeededRandom
import SystemCalls
import Testing
import WireGuard
import WireGuardModel

/// `Links` and `KernelWireGuard` against the fake kernel.
@Suite struct KernelBackendTests {
    let network = FakeNetwork()
    var links: Links { Links(connection: NetlinkConnection(transport: network.route)) }

    func backend(_ name: String = "wg0") -> KernelWireGuard {
        KernelWireGuard(interfaceName: name, connection: NetlinkConnection(transport: network.generic))
    }

    @Test func kernelWithoutWireGuardIsReportedNotThrown() throws {
        network.hasWireGuard = false
        guard case .kernelLacksWireGuard(let error) = try links.addWireGuard(named: "wg0") else {
            Issue.record("expected kernelLacksWireGuard")
            return
        }
        #expect(error.description == "netlink RTM_NEWLINK wg0: Operation not supported (EOPNOTSUPP): Unknown device type")
        #expect(try links.link(named: "wg0") == nil)
    }

    @Test func createsReusesAndReplaces() throws {
        let links = self.links
        guard case .created(let link) = try links.addWireGuard(named: "wg0") else { Issue.record("not created"); return }
        #expect(link.name == "wg0" && link.kind == "wireguard")
        guard case .reused(let again) = try links.addWireGuard(named: "wg0", ifExists: .reuse) else { Issue.record("not reused"); return }
        #expect(again.index == link.index)
        guard case .created(let fresh) = try links.addWireGuard(named: "wg0", ifExists: .replace) else { Issue.record("not replaced"); return }
        #expect(fresh.index != link.index)
        let types = network.route.requests.suffix(4).map { RouteMessageType(rawValue: $0.type) }
        #expect(types == [.getLink, .deleteLink, .newLink, .getLink])
    }

    @Test func otherKindOfLinkIsReplacedEvenWhenReusing() throws {
        network.addLink("wg0", kind: "tun")
        guard case .created(let link) = try links.addWireGuard(named: "wg0", ifExists: .reuse) else { Issue.record("not created"); return }
        #expect(link.kind == "wireguard")
        #expect(network.links.filter { $0.name == "wg0" }.count == 1)
    }

    /// The whole bring-up, with the requests `ip` would send (compared with the fixtures: the
    /// link gets ifindex 3 here, as d0 had in the capture).
    @Test func bringUpSendsWhatIpSends() throws {
        network.addLink("d1", kind: "veth")
        let links = self.links
        guard case .created(let link) = try links.addWireGuard(named: "wg0") else { Issue.record("not created"); return }
        #expect(link.index == 3)
        try links.setMTU(1420, of: link)
        try links.addAddress(try IPNetwork(parsing: "10.0.0.1/24"), to: link)
        try links.addAddress(try IPNetwork(parsing: "10.0.0.1/24"), to: link)  // again: no error
        try links.setUp(link)
        try links.addRoute(try IPNetwork(parsing: "fd01::/48"), via: link)
        #expect(network.links.first { $0.name == "wg0" }?.mtu == 1420)
        #expect(network.links.first { $0.name == "wg0" }?.flags == RouteNetlink.interfaceUp)
        #expect(network.addresses.count == 2)
        #expect(network.routes.map(\.prefixLength) == [48])

        #expect(try links.delete(named: "wg0"))
        #expect(try !links.delete(named: "wg0"))
        let sent = network.route.requests.map { request in
            var request = request
            request.sequence = 1
            return request.encoded()
        }
        for fixture in ["rtm_newlink_wireguard", "rtm_setlink_mtu", "rtm_newaddr_v4_replace", "rtm_setlink_up",
                        "rtm_newroute_v6_replace", "rtm_dellink"] {
            #expect(sent.contains(try Fixture.bytes("netlink/\(fixture)")), "no request matches \(fixture)")
        }
    }

    @Test func badInterfaceNameIsRefusedBeforeSending() throws {
        #expect(throws: LinkError.invalidName(InterfaceNameError(name: "wg0/evil", problem: .characters))) {
            try links.add(named: "wg0/evil", kind: "wireguard")
        }
        #expect(throws: LinkError.invalidName(InterfaceNameError(name: "wireguard-tunnel0", problem: .tooLong))) {
            try links.addWireGuard(named: "wireguard-tunnel0")
        }
        #expect(LinkError.invalidName(InterfaceNameError(name: "wg0/evil", problem: .characters)).description
            == "interface name \"wg0/evil\" may only contain a-z, A-Z, 0-9 and _=+.-")
        // No link can have such a name: a lookup finds none without asking the kernel.
        #expect(try links.link(named: "wg0\u{0}x") == nil)
        #expect(try !links.delete(named: "wg0/evil"))
        #expect(network.route.requests.isEmpty)
    }

    @Test func configureAndReadBack() throws {
        network.addLink("wg0", kind: "wireguard")
        network.dumpLimit = 1500
        var generator = SeededGenerator(seed: 77)
        let config = RandomConfig.config(&generator, maxPeers: 40, maxAllowedIPs: 300)
        let wireguard = backend()
        try wireguard.configure(config)
        let device = try wireguard.device()
        #expect(device.interfaceName == "wg0")
        #expect(device.privateKey == config.privateKey)
        #expect(device.publicKey == config.privateKey?.publicKey())
        #expect(device.listenPort == config.listenPort)
        #expect(device.fwmark == config.fwmark ?? 0)
        #expect(device.peers.map(\.publicKey) == config.peers.map(\.publicKey))
        #expect(device.peers.map(\.allowedIPs) == config.peers.map(\.allowedIPs))
        #expect(device.peers.map(\.endpoint) == config.peers.map(\.endpoint))
        #expect(device.peers.map(\.presharedKey) == config.peers.map(\.presharedKey))
        // One family lookup, then SET messages, then the dump.
        #expect(network.generic.requests.filter { $0.type == GenericNetlink.controllerFamily }.count == 1)
        #expect(network.generic.requests.count > 3)
    }

    /// REPLACE_ALLOWEDIPS clears a peer's list once: all of a long new list survives the split.
    @Test func replacingALongAllowedIPListKeepsAllOfIt() throws {
        network.addLink("wg0", kind: "wireguard")
        let peer = WireGuardKey(bytes: [UInt8](repeating: 7, count: 32))!
        let old = (0..<50).map { IPNetwork(address: .v4([10, 1, 0, UInt8($0)]), prefixLength: 32) }
        let new = (0..<400).map { IPNetwork(address: .v4([10, 2, UInt8($0 / 256), UInt8($0 % 256)]), prefixLength: 32) }
        let wireguard = backend()
        try wireguard.configure(WireGuardDeviceConfig(interfaceName: "wg0", peers: [WireGuardPeerConfig(publicKey: peer, allowedIPs: old)]))
        try wireguard.configure(WireGuardDeviceConfig(interfaceName: "wg0", peers: [
            WireGuardPeerConfig(publicKey: peer, replaceAllowedIPs: true, allowedIPs: new),
        ]))
        #expect(network.generic.requests.count > 4)
        #expect(try wireguard.device().peers.map(\.allowedIPs) == [new])
    }

    @Test func replacePeersDropsTheOthers() throws {
        network.addLink("wg0", kind: "wireguard")
        let wireguard = backend()
        let first = WireGuardKey(bytes: [UInt8](repeating: 1, count: 32))!
        let second = WireGuardKey(bytes: [UInt8](repeating: 2, count: 32))!
        try wireguard.configure(WireGuardDeviceConfig(interfaceName: "wg0", peers: [WireGuardPeerConfig(publicKey: first)]))
        try wireguard.configure(WireGuardDeviceConfig(interfaceName: "wg0", peers: [WireGuardPeerConfig(publicKey: second)]))
        #expect(try wireguard.device().peers.map(\.publicKey) == [first, second])
        try wireguard.configure(WireGuardDeviceConfig(interfaceName: "wg0", replacePeers: true, peers: [WireGuardPeerConfig(publicKey: second)]))
        #expect(try wireguard.device().peers.map(\.publicKey) == [second])
    }

    @Test func missingDeviceNamesTheCommand() {
        #expect(throws: WireGuardConfigError.system(SystemCallError("netlink WG_CMD_SET_DEVICE", "wg0", errno: 19))) {
            try backend().configure(WireGuardDeviceConfig(interfaceName: "wg0", listenPort: 1))
        }
        #expect(throws: SystemCallError("netlink WG_CMD_GET_DEVICE", "wg0", errno: 19)) { try backend().device() }
    }

    @Test func kernelWithoutWireGuardHasNoFamily() {
        network.hasWireGuard = false
        #expect {
            try backend().familyID()
        } throws: { error in
            (error as? SystemCallError)?.description == "netlink CTRL_CMD_GETFAMILY wireguard: No such file or directory (ENOENT)"
        }
    }

    /// A configuration that cannot be sent is a validation error, sent to no kernel.
    @Test func aConfigurationThatCannotBeSentIsRefusedBeforeSending() throws {
        let refused = WireGuardConfigError.invalid(interface: "wg0", reason: "the configuration is for \"wg1\"")
        #expect(throws: refused) { try backend().configure(WireGuardDeviceConfig(interfaceName: "wg1")) }
        #expect(refused.description == "invalid WireGuard configuration for wg0: the configuration is for \"wg1\"")
        let named = WireGuardPeerConfig(publicKey: WireGuardKey(bytes: [UInt8](repeating: 7, count: 32))!,
                                        endpoint: try Endpoint(parsing: "node-b:51820"))
        #expect {
            try backend().configure(WireGuardDeviceConfig(interfaceName: "wg0", peers: [named]))
        } throws: { error in
            guard case .invalid(_, let reason) = error as? WireGuardConfigError else { return false }
            return reason.hasSuffix("endpoint \"node-b:51820\" is not an IP address; resolve it first")
        }
        #expect(network.generic.requests.isEmpty)
    }
}
