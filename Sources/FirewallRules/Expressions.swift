import Netlink

/// One nf_tables expression: a step of a rule's little register machine
/// (linux/netfilter/nf_tables.h, `NFTA_EXPR_*`). Values are in the byte order nft sends them:
/// attribute integers big-endian, compared data as the packet or the kernel holds it.
public enum NftablesExpression: Hashable, Sendable {
    /// `meta load KEY => reg`: packet metadata (interface names, protocol family).
    case meta(NftablesMetaKey, destination: NftablesRegister = .r1)
    /// `cmp eq reg DATA`: the rule stops matching unless the register equals `data`.
    case compareEqual(source: NftablesRegister = .r1, data: [UInt8])
    /// `payload load LENGTH @ network header + OFFSET => reg`.
    case payload(base: NftablesPayloadBase, offset: UInt32, length: UInt32, destination: NftablesRegister = .r1)
    /// `bitwise reg = (reg & mask) ^ xor`, over `mask.count` bytes. nft names the operation
    /// (`NFTA_BITWISE_OP`, boolean) for some matches (`tcp flags`) and not for others (prefixes).
    case bitwise(source: NftablesRegister = .r1, destination: NftablesRegister = .r1, mask: [UInt8], xor: [UInt8], namesOperation: Bool = false)
    /// `immediate reg 0 VERDICT`: ends the rule with a verdict.
    case verdict(NftablesVerdict)
    /// `masq`: source NAT to the outgoing interface's address.
    case masquerade
    /// `rt load tcpmss => reg`: the MSS that fits the packet's route MTU (host byte order, 2 bytes).
    case routeTCPMSS(destination: NftablesRegister = .r1)
    /// `byteorder reg = hton(reg, SIZE, LENGTH)`.
    case hostToNetwork(source: NftablesRegister = .r1, destination: NftablesRegister = .r1, length: UInt32, size: UInt32)
    /// `exthdr write tcpopt reg => LENGTH b @ KIND + OFFSET`: overwrites a field of a TCP option
    /// (the kernel only ever lowers an MSS this way).
    case writeTCPOption(kind: UInt8, offset: UInt32, length: UInt32, source: NftablesRegister = .r1)

    /// The expression's kernel name (`NFTA_EXPR_NAME`).
    public var name: String {
        switch self {
        case .meta: "meta"
        case .compareEqual: "cmp"
        case .payload: "payload"
        case .bitwise: "bitwise"
        case .verdict: "immediate"
        case .masquerade: "masq"
        case .routeTCPMSS: "rt"
        case .hostToNetwork: "byteorder"
        case .writeTCPOption: "exthdr"
        }
    }

    /// Appends `NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA { ... } }`, attributes in the
    /// order libnftnl writes them.
    public func encode(into attributes: inout AttributeEncoder) {
        attributes.nested(NftablesAttribute.listElement) { element in
            element.string(NftablesAttribute.expressionName, name)
            element.nested(NftablesAttribute.expressionData) { data in encodeData(into: &data) }
        }
    }

