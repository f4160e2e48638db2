#if canImport(Glibc)
import Glibc
#endif
import Config
import NetlinkTestSupport
import NodeBoot
import SystemCalls
import Testing
import WireGuard
import WireGuardModel

/// Live peers against the fake kernel: a node booted with `WG_PEERS_FILE`, the file rewritten,
/// `PeerReload.reload` run, and the requests, the device and the outcome checked. Unchanged
/// peers must keep their state (the fake kernel, like the real one, drops every peer's session
/// on `REPLACE_PEERS`), and a refused or failed reload must leave everything as it was.
@Suite(.serialized) struct ReloadTests {
    static func key(_ byte: UInt8) -> WireGuardKey { WireGuardKey(bytes: [UInt8](repeating: byte, count: 32))!.publicKey() }

    /// A peers file's lines for peer NAME (its key from `byte`) with `allowed` IPs.
    static func peer(_ name: String, _ byte: UInt8, _ allowed: String, extra: [String] = []) -> [String] {
        ["WG_PEER_\(name)_PUBLIC_KEY=\(key(byte).base64)", "WG_PEER_\(name)_ALLOWED_IPS=\(allowed)"] + extra.map { "WG_PEER_\(name)_\($0)" }
    }

    /// A booted node whose peers come from a file, with its reload machinery started.
    struct Node {
        let node = FakeNode()
        let host = FakeHost()
        let tunnel: Tunnel
        let reload: PeerReload
        var file: String { "\(node.directory)/peers" }

        /// `duringBoot`: the file's lines written after boot read it and before the reload
        /// machinery started.
        init(_ lines: [String], extra: [String: String] = [:], duringBoot: [String]? = nil) throws {
            let path = "\(node.directory)/peers"
            try Self.write(lines, to: path)
            let stamp = Files.stamp(path)
            var environment = BootSequenceTests.environment(node, ["WG_PEERS_FILE": path].merging(extra) { $1 })
            for name in ["WG_PEER_B_PUBLIC_KEY", "WG_PEER_B_ALLOWED_IPS", "WG_PEER_B_ENDPOINT"] { environment[name] = nil }
            let settings = try Boot.prepare(environment: environment, exportPublicKey: false)
            tunnel = try Boot.bringUp(settings, host: host, system: node)
            if let duringBoot { try Self.write(duringBoot, to: path) }
            reload = PeerReload(environment: environment, settings: settings, tunnel: tunnel, host: host,
                                runtimeDirectory: node.runtimeDirectory, bootStamp: stamp)
            reload.start()
        }

        static func write(_ lines: [String], to path: String) throws {
            try Files.writeAtomically(path, Array((lines.joined(separator: "\n") + "\n").utf8), mode: 0o644)
        }

        func rewrite(_ lines: [String]) throws { try Self.write(lines, to: file) }

        var device: WireGuardDevice { node.network.device(named: "wg0")! }
        var peerKeys: [WireGuardKey] { device.peers.map(\.publicKey) }

        /// The netlink requests after the first `count`.
        func requests(after count: Int) -> [String] { Array(node.log[count...]) }

        /// Marks each peer as having a session: a handshake and traffic.
        func giveSessions() {
            let index = node.network.links.first { $0.name == "wg0" }!.index
            for position in node.network.devices[index]!.peers.indices {
                node.network.devices[index]!.peers[position].latestHandshake = 1_700_000_000
                node.network.devices[index]!.peers[position].rxBytes = 1234
            }
        }

        func tearDown() {
            host.tearDown()
            unlink(file)
            unlink(reload.statusPath)
        }
    }

    @Test func anUnchangedFileSendsNothing() throws {
        let node = try Node(Self.peer("B", 2, "10.0.0.2/32") + Self.peer("C", 3, "10.0.0.3/32"))
        defer { node.tearDown() }
        let before = node.node.log.count
        #expect(node.reload.reload(trigger: "test") == .unchanged(peers: 2))
        #expect(node.requests(after: before).isEmpty)
    }

