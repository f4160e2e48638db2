#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink
import NetlinkSocket
import SystemCalls

/// nf_tables transactions over a `NETLINK_NETFILTER` socket (or a fake kernel). Errors name the
/// message that failed, e.g.
/// `nftables NFT_MSG_NEWRULE vpn_init_wg0/postrouting: Operation not permitted (EPERM)`.
public final class Nftables {
    /// The transport batches go through.
    public let transport: any NetlinkTransport
    private var nextSequence: UInt32

    /// nf_tables over `transport`; sequence numbers start at `firstSequence`.
    public init(transport: any NetlinkTransport, firstSequence: UInt32 = 1) {
        self.transport = transport
        nextSequence = firstSequence
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

    /// Sends `batch` in one datagram, then `NFT_MSG_GETGEN`, and reads until the answer to the
    /// latter: the kernel runs a batch within the `sendmsg` that carries it and reports only the
    /// messages that failed (nft sets no `NLM_F_ACK`), so every error of the batch arrives
    /// before that answer. The first error is thrown, named after its message.
    public func commit(_ batch: NftablesBatch) throws(SystemCallError) {
        let first = nextSequence
        let marker = first &+ UInt32(batch.messageCount)
        nextSequence = marker &+ 1
        let batchCall = "nftables \(NfnetlinkControlType.batchBegin)"
        do {
            try transport.send(batch.datagram(firstSequence: first))
            var generation = NftablesMessage.getGeneration()
            generation.sequence = marker
            try transport.send(generation.encoded())
        } catch {
            throw SystemCallError(batchCall, batch.subject, errno: error.errno, detail: error.detail)
        }

        var failures: [SystemCallError] = []
        while true {
            let messages = try receive(batchCall, batch.subject)
            for message in messages where message.type == NetlinkControlType.error.rawValue {
                let status: NetlinkAcknowledgement
                do {
                    status = try NetlinkAcknowledgement(error: message)
                } catch {
                    throw SystemCallError(batchCall, batch.subject, errno: EPROTO, detail: error.reason)
                }
                guard status.errno != 0 else { continue }
                if message.sequence == marker {
                    failures.append(SystemCallError("nftables \(NftablesMessageType.getGeneration)", batch.subject,
                                                    errno: status.errno, detail: status.message ?? ""))
                } else if let entry = batch.entry(sequence: message.sequence, firstSequence: first) {
                    failures.append(SystemCallError("nftables \(entry.operation)", entry.object,
                                                    errno: status.errno, detail: status.message ?? ""))
                }
            }
            if messages.contains(where: { $0.sequence == marker }) { break }
        }
        guard var failure = failures.first else { return }
        if failures.count > 1 {
            let more = "\(failures.count - 1) more message\(failures.count == 2 ? "" : "s") failed"
            failure.detail = failure.detail.isEmpty ? more : "\(failure.detail) (\(more))"
        }
        throw failure
    }

    private func receive(_ call: String, _ object: String) throws(SystemCallError) -> [NetlinkMessage] {
        let datagram: [UInt8]
        do {
            datagram = try transport.receive()
        } catch {
            throw SystemCallError(call, object, errno: error.errno, detail: error.detail.isEmpty ? error.systemCall : error.detail)
        }
        do {
            return try NetlinkMessage.decode(datagram: datagram)
        } catch {
            throw SystemCallError(call, object, errno: EPROTO, detail: error.reason)
        }
    }
}
