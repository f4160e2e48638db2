import Netlink

/// An nf_tables transaction: messages between `NFNL_MSG_BATCH_BEGIN` and `NFNL_MSG_BATCH_END`,
/// sent in one datagram. The kernel applies all of them or none; an error comes back per failed
/// message with that message's sequence number, which `entry(sequence:firstSequence:)` maps back
/// to the operation and object it was about.
public struct NftablesBatch: Hashable, Sendable {
    /// One message and the names an error about it gets.
    public struct Entry: Hashable, Sendable {
        public var message: NetlinkMessage
        /// The operation, e.g. `NFT_MSG_NEWRULE`.
        public var operation: String
        /// The object, e.g. `vpn_init_wg0/postrouting`.
        public var object: String
    }

    /// What the batch as a whole is about (its begin and end messages' object).
    public var subject: String
    /// The messages between begin and end, in order.
    public private(set) var entries: [Entry] = []

    public init(subject: String) {
        self.subject = subject
    }

    /// Appends an nf_tables message about `object`.
    public mutating func append(_ message: NetlinkMessage, object: String) {
        entries.append(Entry(message: message, operation: NftablesMessageType.describe(messageType: message.type), object: object))
    }

    /// Every message, begin and end included, numbered from `firstSequence` (the begin message).
    public func messages(firstSequence: UInt32) -> [NetlinkMessage] {
        var all = allEntries.map(\.message)
        for index in all.indices { all[index].sequence = firstSequence &+ UInt32(index) }
        return all
    }

    /// The datagram to send: every message, numbered from `firstSequence`.
    public func datagram(firstSequence: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        for message in messages(firstSequence: firstSequence) { message.appendEncoded(to: &bytes) }
        return bytes
    }

    /// The number of messages, begin and end included.
    public var messageCount: Int { entries.count + 2 }

    /// Every message as an entry, begin and end included (they name the batch's subject).
    public var allEntries: [Entry] {
        [Entry(message: Nfnetlink.batchBegin(), operation: NfnetlinkControlType.batchBegin.description, object: subject)]
            + entries
            + [Entry(message: Nfnetlink.batchEnd(), operation: NfnetlinkControlType.batchEnd.description, object: subject)]
    }

    /// The message numbered `sequence` in a batch numbered from `firstSequence`, as an entry
    /// (the begin and end messages name the batch's subject); nil when it is not in the batch.
    public func entry(sequence: UInt32, firstSequence: UInt32) -> Entry? {
        let index = Int(sequence &- firstSequence)
        return index < messageCount ? allEntries[index] : nil
    }

    /// Creates `table` afresh, replacing one of that name with everything in it, in one
    /// transaction: `NEWTABLE` (so the delete cannot fail), `DELTABLE`, `NEWTABLE`, then the
    /// chains, then each chain's rules — what `nft -f` sends for
    /// `add table T; delete table T; table T { ... }`.
    public static func replacing(_ table: NftablesTable) -> NftablesBatch {
        var batch = NftablesBatch(subject: table.name)
        batch.append(NftablesMessage.newTable(table.family, table.name), object: table.name)
        batch.append(NftablesMessage.deleteTable(table.family, table.name), object: table.name)
        batch.append(NftablesMessage.newTable(table.family, table.name), object: table.name)
        for chain in table.chains {
            batch.append(NftablesMessage.newChain(table.family, table: table.name, chain), object: "\(table.name)/\(chain.name)")
        }
        for chain in table.chains {
            for rule in chain.rules {
                batch.append(NftablesMessage.newRule(table.family, table: table.name, chain: chain.name, rule),
                             object: "\(table.name)/\(chain.name)")
            }
        }
        return batch
    }

    /// Deletes the table `name` of `family` (`nft delete table`); `ENOENT` when there is none.
    public static func deleting(_ family: NetfilterFamily, table name: String) -> NftablesBatch {
        var batch = NftablesBatch(subject: name)
        batch.append(NftablesMessage.deleteTable(family, name), object: name)
        return batch
    }
}
