@testable import DstackAgent
import SeededRandom
import Testing

@Suite struct JSONTests {
    @Test func parsesTheAgentsAnswers() throws {
        let text = #"{"key":"00ff","signature_chain":["aa","bb"],"n":-1.5e3,"ok":true,"none":null,"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value["key"]?.string == "00ff")
        #expect(value["signature_chain"] == .array([.string("aa"), .string("bb")]))
        #expect(value["n"] == .number("-1.5e3"))
        #expect(value["ok"] == .bool(true) && value["none"] == .null)
        #expect(value["s"]?.string == "a\"\\/\u{08}\u{0C}\n\r\té😀")
        #expect(try JSONValue.parse(Array(" [ ] ".utf8)) == .array([]))
        #expect(try JSONValue.parse(Array("{}".utf8)) == .object([:]))
    }

    static let invalid = [
        "", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "01", "-", "1.", "1e", "tru", "nul",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\u{01}b\"", "{} {}", "{'a':1}", "NaN",
    ]

    @Test(arguments: invalid)
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try JSONValue.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect((try? JSONValue.parse(Array(ok.utf8))) != nil)
    }

    @Test func stringsRoundTrip() throws {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let scalars = (0..<Int.random(in: 0...20, using: &random)).map { _ in
                Unicode.Scalar(random.pick([0x00, 0x1F, 0x22, 0x5C, 0x41, 0xE9, 0x1F600, 0x7F, 0x2028]))!
            }
            let text = String(String.UnicodeScalarView(scalars))
            #expect(try JSONValue.parse(Array(jsonString(text).utf8)) == .string(text))
        }
    }

    @Test func randomBytesNeverCrash() {
        var random = SeededGenerator(seed: 11)
        let alphabet = Array("{}[],:\"\\u0123456789abcdefeE+-.tnrul \n".utf8)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in random.pick(alphabet) }
            _ = try? JSONValue.parse(bytes)
        }
    }

    @Test func hexDecoding() {
        #expect(decodeHex("00ffA0") == [0, 255, 160])
        #expect(decodeHex("0x0102") == [1, 2])
        #expect(decodeHex("") == [])
        #expect(decodeHex("abc") == nil && decodeHex("zz") == nil)
    }
}
