import WireGuardModel

/// One peer, from the `WG_PEER_<FIELD>` (unnamed) or `WG_PEER_<NAME>_<FIELD>` variables.
public struct PeerConfig: Equatable, Sendable {
    /// The peer's NAME (`[A-Z0-9]+`), or nil for the unnamed peer.
    public var name: String?
    /// `PUBLIC_KEY`, `PUBLIC_KEY_FILE` or `NODE` (exactly one is set).
    public var publicKey: PublicKeySource
    /// `PRESHARED_KEY_FILE`: a file holding the base64 preshared key.
    public var presharedKeyFile: String?
    /// `ALLOWED_IPS`: the networks routed to this peer, as given.
    public var allowedIPs: [IPNetwork]
    /// `ENDPOINT`: where to send packets (a name is resolved at boot).
    public var endpoint: Endpoint?
    /// `PERSISTENT_KEEPALIVE` in seconds; nil when unset or 0 (off).
    public var persistentKeepalive: UInt16?
    /// `TCP_ENDPOINT`: the peer's `tcp2udp`, reached through a local `udp2tcp`.
    public var tcpEndpoint: Endpoint?
    /// `TLS_SNI`: dial `tcpEndpoint` with TLS and this server name.
    public var tlsSNI: String?
    /// `TLS_CA_FILE`: the CA bundle for that TLS (default: the system roots).
    public var tlsCAFile: String?
    /// `GATEWAY`: the peer's name at the dstack gateway (`<instance-id>-<port>.<domain>`, port
    /// 443 unless given), dialed with TLS and that name as SNI through a local `udp2tcp`.
    public var gateway: Endpoint?

    public init(
        name: String? = nil,
        publicKey: PublicKeySource,
        presharedKeyFile: String? = nil,
        allowedIPs: [IPNetwork],
        endpoint: Endpoint? = nil,
        persistentKeepalive: UInt16? = nil,
        tcpEndpoint: Endpoint? = nil,
        tlsSNI: String? = nil,
        tlsCAFile: String? = nil,
        gateway: Endpoint? = nil
    ) {
        self.name = name
        self.publicKey = publicKey
        self.presharedKeyFile = presharedKeyFile
        self.allowedIPs = allowedIPs
        self.endpoint = endpoint
        self.persistentKeepalive = persistentKeepalive
        self.tcpEndpoint = tcpEndpoint
        self.tlsSNI = tlsSNI
        self.tlsCAFile = tlsCAFile
        self.gateway = gateway
    }

    /// Where this peer's `udp2tcp` dials: its `TCP_ENDPOINT` or its `GATEWAY`; nil when the peer
    /// is reached over UDP.
    public var dialTarget: Endpoint? { tcpEndpoint ?? gateway }

    /// The TLS server name for dialing: `TLS_SNI`, or the gateway's host name.
    public var dialServerName: String? { tlsSNI ?? gateway.map(\.host.description) }

    /// The prefix of this peer's variables, for messages: `WG_PEER_` or `WG_PEER_B_`.
    public var variablePrefix: String { PeerField.prefix(name: name) }

    /// The full name of one of this peer's variables, e.g. `WG_PEER_B_ENDPOINT`.
    public func variable(_ field: PeerField) -> String { variablePrefix + field.rawValue }
}

/// The fields a peer variable can end with.
public enum PeerField: String, Sendable, CaseIterable {
    case publicKey = "PUBLIC_KEY"
    case publicKeyFile = "PUBLIC_KEY_FILE"
    case presharedKeyFile = "PRESHARED_KEY_FILE"
    case allowedIPs = "ALLOWED_IPS"
    case endpoint = "ENDPOINT"
    case persistentKeepalive = "PERSISTENT_KEEPALIVE"
    case tcpEndpoint = "TCP_ENDPOINT"
    case tlsSNI = "TLS_SNI"
    case tlsCAFile = "TLS_CA_FILE"
    case node = "NODE"
    case gateway = "GATEWAY"

    /// The fields, longest first, so `..._TCP_ENDPOINT` is never read as `..._ENDPOINT`.
    static let longestFirst = allCases.sorted { $0.rawValue.count > $1.rawValue.count }
    /// `_FIELD` of each field as UTF-8, longest first.
    static let suffixesLongestFirst = longestFirst.map { ($0, Array("_\($0.rawValue)".utf8)) }

    /// `WG_PEER_` for the unnamed peer, else `WG_PEER_<NAME>_`.
    static func prefix(name: String?) -> String {
        guard let name else { return "WG_PEER_" }
        return "WG_PEER_\(name)_"
    }
}
