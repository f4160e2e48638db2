#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Netlink
import NetlinkSocket
import SystemCalls
import Testing
import WireGuard
import WireGuardModel

/// Against the real kernel (rtnetlink) and a real wireguard-go, each test in a network
/// namespace of its own with nothing but loopback: no packet can leave the machine.
@Suite(.enabled(if: runningAsRoot, Comment(rawValue: rootOnly)), .serialized)
struct IntegrationTests {
    /// wireguard-go configured over UAPI and its tun set up over rtnetlink, as vpn-init does
    /// when the kernel has no WireGuard; read back with our client, with `wg` and with `ip -j`.
    @Test func wireguardGoBringUp() throws {
        let namespace = try TestNamespace("nlwg")
        defer { namespace.delete() }
        let interface = "wgt\(getpid() % 100_000)"
        let socketPath = "\(UserspaceWireGuard.defaultSocketDirectory)/\(interface).sock"
        #expect(Files.exists("/usr/bin/wireguard-go"), "wireguard-go is not installed (apt-get install wireguard-go)")

        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        daemon.arguments = ["ip", "netns", "exec", namespace.name, "wireguard-go", "-f", interface]
        daemon.environment = ["WG_PROCESS_FOREGROUND": "1", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer {
            if daemon.isRunning { daemon.terminate() }
            daemon.waitUntilExit()
        }
        try #require(waitFor(seconds: 10) { Files.exists(socketPath) }, "wireguard-go did not create \(socketPath)")

        // Configure it.
        let privateKey = try WireGuardKey.generatePrivate()
        let peerOne = try WireGuardKey.generatePrivate().publicKey()
        let peerTwo = try WireGuardKey.generatePrivate().publicKey()
        let preshared = try WireGuardKey.generatePreshared()
        let config = WireGuardDeviceConfig(interfaceName: interface, privateKey: privateKey, listenPort: 51999, fwmark: 0x42, replacePeers: true, peers: [
            WireGuardPeerConfig(publicKey: peerOne, presharedKey: preshared, endpoint: try Endpoint(parsing: "127.0.0.1:51998"),
                                replaceAllowedIPs: true,
                                allowedIPs: [try IPNetwork(parsing: "10.77.0.2/32"), try IPNetwork(parsing: "10.78.0.0/16"),
                                             try IPNetwork(parsing: "fd78::/64")]),
            WireGuardPeerConfig(publicKey: peerTwo, endpoint: try Endpoint(parsing: "[::1]:51997"), persistentKeepalive: 25,
                                replaceAllowedIPs: true, allowedIPs: [try IPNetwork(parsing: "10.77.0.3/32")]),
        ])
        let wireguard = UserspaceWireGuard(interfaceName: interface)
        try wireguard.configure(config)

        // Read it back.
        let device = try wireguard.device()
        #expect(device.interfaceName == interface)
        #expect(device.privateKey == privateKey)
        #expect(device.publicKey == privateKey.publicKey())
        #expect(device.listenPort == 51999)
        #expect(device.fwmark == 0x42)
        #expect(device.peers.count == 2)
        let one = try #require(device.peers.first { $0.publicKey == peerOne })
        let two = try #require(device.peers.first { $0.publicKey == peerTwo })
        #expect(one.presharedKey == preshared)
        #expect(one.endpoint == (try Endpoint(parsing: "127.0.0.1:51998")))
        #expect(Set(one.allowedIPs) == Set(config.peers[0].allowedIPs))
        #expect(one.latestHandshake == nil)
        #expect(two.endpoint == (try Endpoint(parsing: "[::1]:51997")))
        #expect(two.persistentKeepalive == 25)
        #expect(two.allowedIPs == config.peers[1].allowedIPs)

        // wireguard-tools reads the same through the same socket.
        let dump = try run(["ip", "netns", "exec", namespace.name, "wg", "show", interface, "dump"])
        let lines = dump.split(separator: "\n").map(String.init)
        let shown = try WireGuardShowDump.device(lines, interfaceName: interface)
        #expect(shown.privateKey == privateKey)
        #expect(Set(shown.peers.map(\.publicKey)) == [peerOne, peerTwo])
        #expect(Set(shown.peers.flatMap(\.allowedIPs)) == Set(config.peers.flatMap(\.allowedIPs)))

        // A second, partial change: replace one peer's allowed IPs, remove the other.
        try wireguard.configure(WireGuardDeviceConfig(interfaceName: interface, peers: [
            WireGuardPeerConfig(publicKey: peerOne, replaceAllowedIPs: true, allowedIPs: [try IPNetwork(parsing: "10.79.0.0/24")]),
            WireGuardPeerConfig(publicKey: peerTwo, remove: true),
        ]))
        let changed = try wireguard.device()
        #expect(changed.peers.map(\.publicKey) == [peerOne])
        #expect(changed.peers.first?.allowedIPs == [try IPNetwork(parsing: "10.79.0.0/24")])
        #expect(changed.listenPort == 51999)

        // A request the daemon refuses is its errno, named.
        #expect {
            try UAPI.checkSetResponse(try wireguard.exchange("set=1\nlisten_port=notaport\n\n"), interfaceName: interface)
        } throws: { error in
            guard let error = error as? SystemCallError else { return false }
            return error.systemCall == "uapi set" && error.object == interface && error.errno != 0
        }
        #expect(try wireguard.device().peers.count == 1)

        // Its tun over rtnetlink: MTU, addresses, up, routes.
        let links = try namespace.entered { try Links() }
        let link = try #require(try links.link(named: interface))
        #expect(link.kind == "tun")
        try links.setMTU(1380, of: link)
        let addresses = [try IPNetwork(parsing: "10.77.0.1/24"), try IPNetwork(parsing: "fd77::1/64")]
        for address in addresses {
            try links.addAddress(address, to: link)
            try links.addAddress(address, to: link)  // repeated: still fine
        }
        try links.setUp(link)
        let routes = Routes.needed(allowedIPs: changed.peers.flatMap(\.allowedIPs) + config.peers.flatMap(\.allowedIPs),
                                   interfaceAddresses: addresses)
        #expect(routes.map(\.description) == ["fd78::/64", "10.79.0.0/24", "10.78.0.0/16"])
        for route in routes {
            try links.addRoute(route, via: link)
            try links.addRoute(route, via: link)
        }

        let shownLink = try #require(try namespace.json(["link", "show", "dev", interface]).first)
        #expect(shownLink["mtu"] as? Int == 1380)
        #expect((shownLink["flags"] as? [String])?.contains("UP") == true)
        let shownAddresses = try namespace.json(["addr", "show", "dev", interface]).first?["addr_info"] as? [[String: Any]] ?? []
        let addressTexts = Set(shownAddresses.compactMap { info -> String? in
            guard let local = info["local"] as? String, let prefix = info["prefixlen"] as? Int else { return nil }
            return "\(local)/\(prefix)"
        })
        #expect(addressTexts.isSuperset(of: ["10.77.0.1/24", "fd77::1/64"]))
        let v4Routes = try namespace.json(["route", "show", "dev", interface]).compactMap { $0["dst"] as? String }
        let v6Routes = try namespace.json(["-6", "route", "show", "dev", interface]).compactMap { $0["dst"] as? String }
        #expect(Set(v4Routes).isSuperset(of: ["10.78.0.0/16", "10.79.0.0/24", "10.77.0.0/24"]))
        #expect(Set(v6Routes).isSuperset(of: ["fd78::/64", "fd77::/64"]))
        let routeDetails = try namespace.json(["-d", "route", "show", "10.78.0.0/16"])
        #expect(routeDetails.first?["protocol"] as? String == "boot")
        #expect(routeDetails.first?["scope"] as? String == "link")
        #expect(routeDetails.first?["type"] as? String == "unicast")

        // Deleting the link stops wireguard-go.
        #expect(try links.delete(named: interface))
        #expect(try links.link(named: interface) == nil)
        #expect(waitFor(seconds: 10) { !daemon.isRunning }, "wireguard-go kept running after its link was deleted")
    }

