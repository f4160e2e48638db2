#if canImport(Glibc)
import Glibc
#endif
import Config
import Metrics
import Netlink
import NetlinkSocket
import Supervisor
import SystemCalls
import VPNLog
import WireGuard
import WireGuardModel

/// The WireGuard interface vpn-init runs: created at boot (kernel link, or wireguard-go as a
/// supervised child), configured again whenever wireguard-go restarts, deleted at shutdown.
public final class Tunnel {
    /// The running configuration; its peers change with a reload (`PeerReload`).
    private(set) var config: VPNConfig
    let privateKey: WireGuardKey
    /// The peers as WireGuard has them, in `config.peers`' order.
    private(set) var peers: [LivePeer]
    let links: Links
    public private(set) var backend: any WireGuardBackend
    /// wireguard-go's UAPI side, on the userspace path: the socket each of its starts gets.
    private let userspace: UserspaceWireGuard?
    /// The configuration `bringUp` sent and `finishBringUp` waits for.
    private var pendingConfiguration: PendingConfiguration?
    /// wireguard-go's first process, for telling an early exit from other errors.
    private var userspacePID: pid_t?
    /// The host children and timers run on.
    let supervisor: any BootHost
    /// Whether a background retry of unresolved endpoints is scheduled.
    private var resolving = false

    private init(settings: BootSettings, peers: [LivePeer], links: Links, supervisor: any BootHost,
                 backend: any WireGuardBackend, userspace: UserspaceWireGuard?) {
        config = settings.config
        privateKey = settings.privateKey
        self.peers = peers
        self.links = links
        self.supervisor = supervisor
        self.backend = backend
        self.userspace = userspace
    }

    /// Brings the tunnel up: peer keys, endpoints, the link, the device, addresses, MTU, routes.
    /// Every change is registered for undoing with `supervisor` before it is made, so a failed
    /// boot leaves nothing behind.
    static func bringUp(_ settings: BootSettings, supervisor: any BootHost, system: any NodeSystem) throws(BootFailure) -> Tunnel {
        let config = settings.config
        let keys = try PeerKeys.load(config.peers, wait: config.peerKeyWait, agent: settings.agent, shouldStop: stopRequested)
        var peers: [LivePeer] = []
        for (peer, keys) in zip(config.peers, keys) {
            peers.append(try LivePeer(peer, keys: keys, resolveFor: 10))
        }
        let links: Links
        do { links = Links(connection: NetlinkConnection(transport: try system.netlink(.route))) } catch { throw BootFailure(exitCode: .failure, "\(error)") }
        let name = config.interfaceName
        supervisor.addTeardown("interface \(name)") {
            if try links.delete(named: name) { Log.info("interface deleted", ("interface", name)) }
        }

        var userspace = config.implementation == .userspace
        if !userspace {
            let outcome: Links.WireGuardLink
            do { outcome = try links.addWireGuard(named: name, ifExists: .replace) } catch { throw BootFailure(exitCode: .failure, "\(error)") }
            if case .kernelLacksWireGuard(let error) = outcome {
                guard config.implementation == .auto else {
                    throw BootFailure(exitCode: .unavailable, "WG_IMPLEMENTATION=kernel: the kernel has no WireGuard support (\(error)); use auto or userspace")
                }
                Log.info("kernel has no WireGuard; using userspace", ("binary", config.userspaceBinary))
                userspace = true
            }
        }
        let backend: any WireGuardBackend
        var uapi: UserspaceWireGuard?
        if userspace {
            uapi = UserspaceWireGuard(interfaceName: name, socketDirectory: system.userspaceSocketDirectory)
            backend = uapi!
        } else {
            do {
                backend = KernelWireGuard(interfaceName: name, connection: NetlinkConnection(transport: try system.netlink(.generic)))
            } catch {
                throw BootFailure(exitCode: .failure, "\(error)")
            }
        }
        let tunnel = Tunnel(settings: settings, peers: peers, links: links, supervisor: supervisor, backend: backend, userspace: uapi)
        let mtu = config.mtuChoice
        Log.info("interface MTU", ("interface", name), ("mtu", mtu.mtu), ("reason", mtu.reason))
        if userspace { try tunnel.startUserspace(supervisor, system: system) }
        // wireguard-go is still starting: its configuration waits in its socket's backlog while
        // the link, the helpers and (in Boot.bringUp) the firewall are set up; finishBringUp waits.
        do { tunnel.pendingConfiguration = try tunnel.beginConfigure() } catch { throw tunnel.failure(error) }
        try Transport.startListener(config, supervisor: supervisor)
        for index in tunnel.peers.indices { try tunnel.startDialer(index) }
        tunnel.writeRenderedConfig()
        tunnel.retryUnresolvedEndpoints(delay: .seconds(2))
        return tunnel
    }

