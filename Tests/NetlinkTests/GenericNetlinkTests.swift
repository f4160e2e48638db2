import Netlink
import NetlinkTestSupport
import Testing

/// Generic netlink against `wg` and a kernel with WireGuard (fixtures captured in a VM,
/// Tests/Fixtures/wireguard/capture-vm.sh).
@Suite struct GenericNetlinkTests {
    @Test func getFamilyMatchesWireGuardTools() throws {
        var request = GenericNetlink.getFamilyRequest(name: "wireguard")
        request.sequence = 1
        #expect(request.encoded() == (try Fixture.bytes("wireguard/genl_ctrl_getfamily_wireguard")))
    }

    @Test func familyReplyFromTheKernel() throws {
        let datagrams = try Fixture.datagrams("wireguard/genl_ctrl_getfamily_wireguard_reply")
        let reply = try NetlinkMessage.decode(datagram: datagrams[0])[0]
        #expect(try GenericNetlink.command(of: reply) == ControllerCommand.newFamily.rawValue)
        let family = try GenericNetlink.decodeFamily(reply)
        #expect(family.name == "wireguard")
        #expect(family.version == 1)
        // The id the kernel gave is the type of wg's following SET request.
        let set = try NetlinkMessage.decode(datagram: try Fixture.datagrams("wireguard/wg_set_device")[1])[0]
        #expect(family.id == set.type)
    }

    @Test func familyReplyRoundTrips() throws {
        let family = GenericNetlinkFamily(id: 0x1f, name: "wireguard", version: 1)
        #expect(try GenericNetlink.decodeFamily(GenericNetlink.familyReply(family, sequence: 3)) == family)
    }

    @Test func familyReplyWithoutIDIsAnError() {
        let reply = GenericNetlink.message(family: GenericNetlink.controllerFamily, command: 1, version: 2, flags: [], attributes: [])
        #expect(throws: NetlinkDecodeError("CTRL_CMD_NEWFAMILY reply has no CTRL_ATTR_FAMILY_ID")) {
            try GenericNetlink.decodeFamily(reply)
        }
    }
}
