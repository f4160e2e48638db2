import FuzzSupport
import Metrics

// HTTPRequestHead.parse (the metrics listener's request reader, in PID 1) on any bytes a client
// could send. Properties:
// - it never traps, and answers `.incomplete` only while no blank line has arrived and the bytes
//   are within the size limit (so a connection's buffer is bounded);
// - a request it accepts has a method of capital letters and a target starting with "/";
// - a complete head is answered the same whatever follows it, and its prefixes are incomplete;
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
    let status = if case .request = head { 200 } else { 400 }
    let response = HTTPResponse(status: status, body: "x\n").bytes()
    let text = String(decoding: response, as: UTF8.self)
    require(text.hasPrefix("HTTP/1.1 \(status) ") && text.contains("Content-Length: 2\r\n") && text.hasSuffix("\r\n\r\nx\n"), "response \(text.debugDescription)")
}

/// The offset just past the first `\r\n\r\n`, if any.
func blankLineEnd(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 4 else { return nil }
    return (0...(bytes.count - 4)).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }.map { $0 + 4 }
}
