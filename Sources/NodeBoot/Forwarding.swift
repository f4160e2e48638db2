import Config
import Firewall
import FirewallRules
import Netlink
import NetlinkSocket
import Supervisor
import SystemCalls
import VPNLog
import WireGuard
import WireGuardModel

/// Forwarding and NAT for the VPN (`WG_FORWARD`, `WG_MASQUERADE`): the forwarding sysctls, and
/// vpn-init's own nftables table `inet vpn_init_<interface>`, which replaces the seed's
/// `iptables -A FORWARD ... ; iptables -t nat -A POSTROUTING ... -j MASQUERADE` PostUp lines.
/// The table is installed in one transaction (replacing one left by a crash), deleted at
/// shutdown, and no other table is touched.
enum Forwarding {
    /// Sets the sysctls (with `WG_FORWARD`), then installs the table. The table's removal is
    /// registered with `supervisor` before it is installed, so a failed boot leaves nothing.
    static func install(_ settings: BootSettings, supervisor: any BootHost, system: any NodeSystem) throws(BootFailure) {
        let config = settings.config
        let subnets = ForwardingRuleset.subnets(of: config.addresses)
        if config.forward {
            try setSysctls(ipv6: subnets.contains { $0.address.isV6 }, fwmark: config.fwmark != nil, using: system.sysctl)
        }
        let masquerade = try masqueradeRules(config.masquerade, subnets: subnets, system: system)
        let ruleset = ForwardingRuleset(interfaceName: config.interfaceName, acceptForwarded: config.forward, masquerade: masquerade)
        let table = ruleset.table

        let nftables: Nftables
        do { nftables = Nftables(transport: try system.netlink(.netfilter)) } catch { throw BootFailure(exitCode: .failure, "\(error)") }
        supervisor.addTeardown("nftables table \(table.family) \(table.name)") {
            if try nftables.delete(table.family, table: table.name) { Log.info("firewall removed", ("table", table)) }
        }
        do { try nftables.replace(table) } catch { throw BootFailure(exitCode: .failure, "\(error)") }

        var interfaces: [String] = []
        for rule in masquerade where !interfaces.contains(rule.outputInterface) { interfaces.append(rule.outputInterface) }
        Log.info("firewall installed", ("table", table),
                 ("masquerade", config.masquerade == .off ? "off" : interfaces.isEmpty ? "none" : interfaces.joined(separator: ",")),
                 ("forward", config.forward))
    }

    /// `net.ipv4.ip_forward=1`, with `src_valid_mark` when WireGuard marks its packets and
    /// IPv6 forwarding when the VPN has IPv6 addresses; each written only when it differs.
    private static func setSysctls(ipv6: Bool, fwmark: Bool, using access: any SysctlAccess) throws(BootFailure) {
        do {
            for sysctl in try Sysctls.apply(Sysctl.forwarding(ipv6: ipv6, fwmark: fwmark), using: access) {
                Log.debug("sysctl set", ("sysctl", sysctl))
            }
        } catch {
            throw BootFailure(exitCode: .failure, "WG_FORWARD: \(error)")
        }
    }

    /// One rule per VPN subnet and interface of its family: the default-route interface of each
    /// family (`auto`; none, logged, when there is no default route), the named interfaces, or
    /// none (`off`).
    private static func masqueradeRules(_ setting: Masquerade, subnets: [IPNetwork], system: any NodeSystem) throws(BootFailure) -> [ForwardingRuleset.Masquerade] {
        switch setting {
        case .off:
            return []
        case .interfaces(let names):
            return ForwardingRuleset.masquerade(subnets: subnets, ipv4Interfaces: names, ipv6Interfaces: names)
        case .auto:
            var ipv4: [String] = []
            var ipv6: [String] = []
            do {
                let routes = DefaultRoutes(connection: NetlinkConnection(transport: try system.netlink(.route)))
                if subnets.contains(where: { !$0.address.isV6 }) { ipv4 = try routes.interfaceNames(family: RouteNetlink.familyIPv4) }
                if subnets.contains(where: { $0.address.isV6 }) { ipv6 = try routes.interfaceNames(family: RouteNetlink.familyIPv6) }
            } catch {
                throw BootFailure(exitCode: .failure, "WG_MASQUERADE=auto: \(error)")
            }
            for (family, names, isV6) in [("ipv4", ipv4, false), ("ipv6", ipv6, true)]
            where names.isEmpty && subnets.contains(where: { $0.address.isV6 == isV6 }) {
                Log.info("no default route; not masquerading", ("family", family), ("variable", "WG_MASQUERADE=auto"))
            }
            return ForwardingRuleset.masquerade(subnets: subnets, ipv4Interfaces: ipv4, ipv6Interfaces: ipv6)
        }
    }
}
