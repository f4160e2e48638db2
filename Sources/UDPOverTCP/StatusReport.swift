#if canImport(Glibc)
import Glibc
#endif

/// udp2tcp's connection state for its supervisor, one line per change on a descriptor it was
/// handed (`--status-fd`): `connected`, `rotated`, `disconnected`. No network port is needed;
/// vpn-init reads the other end of a pipe. Writes never block and never fail udp2tcp: a full
/// or closed pipe only loses lines.
public struct StatusReport: Equatable, Sendable {
    public enum Event: String, Sendable {
        /// A connection is up after none was.
        case connected
        /// Sending moved to the next connection of a rotation.
        case rotated
        /// The connection was lost (a retry follows).
        case disconnected
    }

    public let descriptor: Int32

    public init(descriptor: Int32) {
        self.descriptor = descriptor
        // A pipe's write end inherited blocking: make it non-blocking, so a supervisor that does
        // not read can never stall the event loop.
        let flags = fcntl(descriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) }
    }

    func report(_ event: Event) {
        let line = Array((event.rawValue + "\n").utf8)
        // One write of a few bytes to a pipe is atomic (PIPE_BUF); errors are ignored on purpose.
        _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