    /// Waits until the device took the configuration `bringUp` sent (wireguard-go answers once it
    /// has started) and sets what must come after it. Call it before logging `ready`.
    func finishBringUp() throws(BootFailure) {
        guard let pending = pendingConfiguration else { return }
        pendingConfiguration = nil
        do { try finishConfigure(pending) } catch { throw failure(error) }
    }

    /// Creates the TUN device, then starts wireguard-go in the foreground as a supervised child on
    /// it, handing it a listening UAPI socket (`WG_UAPI_FD`, as its own daemon mode does), so
    /// the device can be configured before the program has started. The socket is new for every
    /// start; the device outlives restarts, and each new process is configured again.
    private func startUserspace(_ supervisor: any BootHost, system: any NodeSystem) throws(BootFailure) {
        let binary = config.userspaceBinary
        guard access(binary, X_OK) == 0 else {
            let error = SystemCallError.current("access", binary)
            throw BootFailure(exitCode: .unavailable, "WireGuard unavailable: no kernel support, and WG_USERSPACE_BIN \(binary) cannot run (\(error))")
        }
        guard let device = userspace else { return }
        do {
            try createTunDevice(system)
        } catch where error.systemCall == "open" && error.object == TunDevice.clonePath {
            throw BootFailure(exitCode: .unavailable, "WireGuard unavailable: no kernel support, and no TUN device for WG_USERSPACE_BIN (\(error))")
        } catch {
            throw BootFailure(exitCode: .failure, "\(error)")
        }
        let environment = [
            "WG_PROCESS_FOREGROUND": "1",
            "WG_UAPI_FD": "3",
            "LOG_LEVEL": Log.level == .debug ? "verbose" : "error",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        let spec = ChildSpec(name: "wireguard-go", arguments: [binary, "-f", config.interfaceName], environment: environment,
                             restart: .always, privileges: ChildPrivileges.wireguardGo(listenPort: config.listenPort),
                             openDescriptors: { [device] in [try device.listen()] }) { started in
            guard started.starts > 1 else { return }
            try self.configure()
            Log.info("wireguard-go reconfigured", ("interface", self.config.interfaceName), ("pid", started.pid))
        }
        supervisor.start(spec)
        guard let pid = supervisor.pid(of: "wireguard-go") else {
            throw BootFailure(exitCode: .unavailable, "WireGuard unavailable: \(binary) could not be started")
        }
        userspacePID = pid
    }

    /// The persistent TUN device wireguard-go attaches to; a link of that name left behind (by a
    /// killed vpn-init, say) is replaced, as on the kernel path.
    private func createTunDevice(_ system: any NodeSystem) throws(SystemCallError) {
        let name = config.interfaceName
        do {
            try system.createTunDevice(named: name)
        } catch where error.errno == EBUSY {
            if try links.delete(named: name) { Log.info("stale interface replaced", ("interface", name)) }
            try system.createTunDevice(named: name)
        }
    }

    /// A boot failure for a configuration error; when wireguard-go exited before answering, it
    /// says so.
    private func failure(_ error: WireGuardConfigError) -> BootFailure {
        if case .invalid = error { return BootFailure(exitCode: .configuration, "\(error)") }
        if let pid = userspacePID, hasExited(pid, within: 0.1) {
            return BootFailure(exitCode: .failure, "wireguard-go exited before answering on its socket (see its output): \(error)")
        }
        return BootFailure(exitCode: .failure, "\(error)")
    }

    /// Whether the child `pid` exits within `seconds`, left unreaped. A program closes its
    /// descriptors (its socket refuses or resets the connection) a moment before it has exited.
    private func hasExited(_ pid: pid_t, within seconds: Double) -> Bool {
        let deadline = monotonicSeconds() + seconds
        while true {
            var info = siginfo_t()
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid { return true }
            guard monotonicSeconds() < deadline else { return false }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            _ = nanosleep(&pause, nil)
        }
    }

    /// The device configuration: key, port, fwmark and exactly the configured peers.
    var deviceConfig: WireGuardDeviceConfig {
        WireGuardDeviceConfig(interfaceName: config.interfaceName, privateKey: privateKey, listenPort: config.listenPort,
                              fwmark: config.fwmark ?? 0, replacePeers: true, peers: peers.map(\.wireGuardConfig))
    }

    /// Applies the device configuration, then MTU, addresses, up, and routes through rtnetlink.
    func configure() throws(WireGuardConfigError) {
        try finishConfigure(try beginConfigure())
    }

    /// A device configuration sent and, for wireguard-go, maybe not answered yet.
    struct PendingConfiguration {
        var request: PendingRequest
        var link: LinkAttributes
    }

    /// Sends the device configuration (the kernel applies it at once; wireguard-go when it gets
    /// to it), then sets addresses, up and routes: the link exists from the start either way.
    private func beginConfigure() throws(WireGuardConfigError) -> PendingConfiguration {
        let request = try backend.beginConfiguration(deviceConfig)
        let name = config.interfaceName
        do throws(SystemCallError) {
            guard let link = try links.link(named: name) else {
                throw SystemCallError("netlink \(RouteMessageType.getLink)", name, errno: ENODEV)
            }
            if backend.implementation == .kernel { try links.setMTU(UInt32(config.effectiveMTU), of: link) }
            for address in config.addresses { try links.addAddress(address, to: link) }
            try links.setUp(link)
            for route in Routes.needed(allowedIPs: config.peers.flatMap(\.allowedIPs), interfaceAddresses: config.addresses) {
                try links.addRoute(route, via: link)
            }
            return PendingConfiguration(request: request, link: link)
        } catch {
            throw .system(error)
        }
    }

    /// Waits for the answer to the device configuration. wireguard-go sets its default MTU on
    /// the device while it starts, so on that path the MTU is set once it has answered.
    private func finishConfigure(_ pending: PendingConfiguration) throws(WireGuardConfigError) {
        do throws(SystemCallError) {
            try pending.request.finish()
            if backend.implementation == .userspace { try links.setMTU(UInt32(config.effectiveMTU), of: pending.link) }
        } catch {
            throw .system(error)
        }
    }

    /// `$VPN_DATA_DIR/wg0.conf` (0600): what `vpn-init render` prints, for inspection. It
    /// carries the private key only when that is the key file's, already on the volume: a key
    /// from `WG_PRIVATE_KEY` or the guest agent is never written to disk.
    func writeRenderedConfig() {
        let path = "\(config.dataDirectory)/\(config.interfaceName).conf"
        var loopback: [Int: Endpoint] = [:]
        for (index, peer) in peers.enumerated() { loopback[index] = peer.loopback }
        let quick = config.quickConfig(privateKey: privateKey, peerKeys: peers.map(\.keys), tcpPeerEndpoints: loopback)
        let note: String? = switch config.privateKey {
        case .file: nil
        case .inline: Self.inlinePrivateKeyNote
        case .dstack: DstackMode.privateKeyNote
        }
        let text = Array(quick.render(privateKeyNote: note).utf8)
        // Unchanged content is not rewritten: two fsyncs on a busy disk can stall a boot.
        if let current = try? Files.read(path, limit: 1 << 20), current == text { return }
        do {
            try Files.makeDirectories(config.dataDirectory, mode: 0o700)
            try Files.writeAtomically(path, text, mode: 0o600)
        } catch {
            Log.warn("cannot write the rendered config", ("path", path), ("error", error))
        }
    }

    /// The comment `wg0.conf` carries in place of a key from the environment.
    static let inlinePrivateKeyNote = "from WG_PRIVATE_KEY; never written"

    /// Makes WireGuard send to a peer at once (a keepalive, or a handshake when there is no
    /// session): setting a persistent keepalive where there was none does that in the kernel
    /// and in wireguard-go alike; the peer's own setting is put back right after.
    func sendNow(toPeer id: String) {
        guard let peer = peers.first(where: { $0.id == id }) else { return }
        let keepalive = peer.config.persistentKeepalive ?? 0
        do {
            for seconds in keepalive == 0 ? [UInt16(1), 0] : [0, keepalive] {
                let update = WireGuardPeerConfig(publicKey: peer.keys.publicKey, updateOnly: true, persistentKeepalive: seconds)
                try backend.configure(WireGuardDeviceConfig(interfaceName: config.interfaceName, peers: [update]))
            }
            Log.info("transport reconnected; WireGuard sends at once", ("peer", id))
        } catch {
            Log.warn("cannot make WireGuard send after a reconnection", ("peer", id), ("error", error))
        }
    }

    /// Applies the peers of `next` (the running configuration but for its peers, whose keys are
    /// `keys`) live: only what differs is sent to WireGuard, in one request without
    /// `REPLACE_PEERS`, so unchanged peers keep their sessions and counters; routes and udp2tcp
    /// helpers follow, and the MTU when the rule picks another. When a step fails, what was done
    /// is undone (best effort) and the running peers stay as they were.
    func applyPeers(_ next: VPNConfig, keys: [PeerKeys.Keys]) throws(BootFailure) -> PeerChanges {
        let current = Dictionary(uniqueKeysWithValues: peers.map { ($0.id, $0) })
        let kept = Set(next.peers.map(\.variablePrefix))
        var changes = PeerChanges()
        var updated: [LivePeer] = []
        var requests: [WireGuardPeerConfig] = []
        var undo: [WireGuardPeerConfig] = []
        var newDialers: [Int] = []
        // The ids of peers whose udp2tcp goes (removed, or reached another way now).
        var oldDialers: [String] = []
        for old in peers where !kept.contains(old.id) {
            changes.removed.append(old.name)
            requests.append(WireGuardPeerConfig(publicKey: old.keys.publicKey, remove: true))
            undo.append(old.wireGuardConfig)
            if old.transport != nil { oldDialers.append(old.id) }
        }
        for (peerConfig, peerKeys) in zip(next.peers, keys) {
            let old = current[peerConfig.variablePrefix]
            var peer: LivePeer
            if let old, old.config == peerConfig, old.keys.publicKey == peerKeys.publicKey, old.keys.presharedKey == peerKeys.presharedKey {
                updated.append(old)
                changes.unchanged += 1
                continue
            }
            if let old, old.config.sameTransport(as: peerConfig) {
                // Same way of reaching it: keep its udp2tcp (and loopback port) or resolved address.
                peer = old
                peer.config = peerConfig
                peer.keys = peerKeys
                if old.config.dialTarget == nil && old.config.endpoint != peerConfig.endpoint {
                    peer.endpoint = peerConfig.endpoint.flatMap { resolveAtBoot($0, variable: peerConfig.variable(.endpoint), timeout: 0) }
                }
            } else {
                peer = try LivePeer(peerConfig, keys: peerKeys, resolveFor: 0)
                if peer.loopback != nil { newDialers.append(updated.count) }
                if let old, old.transport != nil { oldDialers.append(old.id) }
            }
            if let old {
                changes.changed.append(peer.name)
                if old.keys.publicKey != peer.keys.publicKey {
                    requests.append(WireGuardPeerConfig(publicKey: old.keys.publicKey, remove: true))
                    undo.append(WireGuardPeerConfig(publicKey: peer.keys.publicKey, remove: true))
                }
                undo.append(old.wireGuardConfig)
            } else {
                changes.added.append(peer.name)
                undo.append(WireGuardPeerConfig(publicKey: peer.keys.publicKey, remove: true))
            }
            requests.append(peer.wireGuardConfig)
            updated.append(peer)
        }
        guard !changes.isEmpty else { return changes }

        let name = config.interfaceName
        let before = self.peers
        var addedRoutes: [IPNetwork] = []
        var link: LinkAttributes?
        // Helpers that go stop first: a changed peer's new udp2tcp has the same child name.
        for index in before.indices where oldDialers.contains(before[index].id) {
            Transport.stopDialer(before[index].transport!, supervisor: supervisor)
        }
        self.peers = updated
        do throws(BootFailure) {
            for index in newDialers { try startDialer(index) }
            do {
                try backend.configure(WireGuardDeviceConfig(interfaceName: name, peers: requests))
            } catch {
                throw BootFailure(exitCode: .failure, "\(error)")
            }
            let oldRoutes = Set(Routes.needed(allowedIPs: before.flatMap(\.config.allowedIPs), interfaceAddresses: config.addresses))
            let newRoutes = Routes.needed(allowedIPs: updated.flatMap(\.config.allowedIPs), interfaceAddresses: config.addresses)
            do throws(SystemCallError) {
                guard let found = try links.link(named: name) else {
                    throw SystemCallError("netlink \(RouteMessageType.getLink)", name, errno: ENODEV)
                }
                link = found
                for route in newRoutes where !oldRoutes.contains(route) {
                    try links.addRoute(route, via: found)
                    addedRoutes.append(route)
                }
                for route in oldRoutes.subtracting(newRoutes) { try links.deleteRoute(route, via: found) }
                let mtu = next.mtuChoice
                if mtu.mtu != config.mtuChoice.mtu {
                    try links.setMTU(UInt32(mtu.mtu), of: found)
                    Log.info("interface MTU", ("interface", name), ("mtu", mtu.mtu), ("reason", mtu.reason))
                }
            } catch {
                throw BootFailure(exitCode: .failure, "\(error)")
            }
        } catch {
            // Undo: the peers as they were, the routes added removed, the new helpers stopped.
            do { try backend.configure(WireGuardDeviceConfig(interfaceName: name, peers: undo)) } catch {
                Log.error("cannot restore the peers after a failed reload", ("error", error))
            }
            if let link { for route in addedRoutes { try? links.deleteRoute(route, via: link) } }
            for index in newDialers {
                if let transport = self.peers[index].transport { Transport.stopDialer(transport, supervisor: supervisor) }
            }
            self.peers = before
            for index in before.indices where oldDialers.contains(before[index].id) {
                do { try startDialer(index) } catch { Log.error("cannot restart a peer's udp2tcp", ("peer", before[index].id), ("error", error)) }
            }
            throw error
        }
        config = next
        writeRenderedConfig()
        retryUnresolvedEndpoints(delay: .seconds(2))
        return changes
    }

    /// Reads the device for scrapes and health checks without waiting on the loop.
    func deviceReader() -> DeviceReader {
        DeviceReader(backend: backend, userspace: userspace, host: supervisor)
    }

    /// What the metrics listener reports about the peers: counters and handshakes from `device`
    /// (nil when it could not be read), each peer named, and each dialing peer's transport.
    func metricsPeers(device: WireGuardDevice?) -> (peers: [NodeMetrics.Peer]?, transports: [NodeMetrics.Transport]) {
        let names = Dictionary(peers.map { ($0.keys.publicKey, $0.name) }, uniquingKeysWith: { first, _ in first })
        let reported = device?.peers.map { peer in
            (name: names[peer.publicKey] ?? "", publicKey: peer.publicKey.base64, allowedIPs: peer.allowedIPs.map(\.description),
             sentBytes: peer.txBytes, receivedBytes: peer.rxBytes, latestHandshake: peer.latestHandshake)
        }
        let transports = peers.compactMap { peer in
            peer.transport.map {
                (peer: peer.name, connected: $0.isConnected, reconnects: max(0, $0.connections - 1), rotations: $0.rotations)
            }
        }
        return (reported, transports)
    }

    /// Starts the udp2tcp of the peer at `index` if it dials over TCP.
    private func startDialer(_ index: Int) throws(BootFailure) {
        guard let local = peers[index].loopback else { return }
        let id = peers[index].id
        peers[index].transport = try Transport.startDialer(peers[index].config, local: local, config: config, supervisor: supervisor) {
            [weak self] in self?.sendNow(toPeer: id)
        }
    }

    /// Keeps resolving endpoints that did not resolve (at boot, or at a reload), and sets each
    /// once it does; one retry chain runs at a time, over the peers of the moment.
    private func retryUnresolvedEndpoints(delay: Duration) {
        guard !resolving, peers.contains(where: \.isUnresolved) else { return }
        resolving = true
        supervisor.schedule(after: delay) { [weak self] in
            guard let self else { return }
            resolving = false
            for index in peers.indices where peers[index].isUnresolved {
                guard let endpoint = try? Resolver.resolve(peers[index].config.endpoint!) else { continue }
                let update = WireGuardPeerConfig(publicKey: peers[index].keys.publicKey, updateOnly: true, endpoint: endpoint)
                do {
                    try backend.configure(WireGuardDeviceConfig(interfaceName: config.interfaceName, peers: [update]))
                    peers[index].endpoint = endpoint
                    Log.info("peer endpoint resolved", ("variable", peers[index].config.variable(.endpoint)), ("endpoint", endpoint))
                } catch {
                    Log.warn("cannot set peer endpoint", ("endpoint", endpoint), ("error", error))
                }
            }
            retryUnresolvedEndpoints(delay: min(delay * 2, .seconds(30)))
        }
    }
}

/// What a reload changed, by peer name.
public struct PeerChanges: Equatable, Sendable {
    public var added: [String] = []
    public var removed: [String] = []
    public var changed: [String] = []
    public var unchanged = 0

