/// X25519 (RFC 7748), the one piece of Curve25519 vpn-init needs: a WireGuard public key from
/// its private key. In-tree so vpn-init does not link swift-crypto and, through it, Foundation
/// (about 10 MB of the image). Constant time: the ladder swaps with masks, never branches or
/// indexes on secret bits.
enum X25519 {
    /// The public key of `scalar` (32 bytes, clamped here as RFC 7748 section 5 says).
    static func publicKey(scalar: [UInt8]) -> [UInt8] {
        var basePoint = [UInt8](repeating: 0, count: 32)
        basePoint[0] = 9
        return multiply(scalar: scalar, point: basePoint)
    }

    /// The X25519 function of RFC 7748 section 5: scalar times the point with u-coordinate `point`.
    static func multiply(scalar: [UInt8], point: [UInt8]) -> [UInt8] {
        precondition(scalar.count == 32 && point.count == 32)
        var k = scalar
        k[0] &= 248
        k[31] = (k[31] & 127) | 64
        let x1 = FieldElement(bytes: point)
        var x2 = FieldElement.one, z2 = FieldElement.zero, x3 = x1, z3 = FieldElement.one
        var swap: UInt64 = 0
        for t in stride(from: 254, through: 0, by: -1) {
            let bit = UInt64((k[t >> 3] >> UInt8(t & 7)) & 1)
            swap ^= bit
            FieldElement.conditionalSwap(&x2, &x3, swap)
            FieldElement.conditionalSwap(&z2, &z3, swap)
            swap = bit
            let a = x2 + z2, aa = a.squared(), b = x2 - z2, bb = b.squared(), e = aa - bb
            let c = x3 + z3, d = x3 - z3, da = d * a, cb = c * b
            x3 = (da + cb).squared()
            z3 = x1 * (da - cb).squared()
            x2 = aa * bb
            z2 = e * (aa + e.times121665())
        }
        FieldElement.conditionalSwap(&x2, &x3, swap)
        FieldElement.conditionalSwap(&z2, &z3, swap)
        return (x2 * z2.inverse()).bytes
    }
}

/// The full 128-bit product of two 64-bit limbs (one `mul` instruction).
@inline(__always)
private func m(_ x: UInt64, _ y: UInt64) -> UInt128 {
    let (high, low) = x.multipliedFullWidth(by: y)
    return UInt128(high) << 64 | UInt128(low)
}

/// An element of GF(2^255 - 19) in five 51-bit limbs (little-endian), kept below 2^52 each by
/// a carry after every operation.
struct FieldElement {
    var limbs: (UInt64, UInt64, UInt64, UInt64, UInt64)

    private static let mask: UInt64 = (1 << 51) - 1
    static let zero = FieldElement(limbs: (0, 0, 0, 0, 0))
    static let one = FieldElement(limbs: (1, 0, 0, 0, 0))

    init(limbs: (UInt64, UInt64, UInt64, UInt64, UInt64)) {
        self.limbs = limbs
    }

    /// Decodes 32 little-endian bytes, ignoring the top bit (RFC 7748 section 5).
    init(bytes: [UInt8]) {
        func word(_ index: Int) -> UInt64 {
            var value: UInt64 = 0
            for byte in (0..<8).reversed() { value = value << 8 | UInt64(bytes[index * 8 + byte]) }
            return value
        }
        let w0 = word(0), w1 = word(1), w2 = word(2), w3 = word(3)
        let m = Self.mask
        limbs = (w0 & m, (w0 >> 51 | w1 << 13) & m, (w1 >> 38 | w2 << 26) & m, (w2 >> 25 | w3 << 39) & m, (w3 >> 12) & m)
    }

