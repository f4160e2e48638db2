import Netlink
import WireGuardModel

/// Rule building blocks, expressed as the expressions nft generates for the same text, so a
/// table built here and one loaded with `nft -f` are byte for byte the same.
public enum NftablesMatch {
    /// `IFNAMSIZ`: interface names are compared as 16 NUL-padded bytes.
    public static let interfaceNameSize = 16

    /// `iifname "NAME"` / `oifname "NAME"`: an exact interface name (1-15 bytes).
    public static func interfaceName(_ key: NftablesMetaKey, _ name: String) -> [NftablesExpression] {
        var data = Array(name.utf8.prefix(interfaceNameSize - 1))
        data += repeatElement(0, count: interfaceNameSize - data.count)
        return [.meta(key), .compareEqual(data: data)]
    }

    /// `ip saddr NET` / `ip6 saddr NET` in an `inet` table: first the family (`meta nfproto`),
    /// then the address. Like nft, a prefix on a byte boundary loads and compares only its
    /// bytes; any other prefix (and /0) loads the whole address and masks it with `bitwise`.
    public static func sourceNetwork(_ network: IPNetwork) -> [NftablesExpression] {
        let network = network.masked
        let bytes = network.address.bytes
        let family: NetfilterFamily = network.address.isV6 ? .ipv6 : .ipv4
        // The source address's offset in the IPv4 header (RFC 791) and the IPv6 header (RFC 8200).
        let offset: UInt32 = network.address.isV6 ? 8 : 12
        var expressions: [NftablesExpression] = [.meta(.netfilterProtocol), .compareEqual(data: [family.rawValue])]
        let prefix = network.prefixLength
        if prefix > 0 && prefix % 8 == 0 {
            expressions.append(.payload(base: .networkHeader, offset: offset, length: UInt32(prefix / 8)))
            expressions.append(.compareEqual(data: Array(bytes.prefix(prefix / 8))))
        } else {
            expressions.append(.payload(base: .networkHeader, offset: offset, length: UInt32(bytes.count)))
            expressions.append(.bitwise(mask: prefixMask(prefix, count: bytes.count), xor: [UInt8](repeating: 0, count: bytes.count)))
            expressions.append(.compareEqual(data: bytes))
        }
        return expressions
    }

    /// `tcp flags syn / syn,rst`: a TCP segment with SYN set and RST clear (a SYN or a SYN-ACK).
    public static func tcpSynchronize() -> [NftablesExpression] {
        // The flags byte is at offset 13 of the TCP header (RFC 9293): SYN 0x02, RST 0x04.
        [.meta(.transportProtocol), .compareEqual(data: [6]),  // IPPROTO_TCP
         .payload(base: .transportHeader, offset: 13, length: 1),
         .bitwise(mask: [0x06], xor: [0], namesOperation: true), .compareEqual(data: [0x02])]
    }

    /// `count` bytes whose first `prefix` bits are set.
    static func prefixMask(_ prefix: Int, count: Int) -> [UInt8] {
        (0..<count).map { index in
            let bits = min(max(prefix - index * 8, 0), 8)
            return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bits))
        }
    }
}

extension NftablesRule {
    /// `iifname "NAME" accept`.
    public static func acceptInput(from interface: String) -> NftablesRule {
        NftablesRule(NftablesMatch.interfaceName(.inputInterfaceName, interface) + [.verdict(.accept)])
    }

    /// `oifname "NAME" accept`.
    public static func acceptOutput(to interface: String) -> NftablesRule {
        NftablesRule(NftablesMatch.interfaceName(.outputInterfaceName, interface) + [.verdict(.accept)])
    }

    /// `iifname "NAME" tcp flags syn / syn,rst tcp option maxseg size set rt mtu` (`oifname`
    /// with `.outputInterfaceName`): the MSS option of SYNs through the interface lowered to what
    /// the route MTU allows (RFC 879: MTU less the IP and TCP headers; never raised).
    public static func clampMSS(_ interfaceKey: NftablesMetaKey, _ interface: String) -> NftablesRule {
        NftablesRule(NftablesMatch.interfaceName(interfaceKey, interface) + NftablesMatch.tcpSynchronize() + [
            .routeTCPMSS(),
            .hostToNetwork(length: 2, size: 2),
            // TCP option kind 2 (maximum segment size): its 2-byte value follows kind and length.
            .writeTCPOption(kind: 2, offset: 2, length: 2),
        ])
    }

    /// `ip saddr NET oifname "NAME" masquerade` (`ip6 saddr` for an IPv6 network).
    public static func masquerade(source: IPNetwork, outputInterface: String) -> NftablesRule {
        NftablesRule(NftablesMatch.sourceNetwork(source) + NftablesMatch.interfaceName(.outputInterfaceName, outputInterface)
            + [.masquerade])
    }
}
