#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemCalls
import VPNLog
import WireGuardModel

/// Why the node's key could not be loaded or created.
public enum KeyStoreError: Error, Equatable, CustomStringConvertible {
    /// The key file exists but does not hold a WireGuard key (its content is never shown).
    case corrupt(path: String)
    /// The key file exists but is not a regular file.
    case notRegularFile(path: String)
    /// A system call failed: reading (an unreadable key) or writing (a read-only or full volume).
    case system(SystemCallError, reading: Bool)

    /// A configuration error for a key file that exists but cannot be used, a failure for a
    /// write that failed.
    public var exitCode: ExitCode {
        switch self {
        case .corrupt, .notRegularFile: .configuration
        case .system(_, let reading): reading ? .configuration : .failure
        }
    }

    public var description: String {
        switch self {
        case .corrupt(let path):
            "\(path): not a valid WireGuard key (expected 44 base64 characters); left untouched"
        case .notRegularFile(let path): "\(path): not a regular file"
        case .system(let error, _): "\(error)"
        }
    }
}

/// The node's private key in the data volume: generated on first boot, reused afterwards.
///
/// The key file is 0600 in a 0700 directory (when vpn-init creates it), written atomically, and
/// never overwritten: a corrupt or unreadable key is an error, because replacing it would silently
/// change the node's identity.
public struct KeyStore: Sendable {
    /// The private key file (`WG_PRIVATE_KEY_FILE`, default `$VPN_DATA_DIR/privatekey`).
    public var privateKeyPath: String
    /// Where the public key is kept beside it.
    public var publicKeyPath: String { "\(Files.directory(of: privateKeyPath))/publickey" }

    public init(privateKeyPath: String) {
        self.privateKeyPath = privateKeyPath
    }

    /// Loads the private key, or generates and stores one when none exists yet.
    /// Also (re)writes `publickey` when it is missing or stale.
    public func loadOrCreate() throws(KeyStoreError) -> (key: WireGuardKey, created: Bool) {
        let existing: stat?
        do { existing = try Files.status(privateKeyPath) } catch { throw .system(error, reading: true) }
        let key: WireGuardKey
        let created: Bool
        if let existing {
            key = try load(existing)
            created = false
        } else {
            key = try create()
            created = true
        }
        try storePublicKey(key.publicKey())
        return (key, created)
    }

    private func load(_ info: stat) throws(KeyStoreError) -> WireGuardKey {
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(path: privateKeyPath) }
        let bytes: [UInt8]
        do { bytes = try Files.read(privateKeyPath, limit: 4096) } catch { throw .system(error, reading: true) }
        guard let key = WireGuardKey(base64: trimmed(bytes)) else { throw .corrupt(path: privateKeyPath) }
        if info.st_mode & 0o077 != 0 {
            let mode = String(info.st_mode & 0o777, radix: 8)
            do {
                try Files.setMode(privateKeyPath, 0o600)
                Log.warn("private key file was readable by others; tightened", ("path", privateKeyPath), ("old_mode", "0" + mode), ("new_mode", "0600"))
            } catch {
                Log.warn("private key file is readable by others and could not be tightened", ("path", privateKeyPath), ("mode", "0" + mode), ("error", error))
            }
        }
        return key
    }

    private func create() throws(KeyStoreError) -> WireGuardKey {
        do {
            try Files.makeDirectories(Files.directory(of: privateKeyPath), mode: 0o700)
            let key = try WireGuardKey.generatePrivate()
            try Files.writeAtomically(privateKeyPath, Array((key.base64 + "\n").utf8), mode: 0o600)
            Log.info("generated a new private key", ("path", privateKeyPath), ("public_key", key.publicKey().base64))
            return key
        } catch {
            throw .system(error, reading: false)
        }
    }

    private func storePublicKey(_ publicKey: WireGuardKey) throws(KeyStoreError) {
        let text = Array((publicKey.base64 + "\n").utf8)
        if let current = try? Files.read(publicKeyPath, limit: 4096), current == text { return }
        do { try Files.writeAtomically(publicKeyPath, text, mode: 0o644) } catch { throw .system(error, reading: false) }
    }
}

/// Writes this node's public key to `WG_PUBLIC_KEY_EXPORT` atomically (a shared volume where
/// the peer reads it through its `PUBLIC_KEY_FILE`). Unchanged content is not rewritten.
public func exportPublicKey(_ publicKey: WireGuardKey, to path: String) throws(SystemCallError) {
    let text = Array((publicKey.base64 + "\n").utf8)
    if let current = try? Files.read(path, limit: 4096), current == text { return }
    try Files.makeDirectories(Files.directory(of: path), mode: 0o755)
    try Files.writeAtomically(path, text, mode: 0o644)
}

/// A key file's content without surrounding ASCII whitespace.
public func trimmed(_ bytes: [UInt8]) -> Substring {
    let isSpace: (UInt8) -> Bool = { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0d) }
    guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
        return ""
    }
    return Substring(String(decoding: bytes[first...last], as: UTF8.self))
}
