import Netlink
import NetlinkTestSupport
import Testing

/// The requests `RouteNetlink` builds are byte for byte what iproute2's `ip` sends (captured
/// with strace, Tests/Fixtures/netlink/capture.sh). In the capture namespace the veth `d0` has
/// ifindex 3; fixtures have their sequence number set to 1.
@Suite struct RouteNetlinkFixtureTests {
    static let cases: [(String, NetlinkMessage)] = [
        ("rtm_newlink_wireguard", RouteNetlink.newLink(name: "wg0", kind: "wireguard")),
        ("rtm_getlink", RouteNetlink.getLink(name: "d0")),
        ("rtm_setlink_mtu", RouteNetlink.setMTU(index: 3, mtu: 1420)),
        ("rtm_setlink_up", RouteNetlink.setUp(index: 3, true)),
        ("rtm_newaddr_v4", RouteNetlink.newAddress(index: 3, family: RouteNetlink.familyIPv4, address: [10, 0, 0, 1],
                                                   prefixLength: 24, replace: false)),
        ("rtm_newaddr_v4_replace", RouteNetlink.newAddress(index: 3, family: RouteNetlink.familyIPv4, address: [10, 0, 0, 1],
                                                           prefixLength: 24, replace: true)),
        ("rtm_newaddr_v6", RouteNetlink.newAddress(index: 3, family: RouteNetlink.familyIPv6,
                                                   address: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                                                   prefixLength: 64, replace: false)),
        ("rtm_newroute_v4", RouteNetlink.newRoute(index: 3, family: RouteNetlink.familyIPv4, destination: [10, 1, 0, 0],
                                                  prefixLength: 16, replace: false)),
        ("rtm_newroute_v6_replace", RouteNetlink.newRoute(index: 3, family: RouteNetlink.familyIPv6,
                                                          destination: [0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                                                          prefixLength: 48, replace: true)),
        ("rtm_dellink", RouteNetlink.deleteLink(index: 3)),
    ]

    @Test(arguments: cases)
    func requestMatchesIproute2(name: String, message: NetlinkMessage) throws {
        var message = message
        message.sequence = 1
        let expected = try Fixture.bytes("netlink/\(name)")
        #expect(message.encoded() == expected, "\(name): \(hex(message.encoded())) != \(hex(expected))")
        // And the fixture decodes back to the same message.
        #expect(try NetlinkMessage.decode(datagram: expected) == [message])
    }

    @Test func fixtureHeadsNameTheCommand() throws {
        #expect(try Fixture.comments("netlink/rtm_newlink_wireguard").first == "ip link add wg0 type wireguard")
    }

    /// `ip addr replace` first looks the link up: the kernel's RTM_NEWLINK answer decodes.
    @Test func linkFromTheKernel() throws {
        let datagrams = try Fixture.datagrams("netlink/rtm_newaddr_v4_replace_reply")
        let link = try RouteNetlink.decodeLink(try NetlinkMessage.decode(datagram: datagrams[0])[0])
        #expect(link.index == 3)
        #expect(link.name == "d0")
        #expect(link.mtu == 1420)
        #expect(link.kind == "veth")
        #expect(link.isUp)
    }

    @Test func decodeLinkRejectsOtherMessages() {
        #expect(throws: NetlinkDecodeError.self) {
            try RouteNetlink.decodeLink(NetlinkMessage(type: RouteMessageType.newRoute.rawValue, flags: [], payload: [UInt8](repeating: 0, count: 16)))
        }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: " ")
}
