/// What one scrape reports about a node, read when the scrape asks (no polling), and the metric
/// families it becomes. The WireGuard families carry the names and labels of
/// prometheus_wireguard_exporter (`interface`, `public_key`, `allowed_ips`), so its dashboards and
/// alerts work, plus `peer`: the NAME of the peer's variables (`b` for `WG_PEER_B_*`).
public struct NodeMetrics: Sendable {
    public struct Peer: Sendable {
        public var name: String
        public var publicKey: String
        public var allowedIPs: [String]
        public var sentBytes: UInt64
        public var receivedBytes: UInt64
        /// Unix seconds; nil: never.
        public var latestHandshake: Int64?

        public init(name: String, publicKey: String, allowedIPs: [String], sentBytes: UInt64, receivedBytes: UInt64, latestHandshake: Int64?) {
            self.name = name
            self.publicKey = publicKey
            self.allowedIPs = allowedIPs
            self.sentBytes = sentBytes
            self.receivedBytes = receivedBytes
            self.latestHandshake = latestHandshake
        }
    }

    /// A TCP or gateway peer's udp2tcp, as it reports its connection.
    public struct Transport: Sendable {
        public var peer: String
        public var connected: Bool
        public var reconnects: Int
        public var rotations: Int

        public init(peer: String, connected: Bool, reconnects: Int, rotations: Int) {
            self.peer = peer
            self.connected = connected
            self.reconnects = reconnects
            self.rotations = rotations
        }
    }

    public var interface: String
    public var version: String
    public var implementation: String
    public var keySource: String
    public var nodeName: String
    /// Nil when the device could not be read (the scrape still reports the rest).
    public var peers: [Peer]?
    /// Restarts of each supervised child, by name.
    public var childRestarts: [(child: String, restarts: Int)]
    public var transports: [Transport]
    /// Live-peer reloads by outcome (`applied`, `unchanged`, `refused`, `failed`).
    public var reloads: [(outcome: String, count: Int)]

    public init(interface: String, version: String, implementation: String, keySource: String, nodeName: String,
                peers: [Peer]?, childRestarts: [(child: String, restarts: Int)], transports: [Transport],
                reloads: [(outcome: String, count: Int)]) {
        self.interface = interface
        self.version = version
        self.implementation = implementation
        self.keySource = keySource
        self.nodeName = nodeName
        self.peers = peers
        self.childRestarts = childRestarts
        self.transports = transports
        self.reloads = reloads
    }

    public var families: [MetricFamily] {
        var families: [MetricFamily] = [
            MetricFamily("vpn_info", .gauge, help: "The node: vpn-init's version, WireGuard implementation, key source and node name.", [
                .init([("interface", interface), ("version", version), ("implementation", implementation),
                       ("key_source", keySource), ("node_name", nodeName)], 1),
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
