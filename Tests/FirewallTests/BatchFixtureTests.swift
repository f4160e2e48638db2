import Firewall
import FirewallRules
import Netlink
import NetlinkTestSupport
import Testing
import WireGuardModel

/// The batches vpn-init sends, byte for byte against what `nft -f` sends for the same rules
/// (Tests/Fixtures/nftables, captured by capture.sh; sequence numbers relative to the batch).
@Suite struct BatchFixtureTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var fixture: String
        var batch: NftablesBatch
        var testDescription: String { fixture }
    }

    static func network(_ text: String) -> IPNetwork { try! IPNetwork(parsing: text) }

    static func replacing(_ interface: String, forward: Bool, addresses: [String], ipv4: [String], ipv6: [String] = []) -> NftablesBatch {
        let subnets = ForwardingRuleset.subnets(of: addresses.map(network))
        let ruleset = ForwardingRuleset(interfaceName: interface, acceptForwarded: forward,
                                        masquerade: ForwardingRuleset.masquerade(subnets: subnets, ipv4Interfaces: ipv4, ipv6Interfaces: ipv6))
        return .replacing(ruleset.table)
    }

    static let cases: [Case] = [
        Case(fixture: "replace_forward_masquerade",
             batch: replacing("wg0", forward: true, addresses: ["10.0.0.1/24"], ipv4: ["eth0"])),
        Case(fixture: "replace_dual_stack",
             batch: replacing("wg1", forward: true, addresses: ["10.8.1.1/20", "10.9.0.7/32", "fd00::1/64", "fd00:1::1/50"],
                              ipv4: ["eth0", "lan0"], ipv6: ["eth0", "lan0"])),
        Case(fixture: "replace_masquerade_only",
             batch: replacing("wg0", forward: false, addresses: ["10.0.0.1/24"], ipv4: ["eth1"])),
        Case(fixture: "replace_forward_only",
             batch: replacing("wg0", forward: true, addresses: ["10.0.0.1/24"], ipv4: [])),
        Case(fixture: "replace_empty",
             batch: replacing("wg0", forward: false, addresses: ["10.0.0.1/24"], ipv4: [])),
        Case(fixture: "delete_table", batch: .deleting(.inet, table: "vpn_init_wg0")),
        Case(fixture: "rule_rejected", batch: rejectedRuleBatch),
    ]

    /// `table inet vpn_init_wg0 { chain forward { ...; iifname "wg0" accept; oifname "eth0" masquerade } }`
    /// without the replace prefix, as in the fixture whose second rule the kernel rejects.
    static var rejectedRuleBatch: NftablesBatch {
        var batch = NftablesBatch(subject: "vpn_init_wg0")
        let chain = NftablesChain(name: "forward", hook: .filterForward, rules: [
            .acceptInput(from: "wg0"),
            NftablesRule(NftablesMatch.interfaceName(.outputInterfaceName, "eth0") + [.masquerade]),
        ])
        batch.append(NftablesMessage.newTable(.inet, "vpn_init_wg0"), object: "vpn_init_wg0")
        batch.append(NftablesMessage.newChain(.inet, table: "vpn_init_wg0", chain), object: "vpn_init_wg0/forward")
        for rule in chain.rules {
            batch.append(NftablesMessage.newRule(.inet, table: "vpn_init_wg0", chain: "forward", rule), object: "vpn_init_wg0/forward")
        }
        return batch
    }

    @Test(arguments: cases)
    func batchMatchesNft(_ test: Case) throws {
        let expected = try Fixture.bytes("nftables/\(test.fixture)")
        let actual = test.batch.datagram(firstSequence: 0)
        #expect(actual.count == expected.count)
        // Compare message by message first: a mismatch then names the message.
        let expectedMessages = try NetlinkMessage.decode(datagram: expected)
        let actualMessages = try NetlinkMessage.decode(datagram: actual)
        #expect(actualMessages.count == expectedMessages.count)
        for (index, (mine, theirs)) in zip(actualMessages, expectedMessages).enumerated() {
            #expect(mine == theirs, "message \(index): \(NftablesMessageType.describe(messageType: theirs.type))")
        }
        // The whole datagram, padding included (kept out of the message to keep a failure short).
        let identical = actual == expected
        #expect(identical, "the datagram differs from what nft sends")
    }

    @Test(arguments: cases)
    func fixtureIsHeadedByItsCommandAndRules(_ test: Case) throws {
        let comments = try Fixture.comments("nftables/\(test.fixture)")
        #expect(comments.first == "nft -f rules.nft")
        #expect(comments.contains("rules.nft:"))
        #expect(comments.contains { $0.contains("table inet vpn_init_wg") })
    }

    @Test func sequenceNumbersFollowTheFirst() {
        let batch = Self.cases[0].batch
        let messages = batch.messages(firstSequence: UInt32.max - 2)
        #expect(messages.map(\.sequence) == (0..<UInt32(batch.messageCount)).map { (UInt32.max - 2) &+ $0 })
        #expect(messages.first?.type == NfnetlinkControlType.batchBegin.rawValue)
        #expect(messages.last?.type == NfnetlinkControlType.batchEnd.rawValue)
    }

    @Test func entriesMapBackFromSequenceNumbers() throws {
        let batch = Self.cases[0].batch
        let first: UInt32 = 4_000_000_000
        let names = (0..<batch.messageCount).map { index in
            batch.entry(sequence: first &+ UInt32(index), firstSequence: first).map { "\($0.operation) \($0.object)" }
        }
        #expect(names == [
            "NFNL_MSG_BATCH_BEGIN vpn_init_wg0",
            "NFT_MSG_NEWTABLE vpn_init_wg0", "NFT_MSG_DELTABLE vpn_init_wg0", "NFT_MSG_NEWTABLE vpn_init_wg0",
            "NFT_MSG_NEWCHAIN vpn_init_wg0/forward", "NFT_MSG_NEWCHAIN vpn_init_wg0/postrouting",
            "NFT_MSG_NEWRULE vpn_init_wg0/forward", "NFT_MSG_NEWRULE vpn_init_wg0/forward",
            "NFT_MSG_NEWRULE vpn_init_wg0/forward", "NFT_MSG_NEWRULE vpn_init_wg0/forward",
            "NFT_MSG_NEWRULE vpn_init_wg0/postrouting",
            "NFNL_MSG_BATCH_END vpn_init_wg0",
        ])
        #expect(batch.entry(sequence: first &- 1, firstSequence: first) == nil)
        #expect(batch.entry(sequence: first &+ UInt32(batch.messageCount), firstSequence: first) == nil)
    }
}
