// The kernel's netlink numbers this project uses, in one place: netlink and rtnetlink, the
// generic netlink controller, nfnetlink and nf_tables, and the WireGuard family. Types whose values
// get printed name them with the C names of the kernel's headers.

/// A kernel number that prints as its C name (`RTM_NEWLINK`). Values without a name, as they can
/// come off the wire, print as a prefix and the number (`RTM 99`).
public protocol KernelConstant: RawRepresentable, Hashable, Sendable, CustomStringConvertible
where RawValue: FixedWidthInteger {
    init(rawValue: RawValue)
    /// The C names of the values this code knows.
    static var names: [Self: String] { get }
    /// What stands before the number of a value without a name.
    static var unnamedPrefix: String { get }
}

extension KernelConstant {
    public var description: String { Self.names[self] ?? "\(Self.unnamedPrefix) \(rawValue)" }
}

/// Netlink's own message types (`NLMSG_*` in linux/netlink.h), shared by every family.
public struct NetlinkControlType: KernelConstant {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `NLMSG_NOOP`: to be ignored.
    public static let noop = NetlinkControlType(rawValue: 1)
    /// `NLMSG_ERROR`: an error, or an acknowledgement when its error is 0.
    public static let error = NetlinkControlType(rawValue: 2)
    /// `NLMSG_DONE`: the end of a multipart reply.
    public static let done = NetlinkControlType(rawValue: 3)
    /// `NLMSG_OVERRUN`: data was lost.
    public static let overrun = NetlinkControlType(rawValue: 4)

    public static let names: [NetlinkControlType: String] = [
        .noop: "NLMSG_NOOP", .error: "NLMSG_ERROR", .done: "NLMSG_DONE", .overrun: "NLMSG_OVERRUN"
    ]
    public static let unnamedPrefix = "NLMSG"
}

/// rtnetlink message types (`RTM_*` in linux/rtnetlink.h) this project sends or reads.
public struct RouteMessageType: KernelConstant {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `RTM_NEWLINK`: create or change a link.
    public static let newLink = RouteMessageType(rawValue: 16)
    /// `RTM_DELLINK`: delete a link.
    public static let deleteLink = RouteMessageType(rawValue: 17)
    /// `RTM_GETLINK`: read a link (or dump all).
    public static let getLink = RouteMessageType(rawValue: 18)
    /// `RTM_NEWADDR`: add an interface address.
    public static let newAddress = RouteMessageType(rawValue: 20)
    /// `RTM_DELADDR`: remove an interface address.
    public static let deleteAddress = RouteMessageType(rawValue: 21)
    /// `RTM_GETADDR`: dump interface addresses.
    public static let getAddress = RouteMessageType(rawValue: 22)
    /// `RTM_NEWROUTE`: add a route.
    public static let newRoute = RouteMessageType(rawValue: 24)
    /// `RTM_DELROUTE`: delete a route.
    public static let deleteRoute = RouteMessageType(rawValue: 25)
    /// `RTM_GETROUTE`: dump routes.
    public static let getRoute = RouteMessageType(rawValue: 26)

    public static let names: [RouteMessageType: String] = [
        .newLink: "RTM_NEWLINK", .deleteLink: "RTM_DELLINK", .getLink: "RTM_GETLINK",
        .newAddress: "RTM_NEWADDR", .deleteAddress: "RTM_DELADDR", .getAddress: "RTM_GETADDR",
        .newRoute: "RTM_NEWROUTE", .deleteRoute: "RTM_DELROUTE", .getRoute: "RTM_GETROUTE"
    ]
    public static let unnamedPrefix = "RTM"
}

