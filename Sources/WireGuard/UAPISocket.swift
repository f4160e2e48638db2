#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemCalls
import WireGuardModel

/// wireguard-go, driven over its UAPI unix socket. Each call opens the socket, sends one
/// request, reads the response up to its closing empty line, and closes it. Errors read like
/// `connect /var/run/wireguard/wg0.sock: No such file or directory (ENOENT)` or
/// `uapi set wg0: Invalid argument (EINVAL)`.
public final class UserspaceWireGuard: WireGuardBackend {
    /// Where wireguard-go puts its sockets.
    public static let defaultSocketDirectory = "/var/run/wireguard"

    public let interfaceName: String
    public var implementation: WireGuardImplementation { .userspace }
    /// The UAPI socket, `DIRECTORY/IFNAME.sock`.
    public let socketPath: String
    /// Seconds to wait for a response.
    public let timeout: Int

    public init(interfaceName: String, socketDirectory: String = defaultSocketDirectory, timeout: Int = 10) {
        self.interfaceName = interfaceName
        socketPath = "\(socketDirectory)/\(interfaceName).sock"
        self.timeout = timeout
    }

    public func configure(_ config: WireGuardDeviceConfig) throws(WireGuardConfigError) {
        let pending = try beginConfiguration(config)
        do {
            try pending.finish()
        } catch {
            throw .system(error)
        }
    }

    /// Sends the `set` request for `config` and returns without waiting for the answer, so the
    /// caller can work while wireguard-go starts: a connection to a socket that listens but
    /// does not accept yet waits in its backlog, and is answered once the program runs.
    public func beginConfiguration(_ config: WireGuardDeviceConfig) throws(WireGuardConfigError) -> PendingRequest {
        try config.check(for: interfaceName)
        let request: UAPIConnection
        do {
            request = try open(UAPI.setRequest(config))
        } catch {
            throw .system(error)
        }
        return PendingRequest(request) { [interfaceName] response throws(SystemCallError) in
            try UAPI.checkSetResponse(response, interfaceName: interfaceName)
        }
    }

    public func device() throws(SystemCallError) -> WireGuardDevice {
        try UAPI.parseGetResponse(try exchange(UAPI.getRequest), interfaceName: interfaceName)
    }

    /// Sends a `get` without waiting, for a caller that must not block (PID 1's loop): the socket
    /// is non-blocking, so a wireguard-go that does not accept or answer delays nothing here.
    /// The caller watches the query's descriptor and reads with `DeviceQuery.readAvailable()`.
    public func beginDeviceQuery() throws(SystemCallError) -> DeviceQuery {
        DeviceQuery(try open(UAPI.getRequest, blocking: false), interfaceName: interfaceName)
    }

    /// Creates the listening UAPI socket wireguard-go would create (`DIRECTORY/IFNAME.sock`,
    /// mode 0700 in a 0755 directory), replacing a file left by an earlier process, and returns
    /// its descriptor (close-on-exec) to hand to wireguard-go as `WG_UAPI_FD`.
    public func listen() throws(SystemCallError) -> Int32 {
        try Files.makeDirectories(Files.directory(of: socketPath), mode: 0o755)
        if unlink(socketPath) != 0 && currentErrno() != ENOENT { throw SystemCallError.current("unlink", socketPath) }
        let fd = try unixSocket()
        do throws(SystemCallError) {
            var address = try socketAddress()
            // The socket file takes its mode from the umask (unix(7)): 0700, as wireguard-go's.
            let previous = umask(0o077)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            let bindError = currentErrno()
            umask(previous)
            if bound != 0 { throw SystemCallError("bind", socketPath, errno: bindError) }
            _ = try valueOrErrno("listen", socketPath) { Glibc.listen(fd, SOMAXCONN) }
            return fd
        } catch {
            _ = close(fd)
            throw error
        }
    }

    /// Sends one request and returns the response text (through its closing empty line).
    public func exchange(_ request: String) throws(SystemCallError) -> String {
        try open(request).response()
    }

