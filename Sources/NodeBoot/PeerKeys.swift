#if canImport(Glibc)
import Glibc
#endif
import Config
import DstackAgent
import SystemCalls
import VPNLog
import WireGuard
import WireGuardModel

/// Loads each peer's public key (inline or from its `PUBLIC_KEY_FILE`) and preshared key.
public enum PeerKeys {
    public typealias Keys = (publicKey: WireGuardKey, presharedKey: WireGuardKey?)

    /// The keys of every peer, in order. A `PUBLIC_KEY_FILE` that does not exist yet is waited
    /// for up to `wait` seconds (the peer may still be writing it to a shared volume), unless
    /// `shouldStop` says boot is being interrupted. A `NODE`'s key is derived through `agent`.
    public static func load(_ peers: [PeerConfig], wait: Double, agent: GuestAgent?, shouldStop: () -> Bool = { false }) throws(BootFailure) -> [Keys] {
        var keys: [Keys] = []
        for peer in peers {
            let publicKey: WireGuardKey
            switch peer.publicKey {
            case .inline(let key):
                publicKey = key
            case .file(let path):
                publicKey = try readKey(path, variable: peer.variable(.publicKeyFile), wait: wait, shouldStop: shouldStop)
            case .node(let node):
                // The configuration check allows NODE only in dstack mode, where boot has an agent.
                guard let agent else { throw BootFailure(exitCode: .configuration, "\(peer.variable(.node)): needs VPN_KEY_SOURCE=dstack") }
                do { publicKey = try DstackKeys.publicKey(node: node, agent: agent) } catch { throw DstackMode.failure(error) }
            }
            let presharedKey = try peer.presharedKeyFile.map { (path) throws(BootFailure) in
                let variable = peer.variable(.presharedKeyFile)
                warnIfReadableByOthers(path, variable: variable)
                return try readKey(path, variable: variable, wait: 0, shouldStop: shouldStop)
            }
            keys.append((publicKey, presharedKey))
        }
        return keys
    }

    /// A preshared key is a secret shared by two nodes: its file is theirs to keep private, so
    /// a mode that lets others read it is reported (and left as it is: the file may be shared).
    static func warnIfReadableByOthers(_ path: String, variable: String) {
        guard let info = try? Files.status(path), info.st_mode & 0o077 != 0 else { return }
        Log.warn("preshared key file is readable by group or others", ("variable", variable), ("path", path),
                 ("mode", "0" + String(info.st_mode & 0o777, radix: 8)))
    }

    /// Reads a base64 key file, polling for it to appear for up to `wait` seconds.
    static func readKey(_ path: String, variable: String, wait: Double, shouldStop: () -> Bool) throws(BootFailure) -> WireGuardKey {
        let deadline = monotonicSeconds() + wait
        var announced = false
        while !Files.exists(path) {
            guard monotonicSeconds() < deadline, !shouldStop() else {
                let waited = wait > 0 ? " (waited \(formatSeconds(wait)) s; WG_PEER_KEY_WAIT sets how long)" : ""
                throw BootFailure(exitCode: wait > 0 ? .failure : .configuration, "\(variable): \(path) does not exist\(waited)")
            }
            if !announced {
                Log.info("waiting for peer key file", ("variable", variable), ("path", path), ("timeout_s", formatSeconds(wait)))
                announced = true
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 100_000_000)
            _ = nanosleep(&pause, nil)
        }
        let bytes: [UInt8]
        do { bytes = try Files.read(path, limit: 4096) } catch { throw BootFailure(exitCode: .configuration, "\(variable): \(error)") }
        guard let key = WireGuardKey(base64: trimmed(bytes)) else {
            throw BootFailure(exitCode: .configuration, "\(variable): \(path) does not hold a WireGuard key (44 base64 characters)")
        }
        return key
    }
}

/// Seconds on the monotonic clock.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// A duration in seconds without a needless `.0`.
func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
