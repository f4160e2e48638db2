import Netlink
import NetlinkTestSupport
import Testing
import WireGuard
import WireGuardModel

/// WireGuard generic netlink against wireguard-tools' `wg` and a kernel with WireGuard
/// (Debian's 6.1 kernel in a VM: Tests/Fixtures/wireguard/capture-vm.sh). The test keys are
/// the ones in that script.
@Suite struct DeviceNetlinkFixtureTests {
    static let keyA = WireGuardKey(base64: "8PjE2CtESbxf7od0hDwZp3YBywA4kzVmRERMPoRUFH4=")!
    static let keyC = WireGuardKey(base64: "yDsjUSUuDfUzrj3BN3+pEGWwLAn/W2kktFOdsmjX53Y=")!
    static let publicA = WireGuardKey(base64: "AqiQXiXIZSVHvQ0x2GuJ3HzIMcRS5yzMtV7OuHfTLH4=")!
    static let publicB = WireGuardKey(base64: "iO2ja47NyA7xIBpFsmOs8TCXuInZ/hU8gKSXRCru3EI=")!
    static let publicD = WireGuardKey(base64: "9V3fB75qvCVGrRXHTSy2c+nR9xa8YOA7pSipT0wytzM=")!
    static let publicE = WireGuardKey(base64: "NjYL3B8by+3DhmfHeYJutb+ZqFKAC9VuuDFdKzHfdys=")!
    static let preshared = WireGuardKey(base64: "vVvuWCKtmfIWPmTIwsB2DQVD+/ejayzALAr3U2g8tDM=")!

    /// The family id the VM's kernel gave WireGuard (the type of wg's messages).
    static func familyID(_ fixture: String) throws -> UInt16 {
        try NetlinkMessage.decode(datagram: try Fixture.datagrams(fixture)[1])[0].type
    }

    /// `wg set wga private-key ... peer B ... peer D ... peer E remove`.
    static let setConfig = WireGuardDeviceConfig(
        interfaceName: "wga", privateKey: keyA, listenPort: 51820, fwmark: 0x1234,
        peers: [
            WireGuardPeerConfig(publicKey: publicB, presharedKey: preshared, endpoint: try! Endpoint(parsing: "192.0.2.2:51821"),
                                persistentKeepalive: 25, replaceAllowedIPs: true,
                                allowedIPs: [try! IPNetwork(parsing: "10.9.0.2/32"), try! IPNetwork(parsing: "fd09::2/128")]),
            WireGuardPeerConfig(publicKey: publicD, endpoint: try! Endpoint(parsing: "[fd00::3]:51822"),
                                replaceAllowedIPs: true, allowedIPs: [try! IPNetwork(parsing: "10.9.3.0/24")]),
            WireGuardPeerConfig(publicKey: publicE, remove: true),
        ])

    /// big.conf of capture-vm.sh, as `wg setconf` applies it.
    static let bigConfig = WireGuardDeviceConfig(
        interfaceName: "wgc", privateKey: keyC, listenPort: 51830, fwmark: 0, replacePeers: true,
        peers: [
            WireGuardPeerConfig(publicKey: publicA, endpoint: try! Endpoint(parsing: "192.0.2.9:51820"), replaceAllowedIPs: true,
                                allowedIPs: (0..<300).map { try! IPNetwork(parsing: "10.100.\($0 / 250).\($0 % 250)/32") }),
            WireGuardPeerConfig(publicKey: publicB, persistentKeepalive: 10, replaceAllowedIPs: true,
                                allowedIPs: [try! IPNetwork(parsing: "10.101.0.0/16"), try! IPNetwork(parsing: "fd10::/64")]),
            WireGuardPeerConfig(publicKey: publicD, replaceAllowedIPs: true,
                                allowedIPs: (0..<200).map { try! IPNetwork(parsing: "fd20::\(String($0, radix: 16))/128") }),
        ])

    @Test(arguments: [("wg_set_device", setConfig), ("wg_setconf_split", bigConfig)])
    func setRequestsMatchWireGuardTools(fixture: String, config: WireGuardDeviceConfig) throws {
        let name = "wireguard/\(fixture)"
        let expected = Array(try Fixture.datagrams(name).dropFirst())  // the first is the family lookup
        let requests = try WireGuardNetlink.setDeviceRequests(family: try Self.familyID(name), config: config)
        #expect(requests.count == expected.count)
        for (index, (request, bytes)) in zip(requests, expected).enumerated() {
            var request = request
            request.sequence = 1
            #expect(request.encoded() == bytes, "message \(index + 1) of \(fixture) differs")
        }
        // Reading the captured messages back gives the configuration.
        let messages = try expected.map { try NetlinkMessage.decode(datagram: $0)[0] }
        #expect(try WireGuardDeviceConfig(setRequests: messages) == config)
    }