    /// One peer added, one removed, one changed, one untouched: a single WG_CMD_SET_DEVICE
    /// without REPLACE_PEERS, then the routes the change needs; the untouched peer keeps its
    /// session and counters.
    @Test func onlyTheDifferenceIsApplied() throws {
        let node = try Node(Self.peer("B", 2, "10.0.0.2/32") + Self.peer("C", 3, "10.0.0.3/32,10.30.0.0/16")
                            + Self.peer("D", 4, "10.0.0.4/32"))
        defer { node.tearDown() }
        node.giveSessions()
        let before = node.node.log.count
        try node.rewrite(Self.peer("B", 2, "10.0.0.2/32") + Self.peer("D", 4, "10.0.0.4/32,10.40.0.0/16")
                         + Self.peer("E", 5, "10.0.0.5/32,10.50.0.0/16"))
        let outcome = node.reload.reload(trigger: "test")
        #expect(outcome == .applied(PeerChanges(added: ["e"], removed: ["c"], changed: ["d"], unchanged: 1)))
        let requests = node.requests(after: before)
        #expect(requests.filter { $0 == "generic WG_CMD_SET_DEVICE" }.count == 1)
        #expect(requests.filter { $0 == "route RTM_NEWROUTE" }.count == 2, "10.40.0.0/16 and 10.50.0.0/16")
        #expect(requests.filter { $0 == "route RTM_DELROUTE" }.count == 1, "10.30.0.0/16")
        #expect(Set(node.peerKeys) == [Self.key(2), Self.key(4), Self.key(5)])
        let untouched = try #require(node.device.peers.first { $0.publicKey == Self.key(2) })
        #expect(untouched.latestHandshake == 1_700_000_000 && untouched.rxBytes == 1234, "B's session survives")
        let changed = try #require(node.device.peers.first { $0.publicKey == Self.key(4) })
        #expect(changed.latestHandshake == 1_700_000_000, "D changed in place: its session survives too")
        #expect(Set(changed.allowedIPs.map(\.description)) == ["10.0.0.4/32", "10.40.0.0/16"])
        let routes = Set(node.node.network.routes.map { "\($0.destination.map(String.init).joined(separator: "."))/\($0.prefixLength)" })
        #expect(routes == ["10.40.0.0/16", "10.50.0.0/16"])
    }

    /// A new key under the same name is the old peer removed and the new one added.
    @Test func aNewKeyReplacesThePeer() throws {
        let node = try Node(Self.peer("B", 2, "10.0.0.2/32"))
        defer { node.tearDown() }
        try node.rewrite(Self.peer("B", 8, "10.0.0.2/32"))
        #expect(node.reload.reload(trigger: "test") == .applied(PeerChanges(changed: ["b"])))
        #expect(node.peerKeys == [Self.key(8)])
    }

    /// An invalid file is refused with FILE:LINE, a missing key file without waiting; nothing
    /// is sent, and the status file says so for `vpn-init reload`.
    @Test func anInvalidFileChangesNothing() throws {
        let node = try Node(Self.peer("B", 2, "10.0.0.2/32"))
        defer { node.tearDown() }
        let before = node.node.log.count
        try node.rewrite(Self.peer("B", 2, "10.0.0.2/32") + ["WG_PEER_C_ALLOWED_IPS=not-an-ip"])
        guard case .refused(let problems) = node.reload.reload(trigger: "test") else {
            Issue.record("expected a refusal")
            return
        }
        #expect(problems.contains { $0.hasPrefix("\(node.file):3: WG_PEER_C_ALLOWED_IPS: ") })
        #expect(problems.contains { $0.hasPrefix("\(node.file):3: WG_PEER_C_PUBLIC_KEY: ") }, "the peer's first line")
        try node.rewrite(Self.peer("B", 2, "10.0.0.2/32") + ["WG_PEER_C_PUBLIC_KEY_FILE=/nonexistent/c.pub", "WG_PEER_C_ALLOWED_IPS=10.0.0.3/32"])
        guard case .refused(let missing) = node.reload.reload(trigger: "test") else {
            Issue.record("expected a refusal")
            return
        }
        #expect(missing == ["WG_PEER_C_PUBLIC_KEY_FILE: /nonexistent/c.pub does not exist"])
        #expect(node.requests(after: before).isEmpty)
        #expect(node.peerKeys == [Self.key(2)])
        let status = String(decoding: try Files.read(node.reload.statusPath), as: UTF8.self)
        #expect(status.contains("generation=2\nstatus=refused\n"))
        #expect(status.contains("problem=WG_PEER_C_PUBLIC_KEY_FILE: /nonexistent/c.pub does not exist\n"))
    }

