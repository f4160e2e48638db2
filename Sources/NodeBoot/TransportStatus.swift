#if canImport(Glibc)
import Glibc
#endif
import Supervisor
import SystemCalls
import VPNLog

/// The connection state one supervised udp2tcp reports on a pipe (`--status-fd 3`): vpn-init
/// keeps the read end, watched by the supervisor's loop, and reacts to each line.
///
/// After a reconnection it makes WireGuard send at once to that peer: a listening node's
/// WireGuard still sends to the tcp2udp socket of the cut connection, and only a packet through
/// the new one makes it follow (roam); without this, traffic from that side waits for the next
/// keepalive (up to 25 s).
final class TransportStatus {
    let child: String
    private let supervisor: any BootHost
    private let reconnected: () -> Void
    private var descriptor: Int32 = -1
    private var pending: [UInt8] = []
    /// Connections established (`connected` lines) over the helper's restarts, and rotations.
    private(set) var connections = 0
    private(set) var rotations = 0
    private(set) var isConnected = false

    init(child: String, supervisor: any BootHost, reconnected: @escaping () -> Void) {
        self.child = child
        self.supervisor = supervisor
        self.reconnected = reconnected
    }

    /// A new pipe for a start of the helper: its write end for the helper (as descriptor 3),
    /// its read end watched here. The previous start's pipe is closed.
    func openPipe() throws(SystemCallError) -> Int32 {
        close()
        var ends: [Int32] = [-1, -1]
        _ = try valueOrErrno("pipe", child) { pipe(&ends) }
        // Both ends close on exec (the helper gets its end as descriptor 3 through the spawn);
        // the read end never blocks the loop.
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        descriptor = ends[0]
        supervisor.watch(fileDescriptor: descriptor) { [weak self] in self?.readLines() }
        return ends[1]
    }

    /// Stops reading: the helper is stopped for good.
    func stop() { close() }

    private func close() {
        guard descriptor >= 0 else { return }
        supervisor.unwatch(fileDescriptor: descriptor)
        _ = Glibc.close(descriptor)
        descriptor = -1
        pending = []
        isConnected = false
    }

    private func readLines() {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count <= 0 {
            // The helper exited (end of file) or the pipe failed: stop watching until its restart.
            if count == 0 || (errno != EAGAIN && errno != EINTR) { close() }
            return
        }
        pending += buffer[0..<count]
        // A line longer than any the helper writes means the pipe carries something else: drop it.
        if pending.count > 256 { pending = [] }
        while let newline = pending.firstIndex(of: 10) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            handle(line)
        }
    }

    private func handle(_ line: String) {
        switch line {
        case "connected":
            connections += 1
            isConnected = true
            // The first connection of the node's life needs no nudge: nothing was sent elsewhere.
            if connections > 1 { reconnected() }
        case "rotated":
            rotations += 1
        case "disconnected":
            isConnected = false
        default:
            Log.debug("unexpected transport status line", ("child", child), ("line", line))
        }
    }
}
