#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemCalls
import CSystemShims
import CSodium

/// A 32-byte WireGuard key (private, public or preshared), parsed from and printed as base64
/// like `wg`. Its `description` never shows the bytes: use `base64` where a key must be printed.
public struct WireGuardKey: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The key's length in bytes.
    public static let byteCount = 32

    /// The raw key bytes.
    public let bytes: [UInt8]

    /// Wraps exactly 32 bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses the 44-character base64 form `wg` prints (one `=` of padding, canonical bits).
    public init?(base64 text: some StringProtocol) {
        guard let bytes = Base64.decodeKey(text) else { return nil }
        self.bytes = bytes
    }

    /// Parses the 64-character lowercase or uppercase hex form of the UAPI protocol.
    public init?(hex text: some StringProtocol) {
        let digits = Array(text.utf8)
        guard digits.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = hexValue(digits[2 * index]), let low = hexValue(digits[2 * index + 1]) else { return nil }
            bytes[index] = high << 4 | low
        }
        self.bytes = bytes
    }

    /// The base64 form, as `wg genkey` prints it.
    public var base64: String { Base64.encode(bytes) }

    /// The lowercase hex form used by the UAPI protocol.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether every byte is zero (WireGuard treats such a key as "none").
    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    public var description: String { "WireGuardKey(redacted)" }
    public var debugDescription: String { description }

    /// A new private key from the kernel's random source, clamped as `wg genkey` does.
    public static func generatePrivate() throws(SystemCallError) -> WireGuardKey {
        WireGuardKey(privateFrom: try randomBytes(count: byteCount))!
    }

    /// A private key made of the first 32 of `secret`'s bytes, clamped as `wg genkey` does;
    /// nil when there are fewer. Clamping does not change the public key (X25519 clamps too).
    public init?(privateFrom secret: [UInt8]) {
        guard secret.count >= Self.byteCount else { return nil }
        var bytes = Array(secret.prefix(Self.byteCount))
        // Curve25519 clamping (RFC 7748 section 5), as wireguard-tools' curve25519_clamp_secret.
        bytes[0] &= 248
        bytes[31] = (bytes[31] & 127) | 64
        self.init(bytes: bytes)
    }

    /// A new random preshared key, as `wg genpsk` makes.
    public static func generatePreshared() throws(SystemCallError) -> WireGuardKey {
        WireGuardKey(bytes: try randomBytes(count: byteCount))!
    }

    /// The X25519 public key of this private key, as `wg pubkey` computes it.
    public func publicKey() -> WireGuardKey {
        // X25519 clamps the scalar itself, so an unclamped private key gives wg's answer too.
        WireGuardKey(bytes: X25519.publicKey(scalar: bytes))!
    }

    private static func randomBytes(count: Int) throws(SystemCallError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try valueOrErrno("getrandom") {
                bytes.withUnsafeMutableBytes { getrandom($0.baseAddress! + filled, count - filled, 0) }
            }
            filled += got
        }
        return bytes
    }
}

/// X25519 (RFC 7748) by libsodium, linked from its static archive (README, "Keys", says why
/// libsodium). libsodium clamps the scalar itself and computes in constant time.
enum X25519 {
    /// libsodium's `sodium_init`, which its API asks for before any other call, run once on first
    /// use (a Swift global is initialised once, thread-safely): it reads the CPU's features and
    /// tests getrandom (no file is opened), tens of microseconds, paid only by commands that
    /// compute a public key. It returns an error only when its mutex fails.
    private static let initialized: Void = {
        guard sodium_init() >= 0 else { fatalError("libsodium's sodium_init failed") }
    }()

    /// The public key of `scalar` (32 bytes): scalar times the base point 9.
    static func publicKey(scalar: [UInt8]) -> [UInt8] {
        precondition(scalar.count == 32)
        _ = initialized
        var result = [UInt8](repeating: 0, count: 32)
        let status = crypto_scalarmult_curve25519_base(&result, scalar)
        // Only a result of all zeros fails, which a scalar clamped as X25519 clamps it cannot give.
        precondition(status == 0, "crypto_scalarmult_curve25519_base failed")
        return result
    }

    /// The X25519 function of RFC 7748 section 5: scalar times the point with u-coordinate
    /// `point`; nil when the result is all zeros (a point of small order), which libsodium refuses.
    static func multiply(scalar: [UInt8], point: [UInt8]) -> [UInt8]? {
        precondition(scalar.count == 32 && point.count == 32)
        _ = initialized
        var result = [UInt8](repeating: 0, count: 32)
        return crypto_scalarmult_curve25519(&result, scalar, point) == 0 ? result : nil
    }
}

private func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Standard base64 (RFC 4648 section 4) with padding.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes bytes with `=` padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            out.append(remaining > 1 ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "="))
            out.append(remaining > 2 ? alphabet[Int(group & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes the 44-character form of a 32-byte key; nil unless it is exactly canonical.
    public static func decodeKey(_ text: some StringProtocol) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count == 44, chars[43] == UInt8(ascii: "=") else { return nil }
        var values = [UInt32]()
        values.reserveCapacity(43)
        for char in chars[0..<43] {
            guard let value = sextet(char) else { return nil }
            values.append(value)
        }
        // 43 sextets carry 258 bits; the last 2 must be zero in a canonical encoding.
        guard values[42] & 3 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        var index = 0
        while index + 4 <= 40 {
            let group = values[index] << 18 | values[index + 1] << 12 | values[index + 2] << 6 | values[index + 3]
            bytes += [UInt8(group >> 16 & 0xff), UInt8(group >> 8 & 0xff), UInt8(group & 0xff)]
            index += 4
        }
        let tail = values[40] << 12 | values[41] << 6 | values[42]
        bytes += [UInt8(tail >> 10 & 0xff), UInt8(tail >> 2 & 0xff)]
        return bytes
    }

    private static func sextet(_ char: UInt8) -> UInt32? {
        switch char {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(char - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(char - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(char - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