    private func encodeData(into data: inout AttributeEncoder) {
        switch self {
        case .meta(let key, let destination):
            data.bigEndian32(NftablesAttribute.metaKey, key.rawValue)
            data.bigEndian32(NftablesAttribute.metaDestination, destination.rawValue)
        case .compareEqual(let source, let value):
            data.bigEndian32(NftablesAttribute.compareSource, source.rawValue)
            data.bigEndian32(NftablesAttribute.compareOperator, 0)  // NFT_CMP_EQ
            data.nested(NftablesAttribute.compareData) { $0.append(NftablesAttribute.dataValue, value) }
        case .payload(let base, let offset, let length, let destination):
            data.bigEndian32(NftablesAttribute.payloadDestination, destination.rawValue)
            data.bigEndian32(NftablesAttribute.payloadBase, base.rawValue)
            data.bigEndian32(NftablesAttribute.payloadOffset, offset)
            data.bigEndian32(NftablesAttribute.payloadLength, length)
        case .bitwise(let source, let destination, let mask, let xor, let namesOperation):
            data.bigEndian32(NftablesAttribute.bitwiseSource, source.rawValue)
            data.bigEndian32(NftablesAttribute.bitwiseDestination, destination.rawValue)
            if namesOperation { data.bigEndian32(NftablesAttribute.bitwiseOperation, 0) }  // NFT_BITWISE_BOOL
            data.bigEndian32(NftablesAttribute.bitwiseLength, UInt32(mask.count))
            data.nested(NftablesAttribute.bitwiseMask) { $0.append(NftablesAttribute.dataValue, mask) }
            data.nested(NftablesAttribute.bitwiseXor) { $0.append(NftablesAttribute.dataValue, xor) }
        case .verdict(let verdict):
            data.bigEndian32(NftablesAttribute.immediateDestination, NftablesRegister.verdict.rawValue)
            data.nested(NftablesAttribute.immediateData) { value in
                value.nested(NftablesAttribute.dataVerdict) { $0.bigEndian32(NftablesAttribute.verdictCode, verdict.rawValue) }
            }
        case .masquerade:
            break  // no options: an empty NFTA_EXPR_DATA, as nft sends it
        case .routeTCPMSS(let destination):
            data.bigEndian32(NftablesAttribute.routeKey, 3)  // NFT_RT_TCPMSS
            data.bigEndian32(NftablesAttribute.routeDestination, destination.rawValue)
        case .hostToNetwork(let source, let destination, let length, let size):
            data.bigEndian32(NftablesAttribute.byteorderSource, source.rawValue)
            data.bigEndian32(NftablesAttribute.byteorderDestination, destination.rawValue)
            data.bigEndian32(NftablesAttribute.byteorderOperation, 1)  // NFT_BYTEORDER_HTON
            data.bigEndian32(NftablesAttribute.byteorderLength, length)
            data.bigEndian32(NftablesAttribute.byteorderSize, size)
        case .writeTCPOption(let kind, let offset, let length, let source):
            data.bigEndian32(NftablesAttribute.extensionHeaderSource, source.rawValue)
            data.append(NftablesAttribute.extensionHeaderType, [kind])
            data.bigEndian32(NftablesAttribute.extensionHeaderOffset, offset)
            data.bigEndian32(NftablesAttribute.extensionHeaderLength, length)
            data.bigEndian32(NftablesAttribute.extensionHeaderOperation, 1)  // NFT_EXTHDR_OP_TCPOPT
        }
    }
}

/// nf_tables registers (`NFT_REG_*`).
public struct NftablesRegister: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `NFT_REG_VERDICT`: where a verdict goes.
    public static let verdict = NftablesRegister(rawValue: 0)
    /// `NFT_REG_1`: the first 16-byte data register, the one nft uses for simple matches.
    public static let r1 = NftablesRegister(rawValue: 1)
}

/// Keys of the `meta` expression (`NFT_META_*`).
public struct NftablesMetaKey: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `NFT_META_IIFNAME`: the input interface's name, 16 bytes, NUL-padded.
    public static let inputInterfaceName = NftablesMetaKey(rawValue: 6)
    /// `NFT_META_OIFNAME`: the output interface's name, 16 bytes, NUL-padded.
    public static let outputInterfaceName = NftablesMetaKey(rawValue: 7)
    /// `NFT_META_NFPROTO`: the packet's netfilter family (one byte), in an `inet` table.
    public static let netfilterProtocol = NftablesMetaKey(rawValue: 15)
    /// `NFT_META_L4PROTO`: the transport protocol (one byte), past any IPv6 extension headers.
    public static let transportProtocol = NftablesMetaKey(rawValue: 16)
}

/// Where a `payload` expression reads (`NFT_PAYLOAD_*_HEADER`).
public struct NftablesPayloadBase: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `NFT_PAYLOAD_NETWORK_HEADER`: the IPv4 or IPv6 header.
    public static let networkHeader = NftablesPayloadBase(rawValue: 1)
    /// `NFT_PAYLOAD_TRANSPORT_HEADER`: the TCP or UDP header.
    public static let transportHeader = NftablesPayloadBase(rawValue: 2)
}

/// Netfilter verdicts (`NF_*` in linux/netfilter.h).
public struct NftablesVerdict: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `NF_DROP`.
    public static let drop = NftablesVerdict(rawValue: 0)
    /// `NF_ACCEPT`.
    public static let accept = NftablesVerdict(rawValue: 1)
}

