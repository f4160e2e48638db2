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
