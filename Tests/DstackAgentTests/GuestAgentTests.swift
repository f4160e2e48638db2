#if canImport(Glibc)
import Glibc
#endif
@testable import DstackAgent
import SystemCalls
import Testing

/// A one-thread Unix socket server for one test: each connection gets the next scripted answer,
/// written in the given pieces (an empty list: the connection is held open without an answer).
final class ScriptedAgent: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let answers: [[String]]
    private var thread = pthread_t()
    /// The requests received, one per connection.
    private(set) var requests: [String] = []
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ answers: [[String]]) throws {
        path = "/tmp/dstack-agent-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        self.answers = answers
        pthread_mutex_init(lock, nil)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw SystemCallError.current("bind", path) }
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { context in
            let server = Unmanaged<ScriptedAgent>.fromOpaque(context!).takeRetainedValue()
            server.serve()
            return nil
        }, context)
    }

    private func serve() {
        var held: [Int32] = []
        for pieces in answers {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { break }
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            // Read the head and the Content-Length body the client sends.
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n{") || request.last != UInt8(ascii: "}") {
                let count = read(connection, &buffer, buffer.count)
                if count <= 0 { break }
                request += buffer[0..<count]
            }
            pthread_mutex_lock(lock)
            requests.append(String(decoding: request, as: UTF8.self))
            pthread_mutex_unlock(lock)
            if pieces.isEmpty {
                held.append(connection)
                continue
            }
            for piece in pieces {
                _ = piece.utf8.withContiguousStorageIfAvailable { write(connection, $0.baseAddress, $0.count) }
                usleep(2000)
            }
            close(connection)
        }
        for connection in held { close(connection) }
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        pthread_join(thread, nil)
        unlink(path)
    }

    var received: [String] {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return requests
    }
}

/// A 200 JSON answer with a Content-Length.
func ok(_ json: String) -> [String] {
    ["HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n", json]
}

let infoJSON = #"{"app_id":"a1b2","instance_id":"c3d4","app_name":"vpn","tcb_info":"{}","app_cert":"","device_id":"","key_provider_info":"","compose_hash":""}"#
let keyJSON = #"{"key":"\#(String(repeating: "ab", count: 32))","signature_chain":["00","11"]}"#

@Suite(.serialized) struct GuestAgentTests {
    @Test func infoAndGetKeyOverAUnixSocket() throws {
        let agent = try ScriptedAgent([ok(infoJSON), ok(keyJSON)])
        defer { agent.stop() }
        let client = GuestAgent(endpoint: .unixSocket(agent.path), timeout: 5)
        let info = try client.info()
        #expect(info == AgentInfo(appID: "a1b2", instanceID: "c3d4", appName: "vpn"))
        #expect(try client.getKey(path: "dstack-vpn/wireguard/node-a", purpose: "wireguard") == [UInt8](repeating: 0xAB, count: 32))
        let requests = agent.received
        #expect(requests.count == 2)
        #expect(requests[0].hasPrefix("POST /Info HTTP/1.1\r\nHost: localhost\r\n"))
        #expect(requests[0].hasSuffix("\r\n\r\n{}"))
        #expect(requests[1].hasPrefix("POST /GetKey HTTP/1.1\r\n"))
        #expect(requests[1].contains(#"{"path":"dstack-vpn/wireguard/node-a","purpose":"wireguard","algorithm":"secp256k1"}"#))
        #expect(requests[1].contains("Content-Type: application/json\r\n"))
    }

    @Test func chunkedAnswerInSmallWrites() throws {
        let chunks = ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "10\r\n", String(keyJSON.prefix(16)), "\r\n",
                      String(keyJSON.utf8.count - 16, radix: 16), "\r\n", String(keyJSON.dropFirst(16)), "\r\n0\r\n\r\n"]
        let agent = try ScriptedAgent([chunks])
        defer { agent.stop() }
        #expect(try GuestAgent(endpoint: .unixSocket(agent.path), timeout: 5).getKey(path: "p", purpose: "") .count == 32)
    }

    /// Answers the API does not promise, and the error each must give.
    static let badAnswers: [([String], @Sendable (AgentError) -> Bool)] = [
        (["HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops"], { if case .httpStatus(500, _) = $0 { true } else { false } }),
        (["not http at all\r\n\r\n"], { if case .protocolViolation = $0 { true } else { false } }),
        (ok("{\"key\":"), { if case .invalidAnswer = $0 { true } else { false } }),
        (ok("[1]"), { if case .invalidAnswer = $0 { true } else { false } }),
        (ok(#"{"key":"abab","signature_chain":[]}"#), { $0.description.contains("2 bytes, fewer than 32") }),
        (ok(#"{"key":"zz","signature_chain":[]}"#), { $0.description.contains("not hexadecimal") }),
        (ok(#"{"signature_chain":[]}"#), { $0.description.contains("no key") }),
        (["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}"], { if case .protocolViolation = $0 { true } else { false } }),
    ]

    @Test(arguments: badAnswers)
    func refusesWhatTheAPIDoesNotPromise(_ answer: [String], _ expected: @Sendable (AgentError) -> Bool) throws {
        let agent = try ScriptedAgent([answer])
        defer { agent.stop() }
        do {
            _ = try GuestAgent(endpoint: .unixSocket(agent.path), timeout: 5).getKey(path: "p", purpose: "")
            Issue.record("accepted \(answer)")
        } catch {
            #expect(expected(error.error), "\(error)")
            #expect(error.description.hasPrefix("dstack guest agent \(agent.path) GetKey: "))
        }
    }

    @Test func aHangingAgentFailsAtTheDeadline() throws {
        let agent = try ScriptedAgent([[]])
        defer { agent.stop() }
        let start = monotonicNanoseconds()
        #expect(throws: GuestAgentError.self) { try GuestAgent(endpoint: .unixSocket(agent.path), timeout: 0.5).info() }
        // The bound is the point, not its precision: well under the 10 s a boot allows.
        #expect(monotonicNanoseconds() - start < 5_000_000_000)
    }

    @Test func anAbsentAgentIsRetriedUntilTheDeadline() {
        let path = "/tmp/dstack-agent-test-absent-\(getpid()).sock"
        do {
            _ = try GuestAgent(endpoint: .unixSocket(path), timeout: 0.5).info()
            Issue.record("an absent agent answered")
        } catch {
            guard case .system(let failure) = error.error else { Issue.record("\(error)"); return }
            #expect(failure.systemCall == "connect" && failure.errno == ENOENT)
            #expect(error.description.contains(path))
        }
    }

    @Test func anHTTPEndpointOnLoopback() throws {
        // Nothing listens on this port (bound, never listening): refused, named by its URL.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(fd, $0, length) } }
        withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)
        #expect(throws: GuestAgentError.self) { try GuestAgent(endpoint: .http(host: "127.0.0.1", port: port), timeout: 0.3).info() }
    }
}