/// nf_tables attribute types (`NFTA_*`) this target writes.
public enum NftablesAttribute {
    /// `NFTA_TABLE_NAME`.
    public static let tableName: UInt16 = 1
    /// `NFTA_TABLE_FLAGS` (u32, big-endian).
    public static let tableFlags: UInt16 = 2
    /// `NFTA_CHAIN_TABLE`.
    public static let chainTable: UInt16 = 1
    /// `NFTA_CHAIN_NAME`.
    public static let chainName: UInt16 = 3
    /// `NFTA_CHAIN_HOOK` (nested).
    public static let chainHook: UInt16 = 4
    /// `NFTA_CHAIN_POLICY`.
    public static let chainPolicy: UInt16 = 5
    /// `NFTA_CHAIN_TYPE`: `filter`, `nat`, `route`.
    public static let chainType: UInt16 = 7
    /// `NFTA_HOOK_HOOKNUM`, inside `NFTA_CHAIN_HOOK`.
    public static let hookNumber: UInt16 = 1
    /// `NFTA_HOOK_PRIORITY`, inside `NFTA_CHAIN_HOOK`.
    public static let hookPriority: UInt16 = 2
    /// `NFTA_RULE_TABLE`.
    public static let ruleTable: UInt16 = 1
    /// `NFTA_RULE_CHAIN`.
    public static let ruleChain: UInt16 = 2
    /// `NFTA_RULE_EXPRESSIONS` (a list of `NFTA_LIST_ELEM`).
    public static let ruleExpressions: UInt16 = 4
    /// `NFTA_LIST_ELEM`.
    public static let listElement: UInt16 = 1
    /// `NFTA_EXPR_NAME`.
    public static let expressionName: UInt16 = 1
    /// `NFTA_EXPR_DATA`.
    public static let expressionData: UInt16 = 2
    /// `NFTA_DATA_VALUE`.
    public static let dataValue: UInt16 = 1
    /// `NFTA_DATA_VERDICT`.
    public static let dataVerdict: UInt16 = 2
    /// `NFTA_VERDICT_CODE`.
    public static let verdictCode: UInt16 = 1
    /// `NFTA_META_DREG`.
    public static let metaDestination: UInt16 = 1
    /// `NFTA_META_KEY`.
    public static let metaKey: UInt16 = 2
    /// `NFTA_CMP_SREG`.
    public static let compareSource: UInt16 = 1
    /// `NFTA_CMP_OP`.
    public static let compareOperator: UInt16 = 2
    /// `NFTA_CMP_DATA`.
    public static let compareData: UInt16 = 3
    /// `NFTA_PAYLOAD_DREG`.
    public static let payloadDestination: UInt16 = 1
    /// `NFTA_PAYLOAD_BASE`.
    public static let payloadBase: UInt16 = 2
    /// `NFTA_PAYLOAD_OFFSET`.
    public static let payloadOffset: UInt16 = 3
    /// `NFTA_PAYLOAD_LEN`.
    public static let payloadLength: UInt16 = 4
    /// `NFTA_BITWISE_SREG`.
    public static let bitwiseSource: UInt16 = 1
    /// `NFTA_BITWISE_DREG`.
    public static let bitwiseDestination: UInt16 = 2
    /// `NFTA_BITWISE_LEN`.
    public static let bitwiseLength: UInt16 = 3
    /// `NFTA_BITWISE_MASK`.
    public static let bitwiseMask: UInt16 = 4
    /// `NFTA_BITWISE_XOR`.
    public static let bitwiseXor: UInt16 = 5
    /// `NFTA_BITWISE_OP`.
    public static let bitwiseOperation: UInt16 = 6
    /// `NFTA_RT_DREG`.
    public static let routeDestination: UInt16 = 1
    /// `NFTA_RT_KEY`.
    public static let routeKey: UInt16 = 2
    /// `NFTA_BYTEORDER_SREG`.
    public static let byteorderSource: UInt16 = 1
    /// `NFTA_BYTEORDER_DREG`.
    public static let byteorderDestination: UInt16 = 2
    /// `NFTA_BYTEORDER_OP`.
    public static let byteorderOperation: UInt16 = 3
    /// `NFTA_BYTEORDER_LEN`.
    public static let byteorderLength: UInt16 = 4
    /// `NFTA_BYTEORDER_SIZE`.
    public static let byteorderSize: UInt16 = 5
    /// `NFTA_EXTHDR_TYPE` (u8: the TCP option kind).
    public static let extensionHeaderType: UInt16 = 2
    /// `NFTA_EXTHDR_OFFSET`.
    public static let extensionHeaderOffset: UInt16 = 3
    /// `NFTA_EXTHDR_LEN`.
    public static let extensionHeaderLength: UInt16 = 4
    /// `NFTA_EXTHDR_OP`.
    public static let extensionHeaderOperation: UInt16 = 6
    /// `NFTA_EXTHDR_SREG`.
    public static let extensionHeaderSource: UInt16 = 7
    /// `NFTA_IMMEDIATE_DREG`.
    public static let immediateDestination: UInt16 = 1
    /// `NFTA_IMMEDIATE_DATA`.
    public static let immediateData: UInt16 = 2
}

extension AttributeEncoder {
    /// Appends a 32-bit attribute in network byte order, as nf_tables wants its integers.
    mutating func bigEndian32(_ type: UInt16, _ value: UInt32) {
        var payload = [UInt8]()
        payload.appendBigEndian(value)
        append(type, payload)
    }
}
