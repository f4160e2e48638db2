import FuzzSupport
import Metrics

// HTTPRequestHead.parse (the metrics listener's request reader, in PID 1) on any bytes a client
// could send. Properties:
// - it never traps, and answers `.incomplete` only while no blank line (CRLF or bare LF endings)
//   has arrived and the bytes are within the size limit (so a connection's buffer is bounded);
// - a request it accepts has a method of capital letters and a target starting with "/";
// - a complete head is answered the same whatever follows it, and its prefixes are incomplete;
// - CRLF and bare LF line endings are read the same;
// - the response to any answer is well formed: a status line, Content-Length matching the body.

runFuzzer(fuzzRequestHead)

func fuzzRequestHead(_ input: [UInt8]) {
    let head = HTTPRequestHead.parse(input)
    switch head {
    case .incomplete:
        require(input.count <= HTTPRequestHead.sizeLimit, "incomplete after \(input.count) bytes")
        require(blankLineEnd(input) == nil, "incomplete with a blank line in \(String(decoding: input, as: UTF8.self).debugDescription)")
    case .request(let method, let target):
        require(!method.isEmpty && method.allSatisfy { $0.isUppercase }, "method \(method.debugDescription)")
        require(target.hasPrefix("/"), "target \(target.debugDescription)")
    case .malformed(let reason):
        require(!reason.isEmpty, "a malformed request without a reason")
    }
    if case .incomplete = head { return }
    // A complete head is read the same whatever follows it, and any shorter prefix of it is
    // incomplete: a head arriving in small reads is answered once, the same way.
    if let end = blankLineEnd(input), end <= HTTPRequestHead.sizeLimit {
        require(HTTPRequestHead.parse(Array(input.prefix(end))) == head, "the bytes after the head change the answer")
        for cut in [0, 1, end / 2, end - 1] where cut < end {
            require(HTTPRequestHead.parse(Array(input.prefix(cut))) == .incomplete, "a \(cut)-byte prefix of a \(end)-byte head is not incomplete")
        }
    }
    // CRLF and bare LF line endings read the same (when every CR ends a line).
    if input.count <= HTTPRequestHead.sizeLimit, input.indices.allSatisfy({ input[$0] != 13 || input.indices.contains($0 + 1) && input[$0 + 1] == 10 }) {
        let bare = input.filter { $0 != 13 }
        require(HTTPRequestHead.parse(bare) == head, "bare LF endings change the answer to \(String(decoding: input, as: UTF8.self).debugDescription)")
    }
    let status = if case .request = head { 200 } else { 400 }
    let response = HTTPResponse(status: status, body: "x\n").bytes()
    let text = String(decoding: response, as: UTF8.self)
    require(text.hasPrefix("HTTP/1.1 \(status) ") && text.contains("Content-Length: 2\r\n") && text.hasSuffix("\r\n\r\nx\n"), "response \(text.debugDescription)")
}

/// The offset just past the first empty line, if any: an LF at the start, after an LF, or after
/// a CR that is at the start or after an LF (written apart from the parser's line scan, as the
/// reference it is checked against).
func blankLineEnd(_ bytes: [UInt8]) -> Int? {
    let lineStart = { (index: Int) in index == 0 || bytes[index - 1] == 10 }
    return bytes.indices.first { index in
        bytes[index] == 10 && (lineStart(index) || (bytes[index - 1] == 13 && lineStart(index - 1)))
    }.map { $0 + 1 }
}
