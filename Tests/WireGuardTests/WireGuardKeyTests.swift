import Testing
@testable import WireGuardModel

private func bytes(hex: String) -> [UInt8] {
    WireGuardKey(hex: hex)!.bytes
}

@Suite struct WireGuardKeyTests {
    /// RFC 7748 section 6.1: Alice's and Bob's X25519 key pairs.
    @Test(arguments: [
        ("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
         "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
        ("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
         "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
    ])
    func rfc7748PublicKeys(privateHex: String, publicHex: String) {
        let key = WireGuardKey(hex: privateHex)!
        #expect(key.publicKey().hex == publicHex)
    }

    @Test func base64RoundTripsAndMatchesKnownText() {
        let key = WireGuardKey(hex: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")!
        #expect(key.base64 == "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=")
        #expect(WireGuardKey(base64: key.base64) == key)
        #expect(WireGuardKey(hex: key.hex) == key)
    }

    @Test(arguments: [
        "",                                               // empty
        "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo",    // padding missing
        "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC=",    // one character short
        "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==",  // too long
        "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=",   // non-zero trailing bits
        "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L o=",   // space inside
        "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L-o=",   // URL-safe alphabet
        "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCé",    // non-ASCII
    ])
    func rejectsMalformedBase64(text: String) {
        #expect(WireGuardKey(base64: text) == nil)
    }

    @Test func rejectsMalformedHex() {
        #expect(WireGuardKey(hex: String(repeating: "0", count: 63)) == nil)
        #expect(WireGuardKey(hex: String(repeating: "g", count: 64)) == nil)
        #expect(WireGuardKey(bytes: [UInt8](repeating: 0, count: 31)) == nil)
    }

    @Test func descriptionIsRedacted() {
        let key = try! WireGuardKey.generatePrivate()
        #expect(!"\(key)".contains(key.base64))
        #expect(!String(reflecting: key).contains(key.base64))
        #expect("\(key)" == "WireGuardKey(redacted)")
    }

    @Test func generatedKeysAreClampedAndDistinct() throws {
        var seen = Set<WireGuardKey>()
        for _ in 0..<200 {
            let key = try WireGuardKey.generatePrivate()
            #expect(key.bytes[0] & 7 == 0)
            #expect(key.bytes[31] & 0x80 == 0)
            #expect(key.bytes[31] & 0x40 == 0x40)
            seen.insert(key)
        }
        #expect(seen.count == 200)
    }

    /// Property: decode(encode(x)) == x over seeded random byte strings of every length 0-64.
    @Test func base64EncodingMatchesLengthRule() {
        var state: UInt64 = 0x5eed
        for length in 0...64 {
            var bytes: [UInt8] = []
            for _ in 0..<length {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(UInt8(truncatingIfNeeded: state >> 33))
            }
            let text = Base64.encode(bytes)
            #expect(text.count == (length + 2) / 3 * 4)
            if length == 32 { #expect(WireGuardKey(base64: text)?.bytes == bytes) }
        }
    }
}
