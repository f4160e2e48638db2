import CUDPOverTCP
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// udp2tcp's UDP receive path: a thread of its own reads datagrams with recvmmsg(2) and frames
/// each batch into one chunk, handed to the event loop in one hop.
///
/// NIO's datagram channel builds a `SocketAddress` (inet_ntop, sprintf), an envelope and a
/// pipeline event per datagram; here a datagram costs a copy into the chunk, and the sender's
/// address is decoded only when it changes. Memory stays bounded: once `inflightLimit` bytes
/// are handed over and not yet written to the stream, the thread stops reading, the socket's
/// buffer fills and the kernel drops what a too-fast sender sends more.
final class DatagramReader: Sendable {
    /// One framed batch, in receive order.
    struct Batch {
        /// Frames (2-byte length, payload), ready for the stream.
        var chunk: ByteBuffer
        /// The datagrams in `chunk`.
        var count: Int
        /// The sender of the last datagram, when it differs from the previous batch's.
        var newSender: SocketAddress?
    }

    /// Datagrams per recvmmsg call.
    static let batchSize = 64
    /// Bytes handed over and not yet written before reading pauses (as the stream's high water mark).
    static let inflightLimit = forwardingWaterMark.high

    private let descriptor: CInt
    private let inflight = NIOLockedValueBox(0)
    private let stopped = NIOLockedValueBox(false)
    private let pool: NIOThreadPool

    /// Starts reading `descriptor` (a bound UDP socket owned by a NIO channel, which must not
    /// read it) and calls `deliver` on `eventLoop` for every batch.
    init(descriptor: CInt, eventLoop: EventLoop, deliver: @escaping @Sendable (Batch) -> Void) {
        self.descriptor = descriptor
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        pool.submit { [self] _ in run(eventLoop: eventLoop, deliver: deliver) }
    }

    /// Stops the thread within its poll interval; call before the socket is closed.
    func stop() {
        stopped.withLockedValue { $0 = true }
        pool.shutdownGracefully { _ in }
    }

    /// The event loop wrote (or dropped) `bytes` of a batch: reading may go on.
    func consumed(_ bytes: Int) {
        inflight.withLockedValue { $0 -= bytes }
    }

    private var isStopped: Bool { stopped.withLockedValue { $0 } }

    private func run(eventLoop: EventLoop, deliver: @escaping @Sendable (Batch) -> Void) {
        let slotSize = 65_536
        let slots = UnsafeMutableRawPointer.allocate(byteCount: slotSize * Self.batchSize, alignment: 16)
        defer { slots.deallocate() }
        var bases: [UnsafeMutableRawPointer?] = (0..<Self.batchSize).map { slots + $0 * slotSize }
        var lengths = [Int](repeating: 0, count: Self.batchSize)
        var sources = [sockaddr_storage](repeating: sockaddr_storage(), count: Self.batchSize)
        var lastSource = sockaddr_storage()
        let allocator = ByteBufferAllocator()
        while !isStopped {
            if inflight.withLockedValue({ $0 }) >= Self.inflightLimit {
                usleep(200)
                continue
            }
            // Read first and poll only when nothing is waiting: under load most reads find data.
            let received = Int(uot_receive_batch(descriptor, &bases, slotSize, &lengths, &sources, UInt32(Self.batchSize)))
            guard received > 0 else {
                if received < 0, errno == EBADF { return }
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 200) < 0, errno != EINTR { return }
                if poller.revents & Int16(POLLNVAL) != 0 { return }
                continue
            }
            var total = 0
            for index in 0..<received { total += Framing.headerLength + lengths[index] }
            var chunk = allocator.buffer(capacity: total)
            for index in 0..<received {
                chunk.writeInteger(UInt16(truncatingIfNeeded: lengths[index]), endianness: .big)
                chunk.writeBytes(UnsafeRawBufferPointer(start: bases[index], count: lengths[index]))
            }
            var newSender: SocketAddress?
            if !Self.sameAddress(sources[received - 1], lastSource) {
                lastSource = sources[received - 1]
                newSender = Self.socketAddress(lastSource)
            }
            inflight.withLockedValue { $0 += total }
            let batch = Batch(chunk: chunk, count: received, newSender: newSender)
            eventLoop.execute { deliver(batch) }
        }
    }

    static func sameAddress(_ a: sockaddr_storage, _ b: sockaddr_storage) -> Bool {
        var a = a
        var b = b
        return memcmp(&a, &b, MemoryLayout<sockaddr_in6>.size) == 0
    }

    static func socketAddress(_ storage: sockaddr_storage) -> SocketAddress? {
        var storage = storage
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer in
            switch family {
            case AF_INET: return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee) }
            case AF_INET6: return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee) }
            default: return nil
            }
        }
    }
}