    public init(added: [String] = [], removed: [String] = [], changed: [String] = [], unchanged: Int = 0) {
        self.added = added
        self.removed = removed
        self.changed = changed
        self.unchanged = unchanged
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }
}

extension PeerConfig {
    /// Whether `other` reaches the peer the same way: the same TCP target and TLS settings (its
    /// udp2tcp can stay), or both over UDP.
    func sameTransport(as other: PeerConfig) -> Bool {
        tcpEndpoint == other.tcpEndpoint && gateway == other.gateway && tlsSNI == other.tlsSNI && tlsCAFile == other.tlsCAFile
    }
}

/// A peer as the running node holds it: its configuration, keys, and the endpoint WireGuard
/// has for it.
struct LivePeer {
    var config: PeerConfig
    var keys: PeerKeys.Keys
    /// The endpoint as WireGuard gets it: an address, udp2tcp's loopback address for a dialing
    /// peer, or nil (none, or not resolved yet).
    var endpoint: Endpoint?
    /// udp2tcp's loopback endpoint, for a peer that dials over TCP.
    var loopback: Endpoint?
    /// The state its udp2tcp reports.
    var transport: TransportStatus?

    /// The peer's variable prefix (`WG_PEER_B_`): what names it across reloads.
    var id: String { config.variablePrefix }
    /// Its NAME in lower case (`b`), as logs and child names show it; `peer` for `WG_PEER_`.
    var name: String { config.name?.lowercased() ?? "peer" }

