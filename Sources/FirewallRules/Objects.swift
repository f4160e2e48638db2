import Netlink

/// An nf_tables table with its chains and their rules: what one `table FAMILY NAME { ... }` block
/// of an nft file describes.
public struct NftablesTable: Hashable, Sendable, CustomStringConvertible {
    /// The family: `inet` sees IPv4 and IPv6.
    public var family: NetfilterFamily
    /// The table's name, e.g. `vpn_init_wg0`.
    public var name: String
    /// The chains, created in this order.
    public var chains: [NftablesChain]

    public init(family: NetfilterFamily, name: String, chains: [NftablesChain] = []) {
        self.family = family
        self.name = name
        self.chains = chains
    }

    /// `inet/vpn_init_wg0`.
    public var description: String { "\(family)/\(name)" }
}

/// A chain: a base chain when it has a hook (packets enter it), else a regular one (jumped to).
public struct NftablesChain: Hashable, Sendable {
    public var name: String
    /// Where and how packets enter the chain; nil for a regular chain.
    public var hook: NftablesHook?
    /// The rules, appended in this order.
    public var rules: [NftablesRule]

    public init(name: String, hook: NftablesHook? = nil, rules: [NftablesRule] = []) {
        self.name = name
        self.hook = hook
        self.rules = rules
    }
}

/// A base chain's `type TYPE hook HOOK priority PRIORITY; policy POLICY;`.
public struct NftablesHook: Hashable, Sendable {
    /// `NFTA_CHAIN_TYPE`: `filter` or `nat`.
    public var type: String
    /// The netfilter hook (`NF_INET_*`).
    public var hook: NetfilterHook
    /// The priority: lower runs first (`filter` is 0, `srcnat` 100).
    public var priority: Int32
    /// What happens to packets no rule decides on.
    public var policy: NftablesVerdict

    public init(type: String, hook: NetfilterHook, priority: Int32, policy: NftablesVerdict = .accept) {
        self.type = type
        self.hook = hook
        self.priority = priority
        self.policy = policy
    }

    /// `type filter hook forward priority filter; policy accept;`
    public static let filterForward = NftablesHook(type: "filter", hook: .forward, priority: 0)
    /// `type nat hook postrouting priority srcnat; policy accept;`
    public static let natPostrouting = NftablesHook(type: "nat", hook: .postrouting, priority: 100)
}

/// A rule: expressions run in order; the rule applies when none of its comparisons fails.
public struct NftablesRule: Hashable, Sendable {
    public var expressions: [NftablesExpression]

    public init(_ expressions: [NftablesExpression]) {
        self.expressions = expressions
    }
}

/// The nf_tables requests, laid out exactly as nft (libnftnl) sends them. Each is one message of
/// a batch; the sequence number is set when the batch is numbered.
public enum NftablesMessage {
    /// `NFT_MSG_NEWTABLE` with flags 0 and without `NLM_F_EXCL`: an existing table is kept, so
    /// this never fails with `EEXIST` (`add table`).
    public static func newTable(_ family: NetfilterFamily, _ name: String) -> NetlinkMessage {
        var attributes = AttributeEncoder(header: Nfnetlink.header(family: family))
        attributes.string(NftablesAttribute.tableName, name)
        attributes.bigEndian32(NftablesAttribute.tableFlags, 0)
        return NetlinkMessage(type: NftablesMessageType.newTable.messageType, flags: [.request], payload: attributes.bytes)
    }

    /// `NFT_MSG_DELTABLE`: deletes the table, its chains and rules (`delete table`); `ENOENT`
    /// when there is none.
    public static func deleteTable(_ family: NetfilterFamily, _ name: String) -> NetlinkMessage {
        var attributes = AttributeEncoder(header: Nfnetlink.header(family: family))
        attributes.string(NftablesAttribute.tableName, name)
        return NetlinkMessage(type: NftablesMessageType.deleteTable.messageType, flags: [.request], payload: attributes.bytes)
    }

    /// `NFT_MSG_NEWCHAIN` creating `chain` (without its rules) in `table`.
    public static func newChain(_ family: NetfilterFamily, table: String, _ chain: NftablesChain) -> NetlinkMessage {
        var attributes = AttributeEncoder(header: Nfnetlink.header(family: family))
        attributes.string(NftablesAttribute.chainTable, table)
        attributes.string(NftablesAttribute.chainName, chain.name)
        if let hook = chain.hook {
            attributes.string(NftablesAttribute.chainType, hook.type)
            attributes.bigEndian32(NftablesAttribute.chainPolicy, hook.policy.rawValue)
            attributes.nested(NftablesAttribute.chainHook) { nested in
                nested.bigEndian32(NftablesAttribute.hookNumber, hook.hook.rawValue)
                nested.bigEndian32(NftablesAttribute.hookPriority, UInt32(bitPattern: hook.priority))
            }
        }
        return NetlinkMessage(type: NftablesMessageType.newChain.messageType, flags: [.request, .create], payload: attributes.bytes)
    }

    /// `NFT_MSG_NEWRULE` appending `rule` to `chain` of `table`.
    public static func newRule(_ family: NetfilterFamily, table: String, chain: String, _ rule: NftablesRule) -> NetlinkMessage {
        var attributes = AttributeEncoder(header: Nfnetlink.header(family: family))
        attributes.string(NftablesAttribute.ruleTable, table)
        attributes.string(NftablesAttribute.ruleChain, chain)
        attributes.nested(NftablesAttribute.ruleExpressions) { list in
            for expression in rule.expressions { expression.encode(into: &list) }
        }
        return NetlinkMessage(type: NftablesMessageType.newRule.messageType, flags: [.request, .create, .append],
                              payload: attributes.bytes)
    }

    /// `NFT_MSG_GETGEN`: the kernel answers with `NFT_MSG_NEWGEN`. Sent after a batch, its
    /// answer marks the end of the batch's errors (the kernel handles a socket's messages in
    /// order, the batch wholly within the `sendmsg` that carried it).
    public static func getGeneration() -> NetlinkMessage {
        NetlinkMessage(type: NftablesMessageType.getGeneration.messageType, flags: [.request],
                       payload: Nfnetlink.header(family: .unspecified))
    }
}
