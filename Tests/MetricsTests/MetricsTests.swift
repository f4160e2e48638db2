import Metrics
import Testing

@Suite struct HTTPRequestTests {
    @Test(arguments: [
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTPRequestHead.request(method: "GET", target: "/metrics")),
        ("GET /healthz?max_handshake_age=60 HTTP/1.0\r\n\r\n", .request(method: "GET", target: "/healthz?max_handshake_age=60")),
        ("HEAD / HTTP/1.1\r\nAccept: */*\r\nUser-Agent: Prometheus/2.42.0\r\n\r\n", .request(method: "HEAD", target: "/")),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n", .incomplete),
        ("", .incomplete),
        ("GET /metrics HTTP/2\r\n\r\n", .malformed("unsupported HTTP version")),
        ("GET metrics HTTP/1.1\r\n\r\n", .malformed("request target is not an absolute path")),
        ("GET  /metrics HTTP/1.1\r\n\r\n", .malformed("request line is not METHOD TARGET VERSION")),
        ("get /metrics HTTP/1.1\r\n\r\n", .malformed("bad method")),
        ("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n", .malformed("a request body is not accepted")),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", .malformed("a request body is not accepted")),
        ("GET / HTTP/1.1\r\n continued\r\n\r\n", .malformed("bad header line")),
        ("GET / HTTP/1.1\r\nno-colon\r\n\r\n", .malformed("bad header line")),
        ("GET /\u{1} HTTP/1.1\r\n\r\n", .malformed("request head is not printable ASCII")),
        // Bare LF ends lines too (RFC 9112, 2.2), alone or mixed with CRLF; a CR elsewhere does not.
        ("GET /metrics HTTP/1.1\nHost: x\n\n", .request(method: "GET", target: "/metrics")),
        ("GET /metrics HTTP/1.1\r\nHost: x\n\r\n", .request(method: "GET", target: "/metrics")),
        ("GET /metrics HTTP/1.1\nHost: x\n", .incomplete),
        ("GET /metrics HTTP/1.1\r\nHost: x\ry\r\n\r\n", .malformed("a CR that does not end a line")),
        ("GET /metrics HTTP/1.1\r\r\n\r\n", .malformed("a CR that does not end a line")),
        // Content-Length is a number: any count of zeros is no body.
        ("POST /metrics HTTP/1.1\r\nContent-Length: 00\r\n\r\n", .request(method: "POST", target: "/metrics")),
        ("GET /metrics HTTP/1.1\r\nContent-Length:  0 \r\n\r\n", .request(method: "GET", target: "/metrics")),
        ("GET /metrics HTTP/1.1\r\nContent-Length: 010\r\n\r\n", .malformed("a request body is not accepted")),
        ("GET /metrics HTTP/1.1\r\nContent-Length: -0\r\n\r\n", .malformed("bad Content-Length")),
        ("GET /metrics HTTP/1.1\r\nContent-Length:\r\n\r\n", .malformed("bad Content-Length")),
    ])
    func parses(text: String, expected: HTTPRequestHead) {
        #expect(HTTPRequestHead.parse(Array(text.utf8)) == expected)
    }

    @Test func anEndlessHeadIsRefusedAtTheLimit() {
        let long = Array("GET / HTTP/1.1\r\nX: ".utf8) + [UInt8](repeating: 0x61, count: HTTPRequestHead.sizeLimit)
        #expect(HTTPRequestHead.parse(long) == .malformed("request head longer than 4096 bytes"))
        #expect(HTTPRequestHead.parse(Array(long.prefix(100))) == .incomplete)
    }

    @Test func responsesCloseAndCountTheirBody() {
        let response = HTTPResponse(status: 404, body: "not found\n")
        #expect(String(decoding: response.bytes(), as: UTF8.self)
            == "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n")
        #expect(!String(decoding: response.bytes(headOnly: true), as: UTF8.self).hasSuffix("found\n"))
        #expect(String(decoding: HTTPResponse(status: 405, body: "").bytes(), as: UTF8.self).contains("Allow: GET, HEAD\r\n"))
    }
}

@Suite struct ExpositionTests {
    static let node = NodeMetrics(
        (interface: "wg0", version: "1.0", implementation: "kernel", keySource: "file", nodeName: "node-\"a\""),
        peers: [(name: "b", publicKey: "KEY=", allowedIPs: ["10.0.0.2/32", "10.9.0.0/16"], sentBytes: 1234, receivedBytes: 5678,
                 latestHandshake: 1_700_000_000),
                (name: "c", publicKey: "OTHER=", allowedIPs: [], sentBytes: 0, receivedBytes: 0, latestHandshake: nil)],
        childRestarts: [("wireguard-go", 1), ("udp2tcp-b", 0)],
        transports: [(peer: "b", connected: true, reconnects: 3, rotations: 1)],
        reloads: [("applied", 2), ("refused", 1)])

    @Test func theExporterNamesAndLabels() {
        let text = Exposition.render(Self.node.families)
        #expect(text.contains("# TYPE wireguard_sent_bytes_total counter\n"))
        #expect(text.contains("wireguard_sent_bytes_total{interface=\"wg0\",public_key=\"KEY=\",allowed_ips=\"10.0.0.2/32,10.9.0.0/16\",peer=\"b\"} 1234\n"))
        #expect(text.contains("wireguard_received_bytes_total{interface=\"wg0\",public_key=\"KEY=\",allowed_ips=\"10.0.0.2/32,10.9.0.0/16\",peer=\"b\"} 5678\n"))
        #expect(text.contains("# TYPE wireguard_latest_handshake_seconds gauge\n"))
        #expect(text.contains("wireguard_latest_handshake_seconds{interface=\"wg0\",public_key=\"OTHER=\",allowed_ips=\"\",peer=\"c\"} 0\n"))
        #expect(text.contains("vpn_child_restarts_total{child=\"wireguard-go\"} 1\n"))
        #expect(text.contains("vpn_transport_connected{peer=\"b\"} 1\n"))
        #expect(text.contains("vpn_transport_reconnects_total{peer=\"b\"} 3\n"))
        #expect(text.contains("vpn_peer_reloads_total{outcome=\"refused\"} 1\n"))
        #expect(text.contains("node_name=\"node-\\\"a\\\"\""), "label values are escaped")
        #expect(text.hasSuffix("\n"))
    }

    /// Each family once, HELP before TYPE before its samples, every sample line `name{...} value`.
    @Test func theFormatIsWellFormed() {
        let lines = Exposition.render(Self.node.families).split(separator: "\n")
        var seen = Set<String>()
        var current = ""
        for line in lines {
            if line.hasPrefix("# HELP ") {
                current = String(line.split(separator: " ")[2])
                #expect(seen.insert(current).inserted, "\(current) twice")
            } else if line.hasPrefix("# TYPE ") {
                #expect(line.split(separator: " ")[2] == current)
            } else {
                #expect(line.hasPrefix(current + "{") || line.hasPrefix(current + " "), "\(line)")
                #expect(Double(line.split(separator: " ").last!) != nil)
            }
        }
    }

    @Test func aDeviceThatCannotBeReadLeavesItsFamiliesOut() {
        var node = Self.node
        node.peers = nil
        let text = Exposition.render(node.families)
        #expect(text.contains("vpn_device_up{interface=\"wg0\"} 0\n"))
        #expect(!text.contains("wireguard_sent_bytes_total"))
    }
}