    /// The kernel refuses the change: the outcome says so, and the peers and routes are those
    /// of before.
    @Test func aFailedReloadKeepsTheRunningPeers() throws {
        let node = try Node(Self.peer("B", 2, "10.0.0.2/32"))
        defer { node.tearDown() }
        try node.rewrite(Self.peer("B", 2, "10.0.0.2/32") + Self.peer("C", 3, "10.0.0.3/32,10.30.0.0/16"))
        node.node.failing = node.node.log.count + 1
        guard case .failed(let error) = node.reload.reload(trigger: "test") else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.contains("WG_CMD_SET_DEVICE"))
        node.node.failing = nil
        #expect(node.peerKeys == [Self.key(2)])
        #expect(node.node.network.routes.isEmpty)
        // The same file applies once the kernel takes it: the tunnel still knows the old peers.
        #expect(node.reload.reload(trigger: "test") == .applied(PeerChanges(added: ["c"], unchanged: 1)))
    }

    /// A peer dialing over TCP gets its udp2tcp when it is added, and loses it when removed.
    @Test func tcpPeersStartAndStopTheirHelper() throws {
        let node = try Node(Self.peer("B", 2, "10.0.0.2/32"))
        defer { node.tearDown() }
        try node.rewrite(Self.peer("B", 2, "10.0.0.2/32") + Self.peer("C", 3, "10.0.0.3/32", extra: ["TCP_ENDPOINT=192.0.2.3:443"]))
        #expect(node.reload.reload(trigger: "test") == .applied(PeerChanges(added: ["c"], unchanged: 1)))
        let helper = try #require(node.host.children.first { $0.name == "udp2tcp-c" })
        #expect(helper.arguments.contains("192.0.2.3:443"))
        let endpoint = try #require(node.device.peers.first { $0.publicKey == Self.key(3) }?.endpoint)
        #expect(endpoint.description.hasPrefix("127.0.0.1:"), "WireGuard sends to the helper")
        try node.rewrite(Self.peer("B", 2, "10.0.0.2/32"))
        #expect(node.reload.reload(trigger: "test") == .applied(PeerChanges(removed: ["c"], unchanged: 1)))
        #expect(node.host.stopped == ["udp2tcp-c"])
    }

    /// A file changed while the node booted (before its directory was watched) is applied
    /// once the loop runs; an unchanged one is not read again.
    @Test func aChangeDuringBootIsApplied() throws {
        let quiet = try Node(Self.peer("B", 2, "10.0.0.2/32"))
        defer { quiet.tearDown() }
        quiet.host.runTimers()
        #expect(quiet.reload.generation == 0)
        let node = try Node(Self.peer("B", 2, "10.0.0.2/32"), duringBoot: Self.peer("B", 2, "10.0.0.2/32") + Self.peer("C", 3, "10.0.0.3/32"))
        defer { node.tearDown() }
        node.host.runTimers()
        #expect(node.reload.generation == 1)
        #expect(Set(node.peerKeys) == [Self.key(2), Self.key(3)])
    }

    /// SIGHUP reloads (the supervisor calls the handler `start` registered).
    @Test func sighupReloads() throws {
        let node = try Node(Self.peer("B", 2, "10.0.0.2/32"))
        defer { node.tearDown() }
        try node.rewrite(Self.peer("B", 2, "10.0.0.2/32") + Self.peer("C", 3, "10.0.0.3/32"))
        let handler = try #require(node.host.signalHandlers[SIGHUP])
        handler()
        #expect(node.reload.generation == 1)
        #expect(Set(node.peerKeys) == [Self.key(2), Self.key(3)])
    }
}
