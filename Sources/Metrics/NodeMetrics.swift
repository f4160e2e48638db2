/// What one scrape reports about a node, read when the scrape asks (no polling), and the metric
/// families it becomes. The WireGuard families carry the names and labels of
/// prometheus_wireguard_exporter (`interface`, `public_key`, `allowed_ips`), so its dashboards and
/// alerts work, plus `peer`: the NAME of the peer's variables (`b` for `WG_PEER_B_*`).
public struct NodeMetrics: Sendable {
    /// A peer as the device reports it: its NAME, key, allowed IPs, counters and the Unix time of
    /// its latest handshake (nil: never).
    public typealias Peer = (name: String, publicKey: String, allowedIPs: [String], sentBytes: UInt64, receivedBytes: UInt64,
                             latestHandshake: Int64?)
    /// A TCP or gateway peer's udp2tcp, as it reports its connection.
    public typealias Transport = (peer: String, connected: Bool, reconnects: Int, rotations: Int)
    /// The node: `interface`, `version`, `implementation`, `key_source`, `node_name`.
    public typealias Info = (interface: String, version: String, implementation: String, keySource: String, nodeName: String)

    public var info: Info
    /// Nil when the device could not be read (the scrape still reports the rest).
    public var peers: [Peer]?
    /// Restarts of each supervised child, by name.
    public var childRestarts: [(child: String, restarts: Int)]
    public var transports: [Transport]
    /// Live-peer reloads by outcome (`applied`, `unchanged`, `refused`, `failed`).
    public var reloads: [(outcome: String, count: Int)]

    public init(_ info: Info, peers: [Peer]?, childRestarts: [(child: String, restarts: Int)], transports: [Transport],
                reloads: [(outcome: String, count: Int)]) {
        (self.info, self.peers, self.childRestarts, self.transports, self.reloads) = (info, peers, childRestarts, transports, reloads)
    }

    public var families: [MetricFamily] {
        let interface = info.interface
        var families: [MetricFamily] = [
            MetricFamily("vpn_info", .gauge, help: "The node: vpn-init's version, WireGuard implementation, key source and node name.", [
                .init([("interface", interface), ("version", info.version), ("implementation", info.implementation),
                       ("key_source", info.keySource), ("node_name", info.nodeName)], 1),
            ]),
            MetricFamily("vpn_device_up", .gauge, help: "Whether the WireGuard device could be read for this scrape.", [
                .init([("interface", interface)], peers == nil ? 0 : 1),
            ]),
        ]
        if let peers {
            let labels = { (peer: Peer) in
                [("interface", interface), ("public_key", peer.publicKey), ("allowed_ips", peer.allowedIPs.joined(separator: ",")),
                 ("peer", peer.name)]
            }
            families += [
                MetricFamily("wireguard_sent_bytes_total", .counter, help: "Bytes sent to the peer",
                             peers.map { .init(labels($0), Double($0.sentBytes)) }),
                MetricFamily("wireguard_received_bytes_total", .counter, help: "Bytes received from the peer",
                             peers.map { .init(labels($0), Double($0.receivedBytes)) }),
                MetricFamily("wireguard_latest_handshake_seconds", .gauge,
                             help: "UNIX timestamp seconds of the last handshake (0: never)",
                             peers.map { .init(labels($0), Double($0.latestHandshake ?? 0)) }),
            ]
        }
        families.append(MetricFamily("vpn_child_restarts_total", .counter, help: "Restarts of each supervised child process.",
                                     childRestarts.map { .init([("child", $0.child)], Double($0.restarts)) }))
        if !transports.isEmpty {
            families += [
                MetricFamily("vpn_transport_connected", .gauge, help: "Whether the peer's udp2tcp has its TCP (or TLS) connection up.",
                             transports.map { .init([("peer", $0.peer)], $0.connected ? 1 : 0) }),
                MetricFamily("vpn_transport_reconnects_total", .counter,
                             help: "Connections the peer's udp2tcp made after its first (cuts by the gateway, restarts).",
                             transports.map { .init([("peer", $0.peer)], Double($0.reconnects)) }),
                MetricFamily("vpn_transport_rotations_total", .counter,
                             help: "Connections the peer's udp2tcp replaced before the gateway's age limit.",
                             transports.map { .init([("peer", $0.peer)], Double($0.rotations)) }),
            ]
        }
        families.append(MetricFamily("vpn_peer_reloads_total", .counter, help: "Live-peer reloads of WG_PEERS_FILE by outcome.",
                                     reloads.map { .init([("outcome", $0.outcome)], Double($0.count)) }))
        return families
    }
}
