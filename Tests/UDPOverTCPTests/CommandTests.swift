import NIOCore
import Testing
import UDPOverTCP

private func address(_ text: String) -> SocketAddress {
    try! parseSocketAddress(text)
}

private struct NotARun: Error {}

private func udp2tcp(_ arguments: [String]) throws -> Udp2TcpConfiguration {
    guard case .run(let configuration) = try Udp2TcpCommand.parse(arguments) else { throw NotARun() }
    return configuration
}

private func tcp2udp(_ arguments: [String]) throws -> Tcp2UdpConfiguration {
    guard case .run(let configuration) = try Tcp2UdpCommand.parse(arguments) else { throw NotARun() }
    return configuration
}

@Suite("Command line")
struct CommandTests {
    @Test("udp2tcp takes Mullvad's flags")
    func udp2tcpMullvadFlags() throws {
        let configuration = try udp2tcp([
            "--udp-listen", "127.0.0.1:51820", "--tcp-forward", "192.0.2.1:443", "--recv-buffer", "65536", "--send-buffer", "131072",
            "--tcp-recv-timeout", "30", "--fwmark", "51820", "--nodelay",
        ])
        #expect(configuration.udpListen == address("127.0.0.1:51820"))
        #expect(configuration.tcpForward == HostPort(host: "192.0.2.1", port: 443))
        #expect(configuration.tls == nil)
        #expect(configuration.threads == 1)
        #expect(
            configuration.socket
                == SocketSettings(tcpReceiveBuffer: 65536, tcpSendBuffer: 131072, tcpReceiveTimeout: .seconds(30), fwmark: 51820, noDelay: true)
        )
    }

    @Test("tcp2udp takes Mullvad's flags, --tcp-listen repeated")
    func tcp2udpMullvadFlags() throws {
        let configuration = try tcp2udp([
            "--threads", "2", "--tcp-listen", "0.0.0.0:5001", "--tcp-listen", "[::]:5001", "--udp-forward", "127.0.0.1:51820",
            "--udp-bind", "127.0.0.1", "--nodelay", "--fwmark", "0xca6c",
        ])
        #expect(configuration.tcpListen == [address("0.0.0.0:5001"), address("[::]:5001")])
        #expect(configuration.udpForward == address("127.0.0.1:51820"))
        #expect(configuration.udpBind == (try SocketAddress(ipAddress: "127.0.0.1", port: 0)))
        #expect(configuration.threads == 2)
        #expect(configuration.socket.fwmark == 0xCA6C)
        #expect(configuration.maxConnections == 1024)
        #expect(!configuration.proxyProtocol)
        #expect(configuration.tls == nil)
    }

    @Test("the extensions parse")
    func extensions() throws {
        let client = try udp2tcp([
            "--udp-listen", "[::1]:51821", "--tcp-forward", "gateway.example:443", "--tls", "--tls-sni", "app-51820.gw.test",
            "--tls-ca-file", "/etc/ca.pem",
        ])
        #expect(client.tls == ClientTLSSettings(serverName: "app-51820.gw.test", caFile: "/etc/ca.pem"))
        #expect(client.tcpForward == HostPort(host: "gateway.example", port: 443))

        let defaultName = try udp2tcp(["--udp-listen=127.0.0.1:1", "--tcp-forward=gw.example:443", "--tls"])
        #expect(defaultName.tls == ClientTLSSettings(serverName: "gw.example"))

        let server = try tcp2udp([
            "--tcp-listen", "127.0.0.1:5001", "--udp-forward", "[::1]:51820", "--tls-cert", "c.pem", "--tls-key", "k.pem",
            "--proxy-protocol", "--max-connections", "10",
        ])
        #expect(server.tls == ServerTLSSettings(certificateFile: "c.pem", keyFile: "k.pem"))
        #expect(server.proxyProtocol)
        #expect(server.maxConnections == 10)
        #expect(server.udpBind == nil)
    }

    @Test("--tcp-connection-lifetime: seconds; 0 or absent means never")
    func connectionLifetime() throws {
        let base = ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:2"]
        #expect(try udp2tcp(base).rotation == nil)
        #expect(try udp2tcp(base + ["--tcp-connection-lifetime", "0"]).rotation == nil)
        let rotating = try udp2tcp(base + ["--tcp-connection-lifetime=14400"])
        #expect(rotating.rotation == RotationPolicy(lifetime: .seconds(14400)))
        #expect(rotating.rotation?.openNextAfter == .seconds(14340))
    }

    @Test("bad udp2tcp command lines are refused", arguments: [
        ["--tcp-forward", "127.0.0.1:5001"],
        ["--udp-listen", "127.0.0.1:51820"],
        ["--udp-listen", "127.0.0.1", "--tcp-forward", "127.0.0.1:5001"],
        ["--udp-listen", "localhost:51820", "--tcp-forward", "127.0.0.1:5001"],
        ["--udp-listen", "::1:51820", "--tcp-forward", "127.0.0.1:5001"],
        ["--udp-listen", "127.0.0.1:65536", "--tcp-forward", "127.0.0.1:5001"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:0"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--tls"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--tls-sni", "x.example"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--threads", "0"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--fwmark", "-1"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--tcp-recv-timeout", "0"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--bogus"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "stray"],
        ["--udp-listen", "127.0.0.1:1", "--udp-listen", "127.0.0.1:2", "--tcp-forward", "127.0.0.1:5001"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--nodelay=yes"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--tcp-connection-lifetime", "-1"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--tcp-connection-lifetime", "1.5"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--tcp-connection-lifetime", "4294967296"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--tcp-connection-lifetime"],
        // 0-2 are the standard streams; 999 is not open in the test process.
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--status-fd", "2"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--status-fd", "999"],
        ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:5001", "--status-fd", "x"],
    ])
    func badUdp2tcp(arguments: [String]) {
        #expect(throws: UsageError.self) { try Udp2TcpCommand.parse(arguments) }
    }

    @Test("bad tcp2udp command lines are refused", arguments: [
        ["--udp-forward", "127.0.0.1:51820"],
        ["--tcp-listen", "127.0.0.1:5001"],
        ["--tcp-listen", "127.0.0.1:5001", "--udp-forward", "127.0.0.1:0"],
        ["--tcp-listen", "127.0.0.1:5001", "--udp-forward", "wg.example:51820"],
        ["--tcp-listen", "127.0.0.1:5001", "--udp-forward", "127.0.0.1:51820", "--udp-bind", "::1"],
        ["--tcp-listen", "127.0.0.1:5001", "--udp-forward", "127.0.0.1:51820", "--udp-bind", "127.0.0.1:9"],
        ["--tcp-listen", "127.0.0.1:5001", "--udp-forward", "127.0.0.1:51820", "--tls-cert", "c.pem"],
        ["--tcp-listen", "127.0.0.1:5001", "--udp-forward", "127.0.0.1:51820", "--max-connections", "0"],
        ["--tcp-listen", "127.0.0.1:5001", "--udp-forward", "127.0.0.1:51820", "--threads", "256"],
    ])
    func badTcp2udp(arguments: [String]) {
        #expect(throws: UsageError.self) { try Tcp2UdpCommand.parse(arguments) }
    }

    @Test("--help and --version win over everything else")
    func helpAndVersion() throws {
        guard case .help = try Udp2TcpCommand.parse(["--help"]) else { Issue.record("--help"); return }
        guard case .help = try Tcp2UdpCommand.parse(["--tcp-listen", "127.0.0.1:1", "-h"]) else { Issue.record("-h"); return }
        guard case .version = try Tcp2UdpCommand.parse(["--version"]) else { Issue.record("--version"); return }
        guard case .version = try Udp2TcpCommand.parse(["-V"]) else { Issue.record("-V"); return }
    }

    @Test("the error names the flag", arguments: [
        (["--udp-listen", "127.0.0.1:1"], "--tcp-forward is required"),
        (["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:2", "--threads", "0"], "--threads: \"0\" is not a number in 1-255"),
        (["--udp-listen", "127.0.0.1", "--tcp-forward", "127.0.0.1:2"], "--udp-listen: missing port in \"127.0.0.1\""),
        (["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:2", "--frobnicate"], "unknown flag --frobnicate"),
        (
            ["--udp-listen", "127.0.0.1:1", "--tcp-forward", "127.0.0.1:2", "--tcp-connection-lifetime", "5h"],
            "--tcp-connection-lifetime: \"5h\" is not a number in 0-4294967295"
        ),
    ])
    func errorText(arguments: [String], message: String) {
        #expect(throws: UsageError(message)) { try Udp2TcpCommand.parse(arguments) }
    }

    @Test("host:port parsing", arguments: [
        ("1.2.3.4:80", HostPort(host: "1.2.3.4", port: 80)),
        ("[fd00::1]:51820", HostPort(host: "fd00::1", port: 51820)),
        ("app-51820.gw.test:443", HostPort(host: "app-51820.gw.test", port: 443)),
        ("0.0.0.0:0", HostPort(host: "0.0.0.0", port: 0)),
    ])
    func hostPort(text: String, expected: HostPort) throws {
        let parsed = try HostPort(parsing: text)
        #expect(parsed == expected)
        #expect(parsed.description == text)
    }
}
