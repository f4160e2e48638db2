@testable import DstackAgent
import Testing

/// Feeds `text` in pieces of `size` bytes; the response, or the error.
func parse(_ text: String, pieces size: Int, closeAtEnd: Bool = false, limit: Int = 4 << 20) throws(HTTPError) -> HTTPResponse? {
    var parser = HTTPResponseParser(maximumBodyLength: limit)
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let end = min(offset + size, bytes.count)
        if let response = try parser.append(bytes[offset..<end]) { return response }
        offset = end
    }
    return closeAtEnd ? try parser.finish() : nil
}

@Suite struct HTTPResponseTests {
    static let body = #"{"key":"00","signature_chain":[]}"#
    static let lengthDelimited = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    static let chunked = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5\r\n{\"key\r\n19;ext=1\r\n\":\"00\",\"signature_chain\":\r\n3\r\n[]}\r\n0\r\nX-Trailer: 1\r\n\r\n"

    @Test(arguments: [lengthDelimited, chunked])
    func completeAtEveryPieceSize(_ text: String) throws {
        for size in 1...text.utf8.count {
            let response = try #require(try parse(text, pieces: size), "piece size \(size)")
            #expect(response.status == 200 && response.reason == "OK")
            #expect(String(decoding: response.body, as: UTF8.self) == Self.body)
            #expect(response.headers["content-type"] == "application/json")
        }
    }

    @Test func bodyUntilTheConnectionCloses() throws {
        let response = try #require(try parse("HTTP/1.0 500 Internal Server Error\r\n\r\noops", pieces: 3, closeAtEnd: true))
        #expect(response.status == 500 && String(decoding: response.body, as: UTF8.self) == "oops")
    }

    @Test func incompleteIsNotAResponse() throws {
        #expect(try parse(String(Self.lengthDelimited.dropLast()), pieces: 7) == nil)
        #expect(throws: HTTPError.self) { try parse(String(Self.lengthDelimited.dropLast()), pieces: 7, closeAtEnd: true) }
        #expect(throws: HTTPError.self) { try parse("HTTP/1.1 200 OK\r\nContent-", pieces: 7, closeAtEnd: true) }
        #expect(throws: HTTPError.self) { try parse(String(Self.chunked.dropLast(4)), pieces: 7, closeAtEnd: true) }
    }

    static let malformed = [
        "garbage\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
    ]

    @Test(arguments: malformed)
    func refusesMalformed(_ text: String) {
        #expect(throws: HTTPError.self) { try parse(text, pieces: 5, closeAtEnd: true) }
    }

    @Test func everythingIsBounded() {
        let longHead = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 20000)
        #expect(throws: HTTPError.self) { try parse(longHead, pieces: 1000) }
        let bigChunk = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n"
        #expect(throws: HTTPError.self) { try parse(bigChunk, pieces: 10, limit: 100) }
        let untilClose = "HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "b", count: 200)
        #expect(throws: HTTPError.self) { try parse(untilClose, pieces: 10, closeAtEnd: true, limit: 100) }
    }
}

@Suite struct AgentEndpointTests {
    @Test func parsesWhatTheSDKAccepts() throws {
        #expect(try AgentEndpoint(parsing: "/var/run/dstack.sock") == .unixSocket("/var/run/dstack.sock"))
        #expect(try AgentEndpoint(parsing: "http://127.0.0.1:8090") == .http(host: "127.0.0.1", port: 8090))
        #expect(try AgentEndpoint(parsing: "http://localhost/") == .http(host: "localhost", port: 80))
        #expect(try AgentEndpoint(parsing: "http://[::1]:9") == .http(host: "::1", port: 9))
        #expect(AgentEndpoint.http(host: "::1", port: 9).description == "http://[::1]:9")
        for bad in ["dstack.sock", "https://x:1", "http://", "http://x:0", "http://x:y", "http://x/path", "/" + String(repeating: "a", count: 120)] {
            #expect(throws: HTTPError.self) { try AgentEndpoint(parsing: bad) }
        }
    }

    @Test func discoveryTakesTheFirstSocketThatExists() {
        #expect(AgentEndpoint.discover(configured: nil) { $0 == "/run/dstack/dstack.sock" } == .unixSocket("/run/dstack/dstack.sock"))
        #expect(AgentEndpoint.discover(configured: nil) { _ in true } == .unixSocket("/var/run/dstack.sock"))
        #expect(AgentEndpoint.discover(configured: nil) { _ in false } == .unixSocket("/var/run/dstack.sock"))
        #expect(AgentEndpoint.discover(configured: .http(host: "127.0.0.1", port: 1)) { _ in true } == .http(host: "127.0.0.1", port: 1))
    }
}
