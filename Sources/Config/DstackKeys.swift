import DstackAgent
import WireGuardModel

/// How dstack mode turns the guest agent's `GetKey` into WireGuard keys. Every instance of an app
/// gets the same key for the same path, so a node's key depends only on the app and the node's
/// name: it survives a wiped volume, a redeploy and a migration, and any node of the app can
/// derive any other node's public key without a key exchange.
public enum DstackKeys {
    /// Whether `name` can name a node: 1-63 of `a-z`, `0-9` and `-`.
    public static func isValidNodeName(_ name: String) -> Bool {
        (1...63).contains(name.utf8.count) && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }

    /// The `GetKey` path for a node: `dstack-vpn/wireguard/<node>`.
    public static func path(node: String) -> String { "dstack-vpn/wireguard/\(node)" }

    /// The `GetKey` purpose vpn-init sends (the agent signs the key for it; the key itself
    /// depends on the path only).
    public static let purpose = "wireguard"

    /// The node's private key: the first 32 bytes of the derived key, clamped.
    public static func privateKey(node: String, agent: GuestAgent) throws(GuestAgentError) -> WireGuardKey {
        // getKey refuses keys shorter than 32 bytes, so the initializer cannot fail.
        WireGuardKey(privateFrom: try agent.getKey(path: path(node: node), purpose: purpose, minimumLength: WireGuardKey.byteCount))!
    }

    /// The public key of another node of the same app.
    public static func publicKey(node: String, agent: GuestAgent) throws(GuestAgentError) -> WireGuardKey {
        try privateKey(node: node, agent: agent).publicKey()
    }
}
