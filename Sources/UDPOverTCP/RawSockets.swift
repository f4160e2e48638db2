import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// UDP sockets opened here rather than by NIO, so the forwarding fast paths know their
/// descriptor; NIO's `DatagramBootstrap.withBoundSocket` then owns and closes them.
enum RawSockets {
    /// A non-blocking UDP socket bound to `local` and connected to `remote` (same family), with
    /// SO_MARK set first when `fwmark` is given (the route is chosen at connect).
    static func connectedUDP(bind local: SocketAddress, connect remote: SocketAddress, fwmark: UInt32?) throws -> CInt {
        let descriptor = try udpSocket(family: remote.protocol == .inet6 ? AF_INET6 : AF_INET, fwmark: fwmark)
        do {
            try withSocketAddress(local) { address, length in
                guard Glibc.bind(descriptor, address, length) == 0 else { throw IOError(errnoCode: errno, reason: "bind \(local.logDescription)") }
            }
            try withSocketAddress(remote) { address, length in
                guard Glibc.connect(descriptor, address, length) == 0 else {
                    throw IOError(errnoCode: errno, reason: "connect \(remote.logDescription)")
                }
            }
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    /// A non-blocking UDP socket bound to `local`, with SO_MARK when `fwmark` is given.
    static func boundUDP(_ local: SocketAddress, fwmark: UInt32?) throws -> CInt {
        let descriptor = try udpSocket(family: local.protocol == .inet6 ? AF_INET6 : AF_INET, fwmark: fwmark)
        do {
            try withSocketAddress(local) { address, length in
                guard Glibc.bind(descriptor, address, length) == 0 else { throw IOError(errnoCode: errno, reason: "bind \(local.logDescription)") }
            }
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    /// An inherited, bound UDP socket made non-blocking and close-on-exec, with SO_MARK when
    /// `fwmark` is given.
    static func adoptedUDP(_ descriptor: CInt, fwmark: UInt32?) throws -> CInt {
        let status = fcntl(descriptor, F_GETFL)
        guard status >= 0, fcntl(descriptor, F_SETFL, status | O_NONBLOCK) == 0, fcntl(descriptor, F_SETFD, FD_CLOEXEC) == 0 else {
            throw IOError(errnoCode: errno, reason: "fcntl --udp-listen-fd \(descriptor)")
        }
        try setMark(descriptor, fwmark)
        return descriptor
    }

    /// An inherited socket's type (`SOCK_DGRAM`, `SOCK_STREAM`) and the IP address it is bound to
    /// (nil when it has no IPv4 or IPv6 address); `what` names it in the error.
    static func typeAndAddress(of descriptor: CInt, what: String) throws -> (type: CInt, address: SocketAddress?) {
        var type: CInt = 0
        var typeLength = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_TYPE, &type, &typeLength) == 0 else {
            throw IOError(errnoCode: errno, reason: what)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw IOError(errnoCode: errno, reason: "\(what): getsockname") }
        switch CInt(storage.ss_family) {
        case AF_INET: return (type, withUnsafeBytes(of: storage) { SocketAddress($0.load(as: sockaddr_in.self)) })
        case AF_INET6: return (type, withUnsafeBytes(of: storage) { SocketAddress($0.load(as: sockaddr_in6.self)) })
        default: return (type, nil)
        }
    }

    /// The address an inherited UDP socket is bound to; throws when it is no bound UDP socket.
    static func boundAddress(ofUDP descriptor: CInt) throws -> SocketAddress {
        let (type, address) = try typeAndAddress(of: descriptor, what: "getsockopt")
        guard type == CInt(SOCK_DGRAM.rawValue) else { throw IOError(errnoCode: EPROTOTYPE, reason: "not a UDP socket") }
        guard let address else { throw IOError(errnoCode: EAFNOSUPPORT, reason: "not an IP socket") }
        guard address.port != 0 else { throw IOError(errnoCode: EINVAL, reason: "not bound to a port") }
        return address
    }

    private static func udpSocket(family: CInt, fwmark: UInt32?) throws -> CInt {
        let descriptor = socket(family, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        do {
            try setMark(descriptor, fwmark)
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    private static func setMark(_ descriptor: CInt, _ fwmark: UInt32?) throws {
        if var mark = fwmark {
            guard setsockopt(descriptor, SOL_SOCKET, 36 /* SO_MARK */, &mark, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
                throw IOError(errnoCode: errno, reason: "setsockopt SO_MARK")
            }
        }
    }

    /// Calls `body` with the C form of an IPv4 or IPv6 address.
    static func withSocketAddress<Result>(
        _ address: SocketAddress, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Result
    ) throws -> Result {
        switch address {
        case .v4(let v4):
            var storage = v4.address
            return try withUnsafePointer(to: &storage) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let v6):
            var storage = v6.address
            return try withUnsafePointer(to: &storage) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        default:
            throw IOError(errnoCode: EAFNOSUPPORT, reason: "not an IP address: \(address)")
        }
    }
}
