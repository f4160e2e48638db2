/// Which routes a WireGuard interface needs.
public enum Routes {
    /// The networks to route through the interface: every peer AllowedIP (host bits cleared,
    /// duplicates dropped) that no interface address's own network already covers (the kernel
    /// adds that route with the address), longest prefix first, then IPv4 before IPv6, then by
    /// address. A /0 network (a default route) is left out unless `includeDefault`: routing
    /// everything through the tunnel also needs policy routing for the tunnel's own packets, as
    /// wg-quick does with a fwmark, or the endpoint becomes unreachable.
    public static func needed(allowedIPs: [IPNetwork], interfaceAddresses: [IPNetwork],
                              includeDefault: Bool = false) -> [IPNetwork] {
        let covering = interfaceAddresses.map(\.masked)
        var seen = Set<IPNetwork>()
        var routes: [IPNetwork] = []
        for network in allowedIPs.map(\.masked) {
            if network.prefixLength == 0 && !includeDefault { continue }
            if covering.contains(where: { $0.contains(network) }) { continue }
            if seen.insert(network).inserted { routes.append(network) }
        }
        return routes.sorted { a, b in
            if a.prefixLength != b.prefixLength { return a.prefixLength > b.prefixLength }
            if a.address.isV6 != b.address.isV6 { return !a.address.isV6 }
            return a.address.bytes.lexicographicallyPrecedes(b.address.bytes)
        }
    }
}
