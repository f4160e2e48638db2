import NIOCore
import NIOEmbedded
import Testing
import UDPOverTCP

private func address(_ ip: String, _ port: Int) -> SocketAddress {
    try! SocketAddress(ipAddress: ip, port: port)
}

/// A v2 header: signature, version/command, family, length, then `body`.
private func v2(command: UInt8 = 0x21, family: UInt8, body: [UInt8]) -> [UInt8] {
    ProxyProtocol.v2Signature + [command, family, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
}

private let v4Body: [UInt8] = [192, 0, 2, 1, 198, 51, 100, 7, 0xD4, 0x31, 0x01, 0xBB]  // 192.0.2.1:54321 -> 198.51.100.7:443
private let v6Body: [UInt8] =
    [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1]  // 2001:db8::1
    + [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [2]  // 2001:db8::2
    + [0x30, 0x39, 0x00, 0x50]  // 12345 -> 80

struct ValidCase: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var expected: ProxyHeader
    var testDescription: String { name }
}

private let validCases: [ValidCase] = [
    ValidCase(
        name: "v1 TCP4", bytes: Array("PROXY TCP4 192.0.2.1 198.51.100.7 54321 443\r\n".utf8),
        expected: ProxyHeader(version: .v1, command: .proxy, source: address("192.0.2.1", 54321), destination: address("198.51.100.7", 443))
    ),
    ValidCase(
        name: "v1 TCP6", bytes: Array("PROXY TCP6 2001:db8::1 2001:db8::2 12345 80\r\n".utf8),
        expected: ProxyHeader(version: .v1, command: .proxy, source: address("2001:db8::1", 12345), destination: address("2001:db8::2", 80))
    ),
    ValidCase(name: "v1 UNKNOWN", bytes: Array("PROXY UNKNOWN\r\n".utf8), expected: ProxyHeader(version: .v1, command: .proxy)),
    ValidCase(
        name: "v1 UNKNOWN with addresses", bytes: Array("PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 65535 65535\r\n".utf8),
        expected: ProxyHeader(version: .v1, command: .proxy)
    ),
    ValidCase(
        name: "v1 port 0 and 65535", bytes: Array("PROXY TCP4 10.0.0.1 10.0.0.2 0 65535\r\n".utf8),
        expected: ProxyHeader(version: .v1, command: .proxy, source: address("10.0.0.1", 0), destination: address("10.0.0.2", 65535))
    ),
    ValidCase(
        name: "v2 TCP4", bytes: v2(family: 0x11, body: v4Body),
        expected: ProxyHeader(version: .v2, command: .proxy, source: address("192.0.2.1", 54321), destination: address("198.51.100.7", 443))
    ),
    ValidCase(
        name: "v2 TCP6", bytes: v2(family: 0x21, body: v6Body),
        expected: ProxyHeader(version: .v2, command: .proxy, source: address("2001:db8::1", 12345), destination: address("2001:db8::2", 80))
    ),
    ValidCase(name: "v2 LOCAL", bytes: v2(command: 0x20, family: 0x00, body: []), expected: ProxyHeader(version: .v2, command: .local)),
    ValidCase(
        name: "v2 LOCAL ignores addresses", bytes: v2(command: 0x20, family: 0x11, body: v4Body),
        expected: ProxyHeader(version: .v2, command: .local)
    ),
    ValidCase(name: "v2 UNSPEC", bytes: v2(family: 0x00, body: []), expected: ProxyHeader(version: .v2, command: .proxy)),
    ValidCase(
        name: "v2 TCP4 with TLVs", bytes: v2(family: 0x11, body: v4Body + [0x02, 0x00, 0x03] + Array("abc".utf8) + [0x04, 0x00, 0x00]),
        expected: ProxyHeader(
            version: .v2, command: .proxy, source: address("192.0.2.1", 54321), destination: address("198.51.100.7", 443),
            extensions: [.init(type: 0x02, value: Array("abc".utf8)), .init(type: 0x04, value: [])]
        )
    ),
    ValidCase(
        name: "v2 UNIX", bytes: v2(family: 0x31, body: Array(repeating: 0, count: 216)),
        expected: ProxyHeader(version: .v2, command: .proxy)
    ),
]

struct InvalidCase: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var error: ProxyHeaderError
    var testDescription: String { name }
}

