import Config
import Netlink
import SystemCalls
import Testing
import WireGuardModel

/// Inputs the fuzz targets (Fuzz/, docs/FUZZING.md) found to crash or to break a property, kept
/// as unit tests. The same inputs are in Fuzz/regressions/TARGET/, which every fuzz run replays.
@Suite struct FuzzFindingsTests {
    /// A throwaway test key (`wg genkey`), never used for anything else.
    static let key = "iMaGXo0sK9cMUqw6Oc8lV7gESYFKLa3ZLfVo3QiK4l8="

    // MARK: netlink

    /// An `NLMSG_ERROR` whose error field is INT32_MIN: negating it trapped (arithmetic overflow).
    @Test func acknowledgementWithInt32MinError() throws {
        var payload: [UInt8] = []
        payload.appendNative(Int32.min)
        payload += NetlinkMessage(type: 16, flags: .request, sequence: 1).encoded()
        let ack = try NetlinkAcknowledgement(error: NetlinkMessage(type: NetlinkControlType.error.rawValue, flags: .capped,
                                                                   sequence: 1, payload: payload))
        #expect(!ack.isSuccess)
    }

    /// The same value as the status of an `NLMSG_DONE`.
    @Test func doneWithInt32MinStatus() throws {
        var payload: [UInt8] = []
        payload.appendNative(Int32.min)
        let done = try NetlinkAcknowledgement(done: NetlinkMessage(type: NetlinkControlType.done.rawValue, flags: .multipart,
                                                                   sequence: 1, payload: payload))
        #expect(!done.isSuccess)
    }

    // MARK: UAPI

    /// `errno=-2147483648`: making it positive trapped.
    @Test func uapiErrnoInt32Min() {
        #expect(throws: SystemCallError.self) { try UAPI.checkSetResponse("errno=-2147483648\n\n", interfaceName: "wg0") }
        #expect(throws: SystemCallError.self) { try UAPI.parseGetResponse("errno=-2147483648\n\n", interfaceName: "wg0") }
    }

    /// A response cut short inside the private key line: the error quoted most of the key.
    @Test(arguments: ["private_key", "preshared_key"])
    func uapiBadSecretLineIsNotQuoted(key: String) throws {
        let truncated = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba5202"
        let peer = key == "preshared_key" ? "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n" : ""
        let error = try #require(throws: SystemCallError.self) {
            try UAPI.parseGetResponse("\(peer)\(key)=\(truncated)\nerrno=0\n\n", interfaceName: "wg0")
        }
        #expect(error.detail.contains("bad \(key)"))
        #expect(!error.description.contains(truncated.prefix(16)))
    }

    // MARK: values accepted that should not be

    /// `10.0.0.2/-0` read as `10.0.0.2/0`: a stray minus turned a host route into a default
    /// route (`WG_PEER_B_ALLOWED_IPS=10.0.0.2/-0` sent all IPv4 traffic to the peer). Found by
    /// the bad-environment matrix of scripts/test-robustness.
    @Test(arguments: ["10.0.0.2/-0", "fd00::2/-0", "10.0.0.2/-00", "10.0.0.2/ 24", "10.0.0.2/24 ", "10.0.0.2/２４"])
    func prefixLengthIsDigitsOnly(text: String) {
        #expect(throws: ParseError.self) { try IPNetwork(parsing: text) }
    }

    @Test func negativeZeroPrefixInTheEnvironmentIsAnError() throws {
        let errors = try #require(throws: ConfigErrors.self) {
            try VPNConfig.parse(environment: ["WG_ADDRESS": "10.0.0.1/24", "WG_PEER_B_PUBLIC_KEY": "qKNxSoANVFm3YblEC+2Rik39oUxCrlM7ZRzxHe0ATCY=",
                                              "WG_PEER_B_ALLOWED_IPS": "10.0.0.2/-0"])
        }
        #expect(errors.variables == ["WG_PEER_B_ALLOWED_IPS"])
    }

    // MARK: environment and wg-quick messages

    /// `WG_PRIVATE_KEY:KEY` (a colon for `=`) is a variable named `WG_PRIVATE_KEY:<43 characters
    /// of the key>` with an empty value; the unknown-variable message printed that name whole.
    @Test func keyInAVariableNameIsRedacted() throws {
        let name = "WG_PRIVATE_KEY:" + Self.key.dropLast()
        let errors = try #require(throws: ConfigErrors.self) {
            try VPNConfig.parse(environment: ["WG_ADDRESS": "10.0.0.1/24", name: ""])
        }
        #expect(errors.variables == [name])
        #expect(!errors.description.contains(Self.key.prefix(20)))
        #expect(errors.description.contains("<redacted>"))
    }

    /// A key pasted alone on a line of a wg-quick file reads as an unknown key named by the
    /// key's first 43 characters, and the message printed it.
    @Test func keyAloneOnAWgQuickLineIsRedacted() throws {
        let errors = try #require(throws: ConfigFileErrors.self) {
            try WireGuardQuickConfig.parse("[Interface]\nPrivateKey = \(Self.key)\n\(Self.key)\n", file: "wg0.conf")
        }
        #expect(errors.problems.map(\.line) == [3])
        #expect(!errors.description.contains(Self.key.prefix(20)))
    }

    /// `Address` (or `AllowedIPs`) naming one network on two lines parsed, but the rendered file
    /// lists them on one line, where a repeat is an error: parse(render(c)) failed.
    @Test(arguments: [
        "[Interface]\nPrivateKey = \(key)\nAddress = 10.0.0.1/24\nAddress = 10.0.0.1/24\n",
        "[Interface]\nPrivateKey = \(key)\n[Peer]\nPublicKey = qKNxSoANVFm3YblEC+2Rik39oUxCrlM7ZRzxHe0ATCY=\n"
            + "AllowedIPs = 10.0.0.0/24, fd00::/64\nAllowedIPs = fd00::/64\n",
    ])
    func networkRepeatedOnTwoLines(text: String) throws {
        let errors = try #require(throws: ConfigFileErrors.self) { try WireGuardQuickConfig.parse(text, file: "wg0.conf") }
        #expect(errors.problems.count == 1)
        #expect(errors.description.contains("is listed twice"))
    }
}