    @Test func getRequestMatchesWireGuardTools() throws {
        let fixture = "wireguard/wg_get_device_request"
        let expected = try Fixture.bytes(fixture)
        var request = WireGuardNetlink.getDeviceRequest(family: try NetlinkMessage.decode(datagram: expected)[0].type, interfaceName: "wga")
        request.sequence = 1
        #expect(request.encoded() == expected)
    }

    /// The kernel's dump of `wga` (which shook hands with `wgb`) reads as `wg show wga dump`
    /// printed it (the fixture's header).
    @Test func dumpMatchesWgShow() throws {
        let fixture = "wireguard/wg_get_device_replies"
        let replies = try Fixture.datagrams(fixture).dropFirst().flatMap { try NetlinkMessage.decode(datagram: $0) }
        let data = replies.filter { $0.type >= GenericNetlink.controllerFamily }
        #expect(data.count == 1)
        let device = try WireGuardDevice(dump: data)
        let dump = try Fixture.comments(fixture).filter { $0.contains("\t") }
        #expect(dump.count == 3)
        #expect(try WireGuardShowDump.device(dump, interfaceName: "wga") == device)
        #expect(device.peers[0].latestHandshake != nil)
        #expect(device.peers[0].rxBytes > 0)
    }

    /// A dump the kernel split over five messages, peers continuing from one to the next.
    @Test func splitDumpMerges() throws {
        let replies = try Fixture.datagrams("wireguard/wg_get_device_split_replies").dropFirst()
            .flatMap { try NetlinkMessage.decode(datagram: $0) }
        let data = replies.filter { $0.type >= GenericNetlink.controllerFamily }
        #expect(data.count == 5)
        let device = try WireGuardDevice(dump: data)
        #expect(device.interfaceName == "wgc")
        #expect(device.privateKey == Self.keyC)
        #expect(device.publicKey == Self.keyC.publicKey())
        #expect(device.listenPort == 51830)
        #expect(device.peers.map(\.publicKey) == Self.bigConfig.peers.map(\.publicKey))
        #expect(device.peers.map(\.allowedIPs) == Self.bigConfig.peers.map(\.allowedIPs))
        #expect(device.peers.map(\.persistentKeepalive) == [0, 10, 0])
        #expect(device.peers[0].endpoint == (try Endpoint(parsing: "192.0.2.9:51820")))
    }

    @Test func endpointsRoundTripThroughSockaddr() throws {
        for text in ["192.0.2.2:51821", "[fd00::3]:51822", "[::1]:1", "255.255.255.255:65535"] {
            let endpoint = try Endpoint(parsing: text)
            let bytes = try #require(WireGuardNetlink.socketAddress(endpoint))
            #expect(bytes.count == (endpoint.description.hasPrefix("[") ? 28 : 16))
            #expect(WireGuardNetlink.endpoint(socketAddress: bytes) == endpoint)
        }
        #expect(WireGuardNetlink.socketAddress(try Endpoint(parsing: "node-b:51820")) == nil)
        #expect(WireGuardNetlink.endpoint(socketAddress: [1, 0, 0, 0]) == nil)
    }

    @Test func unresolvedEndpointIsRefused() {
        var config = Self.setConfig
        config.peers[0].endpoint = try! Endpoint(parsing: "node-b:51820")
        #expect {
            try WireGuardNetlink.setDeviceRequests(family: 0x1d, config: config)
        } throws: { error in
            (error as? NetlinkEncodeError)?.reason
                == "peer iO2ja47NyA7xIBpFsmOs8TCXuInZ/hU8gKSXRCru3EI= endpoint \"node-b:51820\" is not an IP address; resolve it first"
        }
    }
}

/// Reads `wg show IFACE dump` lines (tab-separated) into a device, to compare with ours.
enum WireGuardShowDump {
    static func device(_ lines: [String], interfaceName: String) throws -> WireGuardDevice {
        let head = lines[0].split(separator: "\t").map(String.init)
        var device = WireGuardDevice(interfaceName: interfaceName, privateKey: WireGuardKey(base64: head[0]),
                                     publicKey: WireGuardKey(base64: head[1]), listenPort: UInt16(head[2])!,
                                     fwmark: head[3] == "off" ? 0 : UInt32(head[3].dropFirst(2), radix: 16)!)
        for line in lines.dropFirst() {
            let field = line.split(separator: "\t").map(String.init)
            device.peers.append(WireGuardPeerStatus(
                publicKey: WireGuardKey(base64: field[0])!,
                presharedKey: field[1] == "(none)" ? nil : WireGuardKey(base64: field[1]),
                endpoint: field[2] == "(none)" ? nil : try Endpoint(parsing: field[2]),
                allowedIPs: field[3] == "(none)" ? [] : try field[3].split(separator: ",").map { try IPNetwork(parsing: $0) },
                latestHandshake: field[4] == "0" ? nil : Int64(field[4]),
                rxBytes: UInt64(field[5])!, txBytes: UInt64(field[6])!,
                persistentKeepalive: field[7] == "off" ? 0 : UInt16(field[7])!))
        }
        return device
    }
}