private let invalidCases: [InvalidCase] = [
    InvalidCase(name: "garbage", bytes: Array("GET / HTTP/1.1\r\n".utf8), error: .notProxyProtocol),
    InvalidCase(name: "udp-over-tcp frame", bytes: [0x00, 0x04, 1, 2, 3, 4], error: .notProxyProtocol),
    InvalidCase(name: "lower-case proxy", bytes: Array("proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n".utf8), error: .notProxyProtocol),
    InvalidCase(
        name: "v1 without CRLF in 107 bytes", bytes: Array(("PROXY UNKNOWN " + String(repeating: "x", count: 100)).utf8), error: .lineTooLong
    ),
    InvalidCase(name: "v1 bare LF", bytes: Array("PROXY UNKNOWN\n".utf8), error: .malformedLine("line does not end with CRLF")),
    InvalidCase(name: "v1 bad protocol", bytes: Array("PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n".utf8), error: .malformedLine("unknown protocol \"UDP4\"")),
    InvalidCase(name: "v1 missing port", bytes: Array("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n".utf8), error: .malformedLine("expected 6 fields, got 5")),
    InvalidCase(name: "v1 double space", bytes: Array("PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n".utf8), error: .malformedLine("expected 6 fields, got 7")),
    InvalidCase(name: "v1 port too big", bytes: Array("PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n".utf8), error: .malformedLine("bad port \"65536\"")),
    InvalidCase(name: "v1 port leading zero", bytes: Array("PROXY TCP4 1.2.3.4 1.2.3.4 080 2\r\n".utf8), error: .malformedLine("bad port \"080\"")),
    InvalidCase(name: "v1 bad IPv4", bytes: Array("PROXY TCP4 1.2.3.256 1.2.3.4 1 2\r\n".utf8), error: .malformedLine("bad IPv4 address \"1.2.3.256\"")),
    InvalidCase(name: "v1 IPv6 under TCP4", bytes: Array("PROXY TCP4 ::1 ::1 1 2\r\n".utf8), error: .malformedLine("bad IPv4 address \"::1\"")),
    InvalidCase(name: "v1 IPv4 under TCP6", bytes: Array("PROXY TCP6 1.2.3.4 ::1 1 2\r\n".utf8), error: .malformedLine("bad IPv6 address \"1.2.3.4\"")),
    InvalidCase(name: "v1 control byte", bytes: Array("PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n".utf8), error: .malformedLine("non-printable byte")),
    InvalidCase(name: "v2 version 1", bytes: v2(command: 0x11, family: 0x11, body: v4Body), error: .unsupportedVersion(1)),
    InvalidCase(name: "v2 command 2", bytes: v2(command: 0x22, family: 0x11, body: v4Body), error: .unsupportedCommand(2)),
    InvalidCase(name: "v2 family 0x41", bytes: v2(family: 0x41, body: v4Body), error: .unsupportedFamily(0x41)),
    InvalidCase(
        name: "v2 length short of IPv4 block", bytes: v2(family: 0x11, body: Array(v4Body.prefix(8))),
        error: .addressBlockTooShort(length: 8, needed: 12)
    ),
    InvalidCase(
        name: "v2 length short of IPv6 block", bytes: v2(family: 0x21, body: v4Body), error: .addressBlockTooShort(length: 12, needed: 36)
    ),
    InvalidCase(name: "v2 TLV overruns", bytes: v2(family: 0x11, body: v4Body + [0x02, 0x00, 0x09, 1, 2]), error: .malformedExtensions),
    InvalidCase(name: "v2 TLV header cut", bytes: v2(family: 0x11, body: v4Body + [0x02, 0x00]), error: .malformedExtensions),
]

@Suite("PROXY protocol")
struct ProxyProtocolTests {
    @Test("valid headers parse", arguments: validCases)
    func valid(_ testCase: ValidCase) throws {
        let trailer: [UInt8] = [0x00, 0x02, 0xAB, 0xCD]
        let result = try ProxyProtocol.parse(testCase.bytes + trailer)
        #expect(result == .header(testCase.expected, length: testCase.bytes.count))
    }

    @Test("every truncation of a valid header asks for more data", arguments: validCases)
    func truncated(_ testCase: ValidCase) throws {
        for length in 0..<testCase.bytes.count {
            #expect(try ProxyProtocol.parse(testCase.bytes.prefix(length)) == .needMoreData, "\(length) bytes")
        }
    }

    @Test("malformed headers are refused", arguments: invalidCases)
    func invalid(_ testCase: InvalidCase) {
        #expect(throws: testCase.error) { try ProxyProtocol.parse(testCase.bytes) }
    }

    @Test("the handler announces the header and passes the rest on, split at every offset")
    func handler() throws {
        let header = Array("PROXY TCP4 192.0.2.1 198.51.100.7 54321 443\r\n".utf8)
        let stream = header + [0x00, 0x02, 0xAB, 0xCD]
        for split in 0...stream.count {
            let recorder = EventRecorder()
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandlers([ProxyProtocolHandler(), recorder])
            try channel.writeInbound(ByteBuffer(bytes: stream[..<split]))
            try channel.writeInbound(ByteBuffer(bytes: stream[split...]))
            var rest: [UInt8] = []
            while let chunk = try channel.readInbound(as: ByteBuffer.self) { rest += chunk.readableBytesView }
            #expect(rest == [0x00, 0x02, 0xAB, 0xCD], "split at \(split)")
            #expect(recorder.headers.map(\.source) == [address("192.0.2.1", 54321)], "split at \(split)")
            #expect(throws: (any Error).self, "removed after the header") {
                try channel.pipeline.syncOperations.handler(type: ProxyProtocolHandler.self)
            }
            _ = try? channel.finish()
        }
    }

    @Test("the handler closes a connection with a malformed header")
    func handlerRejects() throws {
        let channel = EmbeddedChannel(handler: ProxyProtocolHandler())
        #expect(throws: ProxyHeaderError.notProxyProtocol) { try channel.writeInbound(ByteBuffer(bytes: Array("HELLO\r\n".utf8))) }
        #expect(!channel.isActive)
    }
}

private final class EventRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var headers: [ProxyHeader] = []

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let received = event as? ProxyHeaderReceived { headers.append(received.header) }
        context.fireUserInboundEventTriggered(event)
    }
}
