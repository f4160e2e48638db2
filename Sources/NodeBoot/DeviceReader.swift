#if canImport(Glibc)
import Glibc
#endif
import Supervisor
import SystemCalls
import VPNLog
import WireGuard
import WireGuardModel

/// Reads the WireGuard device for the metrics listener (`/metrics`, `/healthz`) without ever
/// waiting on PID 1's loop.
/// - The kernel's device answers over netlink at once.
/// - wireguard-go is asked over its UAPI socket without blocking, and its answer is read as it
///   arrives; requests that come meanwhile share that one read.
/// - A read not answered within `timeout` fails, and for `pause` after it wireguard-go is not
///   asked again: requests fail at once with the same error. A stopped or hung wireguard-go
///   then costs each scrape no wait, and the loop none at all.
final class DeviceReader {
    typealias Outcome = Result<WireGuardDevice, SystemCallError>

    static let timeout: Duration = .seconds(1)
    static let pause: Duration = .seconds(10)

    private let host: any BootHost
    private let backend: any WireGuardBackend
    private let userspace: UserspaceWireGuard?
    private var query: DeviceQuery?
    private var waiting: [(Outcome) -> Void] = []
    /// Tells the timer of the query in flight from those of earlier ones.
    private var serial = 0
    /// After a timeout: until when wireguard-go is not asked, and the error requests get meanwhile.
    private var unanswered: (until: MonotonicInstant, error: SystemCallError)?

    init(backend: any WireGuardBackend, userspace: UserspaceWireGuard?, host: any BootHost) {
        self.backend = backend
        self.userspace = userspace
        self.host = host
    }

    /// Calls `done` with the device, or why it cannot be read: at once for the kernel (and while
    /// wireguard-go is paused after a timeout), else once wireguard-go answers or the timeout ends.
    func read(_ done: @escaping (Outcome) -> Void) {
        guard let userspace else {
            do { done(.success(try backend.device())) } catch { done(.failure(error)) }
            return
        }
        if let unanswered, MonotonicInstant.now() < unanswered.until {
            done(.failure(unanswered.error))
            return
        }
        unanswered = nil
        waiting.append(done)
        guard query == nil else { return }
        let query: DeviceQuery
        do { query = try userspace.beginDeviceQuery() } catch {
            finish(.failure(error))
            return
        }
        self.query = query
        serial += 1
        let serial = serial
        host.watch(fileDescriptor: query.descriptor) { [weak self] in self?.readable() }
        host.schedule(after: Self.timeout) { [weak self] in
            guard let self, self.serial == serial, self.query != nil else { return }
            let (timeout, pause) = (DurationText.format(Self.timeout), DurationText.format(Self.pause))
            let error = SystemCallError("read", userspace.socketPath, errno: ETIMEDOUT,
                                        detail: "wireguard-go did not answer within \(timeout); not asked again for \(pause)")
            Log.warn("wireguard-go does not answer", ("socket", userspace.socketPath), ("timeout", timeout), ("asked_again_in", pause))
            unanswered = (MonotonicInstant.now() + Self.pause, error)
            finish(.failure(error))
        }
    }

    private func readable() {
        guard let query else { return }
        do {
            guard let device = try query.readAvailable() else { return }
            finish(.success(device))
        } catch {
            finish(.failure(error))
        }
    }

    /// Ends the query in flight (if any) and answers every request waiting for it.
    private func finish(_ outcome: Outcome) {
        if let query { host.unwatch(fileDescriptor: query.descriptor) }
        query = nil
        let waiting = self.waiting
        self.waiting = []
        for done in waiting { done(outcome) }
    }
}