    /// The canonical 32-byte little-endian encoding (fully reduced modulo p).
    var bytes: [UInt8] {
        var h = carried().carried().carried()
        // Every limb is below 2^51 and h < 2p now; subtract p when h >= p, i.e. when h + 19 carries out of bit 255.
        var q = (h.limbs.0 + 19) >> 51
        q = (h.limbs.1 + q) >> 51
        q = (h.limbs.2 + q) >> 51
        q = (h.limbs.3 + q) >> 51
        q = (h.limbs.4 + q) >> 51
        h.limbs.0 += 19 * q
        let m = Self.mask
        h.limbs.1 += h.limbs.0 >> 51; h.limbs.0 &= m
        h.limbs.2 += h.limbs.1 >> 51; h.limbs.1 &= m
        h.limbs.3 += h.limbs.2 >> 51; h.limbs.2 &= m
        h.limbs.4 += h.limbs.3 >> 51; h.limbs.3 &= m
        h.limbs.4 &= m
        let words = [
            h.limbs.0 | h.limbs.1 << 51, h.limbs.1 >> 13 | h.limbs.2 << 38,
            h.limbs.2 >> 26 | h.limbs.3 << 25, h.limbs.3 >> 39 | h.limbs.4 << 12,
        ]
        return words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }

    /// Carries every limb into the next, the top one back into the lowest times 19 (2^255 = 19).
    private func carried() -> FieldElement {
        var (l0, l1, l2, l3, l4) = limbs
        let m = Self.mask
        l1 += l0 >> 51; l0 &= m
        l2 += l1 >> 51; l1 &= m
        l3 += l2 >> 51; l2 &= m
        l4 += l3 >> 51; l3 &= m
        l0 += 19 * (l4 >> 51); l4 &= m
        l1 += l0 >> 51; l0 &= m
        return FieldElement(limbs: (l0, l1, l2, l3, l4))
    }

    static func + (a: FieldElement, b: FieldElement) -> FieldElement {
        FieldElement(limbs: (a.limbs.0 + b.limbs.0, a.limbs.1 + b.limbs.1, a.limbs.2 + b.limbs.2, a.limbs.3 + b.limbs.3, a.limbs.4 + b.limbs.4))
            .carried()
    }

    /// a - b computed as a + 4p - b, so no limb goes negative (b's limbs are below 2^52).
    static func - (a: FieldElement, b: FieldElement) -> FieldElement {
        let low: UInt64 = 0x1F_FFFF_FFFF_FFB4  // 4 * (2^51 - 19)
        let high: UInt64 = 0x1F_FFFF_FFFF_FFFC  // 4 * (2^51 - 1)
        return FieldElement(
            limbs: (
                a.limbs.0 + low - b.limbs.0, a.limbs.1 + high - b.limbs.1, a.limbs.2 + high - b.limbs.2,
                a.limbs.3 + high - b.limbs.3, a.limbs.4 + high - b.limbs.4
            )
        ).carried()
    }

    static func * (a: FieldElement, b: FieldElement) -> FieldElement {
        let (a0, a1, a2, a3, a4) = a.limbs
        let (b0, b1, b2, b3, b4) = b.limbs
        let b1x = b1 * 19, b2x = b2 * 19, b3x = b3 * 19, b4x = b4 * 19
        return reduce(
            m(a0, b0) &+ m(a1, b4x) &+ m(a2, b3x) &+ m(a3, b2x) &+ m(a4, b1x),
            m(a0, b1) &+ m(a1, b0) &+ m(a2, b4x) &+ m(a3, b3x) &+ m(a4, b2x),
            m(a0, b2) &+ m(a1, b1) &+ m(a2, b0) &+ m(a3, b4x) &+ m(a4, b3x),
            m(a0, b3) &+ m(a1, b2) &+ m(a2, b1) &+ m(a3, b0) &+ m(a4, b4x),
            m(a0, b4) &+ m(a1, b3) &+ m(a2, b2) &+ m(a3, b1) &+ m(a4, b0)
        )
    }

