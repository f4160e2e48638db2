import NIOCore
import NIOPosix
import SystemCalls

/// Words an error from NIO for a log line: `Connection refused (ECONNREFUSED)` rather than
/// NIO's own debugging description.
func describe(_ error: Error) -> String {
    switch error {
    case let error as IOError:
        return "\(Errno.message(error.errnoCode)) (\(Errno.name(error.errnoCode)))"
    case let error as NIOConnectionError:
        if !error.connectionErrors.isEmpty {
            return error.connectionErrors.map { "\($0.target.logDescription): \(describe($0.error))" }.joined(separator: "; ")
        }
        let dnsError = error.dnsAAAAError ?? error.dnsAError
        return "cannot resolve \(error.host)" + (dnsError.map { ": \($0)" } ?? "")
    case ChannelError.connectTimeout(let timeout):
        return "connect timed out after \(timeout.nanoseconds / 1_000_000) ms"
    default:
        return "\(error)"
    }
}
