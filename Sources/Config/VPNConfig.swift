import DstackAgent
import VPNLog
import WireGuardModel

/// The node's validated configuration, read from the environment by
/// `VPNConfig.parse(environment:)` (README.md's Environment section is the contract).
public struct VPNConfig: Equatable, Sendable {
    /// `VPN_DATA_DIR`: the persistent volume (private key, public key, rendered `wg0.conf`).
    public var dataDirectory: String
    /// `WG_INTERFACE`: 1-15 of `[a-zA-Z0-9_=+.-]`.
    public var interfaceName: String
    /// `WG_ADDRESS`: the interface's addresses, as given (host bits kept).
    public var addresses: [IPNetwork]
    /// `WG_LISTEN_PORT`: the UDP port WireGuard listens on.
    public var listenPort: UInt16
    /// `WG_PRIVATE_KEY` when set, else `WG_PRIVATE_KEY_FILE` (default `$VPN_DATA_DIR/privatekey`).
    public var privateKey: PrivateKeySource
    /// `WG_PUBLIC_KEY_EXPORT`: where to write this node's public key, if anywhere.
    public var publicKeyExport: String?
    /// `WG_MTU` as given; nil means the rule of `mtuChoice` (MTURule.swift).
    public var mtu: Int?
    /// `WG_FWMARK`; nil when unset or 0 (off).
    public var fwmark: UInt32?
    /// `WG_FORWARD`: enable forwarding and accept forwarded traffic of the interface.
    public var forward: Bool
    /// `WG_MASQUERADE`.
    public var masquerade: Masquerade
    /// `WG_IMPLEMENTATION`.
    public var implementation: Implementation
    /// `WG_USERSPACE_BIN`: the userspace WireGuard to run when the kernel has none.
    public var userspaceBinary: String
    /// `WG_TCP_LISTEN`: where to run `tcp2udp`, if anywhere.
    public var tcpListen: TCPListen?
    /// `WG_PEER_KEY_WAIT`: seconds to wait for a peer's `PUBLIC_KEY_FILE` to appear.
    public var peerKeyWait: Double
    /// `VPN_SHUTDOWN_GRACE`: seconds children get between SIGTERM and SIGKILL.
    public var shutdownGrace: Double
    /// `LOG_LEVEL`.
    public var logLevel: LogLevel
    /// The peers: the unnamed one (`WG_PEER_<FIELD>`) first, then by name.
    public var peers: [PeerConfig]
    /// `VPN_NODE_NAME`; nil means the host name (not allowed with the dstack key source).
    public var nodeName: String?
    /// `VPN_KEY_SOURCE`.
    public var keySource: KeySource
    /// `DSTACK_SIMULATOR_ENDPOINT`; nil means the first of the SDK's default sockets that exists.
    public var agentEndpoint: AgentEndpoint?
    /// `VPN_GATEWAY_CONNECTION_LIFETIME` in seconds (0: connections are never replaced).
    public var gatewayConnectionLifetime: Int
    /// `WG_PEERS_FILE`: more peers, from a file (their variables are in `peers`).
    public var peersFile: String?
    /// `VPN_METRICS_LISTEN`: where `/metrics` and `/healthz` are served (nil: nowhere).
    public var metricsListen: TCPListen?

    /// The default of `VPN_GATEWAY_CONNECTION_LIFETIME`: 4.5 h, half an hour before the gateway
    /// cuts every connection at 5 h.
    public static let defaultGatewayConnectionLifetime = 16200

    /// Whether `tcp2udp` or any `udp2tcp` runs: `WG_TCP_LISTEN`, or a peer's `TCP_ENDPOINT` or
    /// `GATEWAY`, is set.
    public var usesTCPTransport: Bool { tcpListen != nil || peers.contains { $0.dialTarget != nil } }

