import FirewallRules
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink
import NetlinkSocket
import SystemCalls

/// nf_tables transactions over a `NETLINK_NETFILTER` socket (or a fake kernel), through the
/// same request loop as every netlink request (`NetlinkConnection.exchange`). Errors name the
/// message that failed, e.g.
/// `nftables NFT_MSG_NEWRULE vpn_init_wg0/postrouting: Operation not permitted (EPERM)`.
public final class Nftables {
    /// The connection batches go through.
    public let connection: NetlinkConnection
    /// The transport batches go through.
    public var transport: any NetlinkTransport { connection.transport }

    /// nf_tables over `transport`; sequence numbers start at `firstSequence`.
    public init(transport: any NetlinkTransport, firstSequence: UInt32 = 1) {
        connection = NetlinkConnection(transport: transport, firstSequence: firstSequence)
    }

    /// nf_tables over a new `NETLINK_NETFILTER` socket.
    public convenience init() throws(SystemCallError) {
        self.init(transport: try MnlSocket(.netfilter))
    }

    /// Creates `table` afresh in one transaction, replacing a table of that name (left by a
    /// crash) with everything in it; other tables are not touched.
    public func replace(_ table: NftablesTable) throws(SystemCallError) {
        try commit(.replacing(table))
    }

    /// Deletes the table `name` of `family`; false when there was none.
    @discardableResult
    public func delete(_ family: NetfilterFamily, table name: String) throws(SystemCallError) -> Bool {
        do {
            try commit(.deleting(family, table: name))
            return true
        } catch where error.errno == ENOENT {
            return false
        }
    }

    /// Sends `batch` in one datagram, then `NFT_MSG_GETGEN` in another, and reads until the
    /// answer to the latter: the kernel runs a batch within the `sendmsg` that carries it and
    /// reports only the messages that failed (nft sets no `NLM_F_ACK`), so every error of the
    /// batch arrives before that answer. The first error is thrown, named after its message.
    public func commit(_ batch: NftablesBatch) throws(SystemCallError) {
        let generation = NftablesMessage.getGeneration()
        var names = batch.allEntries.map { NetlinkRequestName($0.operation, object: $0.object, layer: Self.layer) }
        names.append(NetlinkRequestName(NftablesMessageType.getGeneration, object: batch.subject, layer: Self.layer))
        try connection.exchange([batch.messages(firstSequence: 0), [generation]], names: names)
    }

    /// The layer errors name: `nftables NFT_MSG_NEWRULE ...`.
    static let layer = "nftables"
}
