import FuzzSupport
import SystemCalls
import WireGuardModel

// wireguard-go's UAPI responses (UAPI.parseGetResponse, UAPI.checkSetResponse) from any text.
// Properties: a parsed device, written back the way wireguard-go writes a `get=1` response,
// parses to the same device; errors never quote the value of a private_key or preshared_key
// line (a truncated response must not print most of a key).

runFuzzer(fuzzUAPI)

func fuzzUAPI(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    do {
        let device = try UAPI.parseGetResponse(text, interfaceName: "wg0")
        let written = getResponse(device)
        do {
            let again = try UAPI.parseGetResponse(written, interfaceName: "wg0")
            require(again == device, "get round trip differs:\n\(written)")
        } catch {
            require(false, "a parsed device written back does not parse: \(error)\n\(written)")
        }
    } catch {
        checkNoSecretShown(error.description, in: text)
    }
    do {
        try UAPI.checkSetResponse(text, interfaceName: "wg0")
    } catch {
        checkNoSecretShown(error.description, in: text)
    }
}

/// Fails when `message` shows 16 or more characters of a private or preshared key line's value
/// (unless that text is also part of another line, which the message may quote).
func checkNoSecretShown(_ message: String, in text: String) {
    let lines = text.split(separator: "\n")
    let isSecret = { (line: Substring) in line.hasPrefix("private_key=") || line.hasPrefix("preshared_key=") }
    let others = lines.filter { !isSecret($0) }
    for line in lines where isSecret(line) {
        let value = line[line.index(after: line.firstIndex(of: "=")!)...]
        guard value.utf8.count >= 16, !others.contains(where: { $0.contains(value) }) else { continue }
        require(!message.contains(value), "error shows a secret key line's value: \(message.debugDescription)")
    }
}

/// A `get=1` response as wireguard-go writes it (device/uapi.go: IpcGetOperation).
func getResponse(_ device: WireGuardDevice) -> String {
    var lines: [String] = []
    if let key = device.privateKey { lines.append("private_key=\(key.hex)") }
    if device.listenPort != 0 { lines.append("listen_port=\(device.listenPort)") }
    if device.fwmark != 0 { lines.append("fwmark=\(device.fwmark)") }
    for peer in device.peers {
        lines.append("public_key=\(peer.publicKey.hex)")
        lines.append("preshared_key=\((peer.presharedKey ?? WireGuardKey(bytes: [UInt8](repeating: 0, count: 32))!).hex)")
        lines.append("protocol_version=1")
        if let endpoint = peer.endpoint { lines.append("endpoint=\(endpoint)") }
        lines.append("last_handshake_time_sec=\(peer.latestHandshake ?? 0)")
        lines.append("last_handshake_time_nsec=0")
        lines.append("tx_bytes=\(peer.txBytes)")
        lines.append("rx_bytes=\(peer.rxBytes)")
        lines.append("persistent_keepalive_interval=\(peer.persistentKeepalive)")
        for network in peer.allowedIPs { lines.append("allowed_ip=\(network)") }
    }
    lines.append("errno=0")
    return lines.joined(separator: "\n") + "\n\n"
}