    /// A new peer: a dialing one gets a free loopback port; an endpoint name is resolved, trying
    /// for up to `resolveFor` seconds (0: once).
    init(_ config: PeerConfig, keys: PeerKeys.Keys, resolveFor seconds: Double) throws(BootFailure) {
        self.config = config
        self.keys = keys
        if config.dialTarget != nil {
            loopback = try Transport.loopbackEndpoint(for: config)
            endpoint = loopback
        } else if let configured = config.endpoint {
            endpoint = resolveAtBoot(configured, variable: config.variable(.endpoint), timeout: seconds)
        }
    }

    /// Whether it has an endpoint name that has not resolved yet.
    var isUnresolved: Bool { config.endpoint != nil && config.dialTarget == nil && endpoint == nil }

    /// What WireGuard gets for it: everything, replacing its allowed IPs.
    var wireGuardConfig: WireGuardPeerConfig {
        WireGuardPeerConfig(
            publicKey: keys.publicKey, presharedKey: keys.presharedKey ?? zeroKey, endpoint: endpoint,
            persistentKeepalive: config.persistentKeepalive ?? 0, replaceAllowedIPs: true, allowedIPs: config.allowedIPs)
    }

    /// Whether `other` is this peer unchanged: the same settings and keys.
    func isUnchanged(as other: LivePeer) -> Bool {
        config == other.config && keys.publicKey == other.keys.publicKey && keys.presharedKey == other.keys.presharedKey
    }
}

/// An all-zero key: WireGuard's "no preshared key".
private let zeroKey = WireGuardKey(bytes: [UInt8](repeating: 0, count: 32))!

/// Resolves an endpoint at boot, retrying for a while (Docker's DNS may lag behind a starting
/// peer). Nil when it still does not resolve: the peer is configured without an endpoint (it can
/// still reach us) and resolution goes on in the background.
private func resolveAtBoot(_ endpoint: Endpoint, variable: String, timeout: Double = 10) -> Endpoint? {
    let deadline = monotonicSeconds() + timeout
    var pause = 0.05
    while true {
        do {
            return try Resolver.resolve(endpoint)
        } catch {
            if monotonicSeconds() + pause > deadline || stopRequested() {
                Log.warn("peer endpoint does not resolve yet; retrying in the background", ("variable", variable), ("error", error))
                return nil
            }
            var delay = timespec(tv_sec: Int(pause), tv_nsec: Int((pause - pause.rounded(.down)) * 1e9))
            _ = nanosleep(&delay, nil)
            pause = min(pause * 2, 1)
        }
    }
}

/// Whether SIGTERM or SIGINT is waiting (signals are blocked in init mode, so a stop request
/// during a long boot step shows up here).
func stopRequested() -> Bool {
    var pending = sigset_t()
    sigemptyset(&pending)
    sigpending(&pending)
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1
}
