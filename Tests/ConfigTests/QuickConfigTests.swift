@testable import Config
import Testing
import WireGuardModel

/// Random valid wg-quick configurations.
extension SplitMix64 {
    mutating func randomKey() -> WireGuardKey {
        var bytes = bytes(32)
        bytes[0] |= 1  // never the all-zero key
        return WireGuardKey(bytes: bytes)!
    }

    mutating func network() -> IPNetwork {
        let address: IPAddress = chance(0.5) ? .v4(bytes(4)) : .v6(bytes(16))
        return IPNetwork(address: address, prefixLength: Int.random(in: 0...address.bitWidth, using: &self))
    }

    mutating func networks(_ range: ClosedRange<Int>) -> [IPNetwork] {
        var result: [IPNetwork] = []
        for _ in 0..<Int.random(in: range, using: &self) {
            let network = network()
            if !result.contains(network) { result.append(network) }
        }
        return result
    }

    mutating func hostName() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let inner = Array("abcdefghijklmnopqrstuvwxyz0123456789-_")
        return (0..<Int.random(in: 1...3, using: &self)).map { _ in
            String(pick(letters)) + String((0..<Int.random(in: 0...6, using: &self)).map { _ in pick(inner) }) + String(pick(letters))
        }.joined(separator: ".")
    }

    mutating func endpoint() -> Endpoint {
        let port = UInt16.random(in: 1...65535, using: &self)
        switch Int.random(in: 0..<3, using: &self) {
        case 0: return Endpoint(host: .address(.v4(bytes(4))), port: port)
        case 1: return Endpoint(host: .address(.v6(bytes(16))), port: port)
        default: return Endpoint(host: .name(hostName()), port: port)
        }
    }

    mutating func quickConfig() -> WireGuardQuickConfig {
        let addresses = networks(0...3)
        let minimumMTU = addresses.contains { $0.address.isV6 } ? 1280 : 576
        let interface = WireGuardQuickConfig.Interface(
            privateKey: randomKey(), addresses: addresses,
            listenPort: chance(0.8) ? UInt16.random(in: 0...65535, using: &self) : nil,
            mtu: chance(0.5) ? Int.random(in: minimumMTU...65535, using: &self) : nil,
            fwmark: chance(0.3) ? UInt32.random(in: 1...UInt32.max, using: &self) : nil
        )
        let nameCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abc_.-")
        let peers = (0..<Int.random(in: 0...5, using: &self)).map { _ in
            WireGuardQuickConfig.Peer(
                name: chance(0.5) ? String((0..<Int.random(in: 1...12, using: &self)).map { _ in pick(nameCharacters) }) : nil,
                publicKey: randomKey(), presharedKey: chance(0.3) ? randomKey() : nil, allowedIPs: networks(0...4),
                endpoint: chance(0.6) ? endpoint() : nil,
                persistentKeepalive: chance(0.4) ? UInt16.random(in: 1...65535, using: &self) : nil
            )
        }
        return WireGuardQuickConfig(interface: interface, peers: peers)
    }
}

@Suite struct QuickConfigTests {
    let sample = WireGuardQuickConfig(
        interface: .init(privateKey: key(9), addresses: [try! IPNetwork(parsing: "10.0.0.1/24"), try! IPNetwork(parsing: "fd00::1/64")],
                         listenPort: 51820, mtu: 1380, fwmark: 0x1f),
        peers: [.init(name: "B", publicKey: key(2), presharedKey: key(5), allowedIPs: [try! IPNetwork(parsing: "10.0.0.2/32")],
                      endpoint: try! Endpoint(parsing: "node-b:51820"), persistentKeepalive: 25)]
    )

