#if canImport(Glibc)
import Glibc
#endif
import Config
import DstackAgent
import SystemCalls
import VPNLog
import WireGuardModel

/// Live peers: `WG_PEERS_FILE` is read again on SIGHUP, on `vpn-init reload` (which sends
/// SIGHUP and waits for the outcome in the status file), and when the file is written or
/// replaced (its directory is watched, so a rename from a sidecar in another container is seen;
/// events within `debounce` make one reload). A valid file is applied live
/// (`Tunnel.applyPeers`); an invalid one is refused with every problem logged, and nothing
/// changes. Each reload logs exactly one outcome line and writes it to the status file.
///
/// The environment is the one vpn-init booted with: only the file's peers can change, so the
/// rest of the configuration stays as it is.
public final class PeerReload {
    /// What one reload did.
    public enum Outcome: Equatable, Sendable {
        /// The difference was applied.
        case applied(PeerChanges)
        /// The file holds the running peers: nothing to do.
        case unchanged(peers: Int)
        /// The file (or a key it names) is invalid: one line per problem; nothing changed.
        case refused([String])
        /// Applying failed; what was done was undone.
        case failed(String)
        /// No `WG_PEERS_FILE`: the peers come from the environment alone.
        case noFile

        /// The word the status file and `vpn-init reload` use.
        public var status: String {
            switch self {
            case .applied: "applied"
            case .unchanged: "unchanged"
            case .refused: "refused"
            case .failed: "failed"
            case .noFile: "no-file"
            }
        }
    }

    /// How long after a file event the file is read: a writer's burst of events makes one reload.
    public static let debounce: Duration = .milliseconds(250)
    /// Seconds a reload waits for the guest agent to derive a new `NODE` key (a local socket
    /// answers in milliseconds; the supervisor's loop waits meanwhile).
    static let agentTimeout = 3.0

    private let environment: [String: String]
    private let settings: BootSettings
    private let tunnel: Tunnel
    private let host: any BootHost
    /// `DIR/IFACE.reload`: the last outcome, for `vpn-init reload`.
    public let statusPath: String
    private var watch: DirectoryWatch?
    /// The peers file as boot found it, before reading it.
    private let bootStamp: Files.Stamp?
    private var scheduled = false
    /// Reloads done so far.
    public private(set) var generation = 0
    /// Reloads by outcome (`applied`, `unchanged`, `refused`, `failed`, `no-file`).
    public private(set) var outcomes: [String: Int] = [:]

    /// `bootStamp`: `Files.stamp` of the peers file taken before boot read it, so a change made
    /// while the node booted (before the directory was watched) is applied at `start`.
    public init(environment: [String: String], settings: BootSettings, tunnel: Tunnel, host: any BootHost, runtimeDirectory: String,
                bootStamp: Files.Stamp? = nil) {
        self.environment = environment
        self.bootStamp = bootStamp
        self.settings = settings
        self.tunnel = tunnel
        self.host = host
        statusPath = Self.statusPath(interface: settings.config.interfaceName, directory: runtimeDirectory)
    }

    /// The status file of the node running `interface`.
    public static func statusPath(interface: String, directory: String = NodeIdentity.directory) -> String {
        "\(directory)/\(interface).reload"
    }

    /// Listens for SIGHUP and, with a peers file, for changes in its directory; writes the first
    /// status (generation 0). The status file goes at shutdown.
    public func start() {
        host.onSignal(SIGHUP) { [weak self] in self?.reload(trigger: "SIGHUP") }
        let path = statusPath
        host.addTeardown("reload status file") { unlink(path) }
        writeStatus(status: "ready", summary: "booted with \(tunnel.peers.count) peer(s)", problems: [])
        guard let file = settings.config.peersFile else { return }
        let directory = Files.directory(of: file)
        let name = String(file.split(separator: "/").last ?? "")
        do {
            let watch = try DirectoryWatch(directory: directory)
            self.watch = watch
            // A file that is a symbolic link (a Kubernetes ConfigMap or Secret swaps a `..data`
            // link beside it) changes with any entry of the directory.
            let followsLink = Files.isSymbolicLink(file)
            host.watch(fileDescriptor: watch.fileDescriptor) { [weak self] in
                let names = watch.drain()
                guard let self, followsLink ? !names.isEmpty : names.contains(name), !scheduled else { return }
                scheduled = true
                host.schedule(after: Self.debounce) { [weak self] in
                    self?.scheduled = false
                    self?.reload(trigger: "file")
                }
            }
        } catch {
            Log.warn("cannot watch the peers file's directory; reload with SIGHUP or vpn-init reload", ("path", directory), ("error", error))
        }
        if Files.stamp(file) != bootStamp {
            host.schedule(after: .zero) { [weak self] in self?.reload(trigger: "changed during boot") }
        }
    }

