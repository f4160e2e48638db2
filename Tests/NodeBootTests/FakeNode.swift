#if canImport(Glibc)
import Glibc
#endif
import Firewall
import FirewallRules
import Netlink
import NetlinkSocket
import NetlinkTestSupport
import NodeBoot
import Supervisor
import Synchronization
import SystemCalls
import WireGuard
import WireGuardModel

/// The system a node boots on in these tests: `FakeNetwork`'s links and WireGuard devices behind
/// rtnetlink and generic netlink, nf_tables tables behind nfnetlink (a batch applies at its end,
/// all or nothing), in-memory sysctls and TUN devices, and runtime paths in a temporary
/// directory. Every netlink request is logged in order; `failing` makes the request with that
/// number (1 = the first) fail with EPERM, to break the boot at each of its steps.
final class FakeNode: NodeSystem {
    let network = FakeNetwork()
    /// The nf_tables tables that exist, by name.
    private(set) var tables: Set<String> = []
    /// The sysctls as written.
    let sysctls = FakeSysctls()
    /// Every netlink request, as `route RTM_NEWLINK`, `generic WG_CMD_SET_DEVICE`,
    /// `netfilter NFT_MSG_NEWTABLE`...
    private(set) var log: [String] = []
    /// The number of the request that fails (EPERM), if any.
    var failing: Int?
    let directory: String

    private var batch: [(add: Bool, table: String)] = []
    private var batchFailed = false

    init() {
        var template = Array("/tmp/node-boot-XXXXXX".utf8CString)
        directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    deinit {
        for name in ["wg0.conf", "run/wg0.identity", "wireguard/wg0.sock"] { unlink("\(directory)/\(name)") }
        for name in ["run", "wireguard", "data", ""] { rmdir("\(directory)/\(name)") }
    }

    var dataDirectory: String { "\(directory)/data" }
    var runtimeDirectory: String { "\(directory)/run" }
    var userspaceSocketDirectory: String { "\(directory)/wireguard" }
    var sysctl: any SysctlAccess { sysctls }

    func netlink(_ netlinkProtocol: NetlinkProtocol) throws(SystemCallError) -> any NetlinkTransport {
        switch netlinkProtocol {
        case .route:
            return FakeKernel(messagesPerDatagram: 2) { [unowned self] message in
                self.answer("route", RouteMessageType(rawValue: message.type).description, message) {
                    // No default route: a dump of routes is empty.
                    message.type == RouteMessageType.getRoute.rawValue ? [.dump([])] : self.network.answerRoute(message)
                }
            }
        case .generic:
            return FakeKernel(messagesPerDatagram: 2) { [unowned self] message in
                let name = message.type == GenericNetlink.controllerFamily ? "CTRL_CMD_GETFAMILY"
                    : (try? WireGuardDeviceMessage(decoding: message)).map { "\($0.command)" } ?? "\(message.type)"
                return self.answer("generic", name, message) { self.network.answerGeneric(message) }
            }
        case .netfilter:
            return FakeKernel { [unowned self] message in
                self.answer("netfilter", NftablesMessageType.describe(messageType: message.type), message) { self.answerNetfilter(message) }
            }
        default:
            throw SystemCallError("socket", "netlink \(netlinkProtocol)", errno: EPROTONOSUPPORT)
        }
    }

    func createTunDevice(named name: String) throws(SystemCallError) {
        if network.links.contains(where: { $0.name == name }) { throw SystemCallError("ioctl TUNSETIFF", name, errno: EBUSY) }
        network.addLink(name, kind: "tun")
    }

    /// Whether anything boot creates is left: a link other than lo, a table, the identity file.
    var leftovers: [String] {
        network.links.filter { $0.name != "lo" }.map { "link \($0.name)" } + tables.sorted().map { "table \($0)" }
            + (access("\(runtimeDirectory)/wg0.identity", F_OK) == 0 ? ["identity file"] : [])
    }

    private func answer(_ family: String, _ name: String, _ message: NetlinkMessage, _ body: () -> [FakeKernel.Reply]) -> [FakeKernel.Reply] {
        log.append("\(family) \(name)")
        if log.count == failing {
            if family == "netfilter" { batchFailed = true }
            return [.error(EPERM, message: "injected failure")]
        }
        return body()
    }

    /// nf_tables: tables are added and deleted when the batch ends without an error.
    private func answerNetfilter(_ message: NetlinkMessage) -> [FakeKernel.Reply] {
        switch message.type {
        case NfnetlinkControlType.batchBegin.rawValue:
            batch = []
            batchFailed = false
            return []
        case NfnetlinkControlType.batchEnd.rawValue:
            if !batchFailed {
                for change in batch {
                    if change.add { tables.insert(change.table) } else { tables.remove(change.table) }
                }
            }
            return []
        case NftablesMessageType.getGeneration.messageType:
            var attributes = AttributeEncoder(header: Nfnetlink.header(family: .unspecified, resourceID: 1))
            attributes.append(1, [0, 0, 0, 7])  // NFTA_GEN_ID
            return [.data(NetlinkMessage(type: NftablesMessageType.newGeneration.messageType, flags: [], payload: attributes.bytes))]
        case NftablesMessageType.newTable.messageType, NftablesMessageType.deleteTable.messageType:
            var attributes = AttributeDecoder(message.payload, from: 4)
            var name = ""
            while attributes.next() {
                if attributes.type == 1 { name = attributes.string() }  // NFTA_TABLE_NAME
            }
            let adding = message.type == NftablesMessageType.newTable.messageType
            if !adding {
                let exists = batch.reduce(tables.contains(name)) { $1.table == name ? $1.add : $0 }
                guard exists else {
                    batchFailed = true
                    return [.error(ENOENT)]
                }
            }
            batch.append((adding, name))
            return []
        default:
            return []
        }
    }
}

/// Sysctls in memory: every one reads 0 until written.
final class FakeSysctls: SysctlAccess {
    private(set) var values: [String: String] = [:]

