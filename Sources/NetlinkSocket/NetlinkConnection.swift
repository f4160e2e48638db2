import Netlink
import SystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Moves netlink datagrams to and from the kernel: a socket (`MnlSocket`), or a fake kernel
/// in tests.
public protocol NetlinkTransport: AnyObject {
    /// Sends one datagram (one or more messages).
    func send(_ datagram: [UInt8]) throws(SystemCallError)
    /// Receives one datagram; throws `EAGAIN` when nothing arrives in time.
    func receive() throws(SystemCallError) -> [UInt8]
}

/// Requests over a netlink transport: numbers each request, sends it, and gathers the reply
/// messages that carry its sequence number until the acknowledgement (or `NLMSG_DONE` for a
/// dump). A kernel error becomes a `SystemCallError` naming the operation and the object, with
/// the extended-ACK text as its detail, e.g.
/// `netlink RTM_NEWLINK wg0: Operation not supported (EOPNOTSUPP): Unknown device type`.
public final class NetlinkConnection {
    /// The transport requests go through.
    public let transport: any NetlinkTransport
    private var nextSequence: UInt32

    /// A connection over `transport`; sequence numbers start at `firstSequence`.
    public init(transport: any NetlinkTransport, firstSequence: UInt32 = 1) {
        self.transport = transport
        nextSequence = firstSequence
    }

    /// Sends `message` (its flags say whether it is a dump and whether it asks for an ACK) and
    /// returns the data messages of the reply, in order. `operation` and `object` name the
    /// request in errors: `netlink OPERATION OBJECT: ...`.
    @discardableResult
    public func request(_ message: NetlinkMessage, operation: String, object: String = "") throws(SystemCallError) -> [NetlinkMessage] {
        var message = message
        message.sequence = nextSequence
        nextSequence = nextSequence == UInt32.max ? 1 : nextSequence + 1
        let call = "netlink \(operation)"
        try transport.send(message.encoded())

        let isDump = message.flags.contains(.dump)
        let wantsAcknowledgement = message.flags.contains(.acknowledge)
        var replies: [NetlinkMessage] = []
        var interrupted = false
        while true {
            let datagram = try receiveDatagram(call, object)
            let messages: [NetlinkMessage]
            do {
                messages = try NetlinkMessage.decode(datagram: datagram)
            } catch {
                throw SystemCallError(call, object, errno: EPROTO, detail: error.reason)
            }
            for reply in messages where reply.sequence == message.sequence {
                if reply.flags.contains(.dumpInterrupted) { interrupted = true }
                switch NetlinkControlType(rawValue: reply.type) {
                case .noop:
                    continue
                case .overrun:
                    throw SystemCallError(call, object, errno: ENOBUFS, detail: "NLMSG_OVERRUN: the kernel dropped messages")
                case .error:
                    let status = try acknowledgement(call, object) { () throws(NetlinkDecodeError) in try NetlinkAcknowledgement(error: reply) }
                    try check(status, call, object)
                    // An ACK ends a plain request; a dump ends with NLMSG_DONE.
                    if !isDump { return replies }
                case .done where isDump:
                    let status = try acknowledgement(call, object) { () throws(NetlinkDecodeError) in try NetlinkAcknowledgement(done: reply) }
                    try check(status, call, object)
                    if interrupted {
                        throw SystemCallError(call, object, errno: EINTR, detail: "dump interrupted by a concurrent change (NLM_F_DUMP_INTR)")
                    }
                    return replies
                default:
                    replies.append(reply)
                    if !isDump && !wantsAcknowledgement { return replies }
                }
            }
        }
    }

    private func receiveDatagram(_ call: String, _ object: String) throws(SystemCallError) -> [UInt8] {
        do {
            return try transport.receive()
        } catch {
            // Name the request the answer was for, keeping the receive's own reason.
            throw SystemCallError(call, object, errno: error.errno, detail: error.detail.isEmpty ? error.systemCall : error.detail)
        }
    }

    private func acknowledgement(_ call: String, _ object: String,
                                 _ decode: () throws(NetlinkDecodeError) -> NetlinkAcknowledgement) throws(SystemCallError) -> NetlinkAcknowledgement {
        do {
            return try decode()
        } catch {
            throw SystemCallError(call, object, errno: EPROTO, detail: error.reason)
        }
    }

    private func check(_ status: NetlinkAcknowledgement, _ call: String, _ object: String) throws(SystemCallError) {
        guard status.errno != 0 else { return }
        throw SystemCallError(call, object, errno: status.errno, detail: status.message ?? "")
    }
}
