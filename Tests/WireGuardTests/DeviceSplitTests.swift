import Netlink
import NetlinkSocket
import NetlinkTestSupport
import SeededRandom
import SystemCalls
import Testing
import WireGuard
import WireGuardModel

/// Random configurations: seeded, so a failure repeats.
enum RandomConfig {
    static func key(_ generator: inout SeededGenerator) -> WireGuardKey {
        WireGuardKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }

    /// A network no other call returns: its address encodes `serial`.
    static func network(_ serial: Int, _ generator: inout SeededGenerator) -> IPNetwork {
        if Bool.random(using: &generator) {
            let address = IPAddress.v4([10, UInt8(serial >> 16 & 0xff), UInt8(serial >> 8 & 0xff), UInt8(serial & 0xff)])
            return IPNetwork(address: address, prefixLength: 32)
        }
        var bytes: [UInt8] = [0xfd, 0x42] + [UInt8](repeating: 0, count: 14)
        bytes[4] = UInt8(serial >> 16 & 0xff)
        bytes[5] = UInt8(serial >> 8 & 0xff)
        bytes[6] = UInt8(serial & 0xff)
        return IPNetwork(address: .v6(bytes), prefixLength: 64)
    }

    static func endpoint(_ generator: inout SeededGenerator) -> Endpoint {
        let port = UInt16.random(in: 1...65535, using: &generator)
        if Bool.random(using: &generator) {
            return Endpoint(host: .address(.v4((0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) })), port: port)
        }
        return Endpoint(host: .address(.v6((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })), port: port)
    }

    /// 1...maxPeers peers with 0...maxAllowedIPs distinct allowed IPs each.
    static func config(_ generator: inout SeededGenerator, maxPeers: Int = 300, maxAllowedIPs: Int = 500) -> WireGuardDeviceConfig {
        var serial = 0
        let peers = (0..<Int.random(in: 1...maxPeers, using: &generator)).map { _ in
            WireGuardPeerConfig(
                publicKey: key(&generator),
                presharedKey: Bool.random(using: &generator) ? key(&generator) : nil,
                endpoint: Bool.random(using: &generator) ? endpoint(&generator) : nil,
                persistentKeepalive: Bool.random(using: &generator) ? UInt16.random(in: 0...600, using: &generator) : nil,
                replaceAllowedIPs: true,
                allowedIPs: (0..<Int.random(in: 0...maxAllowedIPs, using: &generator)).map { _ in
                    serial += 1
                    return network(serial, &generator)
                })
        }
        return WireGuardDeviceConfig(interfaceName: "wg0", privateKey: key(&generator), listenPort: UInt16.random(in: 1...65535, using: &generator),
                                     fwmark: Bool.random(using: &generator) ? UInt32.random(in: 0...0xffff, using: &generator) : nil,
                                     replacePeers: true, peers: peers)
    }
}

@Suite struct DeviceSplitTests {
    /// encode -> split -> decode and merge gives the configuration back; every message fits,
    /// device settings and REPLACE_PEERS are only in the first, and a peer continuing in a later
    /// message carries no REPLACE_ALLOWEDIPS.
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func splitKeepsEveryPeerAndAllowedIP(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let config = RandomConfig.config(&generator)
        let limit = [4096, 1024, 8192, 65536][Int(seed) % 4]
        let requests = try WireGuardNetlink.setDeviceRequests(family: 0x1d, config: config, limit: limit)
        try checkSplit(requests, limit: limit)
        #expect(try WireGuardDeviceConfig(setRequests: requests) == config)
    }

    @Test func largestConfigurationSplits() throws {
        var generator = SeededGenerator(seed: 300)
        var config = RandomConfig.config(&generator, maxPeers: 1, maxAllowedIPs: 1)
        var serial = 0
        config.peers = (0..<300).map { _ in
            WireGuardPeerConfig(publicKey: RandomConfig.key(&generator), replaceAllowedIPs: true, allowedIPs: (0..<500).map { _ in
                serial += 1
                return RandomConfig.network(serial, &generator)
            })
        }
        let requests = try WireGuardNetlink.setDeviceRequests(family: 0x1d, config: config)
        try checkSplit(requests, limit: WireGuardNetlink.defaultMessageLimit)
        #expect(requests.count > 1000)
        #expect(try WireGuardDeviceConfig(setRequests: requests) == config)
    }

    @Test func noPeersIsOneMessage() throws {
        let config = WireGuardDeviceConfig(interfaceName: "wg0", listenPort: 51820, replacePeers: true)
        let requests = try WireGuardNetlink.setDeviceRequests(family: 0x1d, config: config)
        #expect(requests.count == 1)
        #expect(try WireGuardDeviceConfig(setRequests: requests) == config)
    }

    @Test func pieceLargerThanAMessageIsAnError() {
        let config = WireGuardDeviceConfig(interfaceName: "wg0", peers: [
            WireGuardPeerConfig(publicKey: WireGuardKey(bytes: [UInt8](repeating: 1, count: 32))!, allowedIPs: [try! IPNetwork(parsing: "10.0.0.0/8")]),
        ])
        #expect(throws: NetlinkEncodeError("peer 1 does not fit in a 60-byte message")) {
            try WireGuardNetlink.setDeviceRequests(family: 0x1d, config: config, limit: 60)
        }
    }

    /// A device -> the kernel's split dump -> merged back.
    @Test(arguments: [11, 12, 13] as [UInt64])
    func dumpRoundTrips(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let config = RandomConfig.config(&generator, maxPeers: 100, maxAllowedIPs: 200)
        let device = WireGuardDevice(
            interfaceName: "wg0", privateKey: config.privateKey, publicKey: config.privateKey?.publicKey(),
            listenPort: config.listenPort ?? 0, fwmark: config.fwmark ?? 0,
            peers: config.peers.map {
                WireGuardPeerStatus(publicKey: $0.publicKey, presharedKey: $0.presharedKey, endpoint: $0.endpoint, allowedIPs: $0.allowedIPs,
                                    latestHandshake: Bool.random(using: &generator) ? Int64.random(in: 1...2_000_000_000, using: &generator) : nil,
                                    rxBytes: UInt64.random(in: 0...UInt64.max, using: &generator),
                                    txBytes: UInt64.random(in: 0...UInt64.max, using: &generator),
                                    persistentKeepalive: $0.persistentKeepalive ?? 0)
            })
        let replies = try WireGuardNetlink.getDeviceReplies(family: 0x1d, device: device, interfaceIndex: 4, limit: 2048)
        #expect(replies.allSatisfy { $0.length <= 2048 })
        #expect(try WireGuardDevice(dump: replies) == device)
    }

    private func checkSplit(_ requests: [NetlinkMessage], limit: Int) throws {
        var lastPeer: WireGuardKey?
        for (index, request) in requests.enumerated() {
            #expect(request.length <= limit)
            let message = try WireGuardDeviceMessage(decoding: request)
            #expect(message.interfaceName == "wg0")
            if index > 0 {
                #expect(message.privateKey == nil && message.listenPort == nil && message.fwmark == nil && message.flags == 0)
                if let first = message.peers.first, first.publicKey == lastPeer {
                    #expect(first.flags & WireGuardNumbers.replaceAllowedIPsFlag == 0)
                    #expect(first.presharedKey == nil && first.endpoint == nil && first.persistentKeepalive == nil)
                }
            }
            lastPeer = message.peers.last?.publicKey ?? lastPeer
        }
    }
}
