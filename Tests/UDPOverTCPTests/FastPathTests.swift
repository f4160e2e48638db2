import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import UDPOverTCP

#if canImport(Glibc)
import Glibc
#endif

/// A plain UDP socket on 127.0.0.1 (an ephemeral port) to send from or receive on.
private final class LoopbackSocket {
    let descriptor: CInt
    let address: SocketAddress

    init() throws {
        let descriptor = try RawSockets.boundUDP(try SocketAddress(ipAddress: "127.0.0.1", port: 0), fwmark: nil)
        var storage = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        address = SocketAddress(storage)
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8], to target: SocketAddress) throws {
        let sent = try RawSockets.withSocketAddress(target) { address, length in
            bytes.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, 0, address, length) }
        }
        #expect(sent == bytes.count)
    }

    /// Datagrams waiting now (waits up to a second for the first).
    func receiveAll() -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 1000) == 1 else { return [] }
        while true {
            let count = recv(descriptor, &buffer, buffer.count, CInt(MSG_DONTWAIT))
            guard count >= 0 else { return datagrams }
            datagrams.append(Array(buffer[..<count]))
        }
    }
}

/// Payloads of assorted sizes: runs of equal sizes (one GSO send each), a shorter one ending a
/// run, empty ones, and a large one.
private let payloadSizes = [1400, 1400, 1400, 1000, 1400, 0, 64, 64, 64, 64, 9000, 9000, 1, 1400]

private func payload(_ index: Int, size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ index &* 31) }
}

@Suite("Forwarding fast paths on real sockets")
struct FastPathTests {
    @Test("DatagramSender delivers a burst intact and in order, with or without GSO", arguments: [true, false])
    func senderBurst(offload: Bool) throws {
        let receiver = try LoopbackSocket()
        let descriptor = try RawSockets.connectedUDP(
            bind: try SocketAddress(ipAddress: "127.0.0.1", port: 0), connect: receiver.address, fwmark: nil
        )
        defer { close(descriptor) }
        let sender = DatagramSender(descriptor: descriptor, segmentationOffload: offload)
        let expected = payloadSizes.enumerated().map { payload($0.offset, size: $0.element) }
        for bytes in expected {
            let buffer = ByteBuffer(bytes: bytes)
            #expect(sender.hasRoom(for: buffer))
            sender.append(buffer)
        }
        #expect(sender.flush().isEmpty)
        #expect(sender.isEmpty)
        var received: [[UInt8]] = []
        while received.count < expected.count {
            let more = receiver.receiveAll()
            if more.isEmpty { break }
            received += more
        }
        #expect(received == expected)
    }

    @Test("DatagramSender asks for a flush before its batch count or bytes overflow")
    func senderRoom() throws {
        let sender = DatagramSender(descriptor: -1)
        let big = ByteBuffer(repeating: 0, count: 65_000)
        var appended = 0
        while sender.hasRoom(for: big) {
            sender.append(big)
            appended += 1
        }
        #expect(appended == DatagramSender.batchBytesLimit / 65_000)
        let small = DatagramSender(descriptor: -1)
        var count = 0
        while small.hasRoom(for: ByteBuffer()) {
            small.append(ByteBuffer())
            count += 1
        }
        #expect(count == DatagramSender.batchLimit)
    }

    @Test("tcp2udp's datagram side sends through the sender, not the channel")
    func sideUsesSender() throws {
        let receiver = try LoopbackSocket()
        let descriptor = try RawSockets.connectedUDP(
            bind: try SocketAddress(ipAddress: "127.0.0.1", port: 0), connect: receiver.address, fwmark: nil
        )
        defer { close(descriptor) }
        let udp = EmbeddedChannel()
        let datagram = DatagramSide(destination: .fixed(receiver.address))
        datagram.sender = DatagramSender(descriptor: descriptor)
        try udp.pipeline.syncOperations.addHandler(datagram)
        for size in [3, 3, 2] { datagram.deliver(ByteBuffer(repeating: UInt8(size), count: size)) }
        var poller = pollfd(fd: receiver.descriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 50) == 0, "nothing is sent before the flush")
        datagram.flushDeliveries()
        #expect(try udp.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) == nil, "nothing went through the channel")
        var received: [[UInt8]] = []
        for _ in 0..<3 where received.count < 3 { received += receiver.receiveAll() }
        #expect(received == [[3, 3, 3], [3, 3, 3], [2, 2]])
    }

    @Test("DatagramReader frames each batch in order and names a new sender only when it changes")
    func readerBatches() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let listener = try LoopbackSocket()
        let batches = NIOLockedValueBox<[DatagramReader.Batch]>([])
        let reader = DatagramReader(descriptor: listener.descriptor, eventLoop: group.next()) { batch in
            batches.withLockedValue { $0.append(batch) }
        }
        defer { reader.stop() }
        let first = try LoopbackSocket()
        let second = try LoopbackSocket()
        let sent: [(LoopbackSocket, [UInt8])] = [(first, [1, 2, 3]), (first, []), (first, [4]), (second, [5, 6])]
        for (socket, bytes) in sent {
            try socket.send(bytes, to: listener.address)
            usleep(20_000)  // separate reads, so the sender change falls between batches
        }
        var frames: [[UInt8]] = []
        var senders: [SocketAddress] = []
        for _ in 0..<100 {
            (frames, senders) = batches.withLockedValue { batches in
                var frames: [[UInt8]] = []
                for batch in batches {
                    for var piece in batch.pieces {
                        while let payload = try? Framing.nextFrame(from: &piece, maximumPayload: 65_535) { frames.append(Array(payload.readableBytesView)) }
                    }
                }
                return (frames, batches.compactMap(\.newSender))
            }
            if frames.count == sent.count { break }
            usleep(20_000)
        }
        #expect(frames == sent.map(\.1))
        #expect(senders == [first.address, second.address])
    }

    @Test("DatagramReader stops reading while too much is in flight, and goes on once consumed")
    func readerBackpressure() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let listener = try LoopbackSocket()
        let delivered = NIOLockedValueBox(0)
        let reader = DatagramReader(descriptor: listener.descriptor, eventLoop: group.next()) { batch in
            delivered.withLockedValue { $0 += batch.bytes }
        }
        defer { reader.stop() }
        let source = try LoopbackSocket()
        let datagram = [UInt8](repeating: 9, count: 60_000)
        let limit = DatagramReader.inflightLimit
        // Twice the limit: the reader takes about the limit's worth and then pauses.
        for _ in 0..<(2 * limit / datagram.count) {
            try source.send(datagram, to: listener.address)
            usleep(2_000)
        }
        usleep(300_000)
        let paused = delivered.withLockedValue { $0 }
        #expect(paused >= limit)
        #expect(paused < limit + 64 * DatagramReader.slotCapacity, "at most one batch past the limit")
        reader.consumed(paused)
        var resumed = paused
        for _ in 0..<50 where resumed == paused {
            usleep(20_000)
            resumed = delivered.withLockedValue { $0 }
        }
        #expect(resumed > paused)
    }
}
