import Firewall
import FirewallRules
import Netlink
import NetlinkTestSupport
import SeededRandom
import Testing
import WireGuardModel

/// The rule layouts, run through a small model of the nf_tables register machine: a rule built
/// for a network matches exactly the packets whose source that network contains.
@Suite struct MatchTests {
    /// A packet as the expressions here see it.
    struct Packet {
        var source: IPAddress
        var inputInterface = "eth9"
        var outputInterface = "eth9"

        /// A minimal IPv4 (20 bytes) or IPv6 (40 bytes) header with the source address in place.
        var networkHeader: [UInt8] {
            var header = [UInt8](repeating: 0xee, count: source.isV6 ? 40 : 20)
            let offset = source.isV6 ? 8 : 12
            header.replaceSubrange(offset..<(offset + source.bytes.count), with: source.bytes)
            return header
        }
    }

    enum Outcome: Equatable { case noMatch, verdict(NftablesVerdict), masquerade }

    /// Runs `expressions` on `packet` the way nf_tables does, with register 1 only.
    static func run(_ expressions: [NftablesExpression], on packet: Packet) -> Outcome {
        var register = [UInt8](repeating: 0, count: 16)
        func name(_ text: String) -> [UInt8] { Array(text.utf8) + [UInt8](repeating: 0, count: 16 - text.utf8.count) }
        for expression in expressions {
            switch expression {
            case .meta(let key, _):
                switch key {
                case .netfilterProtocol: register[0] = packet.source.isV6 ? 10 : 2
                case .inputInterfaceName: register = name(packet.inputInterface)
                case .outputInterfaceName: register = name(packet.outputInterface)
                default: return .noMatch
                }
            case .payload(_, let offset, let length, _):
                let header = packet.networkHeader
                guard Int(offset + length) <= header.count else { return .noMatch }
                register.replaceSubrange(0..<Int(length), with: header[Int(offset)..<Int(offset + length)])
            case .bitwise(_, _, let mask, let xor, _):
                for index in mask.indices { register[index] = (register[index] & mask[index]) ^ xor[index] }
            case .compareEqual(_, let data):
                if Array(register.prefix(data.count)) != data { return .noMatch }
            case .verdict(let verdict):
                return .verdict(verdict)
            case .masquerade:
                return .masquerade
            case .routeTCPMSS, .hostToNetwork, .writeTCPOption:
                return .noMatch  // the MSS clamp: these packets carry no TCP header
            }
        }
        return .noMatch
    }

    static func randomAddress(v6: Bool, using generator: inout SeededGenerator) -> IPAddress {
        let bytes = (0..<(v6 ? 16 : 4)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return v6 ? IPAddress.v6(bytes) : IPAddress.v4(bytes)
    }

    @Test func sourceNetworkMatchesExactlyItsAddresses() {
        var generator = SeededGenerator(seed: 0x5eed_f1e1)
        for _ in 0..<400 {
            let v6 = Bool.random(using: &generator)
            let prefix = Int.random(in: 0...(v6 ? 128 : 32), using: &generator)
            let network = IPNetwork(address: Self.randomAddress(v6: v6, using: &generator), prefixLength: prefix)
            let rule = NftablesRule.masquerade(source: network, outputInterface: "eth0")
            for _ in 0..<20 {
                var source = Self.randomAddress(v6: Bool.random(using: &generator) ? v6 : !v6, using: &generator)
                if Bool.random(using: &generator), source.isV6 == v6 {
                    // An address inside the network: its prefix, then random host bits.
                    let host = source.bytes
                    let net = network.masked.address.bytes
                    let mask = (0..<net.count).map { min(max(prefix - $0 * 8, 0), 8) }.map { UInt8(truncatingIfNeeded: 0xff << (8 - $0)) }
                    let mixed = (0..<net.count).map { (net[$0] & mask[$0]) | (host[$0] & ~mask[$0]) }
                    source = v6 ? .v6(mixed) : .v4(mixed)
                }
                let inside = source.isV6 == v6 && network.masked.contains(IPNetwork(address: source, prefixLength: v6 ? 128 : 32))
                let packet = Packet(source: source, outputInterface: "eth0")
                #expect(Self.run(rule.expressions, on: packet) == (inside ? .masquerade : .noMatch), "\(network) vs \(source)")
                var elsewhere = packet
                elsewhere.outputInterface = "eth1"
                #expect(Self.run(rule.expressions, on: elsewhere) == .noMatch)
            }
        }
    }

    @Test(arguments: [("wg0", true), ("wg01", false), ("wg", false), ("eth0", false), ("wg0.1", false)])
    func interfaceNameMatchesExactly(_ name: String, _ matches: Bool) {
        let packet = Packet(source: IPAddress("10.0.0.2")!, inputInterface: name, outputInterface: name)
        #expect(Self.run(NftablesRule.acceptInput(from: "wg0").expressions, on: packet) == (matches ? .verdict(.accept) : .noMatch))
        #expect(Self.run(NftablesRule.acceptOutput(to: "wg0").expressions, on: packet) == (matches ? .verdict(.accept) : .noMatch))
    }

    /// What nft generates (see its `--debug=netlink` listing): a byte-aligned prefix loads only
    /// its bytes; any other loads the whole address and masks it.
    @Test(arguments: [
        ("10.0.0.1/24", 12, 3, nil),
        ("10.9.0.7/32", 12, 4, nil),
        ("10.8.1.1/20", 12, 4, [0xff, 0xff, 0xf0, 0]),
        ("0.0.0.0/0", 12, 4, [0, 0, 0, 0]),
        ("fd00::1/64", 8, 8, nil),
        ("fd00:1::1/50", 8, 16, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    ] as [(String, UInt32, UInt32, [UInt8]?)])
    func sourceNetworkLayout(_ text: String, _ offset: UInt32, _ length: UInt32, _ mask: [UInt8]?) throws {
        let network = try IPNetwork(parsing: text)
        let expressions = NftablesMatch.sourceNetwork(network)
        let family: UInt8 = network.address.isV6 ? 10 : 2
        #expect(Array(expressions.prefix(3)) == [
            .meta(.netfilterProtocol), .compareEqual(data: [family]), .payload(base: .networkHeader, offset: offset, length: length),
        ])
        let compared = Array(network.masked.address.bytes.prefix(Int(length)))
        if let mask {
            #expect(Array(expressions.dropFirst(3)) == [.bitwise(mask: mask, xor: [UInt8](repeating: 0, count: mask.count)), .compareEqual(data: compared)])
        } else {
            #expect(Array(expressions.dropFirst(3)) == [.compareEqual(data: compared)])
        }
    }
}
