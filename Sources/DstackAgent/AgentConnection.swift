#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemCalls

/// One HTTP/1.1 exchange with the agent over a fresh connection, every step bounded by one
/// deadline: connect, send, and read until the response is complete. The socket is
/// non-blocking and waited on with `poll`, so a stuck agent costs at most the time left.
struct AgentConnection {
    let endpoint: AgentEndpoint
    /// `CLOCK_MONOTONIC` nanoseconds after which the exchange fails with `ETIMEDOUT`.
    let deadline: UInt64

    func exchange(_ request: [UInt8], parser: inout HTTPResponseParser) throws(AgentError) -> HTTPResponse {
        let fd = try connect()
        defer { _ = close(fd) }
        var offset = 0
        while offset < request.count {
            try wait(fd, for: Int16(POLLOUT), "send")
            let sent = request.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if [EINTR, EAGAIN].contains(currentErrno()) { continue }
                throw .system(SystemCallError.current("send", endpoint.description))
            }
            offset += sent
        }
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            try wait(fd, for: Int16(POLLIN), "recv")
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if [EINTR, EAGAIN].contains(currentErrno()) { continue }
                throw .system(SystemCallError.current("recv", endpoint.description))
            }
            do throws(HTTPError) {
                if count == 0 { return try parser.finish() }
                if let response = try parser.append(buffer[0..<count]) { return response }
            } catch {
                throw .protocolViolation(error.reason)
            }
        }
    }

    private func connect() throws(AgentError) -> Int32 {
        switch endpoint {
        case .unixSocket(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (index, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
            }
            return try connect(family: AF_UNIX, address: &address, length: socklen_t(MemoryLayout<sockaddr_un>.size))
        case .http(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let first = list else {
                throw .system(SystemCallError("getaddrinfo", host, errno: EHOSTUNREACH, detail: String(cString: gai_strerror(status))))
            }
            defer { freeaddrinfo(list) }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
            }
            return try connect(family: first.pointee.ai_family, address: &storage, length: first.pointee.ai_addrlen)
        }
    }

    private func connect<Address>(family: Int32, address: inout Address, length: socklen_t) throws(AgentError) -> Int32 {
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = socket(family, flags, 0)
        guard fd >= 0 else { throw .system(SystemCallError.current("socket", endpoint.description)) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        do throws(AgentError) {
            if result != 0 {
                let code = currentErrno()
                guard code == EINPROGRESS || code == EINTR else { throw .system(SystemCallError("connect", endpoint.description, errno: code)) }
                try wait(fd, for: Int16(POLLOUT), "connect")
                var error: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
                if error != 0 { throw .system(SystemCallError("connect", endpoint.description, errno: error)) }
            }
            return fd
        } catch {
            _ = close(fd)
            throw error
        }
    }

    /// Waits until `fd` is ready for `events`, or fails with ETIMEDOUT at the deadline.
    private func wait(_ fd: Int32, for events: Int16, _ call: String) throws(AgentError) {
        while true {
            let now = monotonicNanoseconds()
            guard now < deadline else {
                throw .system(SystemCallError(call, endpoint.description, errno: ETIMEDOUT, detail: "no answer within the time allowed"))
            }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && currentErrno() != EINTR { throw .system(SystemCallError.current("poll", endpoint.description)) }
        }
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