    @Test func rendersTheWgQuickFormat() {
        #expect(sample.render() == """
            [Interface]
            Address = 10.0.0.1/24, fd00::1/64
            ListenPort = 51820
            MTU = 1380
            FwMark = 0x1f
            PrivateKey = \(key(9).base64)

            [Peer]
            # Name = B
            PublicKey = \(key(2).base64)
            PresharedKey = \(key(5).base64)
            AllowedIPs = 10.0.0.2/32
            Endpoint = node-b:51820
            PersistentKeepalive = 25

            """)
    }

    @Test func descriptionRedactsSecrets() {
        for text in [String(describing: sample), String(reflecting: sample), "\(sample.interface)", "\(sample.peers[0])"] {
            #expect(!text.contains(key(9).base64) && !text.contains(key(5).base64))
        }
        #expect("\(sample.peers[0])".contains(key(2).base64))
    }

    @Test func renderThenParseIsIdentity() throws {
        var random = SplitMix64(seed: 0x5eed_c0f1_9000)
        for index in 0..<600 {
            let config = random.quickConfig()
            let text = config.render()
            let parsed = try WireGuardQuickConfig.parse(text, file: "case\(index).conf")
            #expect(parsed == config, "case \(index):\n\(text)")
            if parsed != config { break }
        }
    }

    @Test func parsesWhatPeopleWrite() throws {
        let text = """
            # a hand-written file\r
            [interface]
            address=10.0.0.1/24
              ADDRESS = fd00::1/64 , 10.0.1.1/24   # trailing comment
            privatekey =    \(key(9).base64)
            listenport = 0
            fwmark = off

            [PEER]
            PublicKey = \(key(2).base64)
            AllowedIPs = 10.0.0.2/32
            allowedips = 10.0.2.0/24
            PersistentKeepalive = off
            """
        let config = try WireGuardQuickConfig.parse(text, file: "wg0.conf")
        #expect(config.interface.addresses.map(\.description) == ["10.0.0.1/24", "fd00::1/64", "10.0.1.1/24"])
        #expect(config.interface.listenPort == 0 && config.interface.fwmark == nil)
        #expect(config.peers.map(\.allowedIPs.count) == [2] && config.peers[0].persistentKeepalive == nil)
    }

    @Test func errorsCarryFileAndLine() {
        let text = """
            ListenPort = 1
            [Interface]
            PrivateKey = \(key(9).base64)
            DNS = 1.1.1.1
            PostUp = iptables -A FORWARD -j ACCEPT
            Colour = blue
            MTU = 99999
            ListenPort = 51820
            ListenPort = 51821
            PublicKey = \(key(2).base64)
            just words
            [Peer]
            PublicKey = \(String(key(2).base64.dropLast(3)))=
            Endpoint = node-b
            [Peer]
            AllowedIPs = 10.0.0.3/32
            [Peer]
            PublicKey = \(key(4).base64)
            [Peer]
            PublicKey = \(key(4).base64)
            [Tunnel]
            """
        do {
            _ = try WireGuardQuickConfig.parse(text, file: "/data/wg0.conf")
            Issue.record("parsed a broken file")
        } catch {
            #expect(error.problems.map(\.line) == [1, 4, 5, 6, 7, 9, 10, 11, 13, 14, 15, 20, 21])
            let lines = error.description.split(separator: "\n").map(String.init)
            #expect(lines.contains("/data/wg0.conf:4: DNS: is a wg-quick setting that vpn-init does not support"))
            #expect(lines.contains("/data/wg0.conf:7: MTU: MTU \"99999\" is out of range 576-65535"))
            #expect(lines.contains("/data/wg0.conf:9: ListenPort: is set twice in this section (first on line 8)"))
            #expect(lines.contains("/data/wg0.conf:13: PublicKey: is not a valid base64 key (44 characters ending in \"=\", as wg genkey prints; value not shown)"))
            #expect(lines.contains("/data/wg0.conf:14: Endpoint: missing port in \"node-b\""))
            #expect(lines.contains("/data/wg0.conf:15: [Peer] section has no PublicKey"))
            #expect(lines.contains("/data/wg0.conf:20: PublicKey: the same key as the peer on line 17"))
            #expect(!error.description.contains(key(9).base64) && !error.description.contains(key(2).base64.prefix(20)))
        }
    }

    @Test func missingPrivateKeyAndInterface() {
        #expect(throws: ConfigFileErrors.self) { try WireGuardQuickConfig.parse("[Peer]\nPublicKey = \(key(2).base64)\n", file: "a.conf") }
        do {
            _ = try WireGuardQuickConfig.parse("\n[Interface]\nListenPort = 5\n", file: "a.conf")
        } catch {
            #expect(error.description == "a.conf:2: [Interface] section has no PrivateKey")
        }
        do {
            _ = try WireGuardQuickConfig.parse("[Interface]\nAddress = fd00::1/64\nMTU = 1000\nPrivateKey = \(key(9).base64)", file: "a.conf")
        } catch {
            #expect(error.description == "a.conf:3: MTU: MTU 1000 is below 1280, the minimum with an IPv6 address")
        }
    }

    @Test func hostileLinesGiveCleanErrors() {
        for junk in ["PrivateKey = \u{1b}[31m", String(repeating: "A", count: 1 << 20), "Endpoint = \u{0}:1", "\u{202e}= x", "[Peer"] {
            do {
                _ = try WireGuardQuickConfig.parse("[Interface]\nPrivateKey = \(key(9).base64)\n" + junk, file: "x.conf")
                Issue.record("parsed \(junk.prefix(20))")
            } catch {
                #expect(error.problems.first?.line == 3)
                #expect(!error.description.contains("\u{1b}") && error.description.utf8.count < 400)
            }
        }
    }

    @Test func quickConfigFromEnvironment() throws {
        let env = environment([
            "WG_PEER_B_PUBLIC_KEY": Keys.peerB, "WG_PEER_B_ALLOWED_IPS": "10.0.0.2/32", "WG_PEER_B_ENDPOINT": "node-b:51820",
            "WG_PEER_C_PUBLIC_KEY": Keys.peerA, "WG_PEER_C_ALLOWED_IPS": "10.0.0.3/32", "WG_PEER_C_TCP_ENDPOINT": "gw:443",
        ])
        let config = try VPNConfig.parse(environment: env)
        let local = try Endpoint(parsing: "127.0.0.1:40000")
        let quick = config.quickConfig(privateKey: key(9), peerKeys: [(key(2), nil), (key(1), key(5))], tcpPeerEndpoints: [1: local])
        // Peer B is reached over UDP: 1420, though C rides TCP.
        #expect(quick.interface.mtu == 1420 && quick.interface.listenPort == 51820)
        #expect(quick.peers.map(\.endpoint) == [try Endpoint(parsing: "node-b:51820"), local])
        #expect(try WireGuardQuickConfig.parse(quick.render(), file: "wg0.conf") == quick)
    }
}
