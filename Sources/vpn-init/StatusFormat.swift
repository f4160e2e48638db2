import NodeBoot
import VPNLog
import WireGuard
import WireGuardModel

/// How `vpn-init status` prints a device: `wg show`-like text, or one JSON object (snake_case). Neither ever contains a private or preshared key.
enum StatusFormat {
    static func text(_ device: WireGuardDevice, implementation: WireGuardImplementation, identity: NodeIdentity, now: Int64) -> String {
        var lines = ["interface: \(device.interfaceName) (\(implementation.rawValue))"]
        lines.append("  node: \(identity.nodeName) (key source \(identity.keySource.rawValue))")
        if let app = identity.appID, let instance = identity.instanceID {
            lines.append("  dstack app: \(app), instance: \(instance)")
        }
        lines.append("  public key: \(device.publicKey?.base64 ?? "(none)")")
        lines.append("  listening port: \(device.listenPort)")
        if device.fwmark != 0 { lines.append("  fwmark: 0x\(String(device.fwmark, radix: 16))") }
        for peer in device.peers {
            lines.append("")
            lines.append("peer: \(peer.publicKey.base64)")
            if let endpoint = peer.endpoint { lines.append("  endpoint: \(endpoint)") }
            let ips = peer.allowedIPs.map(\.description).joined(separator: ", ")
            lines.append("  allowed ips: \(ips.isEmpty ? "(none)" : ips)")
            if let handshake = peer.latestHandshake {
                lines.append("  latest handshake: \(max(0, now - handshake)) seconds ago")
            } else {
                lines.append("  latest handshake: never")
            }
            lines.append("  transfer: \(peer.rxBytes) B received, \(peer.txBytes) B sent")
            if peer.persistentKeepalive != 0 { lines.append("  persistent keepalive: every \(peer.persistentKeepalive) seconds") }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ device: WireGuardDevice, implementation: WireGuardImplementation, identity: NodeIdentity) -> String {
        let peers = device.peers.map { peer in
            object([
                ("public_key", string(peer.publicKey.base64)),
                ("endpoint", peer.endpoint.map { string($0.description) } ?? "null"),
                ("allowed_ips", "[" + peer.allowedIPs.map { string($0.description) }.joined(separator: ",") + "]"),
                ("latest_handshake", peer.latestHandshake.map(String.init) ?? "null"),
                ("rx_bytes", String(peer.rxBytes)),
                ("tx_bytes", String(peer.txBytes)),
                ("persistent_keepalive", String(peer.persistentKeepalive)),
            ])
        }
        return object([
            ("interface", string(device.interfaceName)),
            ("implementation", string(implementation.rawValue)),
            ("public_key", device.publicKey.map { string($0.base64) } ?? "null"),
            ("listen_port", String(device.listenPort)),
            ("fwmark", String(device.fwmark)),
            ("node_name", string(identity.nodeName)),
            ("key_source", string(identity.keySource.rawValue)),
        ] + (identity.keySource == .dstack ? [
            ("app_id", identity.appID.map(string) ?? "null"),
            ("instance_id", identity.instanceID.map(string) ?? "null"),
        ] : []) + [
            ("peers", "[" + peers.joined(separator: ",") + "]"),
        ])
    }

    private static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal.
    static func string(_ value: String) -> String {
        "\"" + Log.escaped(value) + "\""
    }
}