    func read(_ sysctl: Sysctl) throws(SystemCallError) -> String { values[sysctl.name] ?? "0" }

    func write(_ sysctl: Sysctl) throws(SystemCallError) { values[sysctl.name] = sysctl.value }
}

/// The supervisor as boot sees it: children recorded (and, for wireguard-go, played by
/// `FakeWireGuardGo`), undo steps kept to be run in reverse order by `tearDown`.
final class FakeHost: BootHost {
    private(set) var children: [ChildSpec] = []
    private(set) var teardownNames: [String] = []
    private var teardowns: [() throws -> Void] = []
    /// Plays wireguard-go on each start of a child of that name.
    var wireguardGo: FakeWireGuardGo?

    func start(_ spec: ChildSpec) {
        children.append(spec)
        if spec.name == "wireguard-go", let wireguardGo {
            do { wireguardGo.serve(try spec.openDescriptors?().first ?? -1) } catch { }
        }
    }

    func pid(of name: String) -> pid_t? { children.contains { $0.name == name } ? 4242 : nil }

    func addTeardown(_ name: String, _ body: @escaping () throws -> Void) {
        teardownNames.append(name)
        teardowns.append(body)
    }

    /// The children stopped for good, in order.
    private(set) var stopped: [String] = []
    /// The handlers of signals, as the supervisor's loop would call them.
    private(set) var signalHandlers: [Int32: () -> Void] = [:]
    /// Timers, run by `runTimers` (the fake has no clock).
    private var timers: [() -> Void] = []

    func schedule(after delay: Duration, _ handler: @escaping () -> Void) { timers.append(handler) }
    /// Descriptors watched, with their handlers (the test calls them as the loop would).
    private(set) var watched: [Int32: () -> Void] = [:]
    func watch(fileDescriptor: Int32, _ handler: @escaping () -> Void) { watched[fileDescriptor] = handler }
    func unwatch(fileDescriptor: Int32) { watched[fileDescriptor] = nil }
    func stop(_ name: String) {
        stopped.append(name)
        children.removeAll { $0.name == name }
    }
    func onSignal(_ signal: Int32, _ handler: @escaping () -> Void) { signalHandlers[signal] = handler }
    func restartCounts() -> [(child: String, restarts: Int)] { children.map { ($0.name, 0) } }

    /// Runs the timers scheduled so far, once each.
    func runTimers() {
        let due = timers
        timers = []
        for timer in due { timer() }
    }

    /// Runs the undo steps in reverse order, as the supervisor does at shutdown; returns the
    /// names of those that failed.
    @discardableResult
    func tearDown() -> [String] {
        var failed: [String] = []
        for (name, body) in zip(teardownNames, teardowns).reversed() {
            do { try body() } catch { failed.append(name) }
        }
        teardowns = []
        return failed
    }

    /// Starts `name` again, as the supervisor restarts a child that died: its descriptors anew,
    /// then its `afterStart` with the start count.
    func restart(_ name: String, starts: Int) throws {
        guard let spec = children.last(where: { $0.name == name }) else { return }
        if name == "wireguard-go", let wireguardGo { wireguardGo.serve(try spec.openDescriptors?().first ?? -1) }
        try spec.afterStart?(StartedChild(name: name, pid: 4242, starts: starts))
    }
}

/// wireguard-go's side of the UAPI socket vpn-init hands it: accepts connections on the
/// listening descriptor and answers every `set=1` request with `errno=0`, on a thread of its own
/// (vpn-init waits for the answer), keeping each request's text.
final class FakeWireGuardGo: Sendable {
    private let received = Mutex<[String]>([])

    var requests: [String] { received.withLock { $0 } }

    /// Serves `descriptor` (a listening Unix socket) until it is closed or a second connection
    /// has been answered.
    func serve(_ descriptor: Int32) {
        guard descriptor >= 0 else { return }
        let thread = Thread { [self] in
            defer { close(descriptor) }
            let connection = accept(descriptor, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var text: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !text.ends(with: [10, 10]) {
                let count = read(connection, &buffer, buffer.count)
                guard count > 0 else { return }
                text += buffer[0..<count]
            }
            received.withLock { $0.append(String(decoding: text, as: UTF8.self)) }
            let answer = Array("errno=0\n\n".utf8)
            _ = answer.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
        }
        thread.start()
    }
}

/// A detached pthread running a closure.
final class Thread: @unchecked Sendable {
    private let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }

    func start() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        pthread_create(&thread, nil, { argument in
            let me = Unmanaged<Thread>.fromOpaque(argument!).takeRetainedValue()
            me.body()
            return nil
        }, box.toOpaque())
        pthread_detach(thread)
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
