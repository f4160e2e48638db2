/// An HTTP/1.1 response as the guest agent sends it: status, headers, body.
public struct HTTPResponse: Equatable, Sendable {
    public var status: Int
    public var reason: String
    /// Header names in lower case; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]
}

/// Why bytes are not an acceptable HTTP/1.1 response.
public struct HTTPError: Error, Equatable, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { reason }
    public init(_ reason: String) { self.reason = reason }
}

/// Reads an HTTP/1.1 response from bytes that arrive in pieces of any size (RFC 9112): the body
/// is delimited by `Content-Length`, by `Transfer-Encoding: chunked`, or by the end of the
/// connection. Everything is bounded: the head, each line, and the body.
public struct HTTPResponseParser: Sendable {
    /// The status line and headers together may not be longer than this.
    public static let maximumHeadLength = 16 * 1024

    public let maximumBodyLength: Int
    private var buffer: [UInt8] = []
    private var head: (status: Int, reason: String, headers: [String: String])?
    private var framing: Framing?
    private var body: [UInt8] = []
    /// Bytes of `buffer` already consumed.
    private var offset = 0

    private enum Framing: Equatable, Sendable {
        case length(Int)
        case chunked(ChunkState)
        case untilClose
    }

    private enum ChunkState: Equatable, Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers
    }

    public init(maximumBodyLength: Int = 4 << 20) {
        self.maximumBodyLength = maximumBodyLength
    }

    /// Adds bytes read from the connection; returns the response once it is complete.
    public mutating func append(_ bytes: some Collection<UInt8>) throws(HTTPError) -> HTTPResponse? {
        buffer.append(contentsOf: bytes)
        return try advance()
    }

    /// The connection ended: the response, when its end may be the end of the connection.
    public mutating func finish() throws(HTTPError) -> HTTPResponse {
        if let response = try advance() { return response }
        guard head != nil else { throw HTTPError("the connection closed before a complete response head") }
        guard framing == .untilClose else { throw HTTPError("the connection closed in the middle of the response body") }
        return complete()
    }

    private mutating func advance() throws(HTTPError) -> HTTPResponse? {
        if head == nil {
            guard let end = find([13, 10, 13, 10], from: offset) else {
                if buffer.count - offset > Self.maximumHeadLength { throw HTTPError("response head longer than \(Self.maximumHeadLength) bytes") }
                return nil
            }
            guard end - offset <= Self.maximumHeadLength else { throw HTTPError("response head longer than \(Self.maximumHeadLength) bytes") }
            try parseHead(buffer[offset..<end])
            offset = end + 4
        }
        switch framing {
        case .length(let length):
            let available = min(length - body.count, buffer.count - offset)
            body += buffer[offset..<offset + available]
            offset += available
            return body.count == length ? complete() : nil
        case .chunked:
            return try advanceChunks() ? complete() : nil
        case .untilClose, nil:
            try appendBody(buffer[offset...])
            offset = buffer.count
            return nil
        }
    }

    private mutating func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPError) {
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map { line in
            line.last == 13 ? line.dropLast() : line
        }
        let statusLine = String(decoding: lines[0], as: UTF8.self)
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0",
              parts[1].count == 3, let status = Int(parts[1]), status >= 100 else {
            throw HTTPError("not an HTTP/1.x status line: \(printable(statusLine))")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex else {
                throw HTTPError("malformed header line: \(printable(String(decoding: line, as: UTF8.self)))")
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces()
            headers[name] = value
        }
        head = (status, parts.count > 2 ? String(parts[2]) : "", headers)
        if let encoding = headers["transfer-encoding"] {
            guard encoding.lowercased() == "chunked" else { throw HTTPError("unsupported Transfer-Encoding \(printable(encoding))") }
            framing = .chunked(.size)
        } else if let text = headers["content-length"] {
            guard let length = Int(text), length >= 0, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                throw HTTPError("invalid Content-Length \(printable(text))")
            }
            guard length <= maximumBodyLength else { throw HTTPError("response body of \(length) bytes is over the \(maximumBodyLength)-byte limit") }
            framing = .length(length)
        } else {
            framing = .untilClose
        }
    }

    /// Consumes chunked data; true once the last chunk and the trailers are read.
    private mutating func advanceChunks() throws(HTTPError) -> Bool {
        while case .chunked(let state) = framing {
            switch state {
            case .size:
                guard let end = line() else { return false }
                // The size, then optional chunk extensions after ';'.
                let sizeText = end.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != 32 && $0 != 9 }
                guard !sizeText.isEmpty, sizeText.count <= 8, let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16) else {
                    throw HTTPError("invalid chunk size \(printable(String(decoding: end, as: UTF8.self)))")
                }
                guard body.count + size <= maximumBodyLength else {
                    throw HTTPError("response body is over the \(maximumBodyLength)-byte limit")
                }
                framing = .chunked(size == 0 ? .trailers : .data(remaining: size))
            case .data(let remaining):
                let available = min(remaining, buffer.count - offset)
                guard available > 0 else { return false }
                body += buffer[offset..<offset + available]
                offset += available
                framing = .chunked(remaining == available ? .dataEnd : .data(remaining: remaining - available))
            case .dataEnd:
                guard let end = line() else { return false }
                guard end.isEmpty else { throw HTTPError("chunk data longer than its size") }
                framing = .chunked(.size)
            case .trailers:
                guard let end = line() else { return false }
                if end.isEmpty { return true }
            }
        }
        return false
    }

    /// The next CRLF-terminated line, consumed, or nil when it has not fully arrived.
    private mutating func line() -> ArraySlice<UInt8>? {
        guard let end = find([13, 10], from: offset) else { return nil }
        let line = buffer[offset..<end]
        offset = end + 2
        return line
    }

    private mutating func appendBody(_ bytes: ArraySlice<UInt8>) throws(HTTPError) {
        guard body.count + bytes.count <= maximumBodyLength else {
            throw HTTPError("response body is over the \(maximumBodyLength)-byte limit")
        }
        body += bytes
    }

    private func complete() -> HTTPResponse {
        HTTPResponse(status: head!.status, reason: head!.reason, headers: head!.headers, body: body)
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        var index = max(start, 0)
        while index + needle.count <= buffer.count {
            if buffer[index] == needle[0] && buffer[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// Text for a message, quoted: at most 80 bytes of it, control characters replaced by `?`.
func printable(_ text: String) -> String {
    var shown = String.UnicodeScalarView()
    var bytes = 0
    for scalar in text.unicodeScalars {
        bytes += UTF8.width(scalar)
        if bytes > 80 { break }
        shown.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar)
    }
    return "\"" + String(shown) + (bytes > 80 ? "…" : "") + "\""
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
