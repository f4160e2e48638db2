import CUDPOverTCP
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// udp2tcp's UDP receive path: a thread of its own reads datagrams with recvmmsg(2) and frames
/// each batch, handed to the event loop in one hop.
///
/// NIO's datagram channel builds a `SocketAddress` (inet_ntop, sprintf), an envelope and a
/// pipeline event per datagram; here a small datagram costs a copy into the batch's chunk, and
/// the sender's address is decoded only when it changes. A datagram of ``passThroughMinimum``
/// bytes or more is not copied: it was received into a buffer of its own, two bytes in, so its
/// header goes in front of it and the buffer itself is handed over (the thread takes a new one
/// for that slot). Memory stays bounded: once `inflightLimit` bytes of buffers are handed over
/// and not yet written to the stream, the thread stops reading, the socket's buffer fills and
/// the kernel drops what a too-fast sender sends more.
final class DatagramReader: Sendable {
    /// One framed batch, in receive order.
    struct Batch {
        /// Frames (2-byte length, payload), ready for the stream: runs of small ones copied
        /// together, each large one in the buffer it was received into.
        var pieces: [ByteBuffer]
        /// The datagrams in `pieces`.
        var count: Int
        /// The memory the pieces hold (what ``DatagramReader/consumed(_:)`` is told once written).
        var bytes: Int
        /// The sender of the last datagram, when it differs from the previous batch's.
        var newSender: SocketAddress?
    }

    /// Datagrams per recvmmsg call.
    static let batchSize = 64
    /// Bytes handed over and not yet written before reading pauses (as the stream's high water mark).
    static let inflightLimit = forwardingWaterMark.high
    /// A receive slot: a header and any UDP payload.
    static let slotCapacity = Framing.headerLength + datagramSlotSize
    /// Datagrams this large are handed over in their slot, not copied (they fill an eighth of it
    /// or more).
    static let passThroughMinimum = datagramSlotSize / 8

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
        let allocator = ByteBufferAllocator()
        // Each slot a buffer of its own, received into two bytes in; the pointers stay valid
        // while `slots` is the storage's only owner.
        var slots: [ByteBuffer] = []
        var bases: [UnsafeMutableRawPointer?] = []
        func freshSlot() -> (ByteBuffer, UnsafeMutableRawPointer) {
            var slot = allocator.buffer(capacity: Self.slotCapacity)
            let base = slot.withUnsafeMutableWritableBytes { $0.baseAddress! + Framing.headerLength }
            return (slot, base)
        }
        for _ in 0..<Self.batchSize {
            let (slot, base) = freshSlot()
            slots.append(slot)
            bases.append(base)
        }
        var lengths = [Int](repeating: 0, count: Self.batchSize)
        var sources = [sockaddr_storage](repeating: sockaddr_storage(), count: Self.batchSize)
        var lastSource = sockaddr_storage()
        while !isStopped {
            if inflight.withLockedValue({ $0 }) >= Self.inflightLimit {
                usleep(200)
                continue
            }
            // Read first and poll only when nothing is waiting: under load most reads find data.
            let received = Int(uot_receive_batch(descriptor, &bases, datagramSlotSize, &lengths, &sources, UInt32(Self.batchSize)))
            guard received > 0 else {
                if received < 0, errno == EBADF { return }
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 200) < 0, errno != EINTR { return }
                if poller.revents & Int16(POLLNVAL) != 0 { return }
                continue
            }
            var copied = 0
            for index in 0..<received where lengths[index] < Self.passThroughMinimum { copied += Framing.headerLength + lengths[index] }
            var chunk = allocator.buffer(capacity: copied)
            var pieces: [ByteBuffer] = []
            var held = copied
            for index in 0..<received {
                let length = lengths[index]
                guard length >= Self.passThroughMinimum else {
                    chunk.writeInteger(UInt16(truncatingIfNeeded: length), endianness: .big)
                    chunk.writeBytes(UnsafeRawBufferPointer(start: bases[index], count: length))
                    continue
                }
                if chunk.readableBytes > 0 { pieces.append(chunk.readSlice(length: chunk.readableBytes)!) }
                // The slot takes a fresh buffer first, so that `frame` owns its storage alone and
                // writing the header does not copy it.
                var frame = slots[index]
                (slots[index], bases[index]) = freshSlot()
                frame.setInteger(UInt16(truncatingIfNeeded: length), at: 0, endianness: .big)
                frame.moveWriterIndex(to: Framing.headerLength + length)
                pieces.append(frame)
                held += Self.slotCapacity
            }
            if chunk.readableBytes > 0 { pieces.append(chunk) }
            var newSender: SocketAddress?
            if !Self.sameAddress(sources[received - 1], lastSource) {
                lastSource = sources[received - 1]
                newSender = Self.socketAddress(lastSource)
            }
            inflight.withLockedValue { $0 += held }
            let batch = Batch(pieces: pieces, count: received, bytes: held, newSender: newSender)
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