    /// Connects and sends `request`; the response is read from the returned connection. A
    /// blocking connection waits `timeout` at most for each step; a non-blocking one fails with
    /// EAGAIN where it would wait (a full backlog, a full socket buffer).
    private func open(_ request: String, blocking: Bool = true) throws(SystemCallError) -> UAPIConnection {
        let fd = try unixSocket(blocking: blocking)
        let connection = UAPIConnection(fd: fd, path: socketPath)
        var timeout = timeval(tv_sec: self.timeout, tv_usec: 0)
        for (option, name) in [(SO_RCVTIMEO, "SO_RCVTIMEO"), (SO_SNDTIMEO, "SO_SNDTIMEO")] where blocking {
            _ = try valueOrErrno("setsockopt \(name)", socketPath) {
                setsockopt(fd, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
            }
        }
        try connect(fd)
        let bytes = Array(request.utf8)
        var offset = 0
        while offset < bytes.count {
            offset += try valueOrErrno("write", socketPath) {
                bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            }
        }
        return connection
    }

    /// A new unix stream socket, close-on-exec.
    private func unixSocket(blocking: Bool = true) throws(SystemCallError) -> Int32 {
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | (blocking ? 0 : Int32(SOCK_NONBLOCK.rawValue))
        return try valueOrErrno("socket", socketPath) { socket(AF_UNIX, flags, 0) }
    }

    private func connect(_ fd: Int32) throws(SystemCallError) {
        var address = try socketAddress()
        _ = try valueOrErrno("connect", socketPath) {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
    }

    private func socketAddress() throws(SystemCallError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SystemCallError("connect", socketPath, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.enumerated() { buffer[index] = byte }
            buffer[path.count] = 0
        }
        return address
    }
}

/// A UAPI request sent and not answered yet. `finish` reads and checks the answer (and closes
/// the connection); a request dropped unfinished is closed unread.
public final class PendingRequest {
    private var connection: UAPIConnection?
    private let check: (String) throws(SystemCallError) -> Void

    init(_ connection: UAPIConnection, check: @escaping (String) throws(SystemCallError) -> Void) {
        self.connection = connection
        self.check = check
    }

    /// A request already answered successfully (the kernel's synchronous netlink calls).
    public static var done: PendingRequest { PendingRequest() }

    private init() {
        connection = nil
        check = { _ throws(SystemCallError) in }
    }

    /// Waits for the answer and checks it; a second call does nothing.
    public func finish() throws(SystemCallError) {
        guard let connection else { return }
        self.connection = nil
        try check(try connection.response())
    }
}

/// A `get` on its way (`UserspaceWireGuard.beginDeviceQuery()`): its descriptor is watched for
/// the answer, read as it arrives. Releasing the query closes the connection.
public final class DeviceQuery {
    private let connection: UAPIConnection
    private let interfaceName: String

    init(_ connection: UAPIConnection, interfaceName: String) {
        self.connection = connection
        self.interfaceName = interfaceName
    }

    /// The connection's socket: readable when more of the answer has come.
    public var descriptor: Int32 { connection.fd }

    /// Reads what has come without waiting: the device once the answer is complete, nil while
    /// more is to come; throws when the connection fails or closes early, or the answer is bad.
    public func readAvailable() throws(SystemCallError) -> WireGuardDevice? {
        while true {
            switch try connection.receive(waiting: false) {
            case .complete(let text): return try UAPI.parseGetResponse(text, interfaceName: interfaceName)
            case .wouldWait: return nil
            case .more: continue
            }
        }
    }
}

/// One connection to a UAPI socket, closed when released.
final class UAPIConnection {
    let fd: Int32
    let path: String
    private var received: [UInt8] = []

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { _ = close(fd) }

    enum Step {
        /// The response through its closing empty line.
        case complete(String)
        /// Part of it came, or the read was interrupted; read again.
        case more
        /// Nothing to read without waiting (non-blocking only).
        case wouldWait
    }

    /// Reads the response through its closing empty line.
    func response() throws(SystemCallError) -> String {
        while true {
            if case .complete(let text) = try receive(waiting: true) { return text }
        }
    }

    /// One read: with `waiting`, as long as the socket's timeout allows; without, only what has
    /// come already.
    func receive(waiting: Bool) throws(SystemCallError) -> Step {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, waiting ? 0 : Int32(MSG_DONTWAIT)) }
        if count < 0 {
            let error = currentErrno()
            if error == EINTR { return .more }
            if !waiting && (error == EAGAIN || error == EWOULDBLOCK) { return .wouldWait }
            throw SystemCallError("read", path, errno: error)
        }
        if count == 0 {
            throw SystemCallError("read", path, errno: EPROTO, detail: "connection closed before the end of the response")
        }
        received += chunk[0..<count]
        if received.count > 64 << 20 { throw SystemCallError("read", path, errno: EFBIG) }
        guard received.count >= 2 && received[received.count - 2] == 10 && received[received.count - 1] == 10 else { return .more }
        return .complete(String(decoding: received, as: UTF8.self))
    }
}
