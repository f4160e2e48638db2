/// The interface MTU and why (README.md, "Interface MTU"). The largest safe MTU depends on how
/// each peer's packets travel:
/// - a peer dialed through a local udp2tcp (`TCP_ENDPOINT`, `GATEWAY`) exchanges WireGuard's
///   datagrams with it over loopback, and the TCP stream beyond does not care about their size;
/// - a peer without `ENDPOINT` on a node with `WG_TCP_LISTEN` is taken to arrive through tcp2udp,
///   again over loopback;
/// - any other peer (an `ENDPOINT` reached over UDP, or no endpoint on a node that does not
///   listen on TCP, so it can only arrive over UDP) may carry WireGuard over a real network,
///   where a 1500-byte link leaves 1420.
///
/// So a node none of whose peers uses UDP over a network (and that has a peer or listens on TCP)
/// gets `jumboMTU`; any other node gets 1420; `WG_MTU` always wins.
public struct MTUChoice: Equatable, Sendable, CustomStringConvertible {
    /// The MTU to set on the interface.
    public var mtu: Int
    /// Why, for the log: `WG_MTU`, or the peer that rules out a jumbo MTU.
    public var reason: String

    public var description: String { "\(mtu) (\(reason))" }

    /// The MTU for a node that may carry WireGuard over UDP on a network: room for WireGuard's
    /// 80 bytes of overhead (outer IPv6) on a 1500-byte link, as wg-quick sets it.
    public static let udpMTU = 1420

    /// The MTU for a node whose tunnel traffic rides TCP alone: every UDP hop is loopback. The
    /// outer datagram is the inner packet plus 32 bytes of WireGuard and must fit one IPv4 UDP
    /// datagram (65,507 bytes, so 65475 at most) and a frame of the udp-over-tcp stream. The
    /// tunnel benchmark (BENCHMARKS.md) shows throughput level off from 32000; larger packets
    /// would only mean larger contiguous allocations and longer waits on a slow link.
    public static let jumboMTU = 32000

    /// How one peer's WireGuard datagrams travel, as far as the MTU is concerned.
    public enum PeerPath: Equatable, Sendable {
        /// Through a local udp2tcp (`TCP_ENDPOINT` or `GATEWAY`).
        case dialedOverTCP
        /// No endpoint, on a node with `WG_TCP_LISTEN`: it comes through tcp2udp.
        case arrivesThroughTCPListener
        /// To its `ENDPOINT` over UDP.
        case udpEndpoint
        /// No endpoint, and no `WG_TCP_LISTEN`: it can only arrive over UDP.
        case arrivesOverUDP
    }

    /// The path of `peer` on a node that does (`listensOnTCP`) or does not run tcp2udp.
    public static func path(of peer: PeerConfig, listensOnTCP: Bool) -> PeerPath {
        if peer.dialTarget != nil { return .dialedOverTCP }
        if peer.endpoint != nil { return .udpEndpoint }
        return listensOnTCP ? .arrivesThroughTCPListener : .arrivesOverUDP
    }

    /// The rule: `configured` (`WG_MTU`) when set; else 1420 when a peer may use UDP over a
    /// network or the node has neither peers nor a TCP listener; else `jumboMTU`.
    public static func choose(configured: Int?, peers: [PeerConfig], listensOnTCP: Bool) -> MTUChoice {
        if let configured { return MTUChoice(mtu: configured, reason: "WG_MTU") }
        for peer in peers {
            switch path(of: peer, listensOnTCP: listensOnTCP) {
            case .udpEndpoint:
                return MTUChoice(mtu: udpMTU, reason: "\(peer.variable(.endpoint)) is reached over UDP")
            case .arrivesOverUDP:
                return MTUChoice(mtu: udpMTU, reason: "\(peer.variablePrefix)* has no endpoint and WG_TCP_LISTEN is unset: it arrives over UDP")
            case .dialedOverTCP, .arrivesThroughTCPListener:
                continue
            }
        }
        if peers.isEmpty && !listensOnTCP {
            return MTUChoice(mtu: udpMTU, reason: "no peers and no WG_TCP_LISTEN: peers can only arrive over UDP")
        }
        return MTUChoice(mtu: jumboMTU, reason: "every peer rides TCP (udp2tcp or tcp2udp): WireGuard's UDP stays on loopback")
    }
}

extension VPNConfig {
    /// The interface MTU and why: `MTUChoice.choose` over this node's peers and `WG_TCP_LISTEN`.
    public var mtuChoice: MTUChoice { MTUChoice.choose(configured: mtu, peers: peers, listensOnTCP: tcpListen != nil) }

    /// The MTU to set (`mtuChoice`).
    public var effectiveMTU: Int { mtuChoice.mtu }
}
