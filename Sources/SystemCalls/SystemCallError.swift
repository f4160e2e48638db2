#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from a failed system call: which call, on what object, and the `errno` it left.
///
/// Its description reads like `open /data/privatekey: Permission denied (EACCES)`.
public struct SystemCallError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The failed call or operation, e.g. `open` or `netlink RTM_NEWLINK`.
    public var systemCall: String
    /// The object it was applied to (a path, an interface), or empty.
    public var object: String
    /// The `errno` value.
    public var errno: Int32
    /// Extra text from the kernel (netlink extended ACK), or empty.
    public var detail: String

    public init(_ systemCall: String, _ object: String = "", errno: Int32, detail: String = "") {
        self.systemCall = systemCall
        self.object = object
        self.errno = errno
        self.detail = detail
    }

    /// Captures the calling thread's current `errno`.
    public static func current(_ systemCall: String, _ object: String = "") -> SystemCallError {
        SystemCallError(systemCall, object, errno: currentErrno())
    }

    public var description: String {
        var text = systemCall
        if !object.isEmpty { text += " \(object)" }
        text += ": \(Errno.message(errno)) (\(Errno.name(errno)))"
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}

/// The calling thread's `errno`.
@inline(__always)
public func currentErrno() -> Int32 {
    #if canImport(Glibc) || canImport(Musl)
    return Glibc.errno
    #else
    return Darwin.errno
    #endif
}

/// Names and messages of `errno` values.
public enum Errno {
    /// The symbolic name of an errno value, e.g. `EPERM`, or `errno N` when unknown.
    public static func name(_ code: Int32) -> String {
        names[code] ?? "errno \(code)"
    }

    /// The C library's message for an errno value (the corresponding C function is `strerror`).
    public static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "Unknown error \(code)" }
        return String(cString: text)
    }

    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
        ENXIO: "ENXIO", E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY",
        EEXIST: "EEXIST", EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR",
        EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG",
        ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS", EMLINK: "EMLINK", EPIPE: "EPIPE",
        ERANGE: "ERANGE", EDEADLK: "EDEADLK", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS",
        ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP", ENOMSG: "ENOMSG", ENODATA: "ENODATA",
        ETIME: "ETIME", EPROTO: "EPROTO", EMSGSIZE: "EMSGSIZE", EPROTONOSUPPORT: "EPROTONOSUPPORT",
        EOPNOTSUPP: "EOPNOTSUPP", EAFNOSUPPORT: "EAFNOSUPPORT", EADDRINUSE: "EADDRINUSE",
        EADDRNOTAVAIL: "EADDRNOTAVAIL", ENETDOWN: "ENETDOWN", ENETUNREACH: "ENETUNREACH",
        ECONNABORTED: "ECONNABORTED", ECONNRESET: "ECONNRESET", ENOBUFS: "ENOBUFS",
        EISCONN: "EISCONN", ENOTCONN: "ENOTCONN", ETIMEDOUT: "ETIMEDOUT",
        ECONNREFUSED: "ECONNREFUSED", EHOSTUNREACH: "EHOSTUNREACH", EALREADY: "EALREADY",
        EINPROGRESS: "EINPROGRESS", EDQUOT: "EDQUOT", ECANCELED: "ECANCELED",
    ]
}
