import Firewall
import FirewallRules
import Testing
import WireGuardModel

/// Which chains and rules vpn-init's table gets for a configuration.
@Suite struct ForwardingRulesetTests {
    static func networks(_ texts: [String]) -> [IPNetwork] { texts.map { try! IPNetwork(parsing: $0) } }

    @Test func subnetsAreMaskedAndDeduplicatedInOrder() {
        let subnets = ForwardingRuleset.subnets(of: Self.networks(["10.0.0.1/24", "fd00::1/64", "10.0.0.9/24", "10.1.0.1/16"]))
        #expect(subnets == Self.networks(["10.0.0.0/24", "fd00::/64", "10.1.0.0/16"]))
    }

    @Test func masqueradePairsEachSubnetWithItsFamilysInterfaces() {
        let rules = ForwardingRuleset.masquerade(subnets: Self.networks(["10.0.0.0/24", "fd00::/64"]),
                                                 ipv4Interfaces: ["eth0", "lan0", "eth0"], ipv6Interfaces: ["eth1"])
        #expect(rules.map(\.description) == ["10.0.0.0/24->eth0", "10.0.0.0/24->lan0", "fd00::/64->eth1"])
        #expect(ForwardingRuleset.masquerade(subnets: Self.networks(["fd00::/64"]), ipv4Interfaces: ["eth0"], ipv6Interfaces: []).isEmpty)
    }

    @Test(arguments: [
        (true, true, ["forward", "postrouting"]),
        (true, false, ["forward"]),
        (false, true, ["postrouting"]),
        (false, false, []),
    ])
    func chainsPresentOnlyWithRules(_ forward: Bool, _ masquerade: Bool, _ chains: [String]) {
        let rules = masquerade ? [ForwardingRuleset.Masquerade(source: Self.networks(["10.0.0.1/24"])[0], outputInterface: "eth0")] : []
        let table = ForwardingRuleset(interfaceName: "wg7", acceptForwarded: forward, masquerade: rules).table
        #expect(table.description == "inet/vpn_init_wg7")
        #expect(table.chains.map(\.name) == chains)
        if forward {
            #expect(table.chains[0].hook == .filterForward)
            #expect(table.chains[0].rules == [.clampMSS(.inputInterfaceName, "wg7"), .clampMSS(.outputInterfaceName, "wg7"),
                                              .acceptInput(from: "wg7"), .acceptOutput(to: "wg7")])
        }
        if masquerade {
            #expect(table.chains.last?.hook == .natPostrouting)
            #expect(table.chains.last?.rules == [.masquerade(source: Self.networks(["10.0.0.0/24"])[0], outputInterface: "eth0")])
        }
    }
}
