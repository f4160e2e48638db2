@testable import Config
import Testing
import WireGuardModel

/// The MTU rule (MTURule.swift) over every mix of peer kinds, with and without `WG_TCP_LISTEN`
/// and `WG_MTU`, through the environment parser as boot reads it.
@Suite struct MTURuleTests {
    /// The ways a peer can be configured, as far as its path is concerned.
    enum Kind: CaseIterable, CustomStringConvertible {
        case udpEndpoint, noEndpoint, tcpEndpoint, tlsTCPEndpoint, gateway

        var description: String {
            switch self {
            case .udpEndpoint: "ENDPOINT"
            case .noEndpoint: "no endpoint"
            case .tcpEndpoint: "TCP_ENDPOINT"
            case .tlsTCPEndpoint: "TCP_ENDPOINT+TLS_SNI"
            case .gateway: "GATEWAY"
            }
        }

        /// The variables of peer NAME of this kind.
        func variables(name: String, index: Int) -> [String: String] {
            let prefix = "WG_PEER_\(name)_"
            var env = [prefix + "PUBLIC_KEY": key(UInt8(index + 1)).base64, prefix + "ALLOWED_IPS": "10.0.1.\(index + 1)/32"]
            switch self {
            case .udpEndpoint: env[prefix + "ENDPOINT"] = "192.0.2.\(index + 1):51820"
            case .noEndpoint: break
            case .tcpEndpoint: env[prefix + "TCP_ENDPOINT"] = "192.0.2.\(index + 1):443"
            case .tlsTCPEndpoint:
                env[prefix + "TCP_ENDPOINT"] = "gw.example:443"
                env[prefix + "TLS_SNI"] = "app-\(index)-51820.gw.example"
            case .gateway: env[prefix + "GATEWAY"] = "i\(index)-51820.gw.example"
            }
            return env
        }
    }

    /// Every sequence of 0 to 3 peer kinds (156 mixes), each with and without WG_TCP_LISTEN.
    static let mixes: [[Kind]] = {
        var all: [[Kind]] = [[]]
        var previous: [[Kind]] = [[]]
        for _ in 1...3 {
            previous = previous.flatMap { mix in Kind.allCases.map { mix + [$0] } }
            all += previous
        }
        return all
    }()

    static func parse(_ kinds: [Kind], listen: Bool, mtu: String? = nil) throws -> VPNConfig {
        var env = ["WG_ADDRESS": "10.0.0.1/24", "WG_PRIVATE_KEY": Keys.privateKey]
        for (index, kind) in kinds.enumerated() {
            env.merge(kind.variables(name: "P\(index)", index: index)) { $1 }
        }
        if listen { env["WG_TCP_LISTEN"] = "0.0.0.0:443" }
        if let mtu { env["WG_MTU"] = mtu }
        return try VPNConfig.parse(environment: env)
    }

    @Test(arguments: [false, true])
    func everyMixOfPeers(listen: Bool) throws {
        for kinds in Self.mixes {
            let choice = try Self.parse(kinds, listen: listen).mtuChoice
            // UDP on a network: an ENDPOINT, or a peer with no endpoint that cannot come through tcp2udp.
            let firstUDP = kinds.firstIndex { $0 == .udpEndpoint || ($0 == .noEndpoint && !listen) }
            if let firstUDP {
                #expect(choice.mtu == 1420, "\(kinds) listen=\(listen)")
                #expect(choice.reason.hasPrefix("WG_PEER_P\(firstUDP)_"), "\(kinds) listen=\(listen): \(choice.reason)")
            } else if kinds.isEmpty && !listen {
                #expect(choice.mtu == 1420 && choice.reason.contains("no peers"))
            } else {
                #expect(choice.mtu == MTUChoice.jumboMTU, "\(kinds) listen=\(listen)")
                #expect(choice.reason.contains("every peer rides TCP"))
            }
            // WG_MTU always wins.
            let set = try Self.parse(kinds, listen: listen, mtu: "1300").mtuChoice
            #expect(set == MTUChoice(mtu: 1300, reason: "WG_MTU"), "\(kinds) listen=\(listen)")
        }
    }

    @Test func reasonsNameTheVariable() throws {
        #expect(try Self.parse([.gateway, .udpEndpoint], listen: true).mtuChoice.reason == "WG_PEER_P1_ENDPOINT is reached over UDP")
        #expect(try Self.parse([.tcpEndpoint, .noEndpoint], listen: false).mtuChoice.reason
            == "WG_PEER_P1_* has no endpoint and WG_TCP_LISTEN is unset: it arrives over UDP")
        #expect(try Self.parse([.noEndpoint, .noEndpoint], listen: true).mtuChoice.mtu == MTUChoice.jumboMTU)
    }

    @Test func paths() throws {
        let config = try Self.parse([.udpEndpoint, .noEndpoint, .tcpEndpoint, .gateway], listen: false)
        #expect(config.peers.map { MTUChoice.path(of: $0, listensOnTCP: false) } == [.udpEndpoint, .arrivesOverUDP, .dialedOverTCP, .dialedOverTCP])
        #expect(config.peers.map { MTUChoice.path(of: $0, listensOnTCP: true) } == [.udpEndpoint, .arrivesThroughTCPListener, .dialedOverTCP, .dialedOverTCP])
    }

    /// The jumbo MTU fits every hop: the outer datagram (inner + 32 bytes of WireGuard) in one
    /// IPv4 UDP datagram, and in one udp-over-tcp frame.
    @Test func theJumboMTUFitsLoopbackUDPAndAFrame() {
        #expect(MTUChoice.jumboMTU + 32 <= 65507)
        #expect(MTUChoice.jumboMTU > MTUChoice.udpMTU)
    }

    /// The rendered configuration carries the chosen MTU.
    @Test func renderCarriesTheChoice() throws {
        let config = try Self.parse([.gateway], listen: false)
        #expect(config.quickConfig(privateKey: key(9), peerKeys: [(key(2), nil)], tcpPeerEndpoints: [:]).interface.mtu == MTUChoice.jumboMTU)
    }
}
