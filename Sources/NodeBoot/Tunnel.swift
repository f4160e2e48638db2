#if canImport(Glibc)
import Glibc
#endif
import Config
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
    let config: VPNConfig
    let privateKey: WireGuardKey
    let peerKeys: [PeerKeys.Keys]
    /// Each peer's endpoint as WireGuard gets it: an address, or nil (none, or not resolved yet).
    private(set) var endpoints: [Endpoint?]
    let links: Links
    public private(set) var backend: any WireGuardBackend
    /// wireguard-go's UAPI side, on the userspace path: the socket each of its starts gets.
    private let userspace: UserspaceWireGuard?
    /// The configuration `bringUp` sent and `finishBringUp` waits for.
    private var pendingConfiguration: PendingConfiguration?
    /// wireguard-go's first process, for telling an early exit from other errors.
    private var userspacePID: pid_t?
    /// The state each dialing peer's udp2tcp reports, by peer index.
    private(set) var transports: [Int: TransportStatus] = [:]

    private init(settings: BootSettings, peerKeys: [PeerKeys.Keys], endpoints: [Endpoint?], links: Links,
                 backend: any WireGuardBackend, userspace: UserspaceWireGuard?) {
        config = settings.config
        privateKey = settings.privateKey
        self.peerKeys = peerKeys
        self.endpoints = endpoints
        self.links = links
        self.backend = backend
        self.userspace = userspace
    }

    /// Brings the tunnel up: peer keys, endpoints, the link, the device, addresses, MTU, routes.
    /// Every change is registered for undoing with `supervisor` before it is made, so a failed
    /// boot leaves nothing behind.
    static func bringUp(_ settings: BootSettings, supervisor: any BootHost, system: any NodeSystem) throws(BootFailure) -> Tunnel {
        let config = settings.config
        let keys = try PeerKeys.load(config.peers, wait: config.peerKeyWait, agent: settings.agent, shouldStop: stopRequested)
        let loopback = try Transport.loopbackEndpoints(for: config.peers)
        let endpoints = config.peers.indices.map { index in
            loopback[index] ?? config.peers[index].endpoint.flatMap { resolveAtBoot($0, variable: config.peers[index].variable(.endpoint)) }
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
        let tunnel = Tunnel(settings: settings, peerKeys: keys, endpoints: endpoints, links: links, backend: backend, userspace: uapi)
        let mtu = config.mtuChoice
        Log.info("interface MTU", ("interface", name), ("mtu", mtu.mtu), ("reason", mtu.reason))
        if userspace { try tunnel.startUserspace(supervisor, system: system) }
        // wireguard-go is still starting: its configuration waits in its socket's backlog while
        // the link, the helpers and (in Boot.bringUp) the firewall are set up; finishBringUp waits.
        do { tunnel.pendingConfiguration = try tunnel.beginConfigure() } catch { throw tunnel.failure(error) }
        tunnel.transports = try Transport.start(config, loopback: loopback, supervisor: supervisor) { [weak tunnel] index in
            tunnel?.sendNow(toPeer: index)
        }
        tunnel.writeRenderedConfig(loopback: loopback)
        tunnel.retryUnresolvedEndpoints(supervisor, delay: .seconds(2))
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
        let peers = config.peers.indices.map { index in
            WireGuardPeerConfig(
                publicKey: peerKeys[index].publicKey, presharedKey: peerKeys[index].presharedKey ?? zeroKey,
                endpoint: endpoints[index], persistentKeepalive: config.peers[index].persistentKeepalive ?? 0,
                replaceAllowedIPs: true, allowedIPs: config.peers[index].allowedIPs)
        }
        return WireGuardDeviceConfig(interfaceName: config.interfaceName, privateKey: privateKey, listenPort: config.listenPort,
                                     fwmark: config.fwmark ?? 0, replacePeers: true, peers: peers)
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
    private func writeRenderedConfig(loopback: [Int: Endpoint]) {
        let path = "\(config.dataDirectory)/\(config.interfaceName).conf"
        let quick = config.quickConfig(privateKey: privateKey, peerKeys: peerKeys, tcpPeerEndpoints: loopback)
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
    func sendNow(toPeer index: Int) {
        let keepalive = config.peers[index].persistentKeepalive ?? 0
        let publicKey = peerKeys[index].publicKey
        do {
            for seconds in keepalive == 0 ? [UInt16(1), 0] : [0, keepalive] {
                let update = WireGuardPeerConfig(publicKey: publicKey, updateOnly: true, persistentKeepalive: seconds)
                try backend.configure(WireGuardDeviceConfig(interfaceName: config.interfaceName, peers: [update]))
            }
            Log.info("transport reconnected; WireGuard sends at once", ("peer", config.peers[index].variablePrefix))
        } catch {
            Log.warn("cannot make WireGuard send after a reconnection", ("peer", config.peers[index].variablePrefix), ("error", error))
        }
    }

    /// Keeps resolving endpoints that did not resolve at boot, and sets each once it does.
    private func retryUnresolvedEndpoints(_ supervisor: any BootHost, delay: Duration) {
        let pending = config.peers.indices.filter { config.peers[$0].endpoint != nil && endpoints[$0] == nil }
        guard !pending.isEmpty else { return }
        supervisor.schedule(after: delay) { [self] in
            for index in pending {
                guard let endpoint = try? Resolver.resolve(config.peers[index].endpoint!) else { continue }
                let update = WireGuardPeerConfig(publicKey: peerKeys[index].publicKey, updateOnly: true, endpoint: endpoint)
                do {
                    try backend.configure(WireGuardDeviceConfig(interfaceName: config.interfaceName, peers: [update]))
                    endpoints[index] = endpoint
                    Log.info("peer endpoint resolved", ("variable", config.peers[index].variable(.endpoint)), ("endpoint", endpoint))
                } catch {
                    Log.warn("cannot set peer endpoint", ("endpoint", endpoint), ("error", error))
                }
            }
            retryUnresolvedEndpoints(supervisor, delay: min(delay * 2, .seconds(30)))
        }
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
