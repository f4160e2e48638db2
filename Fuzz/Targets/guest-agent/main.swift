import DstackAgent
import FuzzSupport

// The guest agent client's parsers, on what an agent (or anything at its socket) could answer.
// The input is cut into pieces at the positions its first byte selects, and fed to
// HTTPResponseParser as reads of those sizes; the body, when there is one, goes to the JSON
// parser. Properties:
// - nothing crashes, and the parsers' bounds hold (body within the limit);
// - the same bytes give the same outcome whether they arrive whole or in pieces;
// - a parsed JSON value prints (jsonString) and parses back to the same strings.

runFuzzer(fuzzGuestAgentAnswer)

func fuzzGuestAgentAnswer(_ input: [UInt8]) {
    guard let first = input.first else { return }
    let bytes = Array(input.dropFirst())
    let limit = 1 << 16
    let whole = outcome(bytes, pieceSize: bytes.count + 1, limit: limit)
    let pieces = outcome(bytes, pieceSize: Int(first % 17) + 1, limit: limit)
    require(whole == pieces, "split reads change the outcome: \(whole) vs \(pieces)")
    if case .success(let response) = whole {
        require(response.body.count <= limit, "body of \(response.body.count) bytes over the limit")
        checkJSON(response.body)
    }
    checkJSON(bytes)
}

func outcome(_ bytes: [UInt8], pieceSize: Int, limit: Int) -> Result<HTTPResponse, HTTPError> {
    var parser = HTTPResponseParser(maximumBodyLength: limit)
    var offset = 0
    do throws(HTTPError) {
        while offset < bytes.count {
            let end = min(offset + pieceSize, bytes.count)
            if let response = try parser.append(bytes[offset..<end]) { return .success(response) }
            offset = end
        }
        return .success(try parser.finish())
    } catch {
        return .failure(error)
    }
}

func checkJSON(_ bytes: [UInt8]) {
    guard let value = try? JSONValue.parse(bytes) else { return }
    visitStrings(value) { text in
        let again = try? JSONValue.parse(Array(jsonString(text).utf8))
        require(again == .string(text), "string \(text.debugDescription) does not survive printing")
    }
}

func visitStrings(_ value: JSONValue, _ body: (String) -> Void) {
    switch value {
    case .string(let text): body(text)
    case .array(let items): items.forEach { visitStrings($0, body) }
    case .object(let members): members.forEach { body($0.key); visitStrings($0.value, body) }
    default: break
    }
}