    /// A configuration with the given addresses and peers and every other setting at its default.
    public init(
        dataDirectory: String = "/data",
        interfaceName: String = "wg0",
        addresses: [IPNetwork],
        listenPort: UInt16 = 51820,
        privateKey: PrivateKeySource? = nil,
        publicKeyExport: String? = nil,
        mtu: Int? = nil,
        fwmark: UInt32? = nil,
        forward: Bool = true,
        masquerade: Masquerade = .auto,
        implementation: Implementation = .auto,
        userspaceBinary: String = "/usr/bin/wireguard-go",
        tcpListen: TCPListen? = nil,
        peerKeyWait: Double = 60,
        shutdownGrace: Double = 8,
        logLevel: LogLevel = .info,
        peers: [PeerConfig] = [],
        nodeName: String? = nil,
        keySource: KeySource = .file,
        agentEndpoint: AgentEndpoint? = nil,
        gatewayConnectionLifetime: Int = Self.defaultGatewayConnectionLifetime,
        peersFile: String? = nil,
        metricsListen: TCPListen? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.interfaceName = interfaceName
        self.addresses = addresses
        self.listenPort = listenPort
        self.privateKey = privateKey ?? .file(Self.defaultPrivateKeyFile(dataDirectory: dataDirectory))
        self.publicKeyExport = publicKeyExport
        self.mtu = mtu
        self.fwmark = fwmark
        self.forward = forward
        self.masquerade = masquerade
        self.implementation = implementation
        self.userspaceBinary = userspaceBinary
        self.tcpListen = tcpListen
        self.peerKeyWait = peerKeyWait
        self.shutdownGrace = shutdownGrace
        self.logLevel = logLevel
        self.peers = peers
        self.nodeName = nodeName
        self.keySource = keySource
        self.agentEndpoint = agentEndpoint
        self.gatewayConnectionLifetime = gatewayConnectionLifetime
        self.peersFile = peersFile
        self.metricsListen = metricsListen
    }

    /// The variable of an inline private key (`WG_PRIVATE_KEY`), which vpn-init erases from its
    /// own environment and keeps from its main command.
    public static let inlinePrivateKeyVariable = Setting.privateKey.rawValue

    /// `DIR/privatekey`, without a doubled `/`.
    public static func defaultPrivateKeyFile(dataDirectory: String) -> String {
        dataDirectory.hasSuffix("/") ? dataDirectory + "privatekey" : dataDirectory + "/privatekey"
    }
}

/// Where the node's private key comes from. `description` never shows an inline key.
public enum PrivateKeySource: Equatable, Sendable, CustomStringConvertible {
    /// A file holding the base64 key, created on first boot when absent.
    case file(String)
    /// The key itself, from `WG_PRIVATE_KEY`.
    case inline(WireGuardKey)
    /// Derived by the dstack guest agent for this node name (`VPN_KEY_SOURCE=dstack`).
    case dstack(nodeName: String)

    public var description: String {
        switch self {
        case .file(let path): "file \(path)"
        case .inline: "inline key (redacted)"
        case .dstack(let node): "derived by the dstack guest agent for node \(node)"
        }
    }
}

/// `VPN_KEY_SOURCE`: where the node's identity comes from.
public enum KeySource: String, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// The key store in `VPN_DATA_DIR` (or `WG_PRIVATE_KEY`).
    case file
    /// The dstack guest agent's `GetKey`: nothing secret on disk, the same key after a wiped
    /// volume, a redeploy or a migration.
    case dstack

    public var description: String { rawValue }
}

/// Where a peer's public key comes from.
public enum PublicKeySource: Equatable, Sendable, CustomStringConvertible {
    /// The key itself, from `PUBLIC_KEY`.
    case inline(WireGuardKey)
    /// A file holding the base64 key (e.g. the peer's `WG_PUBLIC_KEY_EXPORT` on a shared
    /// volume), waited for up to `WG_PEER_KEY_WAIT` seconds.
    case file(String)
    /// Derived from the same dstack app's key for this node name (`NODE`).
    case node(String)

    public var description: String {
        switch self {
        case .inline(let key): key.base64
        case .file(let path): "file \(path)"
        case .node(let name): "node \(name)"
        }
    }
}

/// `WG_MASQUERADE`: which outgoing interfaces VPN-sourced traffic is masqueraded on.
public enum Masquerade: Equatable, Sendable, CustomStringConvertible {
    /// The default-route interface, if there is one.
    case auto
    /// No masquerading.
    case off
    /// These interfaces.
    case interfaces([String])

    public var description: String {
        switch self {
        case .auto: "auto"
        case .off: "off"
        case .interfaces(let names): names.joined(separator: ",")
        }
    }
}

/// `WG_IMPLEMENTATION`: which WireGuard to use.
public enum Implementation: String, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// The kernel's WireGuard when the kernel has it, else the userspace binary.
    case auto
    /// Only the kernel's WireGuard.
    case kernel
    /// Only the userspace binary (`WG_USERSPACE_BIN`).
    case userspace

    public var description: String { rawValue }
}

/// `WG_TCP_LISTEN`: the local address and port `tcp2udp` listens on.
public struct TCPListen: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `ADDR:PORT`, with an IPv6 address in brackets.
    public var description: String { address.isV6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
}