    /// self * self with the symmetric products counted once (15 multiplications, not 25).
    func squared() -> FieldElement {
        let (a0, a1, a2, a3, a4) = limbs
        let d0 = a0 * 2, d1 = a1 * 2, d2 = a2 * 2, d3 = a3 * 2
        let a3x = a3 * 19, a4x = a4 * 19
        return Self.reduce(
            m(a0, a0) &+ m(d1, a4x) &+ m(d2, a3x),
            m(d0, a1) &+ m(d2, a4x) &+ m(a3, a3x),
            m(d0, a2) &+ m(a1, a1) &+ m(d3, a4x),
            m(d0, a3) &+ m(d1, a2) &+ m(a4, a4x),
            m(d0, a4) &+ m(d1, a3) &+ m(a2, a2)
        )
    }

    /// Carries five 128-bit column sums (each below 2^115) into a field element.
    private static func reduce(_ r0: UInt128, _ r1: UInt128, _ r2: UInt128, _ r3: UInt128, _ r4: UInt128) -> FieldElement {
        let mask = UInt128(Self.mask)
        let r1 = r1 &+ (r0 >> 51)
        let r2 = r2 &+ (r1 >> 51)
        let r3 = r3 &+ (r2 >> 51)
        let r4 = r4 &+ (r3 >> 51)
        // The carry out of the top limb is below 2^64: times 19 it needs the wide type.
        let r0Folded = (r0 & mask) &+ 19 &* (r4 >> 51)
        let l1 = UInt64(truncatingIfNeeded: r1 & mask) &+ UInt64(truncatingIfNeeded: r0Folded >> 51)
        return FieldElement(
            limbs: (
                UInt64(truncatingIfNeeded: r0Folded & mask), l1, UInt64(truncatingIfNeeded: r2 & mask),
                UInt64(truncatingIfNeeded: r3 & mask), UInt64(truncatingIfNeeded: r4 & mask)
            )
        )
    }

    /// Times (A - 2) / 4 = 121665, the curve constant of the ladder's doubling step.
    func times121665() -> FieldElement {
        self * FieldElement(limbs: (121_665, 0, 0, 0, 0))
    }

    /// self^(p - 2) = 1 / self (Fermat), by the usual chain of 254 squarings and 11 multiplications.
    func inverse() -> FieldElement {
        func square(_ x: FieldElement, times: Int) -> FieldElement {
            var x = x
            for _ in 0..<times { x = x.squared() }
            return x
        }
        let z2 = squared()                                  // 2
        let z9 = square(z2, times: 2) * self                // 9
        let z11 = z9 * z2                                   // 11
        let z2_5_0 = z11.squared() * z9                     // 2^5 - 1
        let z2_10_0 = square(z2_5_0, times: 5) * z2_5_0     // 2^10 - 1
        let z2_20_0 = square(z2_10_0, times: 10) * z2_10_0  // 2^20 - 1
        let z2_40_0 = square(z2_20_0, times: 20) * z2_20_0  // 2^40 - 1
        let z2_50_0 = square(z2_40_0, times: 10) * z2_10_0  // 2^50 - 1
        let z2_100_0 = square(z2_50_0, times: 50) * z2_50_0 // 2^100 - 1
        let z2_200_0 = square(z2_100_0, times: 100) * z2_100_0  // 2^200 - 1
        let z2_250_0 = square(z2_200_0, times: 50) * z2_50_0    // 2^250 - 1
        return square(z2_250_0, times: 5) * z11             // 2^255 - 21
    }

    /// Swaps a and b when `flag` is 1, leaves them when it is 0, without branching.
    static func conditionalSwap(_ a: inout FieldElement, _ b: inout FieldElement, _ flag: UInt64) {
        let mask = 0 &- flag
        var t = mask & (a.limbs.0 ^ b.limbs.0); a.limbs.0 ^= t; b.limbs.0 ^= t
        t = mask & (a.limbs.1 ^ b.limbs.1); a.limbs.1 ^= t; b.limbs.1 ^= t
        t = mask & (a.limbs.2 ^ b.limbs.2); a.limbs.2 ^= t; b.limbs.2 ^= t
        t = mask & (a.limbs.3 ^ b.limbs.3); a.limbs.3 ^= t; b.limbs.3 ^= t
        t = mask & (a.limbs.4 ^ b.limbs.4); a.limbs.4 ^= t; b.limbs.4 ^= t
    }
}
