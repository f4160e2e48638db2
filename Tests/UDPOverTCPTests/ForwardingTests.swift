import NIOCore
import NIOEmbedded
import Testing

@testable import UDPOverTCP

/// Counts `read()` calls that reach the head of a pipeline.
private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

/// A session wired as tcp2udp wires one: a stream channel and a datagram channel, joined.
private struct Session {
    let tcp = EmbeddedChannel()
    let udp = EmbeddedChannel()
    let tcpReads = ReadCounter()
    let udpReads = ReadCounter()
    let stream = StreamSide(waitsForTLS: false, establishTimeout: nil)
    let datagram: DatagramSide
    static let forward = try! SocketAddress(ipAddress: "127.0.0.1", port: 51820)
    static let sender = try! SocketAddress(ipAddress: "127.0.0.1", port: 40000)

    init(destination: DatagramSide.Destination = .fixed(Session.forward)) throws {
        datagram = DatagramSide(destination: destination)
        try tcp.pipeline.syncOperations.addHandlers([tcpReads, stream])
        try udp.pipeline.syncOperations.addHandlers([udpReads, datagram])
        stream.datagram = datagram
        datagram.stream = stream
        try tcp.connect(to: Session.sender).wait()
        try udp.connect(to: Session.forward).wait()
    }
}

@Suite("Forwarding between the halves")
struct ForwardingTests {
    @Test("payloads from the stream become datagrams to --udp-forward only")
    func streamToDatagram() throws {
        let session = try Session()
        for length in [0, 1, 1400] {
            try session.tcp.writeInbound(ByteBuffer(repeating: 7, count: length))
        }
        var sent: [AddressedEnvelope<ByteBuffer>] = []
        while let envelope = try session.udp.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) { sent.append(envelope) }
        #expect(sent.map(\.data.readableBytes) == [0, 1, 1400])
        #expect(sent.allSatisfy { $0.remoteAddress == Session.forward })
    }

    @Test("datagrams become one coalesced chunk of frames per read burst")
    func datagramToStream() throws {
        let session = try Session()
        let other = try SocketAddress(ipAddress: "192.0.2.9", port: 9)
        session.udp.pipeline.fireChannelRead(AddressedEnvelope(remoteAddress: other, data: ByteBuffer(bytes: [1, 2, 3])))
        session.udp.pipeline.fireChannelRead(AddressedEnvelope(remoteAddress: other, data: ByteBuffer()))
        #expect(try session.tcp.readOutbound(as: ByteBuffer.self) == nil, "nothing before the burst ends")
        session.udp.pipeline.fireChannelReadComplete()
        let chunk = try #require(try session.tcp.readOutbound(as: ByteBuffer.self))
        #expect(Array(chunk.readableBytesView) == [0, 3, 1, 2, 3, 0, 0])
        #expect(try session.tcp.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test("udp2tcp answers the latest sender; nothing goes out before one is known")
    func lastSender() throws {
        let session = try Session(destination: .lastSender)
        try session.tcp.writeInbound(ByteBuffer(bytes: [1]))
        #expect(try session.udp.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) == nil)
        #expect(session.datagram.undeliverable == 1)
        let first = try SocketAddress(ipAddress: "127.0.0.1", port: 1111)
        let second = try SocketAddress(ipAddress: "127.0.0.1", port: 2222)
        session.udp.pipeline.fireChannelRead(AddressedEnvelope(remoteAddress: first, data: ByteBuffer()))
        session.udp.pipeline.fireChannelRead(AddressedEnvelope(remoteAddress: second, data: ByteBuffer()))
        try session.tcp.writeInbound(ByteBuffer(bytes: [2]))
        #expect(try session.udp.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)?.remoteAddress == second)
    }

    /// Which way a read is held: reads on one side wait while the other side's socket is full.
    enum HeldSide: CaseIterable, CustomTestStringConvertible {
        case tcpReadsWhileUDPIsFull, udpReadsWhileTCPIsFull
        var testDescription: String { self == .tcpReadsWhileUDPIsFull ? "TCP reads, UDP full" : "UDP reads, TCP full" }
    }

    @Test("reads on one side stop while the other side's socket cannot take more, and resume when it can",
          arguments: HeldSide.allCases)
    func backpressure(_ held: HeldSide) throws {
        let session = try Session()
        let (reading, counter, full) = held == .tcpReadsWhileUDPIsFull
            ? (session.tcp, session.tcpReads, session.udp) : (session.udp, session.udpReads, session.tcp)
        let before = counter.reads
        full.isWritable = false
        reading.read()
        #expect(counter.reads == before, "read held")
        full.isWritable = true
        full.pipeline.fireChannelWritabilityChanged()
        #expect(counter.reads == before + 1, "read resumed")
    }

    @Test("detaching the stream resumes held UDP reads")
    func detachResumes() throws {
        let session = try Session()
        let before = session.udpReads.reads
        session.tcp.isWritable = false
        session.udp.read()
        session.datagram.stream = nil
        #expect(session.udpReads.reads == before + 1)
    }
}
