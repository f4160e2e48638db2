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

extension AttributeEncoder {
    /// Appends a 32-bit attribute in network byte order, as nf_tables wants its integers.
    mutating func bigEndian32(_ type: UInt16, _ value: UInt32) {
        var payload = [UInt8]()
        payload.appendBigEndian(value)
        append(type, payload)
    }
}
