#if canImport(Glibc)
import Glibc
#endif
import Netlink
import SystemCalls
import WireGuard
import WireGuardModel

/// What `vpn-init health` and the metrics listener's `/healthz` answer: the interface exists,
/// is up and has its key and listen port; with a maximum handshake age, every peer also shook
/// hands within it.
public enum Health {
    public struct Verdict: Equatable, Sendable {
        public var healthy: Bool
        /// `healthy: wg0 up, 2 peer(s)` or `unhealthy: <reason>`.
        public var line: String
    }

    public static func check(interface: String, links: Links, device readDevice: () throws(SystemCallError) -> WireGuardDevice,
                             maxHandshakeAge: Int64?, now: Int64) -> Verdict {
        let unhealthy = { (reason: String) in Verdict(healthy: false, line: "unhealthy: \(reason)") }
        do {
            guard let link = try links.link(named: interface) else { return unhealthy("interface \(interface) does not exist") }
            guard link.flags & RouteNetlink.interfaceUp != 0 else { return unhealthy("interface \(interface) is down") }
            let device = try readDevice()
            guard device.publicKey != nil, device.listenPort != 0 else {
                return unhealthy("interface \(interface) has no private key or listen port")
            }
            if let maxHandshakeAge {
                for peer in device.peers {
                    guard let handshake = peer.latestHandshake, now - handshake <= maxHandshakeAge else {
                        let age = peer.latestHandshake.map { "\(now - $0) s ago" } ?? "never"
                        return unhealthy("peer \(peer.publicKey.base64) last shook hands \(age) (limit \(maxHandshakeAge) s)")
                    }
                }
            }
            return Verdict(healthy: true, line: "healthy: \(interface) up, \(device.peers.count) peer(s)")
        } catch {
            return unhealthy("\(error)")
        }
    }
}

/// Seconds since the Unix epoch (handshake times are given in them).
public func wallClockSeconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec)
}
