#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemCalls

/// What went wrong in one call to the agent.
public enum AgentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The connection failed or timed out.
    case system(SystemCallError)
    /// The bytes were not an HTTP/1.1 response.
    case protocolViolation(String)
    /// An HTTP status other than 200, with the start of the body.
    case httpStatus(Int, String)
    /// A 200 answer that is not what the API promises.
    case invalidAnswer(String)

    public var description: String {
        switch self {
        case .system(let error): "\(error)"
        case .protocolViolation(let reason): "not an HTTP/1.1 answer: \(reason)"
        case .httpStatus(let status, let body): "HTTP status \(status)" + (body.isEmpty ? "" : ": \(body)")
        case .invalidAnswer(let reason): "unexpected answer: \(reason)"
        }
    }

    /// Whether the agent may simply not be up yet: no socket, or nobody listening.
    var mayBeStarting: Bool {
        guard case .system(let error) = self, error.systemCall == "connect" else { return false }
        return error.errno == ENOENT || error.errno == ECONNREFUSED
    }
}

/// A failed call, naming the endpoint and the method: what a boot failure reports.
public struct GuestAgentError: Error, Equatable, Sendable, CustomStringConvertible {
    public var endpoint: AgentEndpoint
    public var method: String
    public var error: AgentError

    public var description: String { "dstack guest agent \(endpoint) \(method): \(error)" }
}

/// `Info`: who this CVM is.
public struct AgentInfo: Equatable, Sendable {
    /// The app id: every instance of the app shares it (and derives the same keys).
    public var appID: String
    /// This CVM's instance id: what the gateway's `<instance-id>-<port>.<domain>` names.
    public var instanceID: String
    public var appName: String?
}

/// A client of the dstack guest agent's HTTP API (JSON over HTTP/1.1, POST `/<Method>`), as the
/// official SDKs call it. Each call opens its own connection; all calls of one client share one
/// deadline, so a stuck or absent agent costs at most `timeout` seconds in all.
public struct GuestAgent: Sendable {
    public let endpoint: AgentEndpoint
    private let deadline: UInt64

    public init(endpoint: AgentEndpoint, timeout: Double) {
        self.endpoint = endpoint
        deadline = monotonicNanoseconds() + UInt64(max(timeout, 0) * 1e9)
    }

    /// `Info`: the app and instance ids.
    public func info() throws(GuestAgentError) -> AgentInfo {
        let answer = try call("Info", body: "{}")
        guard let appID = answer["app_id"]?.string, !appID.isEmpty,
              let instanceID = answer["instance_id"]?.string, !instanceID.isEmpty else {
            throw GuestAgentError(endpoint: endpoint, method: "Info", error: .invalidAnswer("no app_id and instance_id strings"))
        }
        return AgentInfo(appID: appID, instanceID: instanceID, appName: answer["app_name"]?.string)
    }

    /// `GetKey`: the key the agent derives for `path` (the same for every instance of the app).
    /// `minimumLength` bytes at least, else the answer is refused.
    public func getKey(path: String, purpose: String, algorithm: String = "secp256k1", minimumLength: Int = 32) throws(GuestAgentError) -> [UInt8] {
        let body = "{\"path\":\(jsonString(path)),\"purpose\":\(jsonString(purpose)),\"algorithm\":\(jsonString(algorithm))}"
        let answer = try call("GetKey", body: body)
        let refuse = { (reason: String) in GuestAgentError(endpoint: endpoint, method: "GetKey", error: .invalidAnswer(reason)) }
        guard let hex = answer["key"]?.string else { throw refuse("no key string") }
        guard case .array = answer["signature_chain"] else { throw refuse("no signature_chain array") }
        guard let key = decodeHex(hex) else { throw refuse("key is not hexadecimal") }
        guard key.count >= minimumLength else { throw refuse("key has \(key.count) bytes, fewer than \(minimumLength)") }
        return key
    }

    /// One POST, retried while the agent's socket is absent or refuses (it may be starting),
    /// until the deadline. The answer must be 200 with a JSON object.
    func call(_ method: String, body: String) throws(GuestAgentError) -> JSONValue {
        let request = Array((
            "POST /\(method) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        ).utf8)
        let response: HTTPResponse
        do throws(AgentError) {
            response = try exchangeRetrying(request)
        } catch {
            throw GuestAgentError(endpoint: endpoint, method: method, error: error)
        }
        guard response.status == 200 else {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            throw GuestAgentError(endpoint: endpoint, method: method, error: .httpStatus(response.status, printable(text)))
        }
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue.parse(response.body)
        } catch {
            throw GuestAgentError(endpoint: endpoint, method: method, error: .invalidAnswer("\(error)"))
        }
        guard case .object = value else {
            throw GuestAgentError(endpoint: endpoint, method: method, error: .invalidAnswer("a JSON \(value.typeName), not an object"))
        }
        return value
    }

    private func exchangeRetrying(_ request: [UInt8]) throws(AgentError) -> HTTPResponse {
        while true {
            do throws(AgentError) {
                var parser = HTTPResponseParser()
                return try AgentConnection(endpoint: endpoint, deadline: deadline).exchange(request, parser: &parser)
            } catch where error.mayBeStarting && monotonicNanoseconds() + 200_000_000 < deadline {
                var pause = timespec(tv_sec: 0, tv_nsec: 200_000_000)
                _ = nanosleep(&pause, nil)
            }
        }
    }
}

/// Bytes from hexadecimal text (an even number of digits, optionally after `0x`), or nil.
public func decodeHex(_ text: String) -> [UInt8]? {
    var digits = Array(text.utf8)
    if digits.count >= 2 && digits[0] == UInt8(ascii: "0") && digits[1] | 0x20 == UInt8(ascii: "x") { digits.removeFirst(2) }
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = hexDigit(digits[index]), let low = hexDigit(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}
