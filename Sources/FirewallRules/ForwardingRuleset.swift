import Netlink
import WireGuardModel

/// The table vpn-init owns, `inet vpn_init_<interface>`: a `forward` chain clamping the MSS of
/// TCP SYNs in and out of the WireGuard interface to the route MTU (so a jumbo tunnel MTU never
/// makes a forwarded connection send more than the link beyond it takes, and a small one is
/// never exceeded) and accepting that traffic, and a `postrouting` chain masquerading
/// VPN-sourced traffic leaving chosen interfaces. Either chain is left out when it would have
/// no rules.
public struct ForwardingRuleset: Hashable, Sendable {
    /// Masquerade traffic from `source` leaving `outputInterface`.
    public struct Masquerade: Hashable, Sendable, CustomStringConvertible {
        /// The source network, host bits cleared.
        public var source: IPNetwork
        public var outputInterface: String

        public init(source: IPNetwork, outputInterface: String) {
            self.source = source.masked
            self.outputInterface = outputInterface
        }

        /// `10.0.0.0/24->eth0`.
        public var description: String { "\(source)->\(outputInterface)" }
    }

    /// The WireGuard interface, e.g. `wg0`.
    public var interfaceName: String
    /// Whether to accept forwarded traffic in and out of the interface (`WG_FORWARD`).
    public var acceptForwarded: Bool
    /// The masquerade rules, in order.
    public var masquerade: [Masquerade]

    public init(interfaceName: String, acceptForwarded: Bool, masquerade: [Masquerade]) {
        self.interfaceName = interfaceName
        self.acceptForwarded = acceptForwarded
        self.masquerade = masquerade
    }

    /// `vpn_init_<interface>`: the table's name.
    public static func tableName(interface: String) -> String { "vpn_init_\(interface)" }

    /// The table's family: `inet`, one table for IPv4 and IPv6.
    public static let family = NetfilterFamily.inet

    /// The table's name.
    public var tableName: String { Self.tableName(interface: interfaceName) }

    /// The VPN subnets: the interface addresses' networks, host bits cleared, without
    /// duplicates, in the order given.
    public static func subnets(of addresses: [IPNetwork]) -> [IPNetwork] {
        var seen = Set<IPNetwork>()
        return addresses.map(\.masked).filter { seen.insert($0).inserted }
    }

    /// A rule per subnet and interface of its family: each subnet (in order) with each of
    /// `ipv4Interfaces` or `ipv6Interfaces` (in order, duplicates dropped).
    public static func masquerade(subnets: [IPNetwork], ipv4Interfaces: [String], ipv6Interfaces: [String]) -> [Masquerade] {
        subnets.flatMap { subnet in
            var seen = Set<String>()
            return (subnet.address.isV6 ? ipv6Interfaces : ipv4Interfaces)
                .filter { seen.insert($0).inserted }
                .map { Masquerade(source: subnet, outputInterface: $0) }
        }
    }

    /// The table, as nft would read it from
    /// `table inet vpn_init_wg0 { chain forward { ... } chain postrouting { ... } }`.
    public var table: NftablesTable {
        var chains: [NftablesChain] = []
        if acceptForwarded {
            chains.append(NftablesChain(name: "forward", hook: .filterForward, rules: [
                .clampMSS(.inputInterfaceName, interfaceName), .clampMSS(.outputInterfaceName, interfaceName),
                .acceptInput(from: interfaceName), .acceptOutput(to: interfaceName),
            ]))
        }
        if !masquerade.isEmpty {
            chains.append(NftablesChain(name: "postrouting", hook: .natPostrouting, rules: masquerade.map {
                .masquerade(source: $0.source, outputInterface: $0.outputInterface)
            }))
        }
        return NftablesTable(family: Self.family, name: tableName, chains: chains)
    }
}
