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
/// dump). The same loop runs nf_tables batches (`exchange`): several messages, an error per
/// failed one, ended by the answer to a last request. Failures are `NetlinkError`s naming the
/// request, with the extended-ACK text as the detail, e.g.
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
        try request(message, NetlinkRequestName(operation, object: object))
    }

    /// Sends `message` named `name` in errors and returns the data messages of the reply.
    @discardableResult
    public func request(_ message: NetlinkMessage, _ name: NetlinkRequestName) throws(SystemCallError) -> [NetlinkMessage] {
        try exchange([[message]], names: [name])
    }

    /// Sends `message` named `name` and decodes the data messages of its reply with `decode`;
    /// replies that do not decode are a `NetlinkError.malformedReply`.
    public func request<Value>(_ message: NetlinkMessage, _ name: NetlinkRequestName,
                               decoding decode: ([NetlinkMessage]) throws(NetlinkDecodeError) -> Value) throws(SystemCallError) -> Value {
        let replies = try request(message, name)
        do {
            return try decode(replies)
        } catch {
            throw NetlinkError.malformedReply(name, error)
        }
    }

    /// Sends `message` named `name`, which the kernel answers with one data message, and
    /// decodes that message with `decode`; no reply, or one that does not decode, is a
    /// `NetlinkError.malformedReply`.
    public func request<Value>(_ message: NetlinkMessage, _ name: NetlinkRequestName,
                               decodingReply decode: (NetlinkMessage) throws(NetlinkDecodeError) -> Value) throws(SystemCallError) -> Value {
        try request(message, name, decoding: { (replies: [NetlinkMessage]) throws(NetlinkDecodeError) -> Value in
            guard let reply = replies.first else { throw NetlinkDecodeError("no reply") }
            return try decode(reply)
        })
    }

    /// Sends `datagrams` (each a list of messages that go in one datagram, as an nf_tables
    /// batch must), numbering the messages consecutively, and reads replies until the last
    /// message is answered: its ACK, its `NLMSG_DONE` for a dump, or its first data message when
    /// it asks for neither. The kernel handles a socket's messages in order, so every error of
    /// an earlier message has arrived by then. `names[i]` names message `i` in its errors; the
    /// first also names the exchange as a whole (a failed send or receive, a malformed reply).
    /// Returns the last message's data replies; when messages failed, throws the first failure,
    /// its detail counting the others (`4 more messages failed`).
    @discardableResult
    public func exchange(_ datagrams: [[NetlinkMessage]], names: [NetlinkRequestName]) throws(SystemCallError) -> [NetlinkMessage] {
        let count = datagrams.reduce(0) { $0 + $1.count }
        precondition(count > 0 && names.count == count, "one name for each of at least one message")
        let first = nextSequence
        let last = first &+ UInt32(count - 1)
        nextSequence = last &+ 1 == 0 ? 1 : last &+ 1
        let exchange = names[0]

        var sequence = first
        var lastFlags: NetlinkFlags = []
        for messages in datagrams {
            var datagram: [UInt8] = []
            for var message in messages {
                message.sequence = sequence
                sequence &+= 1
                message.appendEncoded(to: &datagram)
                lastFlags = message.flags
            }
            do {
                try transport.send(datagram)
            } catch {
                throw NetlinkError.transport(exchange, error)
            }
        }

        let isDump = lastFlags.contains(.dump)
        let wantsAcknowledgement = lastFlags.contains(.acknowledge)
        var replies: [NetlinkMessage] = []
        var failures: [SystemCallError] = []
        var interrupted = false
        func finish() throws(SystemCallError) -> [NetlinkMessage] {
            if let failure = NetlinkError.first(of: failures) { throw failure }
            return replies
        }
        while true {
            for reply in try receive(exchange) {
                // Replies to an earlier exchange (stale after a timeout) are skipped.
                let index = Int(reply.sequence &- first)
                guard index < count else { continue }
                let isLast = reply.sequence == last
                if isLast && reply.flags.contains(.dumpInterrupted) { interrupted = true }
                switch NetlinkControlType(rawValue: reply.type) {
                case .noop:
                    continue
                case .overrun:
                    throw NetlinkError.overrun(exchange)
                case .error,
                     .done where isLast && isDump:
                    // An NLMSG_ERROR answers a request (errno 0: an ACK); NLMSG_DONE ends a dump.
                    let isDone = reply.type == NetlinkControlType.done.rawValue
                    let status: NetlinkAcknowledgement
                    do {
                        status = isDone ? try NetlinkAcknowledgement(done: reply) : try NetlinkAcknowledgement(error: reply)
                    } catch {
                        throw NetlinkError.malformedReply(exchange, error)
                    }
                    if !status.isSuccess { failures.append(NetlinkError.kernel(names[index], status)) }
                    guard isLast && (isDone || !isDump || !status.isSuccess) else { continue }
                    if isDone && failures.isEmpty && interrupted { throw NetlinkError.interruptedDump(names[index]) }
                    return try finish()
                default:
                    // Data for an earlier message is not asked for (nf_tables sends none).
                    guard isLast else { continue }
                    replies.append(reply)
                    if !isDump && !wantsAcknowledgement { return try finish() }
                }
            }
        }
    }

    /// The messages of the next datagram.
    private func receive(_ exchange: NetlinkRequestName) throws(SystemCallError) -> [NetlinkMessage] {
        let datagram: [UInt8]
        do {
            datagram = try transport.receive()
        } catch {
            throw NetlinkError.transport(exchange, error)
        }
        do {
            return try NetlinkMessage.decode(datagram: datagram)
        } catch {
            throw NetlinkError.malformedReply(exchange, error)
        }
    }
}
