import Testing
import UDPOverTCP

@Suite("One executable for both tools")
struct MultiCallTests {
    @Test(
        "the tool comes from the program name, else from the first argument",
        arguments: [
            (["udp2tcp", "--udp-listen", "127.0.0.1:1"], MultiCall.Resolution.run(.udp2tcp, arguments: ["--udp-listen", "127.0.0.1:1"])),
            (["/usr/bin/tcp2udp", "--help"], .run(.tcp2udp, arguments: ["--help"])),
            (["./udp2tcp"], .run(.udp2tcp, arguments: [])),
            (["/usr/bin/udp-over-tcp", "tcp2udp", "--version"], .run(.tcp2udp, arguments: ["--version"])),
            (["udp-over-tcp", "udp2tcp"], .run(.udp2tcp, arguments: [])),
            // The program name wins: `udp2tcp tcp2udp` is udp2tcp with a stray argument.
            (["/usr/bin/udp2tcp", "tcp2udp"], .run(.udp2tcp, arguments: ["tcp2udp"])),
            (["udp-over-tcp"], .usage),
            (["udp-over-tcp", "--help"], .usage),
            (["udp-over-tcp", "UDP2TCP"], .usage),
            (["/usr/bin/udp2tcp-old"], .usage),
            (["udp2tcp/"], .usage),
            ([], .usage),
        ] as [([String], MultiCall.Resolution)]
    )
    func resolves(commandLine: [String], expected: MultiCall.Resolution) {
        #expect(MultiCall.resolve(commandLine) == expected)
    }

    @Test("the usage text names both tools")
    func usageNamesTools() {
        for tool in MultiCall.Tool.allCases {
            #expect(MultiCall.usageText.contains(tool.rawValue))
        }
    }
}
