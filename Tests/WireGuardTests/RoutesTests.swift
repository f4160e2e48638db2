import Testing
import WireGuard
import WireGuardModel

@Suite struct RoutesTests {
    static func networks(_ text: String) -> [IPNetwork] {
        text.split(separator: " ").map { try! IPNetwork(parsing: $0) }
    }

    @Test(arguments: [
        // Peer addresses inside the interface's /24 need no route of their own.
        ("10.0.0.2/32 10.0.0.3/32", "10.0.0.1/24", ""),
        // Networks behind a peer do; longest prefix first.
        ("10.0.0.2/32 192.168.10.0/24 10.8.0.0/16 fd00:1::/64", "10.0.0.1/24 fd00::1/64", "fd00:1::/64 192.168.10.0/24 10.8.0.0/16"),
        // A peer network wider than the interface's is not covered by it.
        ("10.0.0.0/16", "10.0.0.1/24", "10.0.0.0/16"),
        // Host bits are cleared and duplicates dropped.
        ("10.1.2.3/16 10.1.0.0/16 10.1.9.9/16", "10.0.0.1/32", "10.1.0.0/16"),
        // A /32 interface address covers only itself.
        ("10.0.0.2/32 10.0.0.1/32", "10.0.0.1/32", "10.0.0.2/32"),
        // Default routes are left to the caller.
        ("0.0.0.0/0 ::/0 10.5.0.0/16", "10.0.0.1/24", "10.5.0.0/16"),
        ("fd00::5/128 fd00::4/128", "10.0.0.1/24", "fd00::4/128 fd00::5/128"),
    ])
    func routesNeeded(allowed: String, addresses: String, expected: String) {
        #expect(Routes.needed(allowedIPs: Self.networks(allowed), interfaceAddresses: Self.networks(addresses)) == Self.networks(expected))
    }

    @Test func defaultRouteOnRequest() {
        #expect(Routes.needed(allowedIPs: Self.networks("0.0.0.0/0"), interfaceAddresses: [], includeDefault: true)
            == Self.networks("0.0.0.0/0"))
    }
}