/// Netlink protocols (the third argument of `socket(AF_NETLINK, ...)`).
public struct NetlinkProtocol: KernelConstant {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `NETLINK_ROUTE`: links, addresses, routes.
    public static let route = NetlinkProtocol(rawValue: 0)
    /// `NETLINK_NETFILTER`: nftables.
    public static let netfilter = NetlinkProtocol(rawValue: 12)
    /// `NETLINK_GENERIC`: generic netlink families such as WireGuard.
    public static let generic = NetlinkProtocol(rawValue: 16)

    public static let names: [NetlinkProtocol: String] = [
        .route: "NETLINK_ROUTE", .netfilter: "NETLINK_NETFILTER", .generic: "NETLINK_GENERIC"
    ]
    public static let unnamedPrefix = "netlink protocol"
}

/// Netlink message flags (`NLM_F_*` in linux/netlink.h). Some bits mean different things for
/// requests that get, create or delete, and for acknowledgements.
public struct NetlinkFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `NLM_F_REQUEST`: the message is a request.
    public static let request = NetlinkFlags(rawValue: 0x01)
    /// `NLM_F_MULTI`: part of a multipart reply, ended by `NLMSG_DONE`.
    public static let multipart = NetlinkFlags(rawValue: 0x02)
    /// `NLM_F_ACK`: the sender wants an acknowledgement.
    public static let acknowledge = NetlinkFlags(rawValue: 0x04)
    /// `NLM_F_ECHO`: echo this request back.
    public static let echo = NetlinkFlags(rawValue: 0x08)
    /// `NLM_F_DUMP_INTR`: the dump was interrupted by a change and may be inconsistent.
    public static let dumpInterrupted = NetlinkFlags(rawValue: 0x10)

    /// `NLM_F_ROOT | NLM_F_MATCH` (`NLM_F_DUMP`): return every object (get requests).
    public static let dump = NetlinkFlags(rawValue: 0x300)

    /// `NLM_F_REPLACE`: replace an existing object (new requests).
    public static let replace = NetlinkFlags(rawValue: 0x100)
    /// `NLM_F_EXCL`: fail if the object exists (new requests).
    public static let exclusive = NetlinkFlags(rawValue: 0x200)
    /// `NLM_F_CREATE`: create the object if it does not exist (new requests).
    public static let create = NetlinkFlags(rawValue: 0x400)

    /// `NLM_F_CAPPED`: the acknowledgement echoes only the request's header (acks).
    public static let capped = NetlinkFlags(rawValue: 0x100)
    /// `NLM_F_ACK_TLVS`: the acknowledgement carries extended-ACK attributes (acks).
    public static let acknowledgementAttributes = NetlinkFlags(rawValue: 0x200)
}

/// Commands of the generic netlink controller (`CTRL_CMD_*`).
public struct ControllerCommand: KernelConstant {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `CTRL_CMD_NEWFAMILY`: the controller's answer describing a family.
    public static let newFamily = ControllerCommand(rawValue: 1)
    /// `CTRL_CMD_GETFAMILY`: look a family up.
    public static let getFamily = ControllerCommand(rawValue: 3)

    public static let names: [ControllerCommand: String] = [
        .newFamily: "CTRL_CMD_NEWFAMILY", .getFamily: "CTRL_CMD_GETFAMILY"
    ]
    public static let unnamedPrefix = "CTRL_CMD"
}

/// Attributes of the generic netlink controller (`CTRL_ATTR_*`).
public enum ControllerAttribute {
    /// `CTRL_ATTR_FAMILY_ID` (u16).
    public static let familyID: UInt16 = 1
    /// `CTRL_ATTR_FAMILY_NAME` (string).
    public static let familyName: UInt16 = 2
    /// `CTRL_ATTR_VERSION` (u32).
    public static let version: UInt16 = 3
}

