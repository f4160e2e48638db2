import CUDPOverTCP
import NIOCore
import NIOPosix
import UDPOverTCPWire

#if canImport(Glibc)
import Glibc
#endif

/// Sends batches of datagrams on a connected UDP socket with one `sendmmsg(2)`, bypassing NIO's
/// per-datagram write path; runs of equally sized datagrams go out as one UDP GSO send
/// (`UDP_SEGMENT`, see udp(7)), so the kernel walks its output path once per run.
///
/// Used on the socket's event loop only. The kernel gathers the payloads where they are (an
/// iovec per datagram, slices of the stream's read buffers): nothing is copied in user space,
/// which at 64 KiB datagrams was a quarter of tcp2udp's instructions. The message arrays are the
/// ``SendArea`` of the calling thread; a send that would block returns the datagrams it could
/// not send, in order, so the caller queues them where writability is tracked (NIO's channel).
final class DatagramSender {
    /// The socket; owned by the NIO channel that wraps it, which closes it.
    let descriptor: CInt
    /// Whether `UDP_SEGMENT` is still tried (a device without checksum offload refuses it).
    private(set) var segmentationOffload: Bool
    private var pending: [ByteBuffer] = []
    private var pendingBytes = 0

    /// At most this many datagrams are sent per flush; `append` reports when it is reached.
    static let batchLimit = Int(UOT_BATCH_LIMIT)
    /// Payload bytes per flush (an eighth of the default 4 MiB socket buffer): a flush is due
    /// before the pending payloads exceed them.
    static let batchBytesLimit = 512 << 10
    /// Segments in one GSO send: UDP_MAX_SEGMENTS in include/linux/udp.h is 64 on older kernels.
    static let segmentLimit = 64
    /// Bytes in one GSO send: its UDP payload must fit one IPv4 datagram (65,507 bytes).
    static let segmentBytesLimit = Framing.maximumIPv4Payload
    init(descriptor: CInt, segmentationOffload: Bool = true) {
        self.descriptor = descriptor
        self.segmentationOffload = segmentationOffload
    }

    /// Whether nothing is waiting for ``flush()``.
    var isEmpty: Bool { pending.isEmpty }

    /// Whether `payload` can join the batch; when it cannot, flush first.
    func hasRoom(for payload: ByteBuffer) -> Bool {
        pending.count < Self.batchLimit && pendingBytes + payload.readableBytes <= Self.batchBytesLimit
    }

    /// Adds one datagram to the batch (the caller checked ``hasRoom(for:)``).
    func append(_ payload: ByteBuffer) {
        pending.append(payload)
        pendingBytes += payload.readableBytes
    }

    /// Sends the batch. Returns the datagrams the socket could not take now (EAGAIN), in order;
    /// datagrams the kernel refused for another reason are dropped, as a failed UDP send is.
    func flush() -> ArraySlice<ByteBuffer> {
        defer {
            pending.removeAll(keepingCapacity: true)
            pendingBytes = 0
        }
        let area = SendArea.current
        // `pending` keeps every payload's storage alive and unchanged until this returns, so
        // the kernel may read it through these pointers.
        for (index, payload) in pending.enumerated() {
            area.vectors[index] = payload.withUnsafeReadableBytes { bytes in
                iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            }
        }
        var first = 0
        var retried = false
        while first < pending.count {
            let (messageCount, datagramCounts) = prepareMessages(from: first, in: area)
            let sent = area.vectors.withUnsafeMutableBufferPointer { vectors in
                uot_send_batch(descriptor, vectors.baseAddress! + first, &area.vectorCounts, &area.segments, UInt32(messageCount))
            }
            if sent > 0 {
                first += datagramCounts.prefix(Int(sent)).reduce(0, +)
                retried = false
                continue
            }
            let offloaded = segmentationOffload && datagramCounts[0] > 1
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK, ENOBUFS:
                return pending[first...]
            case EIO where offloaded, EINVAL where offloaded:
                // No checksum offload on the route's device, or segments longer than its MTU:
                // send each datagram on its own.
                segmentationOffload = false
            case ECONNREFUSED where !retried:
                // An earlier datagram's ICMP error, reported (and cleared) by this send.
                retried = true
            default:
                first += datagramCounts[0]  // dropped, as the kernel drops an unroutable datagram
                retried = false
            }
        }
        return []
    }

    /// Fills the message arrays for the pending datagrams from index `first`: one message per GSO run
    /// (or per datagram without offload). Returns the message count and datagrams per message.
    private func prepareMessages(from first: Int, in area: SendArea) -> (Int, [Int]) {
        var datagramCounts: [Int] = []
        datagramCounts.reserveCapacity(16)
        var index = first
        while index < pending.count, datagramCounts.count < Self.batchLimit {
            let size = pending[index].readableBytes
            var count = 1
            var bytes = size
            if segmentationOffload, size > 0 {
                // Equal sizes join the run; a shorter one may end it (udp(7): "the last one may
                // be shorter").
                while index + count < pending.count, count < Self.segmentLimit {
                    let next = pending[index + count].readableBytes
                    guard next > 0, next <= size, bytes + next <= Self.segmentBytesLimit else { break }
                    count += 1
                    bytes += next
                    if next < size { break }
                }
            }
            let message = datagramCounts.count
            area.vectorCounts[message] = CUnsignedInt(count)
            area.segments[message] = count > 1 ? UInt16(size) : 0
            datagramCounts.append(count)
            index += count
        }
        return (datagramCounts.count, datagramCounts)
    }
}

/// The memory a ``DatagramSender/flush()`` works in: the iovecs of the payloads and the message
/// arrays for `uot_send_batch`. A flush fills and sends it within one call and keeps nothing in
/// it afterwards, so every sender on a thread shares one, and a connection costs none of its own.
///
/// Each instance is used only by the thread that created it (``current``), never shared.
final class SendArea: @unchecked Sendable {
    var vectors: [iovec] = Array(repeating: iovec(), count: DatagramSender.batchLimit)
    var vectorCounts: [CUnsignedInt] = Array(repeating: 0, count: DatagramSender.batchLimit)
    var segments: [UInt16] = Array(repeating: 0, count: DatagramSender.batchLimit)

    private init() {}

    private static let perThread = ThreadSpecificVariable<SendArea>()

    /// The calling thread's area, made on first use; it lives as long as the thread.
    static var current: SendArea {
        if let area = perThread.currentValue { return area }
        let area = SendArea()
        perThread.currentValue = area
        return area
    }
}
