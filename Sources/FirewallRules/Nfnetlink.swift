import Netlink

/// nfnetlink (linux/netfilter/nfnetlink.h): netfilter's netlink protocol. Every message carries a
/// 4-byte `struct nfgenmsg` after the netlink header, and its type is the subsystem in the high
/// byte and the subsystem's command in the low byte.
public enum Nfnetlink {
    /// `NFNL_SUBSYS_NFTABLES`: the nf_tables subsystem.
    public static let nftablesSubsystem: UInt8 = 10
    /// `NFNETLINK_V0`: the only `nfgenmsg.version`.
    public static let version: UInt8 = 0
    /// The length of `struct nfgenmsg`.
    public static let headerLength = 4

    /// `struct nfgenmsg`: family, version, and `res_id` in network byte order.
    public static func header(family: NetfilterFamily, resourceID: UInt16 = 0) -> [UInt8] {
        var bytes = [family.rawValue, version]
        bytes.appendBigEndian(resourceID)
        return bytes
    }

    /// `NFNL_MSG_BATCH_BEGIN` for the nf_tables subsystem (its id in `res_id`), as nft sends it.
    public static func batchBegin() -> NetlinkMessage {
        NetlinkMessage(type: NfnetlinkControlType.batchBegin.rawValue, flags: [.request],
                       payload: header(family: .unspecified, resourceID: UInt16(nftablesSubsystem)))
    }

    /// `NFNL_MSG_BATCH_END`: the kernel commits the batch, or aborts it if any message failed.
    public static func batchEnd() -> NetlinkMessage {
        NetlinkMessage(type: NfnetlinkControlType.batchEnd.rawValue, flags: [.request],
                       payload: header(family: .unspecified, resourceID: UInt16(nftablesSubsystem)))
    }
}

/// nfnetlink's own message types, below every subsystem's (`NFNL_MSG_BATCH_*`).
public struct NfnetlinkControlType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `NFNL_MSG_BATCH_BEGIN` (`NLMSG_MIN_TYPE`): opens a transaction.
    public static let batchBegin = NfnetlinkControlType(rawValue: 0x10)
    /// `NFNL_MSG_BATCH_END`: commits it.
    public static let batchEnd = NfnetlinkControlType(rawValue: 0x11)

    public var description: String {
        switch self {
        case .batchBegin: "NFNL_MSG_BATCH_BEGIN"
        case .batchEnd: "NFNL_MSG_BATCH_END"
        default: "NFNL_MSG \(rawValue)"
        }
    }
}

/// nf_tables commands (`NFT_MSG_*` in linux/netfilter/nf_tables.h).
public struct NftablesMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `NFT_MSG_NEWTABLE`: create a table (an existing one is kept unless `NLM_F_EXCL`).
    public static let newTable = NftablesMessageType(rawValue: 0)
    /// `NFT_MSG_DELTABLE`: delete a table with everything in it.
    public static let deleteTable = NftablesMessageType(rawValue: 2)
    /// `NFT_MSG_NEWCHAIN`: create a chain.
    public static let newChain = NftablesMessageType(rawValue: 3)
    /// `NFT_MSG_NEWRULE`: add a rule.
    public static let newRule = NftablesMessageType(rawValue: 6)
    /// `NFT_MSG_NEWGEN`: the ruleset generation (the answer to `getGeneration`).
    public static let newGeneration = NftablesMessageType(rawValue: 15)
    /// `NFT_MSG_GETGEN`: read the ruleset generation.
    public static let getGeneration = NftablesMessageType(rawValue: 16)

    /// The netlink message type: the subsystem in the high byte, the command in the low byte.
    public var messageType: UInt16 { UInt16(Nfnetlink.nftablesSubsystem) << 8 | UInt16(rawValue) }

    public var description: String {
        switch self {
        case .newTable: "NFT_MSG_NEWTABLE"
        case .deleteTable: "NFT_MSG_DELTABLE"
        case .newChain: "NFT_MSG_NEWCHAIN"
        case .newRule: "NFT_MSG_NEWRULE"
        case .newGeneration: "NFT_MSG_NEWGEN"
        case .getGeneration: "NFT_MSG_GETGEN"
        default: "NFT_MSG \(rawValue)"
        }
    }

    /// The name of a netlink message type on a `NETLINK_NETFILTER` socket, e.g.
    /// `NFT_MSG_NEWRULE` or `NFNL_MSG_BATCH_BEGIN`.
    public static func describe(messageType type: UInt16) -> String {
        if type >> 8 == UInt16(Nfnetlink.nftablesSubsystem) {
            return NftablesMessageType(rawValue: UInt8(type & 0xff)).description
        }
        if type < 0x10 { return NetlinkControlType(rawValue: type).description }
        return NfnetlinkControlType(rawValue: type).description
    }
}

/// Netfilter protocol families (`NFPROTO_*` in linux/netfilter.h): which packets a table sees.
public struct NetfilterFamily: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `NFPROTO_UNSPEC`, for batch messages.
    public static let unspecified = NetfilterFamily(rawValue: 0)
    /// `NFPROTO_INET`: IPv4 and IPv6 together (nft's `inet`).
    public static let inet = NetfilterFamily(rawValue: 1)
    /// `NFPROTO_IPV4` (nft's `ip`).
    public static let ipv4 = NetfilterFamily(rawValue: 2)
    /// `NFPROTO_IPV6` (nft's `ip6`).
    public static let ipv6 = NetfilterFamily(rawValue: 10)

    /// The name nft uses: `inet`, `ip`, `ip6`.
    public var description: String {
        switch self {
        case .unspecified: "unspec"
        case .inet: "inet"
        case .ipv4: "ip"
        case .ipv6: "ip6"
        default: "family \(rawValue)"
        }
    }
}

extension NetlinkFlags {
    /// `NLM_F_APPEND`: add the rule at the end of its chain (new requests).
    public static let append = NetlinkFlags(rawValue: 0x800)
}
