import Crypto
import SeededRandom
import Testing

@testable import WireGuardModel

private func hex(_ text: String) -> [UInt8] {
    WireGuardKey(hex: text)!.bytes
}

@Suite struct X25519Tests {
    /// RFC 7748 section 5.2: the first scalar multiplication vector.
    @Test func rfc7748Vector() {
        let result = X25519.multiply(
            scalar: hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
            point: hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
        )
        #expect(result.map { WireGuardKey(bytes: $0)!.hex } == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
    }

    /// Shared secrets of random key pairs agree with swift-crypto's.
    @Test func sharedSecretsAgreeWithSwiftCrypto() throws {
        var random = SeededGenerator(seed: 7748)
        for _ in 0..<50 {
            let scalar = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
            let peer = Curve25519.KeyAgreement.PrivateKey()
            let reference = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: scalar).sharedSecretFromKeyAgreement(with: peer.publicKey)
            let ours = X25519.multiply(scalar: scalar, point: Array(peer.publicKey.rawRepresentation))
            #expect(ours == reference.withUnsafeBytes { Array($0) })
        }
    }

    /// RFC 7748 section 5.2: 1 and 1,000 iterations of k, u = X25519(k, u), k.
    @Test func rfc7748Iterations() {
        var k = hex("0900000000000000000000000000000000000000000000000000000000000000")
        var u = k
        for iteration in 1...1000 {
            (k, u) = (X25519.multiply(scalar: k, point: u)!, k)
            if iteration == 1 { #expect(WireGuardKey(bytes: k)!.hex == "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079") }
        }
        #expect(WireGuardKey(bytes: k)!.hex == "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    }

    /// Public keys of random private keys agree with swift-crypto's Curve25519, and with the
    /// general multiplication by the base point 9.
    @Test func agreesWithSwiftCrypto() throws {
        var random = SeededGenerator(seed: 0x5EED_2551_9)
        for _ in 0..<300 {
            let scalar = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
            let reference = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: scalar).publicKey.rawRepresentation
            #expect(X25519.publicKey(scalar: scalar) == Array(reference))
            #expect(X25519.multiply(scalar: scalar, point: [9] + [UInt8](repeating: 0, count: 31)) == Array(reference))
        }
    }

    /// Points with the top bit set, or at or above p, are reduced as RFC 7748 says; a result of
    /// all zeros (here p, which is 0) is refused.
    @Test func nonCanonicalPoints() throws {
        var random = SeededGenerator(seed: 42)
        for top in [UInt8(0x80), 0xff] {
            let scalar = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
            var point = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
            point[31] |= top
            var masked = point
            masked[31] &= 0x7f
            #expect(X25519.multiply(scalar: scalar, point: point) == X25519.multiply(scalar: scalar, point: masked))
        }
        // p itself (2^255 - 19) is 0, and so is the result: libsodium reports it, and so do we.
        var p = [UInt8](repeating: 0xff, count: 32)
        p[0] = 0xed
        p[31] = 0x7f
        #expect(X25519.multiply(scalar: [UInt8](repeating: 7, count: 32), point: p) == nil)
        // p + 9 is 9: the same as the base point.
        var p9 = p
        p9[0] = 0xf6
        let scalar = [UInt8](repeating: 7, count: 32)
        #expect(X25519.multiply(scalar: scalar, point: p9) == X25519.publicKey(scalar: scalar))
    }
}
