#if canImport(Glibc)
import Glibc
#endif
import Netlink
import NetlinkSocket
import SystemCalls

/// A netlink transport that plays the kernel: every request sent is recorded and handed to
/// `handler`, whose replies are queued as the datagrams `receive()` returns, numbered with the
/// request's sequence number. With nothing queued, `receive()` fails with `EAGAIN`, as a real
/// socket does when its receive timeout expires.
public final class FakeKernel: NetlinkTransport {
    /// A reply to one request.
    public enum Reply {
        /// An acknowledgement (`NLMSG_ERROR` with error 0).
        case acknowledge
        /// An error, with an optional extended-ACK message.
        case error(Int32, message: String? = nil)
        /// One data message (a reply to a get request).
        case data(NetlinkMessage)
        /// Multipart messages followed by `NLMSG_DONE` carrying `status` (0 = success).
        case dump([NetlinkMessage], status: Int32 = 0, interrupted: Bool = false)
        /// Raw datagram bytes, sent as they are.
        case datagram([UInt8])
    }

    /// Every request received, in order.
    public private(set) var requests: [NetlinkMessage] = []
    /// How many dump messages to put in one datagram.
    public var messagesPerDatagram: Int
    /// The port id the fake kernel writes into its replies.
    public let portID: UInt32
    private var outbox: [[UInt8]] = []
    private let handler: (NetlinkMessage) -> [Reply]

    public init(messagesPerDatagram: Int = 1, portID: UInt32 = 4242, handler: @escaping (NetlinkMessage) -> [Reply]) {
        self.messagesPerDatagram = messagesPerDatagram
        self.portID = portID
        self.handler = handler
    }

    public func send(_ datagram: [UInt8]) throws(SystemCallError) {
        let messages: [NetlinkMessage]
        do {
            messages = try NetlinkMessage.decode(datagram: datagram)
        } catch {
            throw SystemCallError("sendto", "fake kernel", errno: EINVAL, detail: error.reason)
        }
        for message in messages {
            requests.append(message)
            for reply in handler(message) { enqueue(reply, for: message) }
        }
    }

    public func receive() throws(SystemCallError) -> [UInt8] {
        guard !outbox.isEmpty else { throw SystemCallError("recvfrom", "fake kernel", errno: EAGAIN) }
        return outbox.removeFirst()
    }

    /// Queues a datagram that answers no request (a stale reply, a notification).
    public func inject(_ datagram: [UInt8]) { outbox.append(datagram) }

    private func enqueue(_ reply: Reply, for request: NetlinkMessage) {
        switch reply {
        case .acknowledge:
            outbox.append(NetlinkAcknowledgement.encode(errno: 0, for: request, portID: portID).encoded())
        case .error(let code, let text):
            outbox.append(NetlinkAcknowledgement.encode(errno: code, for: request, message: text, portID: portID).encoded())
        case .data(var message):
            message.sequence = request.sequence
            message.portID = portID
            outbox.append(message.encoded())
        case .dump(let messages, let status, let interrupted):
            var numbered = messages.map { message in
                var message = message
                message.sequence = request.sequence
                message.portID = portID
                message.flags.insert(.multipart)
                if interrupted { message.flags.insert(.dumpInterrupted) }
                return message
            }
            var done = [UInt8]()
            done.appendNative(-status)
            numbered.append(NetlinkMessage(type: NetlinkControlType.done.rawValue, flags: .multipart,
                                           sequence: request.sequence, portID: portID, payload: done))
            var index = 0
            while index < numbered.count {
                var datagram = [UInt8]()
                for message in numbered[index..<min(index + max(1, messagesPerDatagram), numbered.count)] {
                    message.appendEncoded(to: &datagram)
                }
                outbox.append(datagram)
                index += max(1, messagesPerDatagram)
            }
        case .datagram(let bytes):
            outbox.append(bytes)
        }
    }
}

