#if canImport(Glibc)
import Glibc
#endif
import Firewall
import FirewallRules
import Netlink
import NetlinkSocket
import NetlinkTestSupport
import SystemCalls
import Testing
import WireGuardModel

/// Committing batches against a fake kernel that answers like nf_tables: nothing for messages
/// that succeed, an error per failed message with its sequence number, `NFT_MSG_NEWGEN` for
/// `NFT_MSG_GETGEN`.
@Suite struct NftablesErrorTests {
    static let table = ForwardingRuleset(
        interfaceName: "wg0", acceptForwarded: true,
        masquerade: [.init(source: try! IPNetwork(parsing: "10.0.0.1/24"), outputInterface: "eth0")]
    ).table

    /// The `NFT_MSG_NEWGEN` answer (generation id, pid, process name are not read).
    static func generation() -> NetlinkMessage {
        var attributes = AttributeEncoder(header: Nfnetlink.header(family: .unspecified, resourceID: 1))
        attributes.bigEndian32(1, 7)
        return NetlinkMessage(type: NftablesMessageType.newGeneration.messageType, flags: [], payload: attributes.bytes)
    }

    /// A kernel whose answer to the message `failing` picks (nil: none fails) is `errno`.
    static func kernel(errno: Int32 = EPERM, text: String? = nil, failing: @escaping (NetlinkMessage) -> Bool) -> FakeKernel {
        FakeKernel { message in
            if message.type == NftablesMessageType.getGeneration.messageType { return [.data(generation())] }
            return failing(message) ? [.error(errno, message: text)] : []
        }
    }

    struct FailureCase: CustomTestStringConvertible, Sendable {
        var name: String
        /// Index of the failing message in the batch (0 = BATCH_BEGIN).
        var index: Int
        var systemCall: String
        var object: String
        var testDescription: String { name }
    }

    static let failures: [FailureCase] = [
        FailureCase(name: "batch begin", index: 0, systemCall: "nftables NFNL_MSG_BATCH_BEGIN", object: "vpn_init_wg0"),
        FailureCase(name: "first table", index: 1, systemCall: "nftables NFT_MSG_NEWTABLE", object: "vpn_init_wg0"),
        FailureCase(name: "delete", index: 2, systemCall: "nftables NFT_MSG_DELTABLE", object: "vpn_init_wg0"),
        FailureCase(name: "forward chain", index: 4, systemCall: "nftables NFT_MSG_NEWCHAIN", object: "vpn_init_wg0/forward"),
        FailureCase(name: "nat chain", index: 5, systemCall: "nftables NFT_MSG_NEWCHAIN", object: "vpn_init_wg0/postrouting"),
        FailureCase(name: "clamp rule", index: 6, systemCall: "nftables NFT_MSG_NEWRULE", object: "vpn_init_wg0/forward"),
        FailureCase(name: "accept rule", index: 9, systemCall: "nftables NFT_MSG_NEWRULE", object: "vpn_init_wg0/forward"),
        FailureCase(name: "masquerade rule", index: 10, systemCall: "nftables NFT_MSG_NEWRULE", object: "vpn_init_wg0/postrouting"),
        FailureCase(name: "batch end", index: 11, systemCall: "nftables NFNL_MSG_BATCH_END", object: "vpn_init_wg0"),
    ]

