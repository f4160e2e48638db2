#if canImport(Glibc)
import Glibc
#endif
import Config
import Netlink
import Supervisor
import SystemCalls
import VPNLog
import WireGuard

/// The WireGuard interface vpn-init runs: created at boot (kernel link, or wireguard-go as a
/// supervised child), configured again whenever wireguard-go restarts, deleted at shutdown.
final class Tunnel {
    let config: VPNConfig
    let privateKey: WireGuardKey
    let peerKeys: [PeerKeys.Keys]
    /// Each peer's endpoint as WireGuard gets it: an address, or nil (none, or not resolved yet).
    private(set) var endpoints: [Endpoint?]
    let links: Links
    private(set) var backend: any WireGuardBackend

    private init(settings: BootSettings, peerKeys: [PeerKeys.Keys], endpoints: [Endpoint?], links: Links, backend: any WireGuardBackend) {
        config = settings.config
        privateKey = settings.privateKey
        self.peerKeys = peerKeys
        self.endpoints = endpoints
        self.links = links
        self.backend = backend
    }

    /// Brings the tunnel up: peer keys, endpoints, the link, the device, addresses, MTU, routes.
    /// Every change is registered for undoing with `supervisor` before it is made, so a failed
    /// boot leaves nothing behind.
    static func bringUp(_ settings: BootSettings, supervisor: Supervisor) throws(BootFailure) -> Tunnel {
        let config = settings.config
        let keys = try PeerKeys.load(config.peers, wait: config.peerKeyWait, shouldStop: stopRequested)
        let loopback = try Transport.loopbackEndpoints(for: config.peers)
        let endpoints = config.peers.indices.map { index in
            loopback[index] ?? config.peers[index].endpoint.flatMap { resolveAtBoot($0, variable: config.peers[index].variable(.endpoint)) }
        }
        let links: Links
        do { links = try Links() } catch { throw BootFailure(exitCode: 1, "\(error)") }
        let name = config.interfaceName
        supervisor.addTeardown("interface \(name)") {
            if try links.delete(named: name) { Log.info("interface deleted", ("interface", name)) }
        }

        var userspace = config.implementation == .userspace
        if !userspace {
            let outcome: Links.WireGuardLink
            do { outcome = try links.addWireGuard(named: name, ifExists: .replace) } catch { throw BootFailure(exitCode: 1, "\(error)") }
            if case .kernelLacksWireGuard(let error) = outcome {
                guard config.implementation == .auto else {
                    throw BootFailure(exitCode: 69, "WG_IMPLEMENTATION=kernel: the kernel has no WireGuard support (\(error)); use auto or userspace")
                }
                Log.info("kernel has no WireGuard; using userspace", ("binary", config.userspaceBinary))
                userspace = true
            }
        }
        let backend: any WireGuardBackend
        if userspace {
            backend = UserspaceWireGuard(interfaceName: name)
        } else {
            do { backend = try KernelWireGuard(interfaceName: name) } catch { throw BootFailure(exitCode: 1, "\(error)") }
        }
        let tunnel = Tunnel(settings: settings, peerKeys: keys, endpoints: endpoints, links: links, backend: backend)
        if userspace { try tunnel.startUserspace(supervisor) }
        do { try tunnel.configure() } catch { throw BootFailure(exitCode: 1, "\(error)") }
        try Transport.start(config, loopback: loopback, supervisor: supervisor)
        tunnel.writeRenderedConfig(loopback: loopback)
        tunnel.retryUnresolvedEndpoints(supervisor, delay: .seconds(2))
        return tunnel
    }

