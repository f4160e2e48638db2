#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import Netlink
import NetlinkSocket
import SystemCalls
import WireGuard
import WireGuardModel

// The netlink reply path, from bytes a kernel (or anything else on the socket) could send.
// Input: a mode byte, then datagrams, each a 2-byte little-endian length and its bytes.
// - mode % 4 == 0: every decoder on every message of every datagram (NetlinkMessage.decode,
//   NLMSG_ERROR / NLMSG_DONE with extended ACK, RTM_NEWLINK, CTRL_CMD_NEWFAMILY, WireGuard
//   messages), then the WireGuard dump and SET decoders on all messages together. Properties:
//   decode(encode(decode(d))) == decode(d); a decoded dump re-encodes (getDeviceReplies) to the
//   same device; decoded SET requests re-encode (setDeviceRequests) to the same config.
// - mode % 4 == 1, 2, 3: NetlinkConnection's request loop reading these datagrams as the
//   replies to Links.link(named:), KernelWireGuard.device(), KernelWireGuard.configure(_:).
//   With mode bit 0x80 the sequence numbers are rewritten to the request's, so the fuzzer
//   reaches past the sequence check. Property: each request ends (replies run out: EAGAIN).

runFuzzer(fuzzNetlink)

func fuzzNetlink(_ input: [UInt8]) {
    guard let mode = input.first else { return }
    let datagrams = lengthPrefixedChunks(input.dropFirst())
    switch mode % 4 {
    case 0: decodeEverything(datagrams)
    default: runRequests(datagrams, scenario: mode % 4, renumber: mode & 0x80 != 0)
    }
}

func decodeEverything(_ datagrams: [[UInt8]]) {
    var all: [NetlinkMessage] = []
    for datagram in datagrams {
        guard let messages = try? NetlinkMessage.decode(datagram: datagram) else { continue }
        var reencoded: [UInt8] = []
        for message in messages { message.appendEncoded(to: &reencoded) }
        let again = try? NetlinkMessage.decode(datagram: reencoded)
        require(again == messages, "decode(encode(messages)) differs for datagram \(datagram)")
        for message in messages { decodeOne(message) }
        all += messages
    }
    if let device = try? WireGuardDevice(dump: all) { checkDumpRoundTrip(device) }
    if let config = try? WireGuardDeviceConfig(setRequests: all) { checkSetRoundTrip(config) }
}

func decodeOne(_ message: NetlinkMessage) {
    if let ack = try? NetlinkAcknowledgement(error: message) {
        _ = SystemCallError("netlink fuzz", "wg0", errno: ack.errno, detail: ack.message ?? "").description
    }
    _ = try? NetlinkAcknowledgement(done: message)
    _ = try? RouteNetlink.decodeLink(message)
    _ = try? GenericNetlink.decodeFamily(message)
    if let part = try? WireGuardDeviceMessage(decoding: message) { _ = part.command.description }
}

/// The device seen by `wg show`: a handshake of 0 seconds reads as none either way.
func normalized(_ device: WireGuardDevice) -> WireGuardDevice {
    var device = device
    for index in device.peers.indices where device.peers[index].latestHandshake == 0 {
        device.peers[index].latestHandshake = nil
    }
    return device
}

func checkDumpRoundTrip(_ device: WireGuardDevice) {
    guard let replies = try? WireGuardNetlink.getDeviceReplies(family: 0x20, device: device, interfaceIndex: 3) else { return }
    do {
        let again = try WireGuardDevice(dump: replies)
        require(normalized(again) == normalized(device), "dump round trip: \(again) != \(device)")
    } catch {
        require(false, "getDeviceReplies output does not decode: \(error)")
    }
}

func checkSetRoundTrip(_ config: WireGuardDeviceConfig) {
    guard let requests = try? WireGuardNetlink.setDeviceRequests(family: 0x20, config: config) else { return }
    do {
        let again = try WireGuardDeviceConfig(setRequests: requests)
        require(again == config, "SET round trip differs for \(config.interfaceName.debugDescription) with \(config.peers.count) peers")
    } catch {
        require(false, "setDeviceRequests output does not decode: \(error)")
    }
}

/// Plays the kernel with the fuzzer's datagrams, then `EAGAIN` as a socket's receive timeout.
final class ScriptedTransport: NetlinkTransport {
    var datagrams: ArraySlice<[UInt8]>
    let renumber: Bool
    var lastSequence: UInt32 = 0
    var sends = 0

    init(_ datagrams: [[UInt8]], renumber: Bool) {
        self.datagrams = datagrams[...]
        self.renumber = renumber
    }

    func send(_ datagram: [UInt8]) throws(SystemCallError) {
        sends += 1
        if datagram.count >= 12 { lastSequence = datagram.loadNative(UInt32.self, at: 8) }
    }

    func receive() throws(SystemCallError) -> [UInt8] {
        guard var datagram = datagrams.popFirst() else { throw SystemCallError("recvfrom", "fuzz", errno: EAGAIN) }
        if renumber {
            var offset = 0
            while datagram.count - offset >= NetlinkMessage.headerLength {
                withUnsafeBytes(of: lastSequence) { datagram.replaceSubrange((offset + 8)..<(offset + 12), with: $0) }
                let length = Int(datagram.loadNative(UInt32.self, at: offset))
                guard length >= NetlinkMessage.headerLength else { break }
                offset += netlinkAligned(length)
            }
        }
        return datagram
    }
}

func runRequests(_ datagrams: [[UInt8]], scenario: UInt8, renumber: Bool) {
    let transport = ScriptedTransport(datagrams, renumber: renumber)
    let connection = NetlinkConnection(transport: transport)
    do {
        switch scenario {
        case 1:
            _ = try Links(connection: connection).link(named: "wg0")
        case 2:
            _ = try KernelWireGuard(interfaceName: "wg0", connection: connection).device()
        default:
            let config = WireGuardDeviceConfig(
                interfaceName: "wg0", privateKey: placeholderKey(0), listenPort: 51820, replacePeers: true,
                peers: (1...3).map { WireGuardPeerConfig(publicKey: placeholderKey($0), allowedIPs: [try! IPNetwork(parsing: "10.0.\($0).0/24")]) })
            try KernelWireGuard(interfaceName: "wg0", connection: connection).configure(config)
        }
    } catch {
        _ = String(describing: error)
    }
    // Every request reads at most all datagrams, then stops on EAGAIN: bounded work.
    require(transport.sends <= datagrams.count + 4, "\(transport.sends) requests for \(datagrams.count) datagrams")
}
