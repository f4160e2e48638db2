import Testing
import UDPOverTCP

/// udp2tcp's and tcp2udp's `host:port` arguments: parsed by the project's one splitter, with
/// Mullvad's udp-over-tcp wording for every refusal.
@Suite struct HostPortTests {
    @Test(arguments: [
        ("1.2.3.4", "missing port in \"1.2.3.4\""),
        ("1.2.3.4:", "bad port \"\" in \"1.2.3.4:\""),
        ("[::1]:", "bad port \"\" in \"[::1]:\""),
        ("[::1", "missing \"]\" in \"[::1\""),
        ("[::1]", "missing port in \"[::1]\""),
        ("::1:80", "IPv6 address in \"::1:80\" must be in brackets, e.g. [::1]:5001"),
        ("[1.2.3.4]:80", "\"1.2.3.4\" in brackets is not an IPv6 address"),
        (":80", "missing host in \":80\""),
        ("1.2.3.4:65536", "bad port \"65536\" in \"1.2.3.4:65536\""),
        ("1.2.3.4:+1", "bad port \"+1\" in \"1.2.3.4:+1\""),
    ])
    func refusals(_ text: String, _ reason: String) {
        #expect(throws: AddressError(reason)) { try HostPort(parsing: text) }
    }

    @Test func accepted() throws {
        #expect(try HostPort(parsing: "[::1]:5001") == HostPort(host: "::1", port: 5001))
        #expect(try HostPort(parsing: "gw.example:443") == HostPort(host: "gw.example", port: 443))
        #expect(try HostPort(parsing: "127.0.0.1:0").port == 0)
        #expect(try HostPort(parsing: "[fd00::1]:80").description == "[fd00::1]:80")
    }
}
