import Netlink
import SystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a netlink request is about, for the errors it can end in: the protocol layer and the
/// message type (`netlink RTM_NEWLINK`, `nftables NFT_MSG_NEWRULE`) and the object it is applied
/// to (`wg0`, `vpn_init_wg0/forward`, or empty).
public struct NetlinkRequestName: Hashable, Sendable, CustomStringConvertible {
    /// The layer and message type, e.g. `netlink RTM_NEWLINK`: an error's `systemCall`.
    public var call: String
    /// The object, e.g. `wg0`, or empty.
    public var object: String

    /// `operation` (e.g. `RTM_NEWLINK`) on `object`, spoken over `layer` (`netlink`, `nftables`).
    public init(_ operation: some CustomStringConvertible, object: String = "", layer: String = "netlink") {
        call = "\(layer) \(operation)"
        self.object = object
    }

    public var description: String { object.isEmpty ? call : "\(call) \(object)" }
}

/// The one place netlink failures become `SystemCallError`s, each named after its request
/// (`NetlinkRequestName`): `netlink RTM_NEWLINK wg0: Operation not supported (EOPNOTSUPP):
/// Unknown device type`. Only the kernel's own answers carry its errno; what goes wrong on this
/// side has one factory each, with the errno that describes it.
public enum NetlinkError {
    /// The kernel refused the request: its errno and extended-ACK text (`NLMSGERR_ATTR_MSG`).
    public static func kernel(_ request: NetlinkRequestName, _ status: NetlinkAcknowledgement) -> SystemCallError {
        SystemCallError(request.call, request.object, errno: status.errno, detail: status.message ?? "")
    }

    /// A reply that does not decode, or lacks what the request must return (`EPROTO`).
    public static func malformedReply(_ request: NetlinkRequestName, _ reason: String) -> SystemCallError {
        SystemCallError(request.call, request.object, errno: EPROTO, detail: reason)
    }

    /// A reply that does not decode (`EPROTO`), with the decoder's reason.
    public static func malformedReply(_ request: NetlinkRequestName, _ error: NetlinkDecodeError) -> SystemCallError {
        malformedReply(request, error.reason)
    }

    /// A send or receive that failed (a timeout is `EAGAIN`), renamed after the request it was
    /// for, keeping the transport's errno and reason (its own call when it gave none).
    public static func transport(_ request: NetlinkRequestName, _ error: SystemCallError) -> SystemCallError {
        SystemCallError(request.call, request.object, errno: error.errno, detail: error.detail.isEmpty ? error.systemCall : error.detail)
    }

    /// `NLMSG_OVERRUN`: the kernel dropped messages of the reply (`ENOBUFS`).
    public static func overrun(_ request: NetlinkRequestName) -> SystemCallError {
        SystemCallError(request.call, request.object, errno: ENOBUFS, detail: "NLMSG_OVERRUN: the kernel dropped messages")
    }

    /// A dump the kernel marked `NLM_F_DUMP_INTR` (`EINTR`): read it again.
    public static func interruptedDump(_ request: NetlinkRequestName) -> SystemCallError {
        SystemCallError(request.call, request.object, errno: EINTR, detail: "dump interrupted by a concurrent change (NLM_F_DUMP_INTR)")
    }

    /// An outcome the kernel reported in a way no single answer names (a link that vanished
    /// right after its creation: `ENODEV`), with `errno` and `detail` as given.
    public static func outcome(_ request: NetlinkRequestName, errno: Int32, detail: String = "") -> SystemCallError {
        SystemCallError(request.call, request.object, errno: errno, detail: detail)
    }

    /// The first of several failures of one exchange, its detail counting the others.
    static func first(of failures: [SystemCallError]) -> SystemCallError? {
        guard var failure = failures.first else { return nil }
        if failures.count > 1 {
            let more = "\(failures.count - 1) more message\(failures.count == 2 ? "" : "s") failed"
            failure.detail = failure.detail.isEmpty ? more : "\(failure.detail) (\(more))"
        }
        return failure
    }
}
