#if canImport(Glibc)
import Glibc
#endif
import Config
import Metrics
import SystemCalls
import VPNLog

/// `VPN_METRICS_LISTEN`: `GET /metrics` (the Prometheus text format) and `GET /healthz` (what
/// `vpn-init health` says; `?max_handshake_age=S` as its option), served by PID 1 on its own
/// loop. Nothing here may delay reaping, supervision or shutdown:
/// - every socket is non-blocking and every step runs from the loop's poll;
/// - at most `maxConnections` are served at once; a connection beyond that is closed at once;
/// - each connection has `deadline` from its accept to the end of its response, then it is closed
///   whatever its state (an idle client, a slow writer, a reader that does not read);
/// - the counters are read when a scrape asks, never polled; an answer that must wait (for
///   wireguard-go, `DeviceReader`) is sent when it comes, within the connection's deadline.
public final class MetricsServer {
    public static let maxConnections = 8
    public static let deadline: Duration = .seconds(2)

    /// What the server asks of the node for a response; each answers through its callback, on
    /// the loop, at once or later.
    public struct Node {
        public var metrics: (_ answer: @escaping (NodeMetrics) -> Void) -> Void
        public var health: (_ maxHandshakeAge: Int64?, _ answer: @escaping (Health.Verdict) -> Void) -> Void

        public init(metrics: @escaping (@escaping (NodeMetrics) -> Void) -> Void,
                    health: @escaping (Int64?, @escaping (Health.Verdict) -> Void) -> Void) {
            self.metrics = metrics
            self.health = health
        }
    }

    private final class Connection {
        let serial: Int
        var received: [UInt8] = []
        var pending: [UInt8] = []
        var responding = false

        init(serial: Int) { self.serial = serial }
    }

    private let host: any BootHost
    private let node: Node
    private let listener: Int32
    private var connections: [Int32: Connection] = [:]
    private var serial = 0
    /// Connections closed at once because `maxConnections` were being served.
    public private(set) var refused = 0

    /// Binds and listens on `address`, watched by `host`'s loop; the socket is closed at shutdown.
    public init(address: TCPListen, node: Node, host: any BootHost) throws(SystemCallError) {
        self.host = host
        self.node = node
        listener = try Transport.listeningSocket(address, fwmark: nil)
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        host.watch(fileDescriptor: listener) { [weak self] in self?.acceptWaiting() }
        host.addTeardown("metrics listener \(address)") { [weak self] in self?.closeAll() }
    }

    private func closeAll() {
        host.unwatch(fileDescriptor: listener)
        _ = close(listener)
        for fd in Array(connections.keys) { drop(fd) }
    }

    private func acceptWaiting() {
        // A bounded batch per wake-up: the loop has other work.
        for _ in 0..<32 {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            guard connections.count < Self.maxConnections else {
                refused += 1
                _ = close(fd)
                continue
            }
            serial += 1
            // The timers keep the serial, not the connection: its buffers go as soon as it is done.
            let serial = serial
            connections[fd] = Connection(serial: serial)
            host.watch(fileDescriptor: fd) { [weak self] in self?.readable(fd) }
            host.schedule(after: Self.deadline) { [weak self] in
                guard let self, connections[fd]?.serial == serial else { return }
                drop(fd)
            }
        }
    }

    private func readable(_ fd: Int32) {
        guard let connection = connections[fd], !connection.responding else { return }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) {
            drop(fd)
            return
        }
        guard count > 0 else { return }
        connection.received += buffer[0..<count]
        let head = HTTPRequestHead.parse(connection.received)
        if case .incomplete = head { return }
        connection.responding = true
        host.unwatch(fileDescriptor: fd)
        var headOnly = false
        if case .request(let method, _) = head { headOnly = method == "HEAD" }
        let serial = connection.serial
        respond(to: head) { [weak self] response in
            // The connection may have reached its deadline meanwhile.
            guard let self, let connection = connections[fd], connection.serial == serial else { return }
            connection.pending = response.bytes(headOnly: headOnly)
            send(fd)
        }
    }

    /// Writes what the socket takes now; the rest is tried again every 10 ms until the deadline.
    private func send(_ fd: Int32) {
        guard let connection = connections[fd] else { return }
        while !connection.pending.isEmpty {
            let sent = connection.pending.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if sent > 0 {
                connection.pending.removeFirst(sent)
                continue
            }
            if sent < 0 && (errno == EAGAIN || errno == EINTR) {
                let serial = connection.serial
                host.schedule(after: .milliseconds(10)) { [weak self] in
                    guard let self, connections[fd]?.serial == serial else { return }
                    send(fd)
                }
                return
            }
            break
        }
        drop(fd)
    }

    private func drop(_ fd: Int32) {
        guard let connection = connections.removeValue(forKey: fd) else { return }
        if !connection.responding { host.unwatch(fileDescriptor: fd) }
        _ = close(fd)
    }

    func respond(to head: HTTPRequestHead, _ answer: @escaping (HTTPResponse) -> Void) {
        switch head {
        case .incomplete:
            answer(HTTPResponse(status: 400, body: "incomplete request\n"))
        case .malformed(let reason):
            answer(HTTPResponse(status: 400, body: reason + "\n"))
        case .request(let method, let target):
            guard method == "GET" || method == "HEAD" else { return answer(HTTPResponse(status: 405, body: "only GET and HEAD\n")) }
            let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            switch parts[0] {
            case "/metrics":
                node.metrics { answer(HTTPResponse(status: 200, contentType: Exposition.contentType, body: Exposition.render($0.families))) }
            case "/healthz":
                var maxAge: Int64?
                if parts.count == 2 {
                    for pair in parts[1].split(separator: "&") {
                        let field = pair.split(separator: "=", maxSplits: 1)
                        guard field.count == 2, field[0] == "max_handshake_age", let value = Int64(field[1]), value > 0 else {
                            return answer(HTTPResponse(status: 400, body: "the only parameter is max_handshake_age=SECONDS (> 0)\n"))
                        }
                        maxAge = value
                    }
                }
                node.health(maxAge) { answer(HTTPResponse(status: $0.healthy ? 200 : 503, body: $0.line + "\n")) }
            default:
                answer(HTTPResponse(status: 404, body: "not found: /metrics and /healthz are served\n"))
            }
        }
    }
}