    @Test(arguments: failures, [UInt32(1), 77, UInt32.max - 3])
    func errorNamesTheFailedMessage(_ test: FailureCase, firstSequence: UInt32) {
        let failingSequence = firstSequence &+ UInt32(test.index)
        let fake = Self.kernel(text: "denied") { $0.sequence == failingSequence }
        let nftables = Nftables(transport: fake, firstSequence: firstSequence)
        #expect(throws: SystemCallError(test.systemCall, test.object, errno: EPERM, detail: "denied")) {
            try nftables.replace(Self.table)
        }
    }

    @Test func descriptionReadsLikeTheIssue() {
        // The masquerade rule: the only one with a `masq` expression.
        let fake = Self.kernel { $0.type == NftablesMessageType.newRule.messageType && String(decoding: $0.payload, as: UTF8.self).contains("masq") }
        do {
            try Nftables(transport: fake).replace(Self.table)
            Issue.record("the batch should fail")
        } catch {
            #expect(error.description == "nftables NFT_MSG_NEWRULE vpn_init_wg0/postrouting: Operation not permitted (EPERM)")
        }
    }

    @Test func firstOfSeveralErrorsIsReportedWithACount() {
        let fake = Self.kernel(errno: EINVAL) { $0.type == NftablesMessageType.newRule.messageType }
        #expect(throws: SystemCallError("nftables NFT_MSG_NEWRULE", "vpn_init_wg0/forward", errno: EINVAL, detail: "4 more messages failed")) {
            try Nftables(transport: fake).replace(Self.table)
        }
    }

    @Test func successSendsOneBatchThenTheGenerationRequest() throws {
        let fake = Self.kernel { _ in false }
        let nftables = Nftables(transport: fake, firstSequence: 10)
        try nftables.replace(Self.table)
        let batch = NftablesBatch.replacing(Self.table)
        #expect(fake.requests == batch.messages(firstSequence: 10) + [{
            var generation = NftablesMessage.getGeneration()
            generation.sequence = 10 + UInt32(batch.messageCount)
            return generation
        }()])
        // The next batch continues the numbering past the generation request.
        try nftables.replace(Self.table)
        #expect(fake.requests[batch.messageCount + 1].sequence == 11 + UInt32(batch.messageCount))
    }

    @Test func errorsOfAnEarlierExchangeAreIgnored() throws {
        let fake = Self.kernel { _ in false }
        // A stale error for a sequence number outside the batch must not fail it.
        fake.inject(NetlinkAcknowledgement.encode(errno: EPERM, for: NetlinkMessage(type: 0xa06, flags: [.request], sequence: 999)).encoded())
        try Nftables(transport: fake, firstSequence: 1).replace(Self.table)
    }

    @Test func silentKernelTimesOutNamingTheBatch() {
        let fake = FakeKernel { _ in [] }
        #expect(throws: SystemCallError("nftables NFNL_MSG_BATCH_BEGIN", "vpn_init_wg0", errno: EAGAIN, detail: "recvfrom")) {
            try Nftables(transport: fake).replace(Self.table)
        }
    }

    @Test func generationRequestRefusedWithoutBatchErrors() {
        let fake = FakeKernel { message in
            message.type == NftablesMessageType.getGeneration.messageType ? [.error(EOPNOTSUPP)] : []
        }
        #expect(throws: SystemCallError("nftables NFT_MSG_GETGEN", "vpn_init_wg0", errno: EOPNOTSUPP)) {
            try Nftables(transport: fake).replace(Self.table)
        }
    }

    /// The kernel's own reply (captured from nft: uncapped, the whole request echoed) to the
    /// batch of rule_rejected.txt, whose fourth message after BATCH_BEGIN it refuses.
    @Test func capturedKernelErrorMapsToTheRejectedRule() throws {
        let replies = try Fixture.datagrams("nftables/rule_rejected_replies")
        let fake = FakeKernel { message in
            message.type == NftablesMessageType.getGeneration.messageType ? replies.map { .datagram($0) } + [.data(Self.generation())] : []
        }
        #expect(throws: SystemCallError("nftables NFT_MSG_NEWRULE", "vpn_init_wg0/forward", errno: EOPNOTSUPP)) {
            try Nftables(transport: fake, firstSequence: 0).commit(BatchFixtureTests.rejectedRuleBatch)
        }
    }

    @Test func deletingAMissingTableIsNotAnError() throws {
        let replies = try Fixture.datagrams("nftables/delete_table_missing_replies")
        let fake = FakeKernel { message in
            message.type == NftablesMessageType.getGeneration.messageType ? replies.map { .datagram($0) } + [.data(Self.generation())] : []
        }
        #expect(try Nftables(transport: fake, firstSequence: 0).delete(.inet, table: "vpn_init_wg0") == false)
        let present = Self.kernel { _ in false }
        #expect(try Nftables(transport: present).delete(.inet, table: "vpn_init_wg0") == true)
    }

    @Test func deleteFailuresOtherThanMissingAreThrown() {
        let fake = Self.kernel(errno: EPERM) { $0.type == NftablesMessageType.deleteTable.messageType }
        #expect(throws: SystemCallError("nftables NFT_MSG_DELTABLE", "vpn_init_wg0", errno: EPERM)) {
            try Nftables(transport: fake).delete(.inet, table: "vpn_init_wg0")
        }
    }
}

extension AttributeEncoder {
    mutating func bigEndian32(_ type: UInt16, _ value: UInt32) {
        var bytes = [UInt8]()
        bytes.appendBigEndian(value)
        append(type, bytes)
    }
}
