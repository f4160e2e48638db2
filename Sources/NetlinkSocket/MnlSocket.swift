import CMnl
import Netlink
import SystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A netlink socket opened and bound through libmnl, with extended ACKs on (the kernel then
/// explains errors in words) and a receive timeout, so a request never waits forever.
public final class MnlSocket: NetlinkTransport {
    /// The protocol the socket speaks.
    public let netlinkProtocol: NetlinkProtocol
    /// The port id the kernel bound the socket to (the corresponding C function is
    /// `mnl_socket_get_portid`).
    public let portID: UInt32
    private let socket: OpaquePointer
    private var buffer: [UInt8]

    /// Opens (`mnl_socket_open2`) and binds (`mnl_socket_bind`) a socket of `netlinkProtocol`.
    /// Replies that take longer than `receiveTimeout` seconds fail with `EAGAIN`.
    public init(_ netlinkProtocol: NetlinkProtocol, receiveTimeout: Int = 10, bufferSize: Int = 1 << 16) throws(SystemCallError) {
        self.netlinkProtocol = netlinkProtocol
        guard let socket = mnl_socket_open2(netlinkProtocol.rawValue, Int32(SOCK_CLOEXEC.rawValue)) else {
            throw SystemCallError.current("mnl_socket_open", netlinkProtocol.description)
        }
        self.socket = socket
        buffer = [UInt8](repeating: 0, count: bufferSize)
        do {
            _ = try valueOrErrno("mnl_socket_bind", netlinkProtocol.description) {
                mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID))
            }
            portID = mnl_socket_get_portid(socket)
            // NETLINK_EXT_ACK: error text in NLMSG_ERROR. NETLINK_CAP_ACK: errors echo only the
            // request's header, not the whole request. Both exist since Linux 4.12 / 4.3.
            try setNetlinkOption(NETLINK_EXT_ACK, 1)
            try setNetlinkOption(NETLINK_CAP_ACK, 1)
            var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
            _ = try valueOrErrno("setsockopt SO_RCVTIMEO", netlinkProtocol.description) {
                setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            }
        } catch {
            mnl_socket_close(socket)
            throw error
        }
    }

    deinit { mnl_socket_close(socket) }

    /// The socket's file descriptor (the corresponding C function is `mnl_socket_get_fd`).
    public var fileDescriptor: Int32 { mnl_socket_get_fd(socket) }

    /// Sends a datagram to the kernel (the corresponding C function is `mnl_socket_sendto`).
    public func send(_ datagram: [UInt8]) throws(SystemCallError) {
        let sent = try valueOrErrno("mnl_socket_sendto", netlinkProtocol.description) {
            datagram.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
        }
        guard sent == datagram.count else {
            throw SystemCallError("mnl_socket_sendto", netlinkProtocol.description, errno: EMSGSIZE,
                                  detail: "sent \(sent) of \(datagram.count) bytes")
        }
    }

    /// Receives one datagram (the corresponding C function is `mnl_socket_recvfrom`; a datagram
    /// larger than the buffer is `ENOSPC`).
    public func receive() throws(SystemCallError) -> [UInt8] {
        let count = try valueOrErrno("mnl_socket_recvfrom", netlinkProtocol.description) {
            buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
        }
        return Array(buffer[0..<count])
    }

    private func setNetlinkOption(_ option: Int32, _ value: Int32) throws(SystemCallError) {
        var value = value
        _ = try valueOrErrno("mnl_socket_setsockopt \(option)", netlinkProtocol.description) {
            mnl_socket_setsockopt(socket, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }
}
