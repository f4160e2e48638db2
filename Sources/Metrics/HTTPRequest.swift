/// The little of HTTP/1.x the metrics listener needs: the request line of a GET, the end of the
/// header block, and responses that close the connection. Bodies, keep-alive, chunking and
/// continuation lines are not supported; a request that needs them is answered 400 or 405.
/// Lines end in CRLF or, as RFC 9112 (2.2) allows a server to accept, in a bare LF; a CR
/// anywhere else is refused.
public enum HTTPRequestHead: Equatable, Sendable {
    /// The header block has not ended yet.
    case incomplete
    /// A complete request head: its method and target (the path with any query).
    case request(method: String, target: String)
    /// Not a request this listener answers; the reason goes into the 400 response.
    case malformed(String)

    /// The most a request head may take: one scrape needs a few hundred bytes.
    public static let sizeLimit = 4096

    /// Reads the bytes received so far on a connection.
    public static func parse(_ bytes: [UInt8]) -> HTTPRequestHead {
        guard let end = headEnd(bytes) else {
            return bytes.count > sizeLimit ? .malformed("request head longer than \(sizeLimit) bytes") : .incomplete
        }
        guard end <= sizeLimit else { return .malformed("request head longer than \(sizeLimit) bytes") }
        let head = bytes[..<end]
        guard head.allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || (0x20..<0x7f).contains($0) }) else {
            return .malformed("request head is not printable ASCII")
        }
        // Split as bytes: to String, CR LF is one Character.
        let byteLines = head.split(separator: 10, omittingEmptySubsequences: false).map { $0.last == 13 ? $0.dropLast() : $0 }
        guard !byteLines.contains(where: { $0.contains(13) }) else { return .malformed("a CR that does not end a line") }
        let lines = byteLines.map { String(decoding: $0, as: UTF8.self) }
        let parts = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .malformed("request line is not METHOD TARGET VERSION") }
        let (method, target, version) = (String(parts[0]), String(parts[1]), String(parts[2]))
        guard !method.isEmpty, method.allSatisfy({ $0.isUppercase && $0.isASCII }) else { return .malformed("bad method") }
        guard target.hasPrefix("/") else { return .malformed("request target is not an absolute path") }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .malformed("unsupported HTTP version") }
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex, line.first != " ", line.first != "\t" else {
                return .malformed("bad header line")
            }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            if name == "content-length" {
                guard !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }) else { return .malformed("bad Content-Length") }
                if value.contains(where: { $0 != "0" }) { return .malformed("a request body is not accepted") }
            }
            if name == "transfer-encoding" { return .malformed("a request body is not accepted") }
        }
        return .request(method: method, target: target)
    }

    /// The offset just past the empty line (CRLF or LF alone) that ends the head, if it has arrived.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        var lineStart = 0
        for (index, byte) in bytes.enumerated() where byte == 10 {
            let length = index - lineStart
            if length == 0 || (length == 1 && bytes[lineStart] == 13) { return index + 1 }
            lineStart = index + 1
        }
        return nil
    }
}

/// A complete response that closes the connection.
public struct HTTPResponse: Equatable, Sendable {
    public var status: Int
    public var contentType: String
    public var body: String

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// The status line's reason phrase.
    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    /// The bytes on the wire (`HEAD` gets the head alone).
    public func bytes(headOnly: Bool = false) -> [UInt8] {
        let body = Array(self.body.utf8)
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        if status == 405 { head += "Allow: GET, HEAD\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (headOnly ? [] : body)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = self
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