    /// Starts wireguard-go in the foreground as a supervised child and waits for its UAPI socket.
    /// When it restarts, the new process is configured again (its interface is new).
    private func startUserspace(_ supervisor: Supervisor) throws(BootFailure) {
        let binary = config.userspaceBinary
        guard access(binary, X_OK) == 0 else {
            let error = SystemCallError.current("access", binary)
            throw BootFailure(exitCode: 69, "WireGuard unavailable: no kernel support, and WG_USERSPACE_BIN \(binary) cannot run (\(error))")
        }
        let environment = [
            "WG_PROCESS_FOREGROUND": "1",
            "LOG_LEVEL": Log.level == .debug ? "verbose" : "error",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        let spec = ChildSpec(name: "wireguard-go", arguments: [binary, "-f", config.interfaceName], environment: environment,
                             restart: .always) { started in
            guard started.starts > 1 else { return }
            try self.waitForSocket(pid: started.pid)
            try self.configure()
            Log.info("wireguard-go reconfigured", ("interface", self.config.interfaceName), ("pid", started.pid))
        }
        supervisor.start(spec)
        guard let pid = supervisor.pid(of: "wireguard-go") else {
            throw BootFailure(exitCode: 69, "WireGuard unavailable: \(binary) could not be started")
        }
        do { try waitForSocket(pid: pid) } catch { throw BootFailure(exitCode: 1, "\(error)") }
    }

    /// Polls until wireguard-go accepts connections on its UAPI socket, failing early if the
    /// process exits. A socket file left by a killed predecessor refuses connections until the
    /// new process replaces it, so readiness is a connection, not the file's existence.
    private func waitForSocket(pid: pid_t, timeout: Double = 10) throws(SystemCallError) {
        guard let userspace = backend as? UserspaceWireGuard else { return }
        let deadline = monotonicSeconds() + timeout
        // wireguard-go listens a few milliseconds after exec: check every 0.5 ms (a stat) for
        // the first 100 ms, every 5 ms after that.
        var polls = 0
        while true {
            var lastError: SystemCallError
            if Files.exists(userspace.socketPath) {
                do {
                    // A connection is enough: the configuration request that follows is the
                    // first one wireguard-go answers.
                    try userspace.probe()
                    return
                } catch {
                    lastError = error
                }
            } else {
                lastError = SystemCallError("wireguard-go", userspace.socketPath, errno: ENOENT, detail: "socket did not appear")
            }
            var info = siginfo_t()
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid {
                throw SystemCallError("wireguard-go", userspace.socketPath, errno: ENOENT,
                                      detail: "exited before answering on its socket (see its output; is /dev/net/tun available?)")
            }
            guard monotonicSeconds() < deadline else { throw lastError }
            polls += 1
            var pause = timespec(tv_sec: 0, tv_nsec: polls <= 200 ? 500_000 : 5_000_000)
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
    func configure() throws(SystemCallError) {
        try backend.configure(deviceConfig)
        let name = config.interfaceName
        guard let link = try links.link(named: name) else {
            throw SystemCallError("netlink \(RouteMessageType.getLink)", name, errno: ENODEV)
        }
        try links.setMTU(UInt32(config.effectiveMTU), of: link)
        for address in config.addresses { try links.addAddress(address, to: link) }
        try links.setUp(link)
        for route in Routes.needed(allowedIPs: config.peers.flatMap(\.allowedIPs), interfaceAddresses: config.addresses) {
            try links.addRoute(route, via: link)
        }
    }

    /// `$VPN_DATA_DIR/wg0.conf` (0600): what `vpn-init render` prints, for inspection.
    private func writeRenderedConfig(loopback: [Int: Endpoint]) {
        let path = "\(config.dataDirectory)/\(config.interfaceName).conf"
        let text = Array(config.quickConfig(privateKey: privateKey, peerKeys: peerKeys, tcpPeerEndpoints: loopback).render().utf8)
        // Unchanged content is not rewritten: two fsyncs on a busy disk can stall a boot.
        if let current = try? Files.read(path, limit: 1 << 20), current == text { return }
        do {
            try Files.makeDirectories(config.dataDirectory, mode: 0o700)
            try Files.writeAtomically(path, text, mode: 0o600)
        } catch {
            Log.warn("cannot write the rendered config", ("path", path), ("error", error))
        }
    }

    /// Keeps resolving endpoints that did not resolve at boot, and sets each once it does.
    private func retryUnresolvedEndpoints(_ supervisor: Supervisor, delay: Duration) {
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
