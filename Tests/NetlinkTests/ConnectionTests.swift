import Netlink
import NetlinkSocket
import NetlinkTestSupport
import SystemCalls
import Testing

/// Conversations between `NetlinkConnection` and a scripted fake kernel.
@Suite struct ConnectionTests {
    @Test func acknowledgedRequest() throws {
        let kernel = FakeKernel { _ in [.acknowledge] }
        let connection = NetlinkConnection(transport: kernel, firstSequence: 100)
        let replies = try connection.request(RouteNetlink.setUp(index: 3, true), operation: "RTM_NEWLINK", object: "wg0")
        #expect(replies.isEmpty)
        try connection.request(RouteNetlink.setUp(index: 3, false), operation: "RTM_NEWLINK", object: "wg0")
        #expect(kernel.requests.map(\.sequence) == [100, 101])
        #expect(kernel.requests[0].payload == RouteNetlink.setUp(index: 3, true).payload)
    }

    @Test func errorWithExtendedAcknowledgementNamesTheRequest() {
        let kernel = FakeKernel { _ in [.error(95, message: "Unknown device type")] }
        let connection = NetlinkConnection(transport: kernel)
        #expect {
            try connection.request(RouteNetlink.newLink(name: "wg0", kind: "wireguard"), operation: "RTM_NEWLINK", object: "wg0")
        } throws: { error in
            guard let error = error as? SystemCallError else { return false }
            return error == SystemCallError("netlink RTM_NEWLINK", "wg0", errno: 95, detail: "Unknown device type")
                && error.description == "netlink RTM_NEWLINK wg0: Operation not supported (EOPNOTSUPP): Unknown device type"
        }
    }

    @Test func errorWithoutText() {
        let kernel = FakeKernel { _ in [.error(1)] }
        let connection = NetlinkConnection(transport: kernel)
        #expect(throws: SystemCallError("netlink RTM_NEWLINK", "wg0", errno: 1)) {
            try connection.request(RouteNetlink.setMTU(index: 3, mtu: 1420), operation: "RTM_NEWLINK", object: "wg0")
        }
        #expect(SystemCallError("netlink RTM_NEWLINK", "wg0", errno: 1).description == "netlink RTM_NEWLINK wg0: Operation not permitted (EPERM)")
    }

    /// The real kernel's uncapped error (the request echoed whole), replayed.
    @Test func kernelErrorBytesReplayed() throws {
        let reply = try Fixture.datagrams("netlink/rtm_newlink_wireguard_reply")[1]
        let kernel = FakeKernel { _ in [.datagram(reply)] }
        let connection = NetlinkConnection(transport: kernel, firstSequence: 1)
        #expect(throws: SystemCallError("netlink RTM_NEWLINK", "wg0", errno: 95, detail: "Unknown device type")) {
            try connection.request(RouteNetlink.newLink(name: "wg0", kind: "wireguard"), operation: "RTM_NEWLINK", object: "wg0")
        }
    }

    @Test func getReplyWithoutAcknowledgement() throws {
        let link = NetlinkMessage(type: RouteMessageType.newLink.rawValue, flags: [], payload: RouteNetlink.interfaceInfo(index: 7))
        let kernel = FakeKernel { _ in [.data(link)] }
        let replies = try NetlinkConnection(transport: kernel).request(RouteNetlink.getLink(name: "wg0"), operation: "RTM_GETLINK")
        #expect(replies.count == 1)
        #expect(try RouteNetlink.decodeLink(replies[0]).index == 7)
    }

    @Test func dataThenAcknowledgement() throws {
        let data = NetlinkMessage(type: 0x20, flags: [], payload: [1, 1, 0, 0])
        let kernel = FakeKernel { _ in [.data(data), .acknowledge] }
        let replies = try NetlinkConnection(transport: kernel).request(
            NetlinkMessage(type: 0x20, flags: [.request, .acknowledge], payload: [1, 1, 0, 0]), operation: "X")
        #expect(replies.map(\.payload) == [[1, 1, 0, 0]])
    }

    @Test(arguments: [1, 2, 3, 7])
    func multipartDumpIsGathered(messagesPerDatagram: Int) throws {
        let parts = (0..<10).map { NetlinkMessage(type: 0x20, flags: [], payload: [0, 1, 0, 0, UInt8($0), 0, 0, 0]) }
        let kernel = FakeKernel(messagesPerDatagram: messagesPerDatagram) { _ in [.dump(parts)] }
        let replies = try NetlinkConnection(transport: kernel).request(
            NetlinkMessage(type: 0x20, flags: [.request, .acknowledge, .dump], payload: [0, 1, 0, 0]), operation: "WG_CMD_GET_DEVICE")
        #expect(replies.map { $0.payload[4] } == Array(0..<10))
        #expect(replies.allSatisfy { $0.flags.contains(.multipart) })
    }

    @Test func dumpFailureInDone() {
        let kernel = FakeKernel { _ in [.dump([], status: 19)] }
        #expect(throws: SystemCallError("netlink WG_CMD_GET_DEVICE", "wg9", errno: 19)) {
            try NetlinkConnection(transport: kernel).request(
                NetlinkMessage(type: 0x20, flags: [.request, .dump], payload: [0, 1, 0, 0]), operation: "WG_CMD_GET_DEVICE", object: "wg9")
        }
    }

    @Test func interruptedDumpIsReported() {
        let kernel = FakeKernel { _ in [.dump([NetlinkMessage(type: 0x20, flags: [], payload: [0, 1, 0, 0])], interrupted: true)] }
        #expect {
            try NetlinkConnection(transport: kernel).request(
                NetlinkMessage(type: 0x20, flags: [.request, .dump], payload: [0, 1, 0, 0]), operation: "WG_CMD_GET_DEVICE")
        } throws: { ($0 as? SystemCallError)?.errno == 4 }  // EINTR
    }

    @Test func staleRepliesAreSkipped() throws {
        let kernel = FakeKernel { _ in [.acknowledge] }
        // An ACK for an older request arrives first.
        kernel.inject(NetlinkAcknowledgement.encode(errno: 1, for: NetlinkMessage(type: 16, flags: [.request], sequence: 41)).encoded())
        try NetlinkConnection(transport: kernel, firstSequence: 42).request(RouteNetlink.setUp(index: 3, true), operation: "RTM_NEWLINK")
    }

    @Test func silenceTimesOutNamingTheRequest() {
        let kernel = FakeKernel { _ in [] }
        #expect(throws: SystemCallError("netlink RTM_NEWLINK", "wg0", errno: 11, detail: "recvfrom")) {
            try NetlinkConnection(transport: kernel).request(RouteNetlink.setUp(index: 3, true), operation: "RTM_NEWLINK", object: "wg0")
        }
    }

    @Test func garbageReplyIsAProtocolError() {
        let kernel = FakeKernel { _ in [.datagram([1, 2, 3])] }
        #expect {
            try NetlinkConnection(transport: kernel).request(RouteNetlink.setUp(index: 3, true), operation: "RTM_NEWLINK", object: "wg0")
        } throws: { ($0 as? SystemCallError)?.errno == 71 }  // EPROTO
    }

    /// The loop nf_tables batches use: messages numbered consecutively over two datagrams, an
    /// error per failed message, and the exchange ended by the answer to the last one.
    @Test func exchangeReportsEveryFailedMessageAndEndsWithTheLast() throws {
        let kernel = FakeKernel { message in
            switch message.sequence {
            case 7: [.error(1, message: "first")]
            case 8: [.error(22)]
            case 9: [.data(NetlinkMessage(type: 0x20, flags: [], payload: [9]))]
            default: []
            }
        }
        let connection = NetlinkConnection(transport: kernel, firstSequence: 6)
        let names = ["A", "B", "C", "D"].map { NetlinkRequestName($0, object: "x", layer: "test") }
        let batch = (0..<3).map { _ in NetlinkMessage(type: 0x20, flags: [.request], payload: [0]) }
        #expect(throws: SystemCallError("test B", "x", errno: 1, detail: "first (1 more message failed)")) {
            try connection.exchange([batch, [NetlinkMessage(type: 0x20, flags: [.request])]], names: names)
        }
        #expect(kernel.requests.map(\.sequence) == [6, 7, 8, 9])

        let quiet = FakeKernel { $0.sequence == 2 ? [.data(NetlinkMessage(type: 0x20, flags: [], payload: [2]))] : [] }
        let replies = try NetlinkConnection(transport: quiet).exchange([[batch[0]], [batch[1]]], names: Array(names.prefix(2)))
        #expect(replies.map(\.payload) == [[2]])
    }
}
