#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemCalls

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

    public func configure(_ config: WireGuardDeviceConfig) throws(SystemCallError) {
        guard config.interfaceName == interfaceName else {
            throw SystemCallError("uapi set", interfaceName, errno: EINVAL, detail: "configuration is for \"\(config.interfaceName)\"")
        }
        do {
            try config.validate()
        } catch {
            throw SystemCallError("uapi set", interfaceName, errno: EINVAL, detail: error.reason)
        }
        try UAPI.checkSetResponse(try exchange(UAPI.setRequest(config)), interfaceName: interfaceName)
    }

    public func device() throws(SystemCallError) -> WireGuardDevice {
        try UAPI.parseGetResponse(try exchange(UAPI.getRequest), interfaceName: interfaceName)
    }

    /// Connects to the socket and hangs up: succeeds once wireguard-go listens on it (a file left
    /// by a killed predecessor refuses the connection), without waiting for an answer.
    public func probe() throws(SystemCallError) {
        let fd = try valueOrErrno("socket", socketPath) { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { _ = close(fd) }
        try connect(fd)
    }

    /// Sends one request and returns the response text (through its closing empty line).
    public func exchange(_ request: String) throws(SystemCallError) -> String {
        let fd = try valueOrErrno("socket", socketPath) { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { _ = close(fd) }
        var timeout = timeval(tv_sec: self.timeout, tv_usec: 0)
        _ = try valueOrErrno("setsockopt SO_RCVTIMEO", socketPath) {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        try connect(fd)
        let bytes = Array(request.utf8)
        var offset = 0
        while offset < bytes.count {
            offset += try valueOrErrno("write", socketPath) {
                bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            }
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !(response.count >= 2 && response[response.count - 2] == 10 && response[response.count - 1] == 10) {
            let count = try valueOrErrno("read", socketPath) {
                chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            }
            if count == 0 {
                throw SystemCallError("read", socketPath, errno: EPROTO, detail: "connection closed before the end of the response")
            }
            response += chunk[0..<count]
            if response.count > 64 << 20 { throw SystemCallError("read", socketPath, errno: EFBIG) }
        }
        return String(decoding: response, as: UTF8.self)
    }

    private func connect(_ fd: Int32) throws(SystemCallError) {
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
        _ = try valueOrErrno("connect", socketPath) {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
    }
}
