import Netlink
import NetlinkTestSupport
import Testing

@Suite struct MessageTests {
    @Test(arguments: [
        (RouteMessageType.newLink, "RTM_NEWLINK"), (.deleteLink, "RTM_DELLINK"), (.getLink, "RTM_GETLINK"),
        (.newAddress, "RTM_NEWADDR"), (.newRoute, "RTM_NEWROUTE"), (RouteMessageType(rawValue: 99), "RTM 99"),
    ])
    func routeMessageNames(type: RouteMessageType, name: String) {
        #expect(type.description == name)
    }

    @Test func controlAndControllerNames() {
        #expect(NetlinkControlType.error.description == "NLMSG_ERROR")
        #expect(NetlinkControlType.done.description == "NLMSG_DONE")
        #expect(ControllerCommand.getFamily.description == "CTRL_CMD_GETFAMILY")
        #expect(NetlinkProtocol.generic.description == "NETLINK_GENERIC")
    }

    @Test func datagramWithSeveralMessagesRoundTrips() throws {
        let first = NetlinkMessage(type: 16, flags: [.request, .acknowledge], sequence: 7, portID: 0, payload: [1, 2, 3])
        let second = NetlinkMessage(type: 3, flags: .multipart, sequence: 7, portID: 99, payload: [0, 0, 0, 0])
        var datagram = [UInt8]()
        first.appendEncoded(to: &datagram)
        second.appendEncoded(to: &datagram)
        #expect(datagram.count == 20 + 20)
        #expect(try NetlinkMessage.decode(datagram: datagram) == [first, second])
    }

    @Test(arguments: [
        ([UInt8](repeating: 0, count: 10), "datagram has 10 bytes left, less than a netlink header"),
        ([40, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "netlink message at offset 0 claims 40 bytes; 16 are left"),
        ([8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "netlink message at offset 0 claims 8 bytes; 16 are left"),
    ] as [([UInt8], String)])
    func malformedDatagrams(bytes: [UInt8], reason: String) {
        #expect(throws: NetlinkDecodeError(reason)) { try NetlinkMessage.decode(datagram: bytes) }
    }

    /// The kernel's answer to `ip link add wg0 type wireguard` without the wireguard module:
    /// EOPNOTSUPP, the whole request echoed, and the extended-ACK text.
    @Test func extendedAcknowledgementFromTheKernel() throws {
        let datagrams = try Fixture.datagrams("netlink/rtm_newlink_wireguard_reply")
        let messages = try NetlinkMessage.decode(datagram: datagrams[1])
        #expect(messages.count == 1)
        #expect(messages[0].flags.contains(.acknowledgementAttributes))
        #expect(!messages[0].flags.contains(.capped))
        let status = try NetlinkAcknowledgement(error: messages[0])
        #expect(status.errno == 95)  // EOPNOTSUPP
        #expect(status.requestType == RouteMessageType.newLink.rawValue)
        #expect(status.requestSequence == 1)
        #expect(status.message == "Unknown device type")
        #expect(!status.isSuccess)
    }

    @Test func cappedAcknowledgementFromTheKernel() throws {
        let datagrams = try Fixture.datagrams("netlink/rtm_newaddr_v4_replace_reply")
        let ack = try NetlinkMessage.decode(datagram: datagrams[1])[0]
        #expect(ack.type == NetlinkControlType.error.rawValue)
        #expect(ack.flags.contains(.capped))
        let status = try NetlinkAcknowledgement(error: ack)
        #expect(status.isSuccess)
        #expect(status.requestType == RouteMessageType.newAddress.rawValue)
        #expect(status.message == nil)
    }

    @Test func errorWithoutExtendedAcknowledgement() throws {
        let datagrams = try Fixture.datagrams("netlink/rtm_dellink_missing_reply")
        let status = try NetlinkAcknowledgement(error: try NetlinkMessage.decode(datagram: datagrams[1])[0])
        #expect(status.errno == 19)  // ENODEV
        #expect(status.requestType == RouteMessageType.getLink.rawValue)
        #expect(status.message == nil)
    }

    @Test func encodedAcknowledgementDecodes() throws {
        let request = RouteNetlink.newLink(name: "wg0", kind: "wireguard")
        let reply = NetlinkAcknowledgement.encode(errno: 1, for: request, message: "no permission")
        let status = try NetlinkAcknowledgement(error: try NetlinkMessage.decode(datagram: reply.encoded())[0])
        #expect(status == NetlinkAcknowledgement(errno: 1, requestType: 16, requestSequence: 0, message: "no permission"))
    }

    @Test func doneCarriesADumpError() throws {
        var payload = [UInt8]()
        payload.appendNative(Int32(-16))
        let done = NetlinkMessage(type: 3, flags: .multipart, sequence: 4, payload: payload)
        #expect(try NetlinkAcknowledgement(done: done).errno == 16)
    }
}