    /// This machine's kernel has no WireGuard: creating the link says so distinctly (and where
    /// the kernel has it, the link is made).
    @Test func kernelWireGuardLinkInAFreshNamespace() throws {
        let namespace = try TestNamespace("nlkw")
        defer { namespace.delete() }
        let (links, wireguard) = try namespace.entered { (try Links(), try KernelWireGuard(interfaceName: "wg0")) }
        let kernelHasWireGuard = Files.exists("/sys/module/wireguard")
        // A leftover link of another kind with the name is replaced, not an "exists" error.
        try links.add(named: "wg0", kind: "bridge")
        switch try links.addWireGuard(named: "wg0", ifExists: .reuse) {
        case .kernelLacksWireGuard(let error):
            #expect(!kernelHasWireGuard)
            #expect(error.errno == EOPNOTSUPP)
            #expect(error.description.hasPrefix("netlink RTM_NEWLINK wg0: Operation not supported (EOPNOTSUPP)"))
            #expect(try links.link(named: "wg0") == nil)
            #expect(throws: SystemCallError.self) { try wireguard.familyID() }
        case .created(let link), .reused(let link):
            #expect(kernelHasWireGuard)
            #expect(link.kind == "wireguard")
            try wireguard.configure(WireGuardDeviceConfig(interfaceName: "wg0", listenPort: 51990))
            #expect(try wireguard.device().listenPort == 51990)
        }
    }

    /// Plain rtnetlink errors carry the kernel's words.
    @Test func kernelErrorsAreNamed() throws {
        let namespace = try TestNamespace("nlke")
        defer { namespace.delete() }
        let links = try namespace.entered { try Links() }
        #expect(try links.link(named: "nosuch0") == nil)
        #expect(try !links.delete(named: "nosuch0"))
        let bridge = try links.add(named: "br9", kind: "bridge")
        #expect(bridge.kind == "bridge")
        #expect {
            try links.add(named: "br9", kind: "bridge")
        } throws: { error in
            guard case .system(let failure) = error as? LinkError else { return false }
            return failure.errno == EEXIST
        }
        #expect {
            try links.setMTU(70000, of: bridge)
        } throws: { error in
            guard let error = error as? SystemCallError else { return false }
            return error.systemCall == "netlink RTM_NEWLINK" && error.object == "br9" && error.errno == EINVAL
        }
        #expect(try links.delete(named: "br9"))
    }
}
