#if canImport(Glibc)
import Glibc
#endif
import Firewall
import FirewallRules
import Netlink
import NetlinkSocket
import NetlinkTestSupport
import SystemCalls
import Testing

/// Finding the default-route interface: decoding real route dumps, choosing among routes, and
/// the requests against a fake kernel.
@Suite struct DefaultRouteTests {
    static func routes(fromFixture name: String) throws -> [RouteEntry] {
        try Fixture.datagrams("nftables/\(name)")
            .flatMap { try NetlinkMessage.decode(datagram: $0) }
            .filter { $0.type == RouteMessageType.newRoute.rawValue }
            .map { try RouteEntry(decoding: $0) }
    }

    @Test func realIPv4DumpHasConnectedRoutesAndNoDefault() throws {
        let routes = try Self.routes(fromFixture: "rtm_getroute_v4_replies")
        // 192.168.77.0/24 in main, the local and broadcast routes in table local (255).
        #expect(routes.contains { $0.destinationLength == 24 && $0.table == 254 && $0.outputInterfaces.count == 1 })
        #expect(routes.contains { $0.table == 255 })
        #expect(routes.allSatisfy { $0.family == RouteNetlink.familyIPv4 })
        #expect(RouteEntry.defaultInterfaces(of: routes).isEmpty)
    }

    @Test func realIPv6DumpHasConnectedRoutesAndNoDefault() throws {
        let routes = try Self.routes(fromFixture: "rtm_getroute_v6_replies")
        #expect(routes.contains { $0.destinationLength == 64 && $0.table == 254 && $0.priority == 256 })
        #expect(routes.allSatisfy { $0.family == RouteNetlink.familyIPv6 })
        #expect(RouteEntry.defaultInterfaces(of: routes).isEmpty)
    }

    @Test(arguments: [
        ([RouteEntry(family: 2, destinationLength: 0, outputInterfaces: [3])], [3]),
        // The lowest metric wins.
        ([RouteEntry(family: 2, destinationLength: 0, priority: 200, outputInterfaces: [3]),
          RouteEntry(family: 2, destinationLength: 0, priority: 100, outputInterfaces: [5])], [5]),
        // Another table, a blackhole (RTN_BLACKHOLE 6), a non-default route: none count.
        ([RouteEntry(family: 2, destinationLength: 0, table: 100, outputInterfaces: [3]),
          RouteEntry(family: 2, destinationLength: 0, type: 6, outputInterfaces: []),
          RouteEntry(family: 2, destinationLength: 8, outputInterfaces: [4])], []),
        // Multipath: every next hop.
        ([RouteEntry(family: 10, destinationLength: 0, priority: 1024, outputInterfaces: [7, 8])], [7, 8]),
    ] as [([RouteEntry], [Int32])])
    func choosesTheDefaultRoute(_ routes: [RouteEntry], _ expected: [Int32]) throws {
        #expect(RouteEntry.defaultInterfaces(of: routes) == expected)
        // And the same after a trip through the kernel's wire form.
        let decoded = try routes.map { try RouteEntry(decoding: $0.encoded()) }
        #expect(decoded == routes)
    }

    static func linkReply(index: Int32, name: String) -> NetlinkMessage {
        var attributes = AttributeEncoder(header: RouteNetlink.interfaceInfo(index: index, flags: RouteNetlink.interfaceUp))
        attributes.string(RouteNetlink.LinkAttribute.name, name)
        attributes.uint32(RouteNetlink.LinkAttribute.mtu, 1500)
        return NetlinkMessage(type: RouteMessageType.newLink.rawValue, flags: [], payload: attributes.bytes)
    }

    @Test func interfaceNamesDumpsThenLooksUpEachIndex() throws {
        let real = try Self.routes(fromFixture: "rtm_getroute_v4_replies")
        let fake = FakeKernel(messagesPerDatagram: 3) { request in
            switch RouteMessageType(rawValue: request.type) {
            case .getRoute:
                return [.dump(real.map { $0.encoded() } + [
                    RouteEntry(family: 2, destinationLength: 0, priority: 50, outputInterfaces: [9, 4]).encoded(),
                    RouteEntry(family: 2, destinationLength: 0, priority: 600, outputInterfaces: [2]).encoded(),
                ])]
            case .getLink:
                let index = request.payload.loadNative(Int32.self, at: 4)
                return [.data(Self.linkReply(index: index, name: index == 9 ? "eth0" : "lan\(index)"))]
            default:
                return [.error(EINVAL)]
            }
        }
        let names = try DefaultRoutes(connection: NetlinkConnection(transport: fake)).interfaceNames(family: RouteNetlink.familyIPv4)
        #expect(names == ["eth0", "lan4"])
        let dump = try #require(fake.requests.first)
        #expect(dump.flags == [.request, .dump])
        #expect(dump.payload == [2] + [UInt8](repeating: 0, count: 11))
        #expect(fake.requests.dropFirst().map { $0.payload.loadNative(Int32.self, at: 4) } == [9, 4])
    }

    @Test func noDefaultRouteMeansNoInterface() throws {
        let fake = FakeKernel { _ in [.dump([])] }
        #expect(try DefaultRoutes(connection: NetlinkConnection(transport: fake)).interfaceNames(family: RouteNetlink.familyIPv6).isEmpty)
    }

    @Test func missingLinkIsAnError() {
        let fake = FakeKernel { request in
            request.type == RouteMessageType.getRoute.rawValue
                ? [.dump([RouteEntry(family: 2, destinationLength: 0, outputInterfaces: [42]).encoded()])] : [.error(ENODEV)]
        }
        #expect(throws: SystemCallError("netlink RTM_GETLINK", "ifindex 42", errno: ENODEV)) {
            try DefaultRoutes(connection: NetlinkConnection(transport: fake)).interfaceNames(family: RouteNetlink.familyIPv4)
        }
    }
}
