import Testing
@testable import WireGuardModel

@Suite struct AddressTests {
    @Test(arguments: [
        ("10.0.0.1/24", "10.0.0.1/24", "10.0.0.0/24"),
        ("10.0.0.2", "10.0.0.2/32", "10.0.0.2/32"),
        ("0.0.0.0/0", "0.0.0.0/0", "0.0.0.0/0"),
        ("fd00::1/64", "fd00::1/64", "fd00::/64"),
        ("FD00:0:0::1/128", "fd00::1/128", "fd00::1/128"),
        ("10.1.2.3/13", "10.1.2.3/13", "10.0.0.0/13"),
    ])
    func parsesNetworks(text: String, printed: String, masked: String) throws {
        let network = try IPNetwork(parsing: text)
        #expect(network.description == printed)
        #expect(network.masked.description == masked)
    }

    @Test(arguments: [
        ("10.0.0.1/33", "prefix length 33 is out of range 0-32"),
        ("fd00::1/129", "prefix length 129 is out of range 0-128"),
        ("10.0.0.1/", "prefix length \"\" is not a number"),
        ("10.0.0.1/+8", "prefix length \"+8\" is not a number"),
        ("10.0.0/24", "\"10.0.0\" is not an IP address"),
        ("/24", "missing address"),
        ("300.0.0.1/8", "\"300.0.0.1\" is not an IP address"),
    ])
    func rejectsBadNetworks(text: String, reason: String) {
        #expect(throws: ParseError(reason)) { try IPNetwork(parsing: text) }
    }

    @Test func containment() throws {
        let subnet = try IPNetwork(parsing: "10.0.0.1/24")
        #expect(subnet.contains(try IPNetwork(parsing: "10.0.0.2/32")))
        #expect(!subnet.contains(try IPNetwork(parsing: "10.0.1.2/32")))
        #expect(!subnet.contains(try IPNetwork(parsing: "10.0.0.0/16")))
        #expect(!subnet.contains(try IPNetwork(parsing: "fd00::1/128")))
    }

    @Test(arguments: [
        ("node-b:51820", "node-b:51820"),
        ("172.20.0.3:51820", "172.20.0.3:51820"),
        ("[fd00::1]:443", "[fd00::1]:443"),
        ("app-1.gw.example.com:65535", "app-1.gw.example.com:65535"),
    ])
    func parsesEndpoints(text: String, printed: String) throws {
        #expect(try Endpoint(parsing: text).description == printed)
    }

    @Test(arguments: [
        ("node-b", "missing port in \"node-b\""),
        ("node-b:", "missing port in \"node-b:\""),
        (":51820", "missing host in \":51820\""),
        ("fd00::1:51820", "IPv6 address in \"fd00::1:51820\" must be in brackets, e.g. [fd00::1]:51820"),
        ("[fd00::1]", "missing port in \"[fd00::1]\""),
        ("[10.0.0.1]:1", "\"10.0.0.1\" in brackets is not an IPv6 address"),
        ("node-b:70000", "port 70000 is out of range 1-65535"),
        ("node-b:0", "port 0 is not allowed in \"node-b:0\""),
        ("node-b:-1", "port \"-1\" is not a number"),
        ("bad host:1", "\"bad host\" is not a valid host name"),
        ("-lead:1", "\"-lead\" is not a valid host name"),
    ])
    func rejectsBadEndpoints(text: String, reason: String) {
        #expect(throws: ParseError(reason)) { try Endpoint(parsing: text) }
    }
}
