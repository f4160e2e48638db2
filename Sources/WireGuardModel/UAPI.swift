#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemCalls

/// wireguard-go's cross-platform userspace protocol ("UAPI", wireguard.com/xplatform): text
/// `key=value` lines over the unix socket `/var/run/wireguard/IFNAME.sock`, a request and a
/// response each ended by an empty line, keys in hex, and `errno=N` closing every response.
public enum UAPI {
    /// The request that reads the device.
    public static let getRequest = "get=1\n\n"

    /// The `set=1` request applying `config` (nil fields are left out, so stay unchanged).
    public static func setRequest(_ config: WireGuardDeviceConfig) -> String {
        var lines = ["set=1"]
        if let key = config.privateKey { lines.append("private_key=\(key.hex)") }
        if let port = config.listenPort { lines.append("listen_port=\(port)") }
        if let mark = config.fwmark { lines.append("fwmark=\(mark)") }
        if config.replacePeers { lines.append("replace_peers=true") }
        for peer in config.peers {
            lines.append("public_key=\(peer.publicKey.hex)")
            if peer.remove { lines.append("remove=true") }
            if peer.updateOnly { lines.append("update_only=true") }
            if let key = peer.presharedKey { lines.append("preshared_key=\(key.hex)") }
            if let endpoint = peer.endpoint { lines.append("endpoint=\(endpoint)") }
            if let seconds = peer.persistentKeepalive { lines.append("persistent_keepalive_interval=\(seconds)") }
            if peer.replaceAllowedIPs { lines.append("replace_allowed_ips=true") }
            for network in peer.allowedIPs { lines.append("allowed_ip=\(network)") }
        }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// Checks a `set=1` response: `errno=0` is success; another value throws naming that errno
    /// (wireguard-go sends it positive, some implementations negative).
    public static func checkSetResponse(_ text: String, interfaceName: String) throws(SystemCallError) {
        var sawErrno = false
        for (number, line) in lines(text) {
            let (key, value) = try split(line, number, "uapi set", interfaceName)
            guard key == "errno" else { continue }
            try check(errno: value, number, "uapi set", interfaceName)
            sawErrno = true
        }
        if !sawErrno { throw SystemCallError("uapi set", interfaceName, errno: EPROTO, detail: "response has no errno line") }
    }

    /// Parses a `get=1` response into a device. The public key is derived from the private key
    /// (the protocol does not send it).
    public static func parseGetResponse(_ text: String, interfaceName: String) throws(SystemCallError) -> WireGuardDevice {
        let call = "uapi get"
        var device = WireGuardDevice(interfaceName: interfaceName)
        var peer: WireGuardPeerStatus?
        var handshakeSeconds: Int64 = 0
        var sawErrno = false
        func finishPeer() {
            guard var done = peer else { return }
            done.latestHandshake = handshakeSeconds == 0 ? nil : handshakeSeconds
            device.peers.append(done)
            peer = nil
            handshakeSeconds = 0
        }
        for (number, line) in lines(text) {
            let (key, value) = try split(line, number, call, interfaceName)
            func bad(_ what: String) -> SystemCallError {
                // A private or preshared key line is never quoted, even when it does not parse.
                let shown = key == "private_key" || key == "preshared_key" ? "(value not shown)" : "\"\(value)\""
                return SystemCallError(call, interfaceName, errno: EPROTO, detail: "line \(number): \(what) \(shown)")
            }
            if key == "errno" {
                try check(errno: value, number, call, interfaceName)
                sawErrno = true
                continue
            }
            if key == "public_key" {
                finishPeer()
                guard let publicKey = WireGuardKey(hex: value) else { throw bad("bad public_key") }
                peer = WireGuardPeerStatus(publicKey: publicKey)
                continue
            }
            if peer == nil {
                switch key {
                case "private_key":
                    guard let privateKey = WireGuardKey(hex: value) else { throw bad("bad private_key") }
                    device.privateKey = privateKey.isZero ? nil : privateKey
                    device.publicKey = privateKey.isZero ? nil : privateKey.publicKey()
                case "listen_port":
                    guard let port = UInt16(value) else { throw bad("bad listen_port") }
                    device.listenPort = port
                case "fwmark":
                    guard let mark = UInt32(value) else { throw bad("bad fwmark") }
                    device.fwmark = mark
                default: break  // keys added by later versions
                }
                continue
            }
            switch key {
            case "preshared_key":
                guard let key = WireGuardKey(hex: value) else { throw bad("bad preshared_key") }
                peer!.presharedKey = key.isZero ? nil : key
            case "endpoint":
                guard let endpoint = try? Endpoint(parsing: value), case .address = endpoint.host else { throw bad("bad endpoint") }
                peer!.endpoint = endpoint
            case "allowed_ip":
                guard let network = try? IPNetwork(parsing: value), value.contains("/") else { throw bad("bad allowed_ip") }
                peer!.allowedIPs.append(network)
            case "last_handshake_time_sec":
                guard let seconds = Int64(value) else { throw bad("bad last_handshake_time_sec") }
                handshakeSeconds = seconds
            case "rx_bytes":
                guard let bytes = UInt64(value) else { throw bad("bad rx_bytes") }
                peer!.rxBytes = bytes
            case "tx_bytes":
                guard let bytes = UInt64(value) else { throw bad("bad tx_bytes") }
                peer!.txBytes = bytes
            case "persistent_keepalive_interval":
                guard let seconds = UInt16(value) else { throw bad("bad persistent_keepalive_interval") }
                peer!.persistentKeepalive = seconds
            default: break  // last_handshake_time_nsec, protocol_version, later additions
            }
        }
        finishPeer()
        if !sawErrno { throw SystemCallError(call, interfaceName, errno: EPROTO, detail: "response has no errno line") }
        return device
    }

    /// The response's non-empty lines with their 1-based numbers.
    private static func lines(_ text: String) -> [(Int, Substring)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.isEmpty }.map { ($0.offset + 1, $0.element) }
    }

    private static func split(_ line: Substring, _ number: Int, _ call: String,
                              _ interfaceName: String) throws(SystemCallError) -> (Substring, Substring) {
        guard let equals = line.firstIndex(of: "=") else {
            throw SystemCallError(call, interfaceName, errno: EPROTO, detail: "line \(number): \"\(line)\" is not key=value")
        }
        return (line[..<equals], line[line.index(after: equals)...])
    }

    private static func check(errno value: Substring, _ number: Int, _ call: String,
                              _ interfaceName: String) throws(SystemCallError) {
        guard let code = Int32(value) else {
            throw SystemCallError(call, interfaceName, errno: EPROTO, detail: "line \(number): bad errno \"\(value)\"")
        }
        if code != 0 { throw SystemCallError(call, interfaceName, errno: code < 0 ? 0 &- code : code) }
    }
}