/// rtnetlink's numbers (linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h).
extension RouteNetlink {
    /// `AF_INET`.
    public static let familyIPv4: UInt8 = 2
    /// `AF_INET6`.
    public static let familyIPv6: UInt8 = 10
    /// `IFF_UP`: the administrative up flag of `ifi_flags`.
    public static let interfaceUp: UInt32 = 0x1
    /// `IFF_LOWER_UP`: the carrier is on.
    public static let interfaceLowerUp: UInt32 = 0x10000
    /// `RT_TABLE_MAIN`.
    public static let mainTable: UInt8 = 254
    /// `RTPROT_BOOT`: what `ip route add` marks its routes with.
    public static let protocolBoot: UInt8 = 3
    /// `RT_SCOPE_UNIVERSE`.
    public static let scopeUniverse: UInt8 = 0
    /// `RT_SCOPE_LINK`: a destination directly on the link.
    public static let scopeLink: UInt8 = 253
    /// `RT_SCOPE_NOWHERE`: what `ip route del` asks for (any scope matches).
    public static let scopeNowhere: UInt8 = 255
    /// `RTN_UNICAST`.
    public static let routeUnicast: UInt8 = 1

    /// Link attributes (`IFLA_*`).
    public enum LinkAttribute {
        /// `IFLA_ADDRESS`: the hardware address.
        public static let address: UInt16 = 1
        /// `IFLA_IFNAME`.
        public static let name: UInt16 = 3
        /// `IFLA_MTU`.
        public static let mtu: UInt16 = 4
        /// `IFLA_OPERSTATE`.
        public static let operationalState: UInt16 = 16
        /// `IFLA_LINKINFO` (nested).
        public static let linkInfo: UInt16 = 18
        /// `IFLA_EXT_MASK`: what a get request wants (`RTEXT_FILTER_*`).
        public static let extendedMask: UInt16 = 29
        /// `IFLA_INFO_KIND`, inside `IFLA_LINKINFO`.
        public static let infoKind: UInt16 = 1
    }

    /// Address attributes (`IFA_*`).
    public enum AddressAttribute {
        /// `IFA_ADDRESS`: the peer address (the local one on non-point-to-point links).
        public static let address: UInt16 = 1
        /// `IFA_LOCAL`: the local address.
        public static let local: UInt16 = 2
    }

    /// Route attributes (`RTA_*`).
    public enum RouteAttribute {
        /// `RTA_DST`.
        public static let destination: UInt16 = 1
        /// `RTA_OIF`: the output interface index.
        public static let outputInterface: UInt16 = 4
        /// `RTA_PRIORITY`: the metric; lower wins.
        public static let priority: UInt16 = 6
        /// `RTA_MULTIPATH`: a list of `struct rtnexthop`.
        public static let multipath: UInt16 = 9
        /// `RTA_TABLE`: a table id above 255.
        public static let table: UInt16 = 15
    }
}

/// nfnetlink's own message types, below every subsystem's (`NFNL_MSG_BATCH_*`).
public struct NfnetlinkControlType: KernelConstant {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `NFNL_MSG_BATCH_BEGIN` (`NLMSG_MIN_TYPE`): opens a transaction.
    public static let batchBegin = NfnetlinkControlType(rawValue: 0x10)
    /// `NFNL_MSG_BATCH_END`: commits it.
    public static let batchEnd = NfnetlinkControlType(rawValue: 0x11)

    public static let names: [NfnetlinkControlType: String] = [
        .batchBegin: "NFNL_MSG_BATCH_BEGIN", .batchEnd: "NFNL_MSG_BATCH_END"
    ]
    public static let unnamedPrefix = "NFNL_MSG"
}

/// nf_tables commands (`NFT_MSG_*` in linux/netfilter/nf_tables.h).
public struct NftablesMessageType: KernelConstant {
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