    /// Reads the peers file again and applies it; logs and records the outcome.
    @discardableResult
    public func reload(trigger: String) -> Outcome {
        generation += 1
        let outcome = evaluate()
        outcomes[outcome.status, default: 0] += 1
        let file = settings.config.peersFile
        switch outcome {
        case .applied(let changes):
            Log.info("peers reloaded", ("file", file), ("trigger", trigger), ("added", changes.added.joined(separator: ",")),
                     ("removed", changes.removed.joined(separator: ",")), ("changed", changes.changed.joined(separator: ",")),
                     ("unchanged", changes.unchanged))
        case .unchanged(let count):
            Log.info("peers unchanged", ("file", file), ("trigger", trigger), ("peers", count))
        case .refused(let problems):
            for problem in problems { Log.error(problem) }
            Log.error("peers file refused; the running peers are kept", ("file", file), ("trigger", trigger), ("problems", problems.count))
        case .failed(let error):
            Log.error("peers reload failed; the running peers are kept", ("file", file), ("trigger", trigger), ("error", error))
        case .noFile:
            Log.info("nothing to reload: WG_PEERS_FILE is not set", ("trigger", trigger))
        }
        var problems: [String] = []
        if case .refused(let lines) = outcome { problems = lines }
        writeStatus(status: outcome.status, summary: Self.summary(outcome), problems: problems)
        return outcome
    }

    private func evaluate() -> Outcome {
        guard settings.config.peersFile != nil else { return .noFile }
        let next: VPNConfig
        let keys: [PeerKeys.Keys]
        do throws(BootFailure) {
            next = try Boot.parse(environment: environment)
            for peer in next.peers { _ = try Boot.certificateBundle(of: peer) }
            keys = try loadKeys(next.peers)
        } catch {
            return .refused(error.lines)
        }
        do {
            let changes = try tunnel.applyPeers(next, keys: keys)
            return changes.isEmpty ? .unchanged(peers: next.peers.count) : .applied(changes)
        } catch {
            return .failed(error.description)
        }
    }

    /// The peers' keys, read again (a key file may have changed), without waiting for a file
    /// that is missing: PID 1 does not stall. A `NODE` key is derived once per node name: the
    /// derivation is deterministic, so a running peer's key is kept.
    private func loadKeys(_ peers: [PeerConfig]) throws(BootFailure) -> [PeerKeys.Keys] {
        var derived: [String: PeerKeys.Keys] = [:]
        for peer in tunnel.peers {
            if case .node(let node) = peer.config.publicKey, peer.config.presharedKeyFile == nil { derived[node] = peer.keys }
        }
        // A shorter wait for the agent than at boot (the loop waits for it), made only when a
        // new NODE key needs it.
        var agent: GuestAgent?
        var keys: [PeerKeys.Keys] = []
        for peer in peers {
            if case .node(let node) = peer.publicKey, peer.presharedKeyFile == nil, let known = derived[node] {
                keys.append(known)
                continue
            }
            if case .node = peer.publicKey, agent == nil, settings.agent != nil {
                agent = DstackMode.agent(settings.config, timeout: Self.agentTimeout)
            }
            keys += try PeerKeys.load([peer], wait: 0, agent: agent)
        }
        return keys
    }

    /// One line for `vpn-init reload` to print.
    static func summary(_ outcome: Outcome) -> String {
        switch outcome {
        case .applied(let changes):
            let list = { (names: [String]) in names.isEmpty ? "-" : names.joined(separator: ",") }
            return "applied: added \(list(changes.added)); removed \(list(changes.removed)); changed \(list(changes.changed)); \(changes.unchanged) unchanged"
        case .unchanged(let count): return "unchanged: \(count) peer(s), nothing to do"
        case .refused(let problems): return "refused: \(problems.count) problem(s); the running peers are kept"
        case .failed(let error): return "failed: \(error); the running peers are kept"
        case .noFile: return "nothing to reload: WG_PEERS_FILE is not set"
        }
    }

    /// `pid=`, `generation=`, `status=`, `summary=` and one `problem=` line per problem.
    private func writeStatus(status: String, summary: String, problems: [String]) {
        var text = "pid=\(getpid())\ngeneration=\(generation)\nstatus=\(status)\nsummary=\(Self.oneLine(summary))\n"
        for problem in problems { text += "problem=\(Self.oneLine(problem))\n" }
        do {
            try Files.makeDirectories(Files.directory(of: statusPath), mode: 0o755)
            try Files.writeAtomically(statusPath, Array(text.utf8), mode: 0o644)
        } catch {
            Log.warn("cannot write the reload status", ("path", statusPath), ("error", error))
        }
    }

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