    public static let names: [NftablesMessageType: String] = [
        .newTable: "NFT_MSG_NEWTABLE", .deleteTable: "NFT_MSG_DELTABLE", .newChain: "NFT_MSG_NEWCHAIN",
        .newRule: "NFT_MSG_NEWRULE", .newGeneration: "NFT_MSG_NEWGEN", .getGeneration: "NFT_MSG_GETGEN"
    ]
    public static let unnamedPrefix = "NFT_MSG"

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
public struct NetfilterFamily: KernelConstant {
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
    public static let names: [NetfilterFamily: String] = [
        .unspecified: "unspec", .inet: "inet", .ipv4: "ip", .ipv6: "ip6"
    ]
    public static let unnamedPrefix = "family"
}

extension NetlinkFlags {
    /// `NLM_F_APPEND`: add the rule at the end of its chain (new requests).
    public static let append = NetlinkFlags(rawValue: 0x800)
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

/// Netfilter hooks of the IPv4/IPv6/inet families (`NF_INET_*` in linux/netfilter.h).
public struct NetfilterHook: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `NF_INET_PRE_ROUTING`.
    public static let prerouting = NetfilterHook(rawValue: 0)
    /// `NF_INET_LOCAL_IN`.
    public static let input = NetfilterHook(rawValue: 1)
    /// `NF_INET_FORWARD`: packets routed through this host.
    public static let forward = NetfilterHook(rawValue: 2)
    /// `NF_INET_LOCAL_OUT`.
    public static let output = NetfilterHook(rawValue: 3)
    /// `NF_INET_POST_ROUTING`: every packet leaving, where source NAT happens.
    public static let postrouting = NetfilterHook(rawValue: 4)
}

/// The WireGuard generic netlink family's attribute numbers and flags (linux/wireguard.h).
public enum WireGuardNumbers {
    /// `WGDEVICE_A_*`.
    public enum DeviceAttribute {
        public static let interfaceIndex: UInt16 = 1
        public static let interfaceName: UInt16 = 2
        public static let privateKey: UInt16 = 3
        public static let publicKey: UInt16 = 4
        public static let flags: UInt16 = 5
        public static let listenPort: UInt16 = 6
        public static let fwmark: UInt16 = 7
        public static let peers: UInt16 = 8
    }

    /// `WGPEER_A_*`.
    public enum PeerAttribute {
        public static let publicKey: UInt16 = 1
        public static let presharedKey: UInt16 = 2
        public static let flags: UInt16 = 3
        public static let endpoint: UInt16 = 4
        public static let persistentKeepaliveInterval: UInt16 = 5
        public static let lastHandshakeTime: UInt16 = 6
        public static let rxBytes: UInt16 = 7
        public static let txBytes: UInt16 = 8
        public static let allowedIPs: UInt16 = 9
        public static let protocolVersion: UInt16 = 10
    }

    /// `WGALLOWEDIP_A_*`.
    public enum AllowedIPAttribute {
        public static let family: UInt16 = 1
        public static let address: UInt16 = 2
        public static let prefixLength: UInt16 = 3
    }

    /// `WGDEVICE_F_REPLACE_PEERS`.
    public static let replacePeersFlag: UInt32 = 1
    /// `WGPEER_F_REMOVE_ME`.
    public static let removePeerFlag: UInt32 = 1
    /// `WGPEER_F_REPLACE_ALLOWEDIPS`.
    public static let replaceAllowedIPsFlag: UInt32 = 2
    /// `WGPEER_F_UPDATE_ONLY`.
    public static let updateOnlyFlag: UInt32 = 4
}

/// Commands of the WireGuard generic netlink family (`WG_CMD_*`).
public struct WireGuardCommand: KernelConstant {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `WG_CMD_GET_DEVICE`: read a device (a dump).
    public static let getDevice = WireGuardCommand(rawValue: 0)
    /// `WG_CMD_SET_DEVICE`: change a device.
    public static let setDevice = WireGuardCommand(rawValue: 1)

    public static let names: [WireGuardCommand: String] = [
        .getDevice: "WG_CMD_GET_DEVICE", .setDevice: "WG_CMD_SET_DEVICE"
    ]
    public static let unnamedPrefix = "WG_CMD"
}
