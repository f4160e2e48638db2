@testable import Config
import Testing
import VPNLog
import WireGuardModel

/// One value of one variable, on top of `minimalEnvironment` plus `extra`.
struct ValueCase: Sendable, CustomTestStringConvertible {
    var variable: String
    var value: String
    var extra: [String: String?] = [:]

    var testDescription: String { "\(variable)=\(Display.quoted(value))" }

    /// One case per value of `variable`.
    static func each(_ variable: String, _ values: [String]) -> [ValueCase] {
        values.map { ValueCase(variable: variable, value: $0) }
    }
}

/// Good values, each with what it must parse to.
let goodSettingCases: [(ValueCase, @Sendable (VPNConfig) -> Bool)] = [
    (ValueCase(variable: "VPN_DATA_DIR", value: "/var/lib/vpn"), { $0.dataDirectory == "/var/lib/vpn" && $0.privateKey == .file("/var/lib/vpn/privatekey") }),
    (ValueCase(variable: "VPN_DATA_DIR", value: "/data/"), { $0.privateKey == .file("/data/privatekey") }),
    (ValueCase(variable: "WG_INTERFACE", value: "wg-hub.0"), { $0.interfaceName == "wg-hub.0" }),
    (ValueCase(variable: "WG_INTERFACE", value: "a=b+c_d.e-f1234"), { $0.interfaceName == "a=b+c_d.e-f1234" }),
    (ValueCase(variable: "WG_ADDRESS", value: "10.0.0.1/24 , fd00::1/64"), { $0.addresses.map(\.description) == ["10.0.0.1/24", "fd00::1/64"] }),
    (ValueCase(variable: "WG_ADDRESS", value: "10.0.0.7"), { $0.addresses.map(\.description) == ["10.0.0.7/32"] }),
    (ValueCase(variable: "WG_LISTEN_PORT", value: "1"), { $0.listenPort == 1 }),
    (ValueCase(variable: "WG_LISTEN_PORT", value: "65535"), { $0.listenPort == 65535 }),
    (ValueCase(variable: "WG_PRIVATE_KEY_FILE", value: "/run/secrets/wg"), { $0.privateKey == .file("/run/secrets/wg") }),
    (ValueCase(variable: "WG_PRIVATE_KEY", value: Keys.privateKey, extra: ["WG_PRIVATE_KEY_FILE": "/x/key"]), { $0.privateKey == .inline(key(9)) }),
    (ValueCase(variable: "WG_PUBLIC_KEY_EXPORT", value: "/shared/a.pub"), { $0.publicKeyExport == "/shared/a.pub" }),
    (ValueCase(variable: "WG_MTU", value: "576"), { $0.mtu == 576 && $0.effectiveMTU == 576 }),
    (ValueCase(variable: "WG_MTU", value: "1280", extra: ["WG_ADDRESS": "fd00::1/64"]), { $0.mtu == 1280 }),
    (ValueCase(variable: "WG_MTU", value: "65535"), { $0.mtu == 65535 }),
    (ValueCase(variable: "WG_FWMARK", value: "0x1f"), { $0.fwmark == 31 }),
    (ValueCase(variable: "WG_FWMARK", value: "0XFFFFFFFF"), { $0.fwmark == 0xffff_ffff }),
    (ValueCase(variable: "WG_FWMARK", value: "4294967295"), { $0.fwmark == 0xffff_ffff }),
    (ValueCase(variable: "WG_FWMARK", value: "0"), { $0.fwmark == nil }),
    (ValueCase(variable: "WG_FORWARD", value: "OFF"), { $0.forward == false }),
    (ValueCase(variable: "WG_FORWARD", value: "0"), { $0.forward == false }),
    (ValueCase(variable: "WG_FORWARD", value: "no"), { $0.forward == false }),
    (ValueCase(variable: "WG_FORWARD", value: "False"), { $0.forward == false }),
    (ValueCase(variable: "WG_FORWARD", value: "Yes"), { $0.forward }),
    (ValueCase(variable: "WG_FORWARD", value: "on"), { $0.forward }),
    (ValueCase(variable: "WG_FORWARD", value: "1"), { $0.forward }),
    (ValueCase(variable: "WG_FORWARD", value: "TRUE"), { $0.forward }),
    (ValueCase(variable: "WG_MASQUERADE", value: "Off"), { $0.masquerade == .off }),
    (ValueCase(variable: "WG_MASQUERADE", value: "AUTO"), { $0.masquerade == .auto }),
    (ValueCase(variable: "WG_MASQUERADE", value: "eth0, eth1"), { $0.masquerade == .interfaces(["eth0", "eth1"]) }),
    (ValueCase(variable: "WG_IMPLEMENTATION", value: "Kernel"), { $0.implementation == .kernel }),
    (ValueCase(variable: "WG_IMPLEMENTATION", value: "userspace"), { $0.implementation == .userspace }),
    (ValueCase(variable: "WG_IMPLEMENTATION", value: "auto"), { $0.implementation == .auto }),
    (ValueCase(variable: "WG_USERSPACE_BIN", value: "/opt/wg/boringtun"), { $0.userspaceBinary == "/opt/wg/boringtun" }),
    (ValueCase(variable: "WG_TCP_LISTEN", value: "0.0.0.0:443"), { $0.tcpListen?.description == "0.0.0.0:443" && $0.effectiveMTU == MTUChoice.jumboMTU }),
    (ValueCase(variable: "WG_TCP_LISTEN", value: "[::]:8443"), { $0.tcpListen?.description == "[::]:8443" && $0.usesTCPTransport }),
    (ValueCase(variable: "VPN_METRICS_LISTEN", value: "10.0.0.1:9586"), { $0.metricsListen?.description == "10.0.0.1:9586" }),
    (ValueCase(variable: "WG_PEER_KEY_WAIT", value: "0"), { $0.peerKeyWait == 0 }),
    (ValueCase(variable: "WG_PEER_KEY_WAIT", value: "2.5"), { $0.peerKeyWait == 2.5 }),
    (ValueCase(variable: "WG_PEER_KEY_WAIT", value: "86400"), { $0.peerKeyWait == 86400 }),
    (ValueCase(variable: "VPN_SHUTDOWN_GRACE", value: "0.25"), { $0.shutdownGrace == 0.25 }),
    (ValueCase(variable: "VPN_SHUTDOWN_GRACE", value: "3600"), { $0.shutdownGrace == 3600 }),
    (ValueCase(variable: "LOG_LEVEL", value: "DEBUG"), { $0.logLevel == .debug }),
    (ValueCase(variable: "LOG_LEVEL", value: "warn"), { $0.logLevel == .warn }),
    (ValueCase(variable: "LOG_LEVEL", value: "error"), { $0.logLevel == .error }),
]

/// Bad values: each must give exactly one problem, naming its variable.
let badSettingCases: [ValueCase] = [
    ValueCase(variable: "WG_MTU", value: "1279", extra: ["WG_ADDRESS": "10.0.0.1/24,fd00::1/64"]),
]
    + ValueCase.each("VPN_DATA_DIR", ["data", "/da\nta", "/" + String(repeating: "d", count: 5000)])
    + ValueCase.each("WG_INTERFACE", ["wg0wg0wg0wg0wg0x", "wg 0", "wg/0", "wgé", ".."])
    + ValueCase.each("WG_ADDRESS", [
        "10.0.0.1/33", "10.0.0.1/24,", "10.0.0.1/24,10.0.0.1/24", "node-a", "fd00::1/129", "10.0.0.1/+8",
    ])
    + ValueCase.each("WG_LISTEN_PORT", ["0", "65536", "-1", " 51820", "99999999999999999999999"])
    + ValueCase.each("WG_PRIVATE_KEY_FILE", ["privatekey", "/data/"])
    + ValueCase.each("WG_PRIVATE_KEY", [
        Keys.truncated, Keys.privateKey + "A", key(0).base64, "\u{7}" + Keys.privateKey.dropFirst(),
    ])
    + ValueCase.each("WG_PUBLIC_KEY_EXPORT", ["shared/a.pub"])
    + ValueCase.each("WG_MTU", ["575", "65536", "1420.0"])
    + ValueCase.each("WG_FWMARK", ["0x100000000", "4294967296", "0x", "0xfg", "-1"])
    + ValueCase.each("WG_FORWARD", ["maybe", "2"])
    + ValueCase.each("WG_MASQUERADE", ["eth0,,eth1", "eth0,eth0", "a-very-long-interface"])
    + ValueCase.each("WG_IMPLEMENTATION", ["boringtun"])
    + ValueCase.each("WG_USERSPACE_BIN", ["wireguard-go"])
    + ValueCase.each("WG_TCP_LISTEN", ["0.0.0.0", "localhost:443", "::1:443", "0.0.0.0:0", "0.0.0.0:65536", ":443"])
    + ValueCase.each("WG_PEER_KEY_WAIT", ["86400.5", "-1", "1e3", "nan", "1."])
    + ValueCase.each("VPN_SHUTDOWN_GRACE", ["3601", "inf"])
    + ValueCase.each("LOG_LEVEL", ["verbose", "info "])
    + ValueCase.each("VPN_METRICS_LISTEN", ["localhost:9586", "0.0.0.0", ":9586", "0.0.0.0:0"])
    + Setting.allCases.map { ValueCase(variable: $0.rawValue, value: "") }

@Suite struct SettingValueTests {
    @Test func defaults() throws {
        let config = try VPNConfig.parse(environment: minimalEnvironment)
        #expect(config == VPNConfig(addresses: [try IPNetwork(parsing: "10.0.0.1/24")]))
        #expect(config.dataDirectory == "/data" && config.interfaceName == "wg0" && config.listenPort == 51820)
        #expect(config.privateKey == .file("/data/privatekey"))
        #expect(config.effectiveMTU == 1420 && !config.usesTCPTransport && config.mtu == nil)
        #expect(config.forward && config.masquerade == .auto && config.implementation == .auto)
        #expect(config.userspaceBinary == "/usr/bin/wireguard-go" && config.tcpListen == nil)
        #expect(config.peerKeyWait == 60 && config.shutdownGrace == 8 && config.logLevel == .info)
        #expect(config.peers.isEmpty && config.fwmark == nil && config.publicKeyExport == nil)
    }

    @Test(arguments: goodSettingCases)
    func goodValue(_ item: ValueCase, _ check: @Sendable (VPNConfig) -> Bool) throws {
        let env = environment(item.extra).merging([item.variable: item.value]) { $1 }
        let config = try VPNConfig.parse(environment: env)
        #expect(check(config))
    }

    @Test(arguments: badSettingCases)
    func badValue(_ item: ValueCase) {
        let env = environment(item.extra).merging([item.variable: item.value]) { $1 }
        let found = problems(env)
        #expect(found.map(\.variable) == [item.variable], "\(found)")
        for problem in found {
            let line = problem.description
            #expect(line.hasPrefix(item.variable + ": "))
            #expect(!line.contains("\n") && line.utf8.count < 400)
            if item.variable.hasSuffix("_KEY") && !item.value.isEmpty {
                #expect(!line.contains(item.value) && !line.contains(String(item.value.prefix(20))), "\(line)")
            }
        }
    }

    @Test func messagesQuoteTheValue() {
        #expect(problems(environment(["WG_LISTEN_PORT": "70000"])).map(\.description)
            == ["WG_LISTEN_PORT: port \"70000\" is out of range 1-65535"])
        #expect(problems(environment(["WG_INTERFACE": "wg\n0"])).map(\.description)
            == ["WG_INTERFACE: value \"wg\\n0\" contains a control character"])
        #expect(problems(environment(["WG_ADDRESS": "10.0.0.1/24,"])).map(\.description)
            == ["WG_ADDRESS: empty item in list \"10.0.0.1/24,\""])
        #expect(problems(environment(["WG_MTU": ""])).map(\.description)
            == ["WG_MTU: is empty; unset it to use the default"])
        #expect(problems(environment(["WG_PEER_B_ENDPOINT": "node-b"], base: peerB)).map(\.description)
            == ["WG_PEER_B_ENDPOINT: missing port in \"node-b\""])
        #expect(problems(environment(["WG_PRIVATE_KEY": Keys.truncated])).map(\.description)
            == ["WG_PRIVATE_KEY: is not a valid base64 key (44 characters ending in \"=\", as wg genkey prints; value not shown)"])
        #expect(problems(environment(["WG_PEER_B_PRESHARED_KEY": Keys.peerA], base: peerB)).map(\.description)
            == ["WG_PEER_B_PRESHARED_KEY: unknown variable (preshared keys are read from a file: use WG_PEER_B_PRESHARED_KEY_FILE)"])
        // A key pasted into the wrong variable is not echoed either.
        #expect(problems(environment(["WG_INTERFACE": Keys.privateKey])).map(\.description)
            == ["WG_INTERFACE: interface name \"<redacted>\" is longer than 15 characters"])
        #expect(problems(environment(["WG_TCP_LISTEN": "[fd00::1]"])).map(\.description)
            == ["WG_TCP_LISTEN: missing port in \"[fd00::1]\""])
    }

    @Test func hugeAndUnicodeValuesGiveShortMessages() {
        for value in [String(repeating: "x", count: 1 << 20), String(repeating: "é", count: 100),
                      "10.0.0.1/24\u{202e}", "\u{0}", String(repeating: "\u{1F600}", count: 3000)] {
            for setting in Setting.allCases {
                let found = problems(environment([setting.rawValue: value]))
                #expect(found.map(\.variable) == [setting.rawValue])
                for problem in found {
                    let line = problem.description
                    #expect(line.utf8.count < 300 && !line.contains("\n"), "\(line)")
                }
            }
        }
    }

    @Test func missingAddress() {
        let found = problems(["WG_LISTEN_PORT": "51820"])
        #expect(found.map(\.variable) == ["WG_ADDRESS"])
        #expect(found.first?.reason.contains("is required") == true)
    }

    @Test func inlineKeyIsRedactedEverywhere() throws {
        let config = try VPNConfig.parse(environment: environment(["WG_PRIVATE_KEY": Keys.privateKey]))
        #expect(!String(describing: config).contains(Keys.privateKey))
        #expect(!String(reflecting: config).contains(Keys.privateKey))
        #expect(!"\(config.privateKey)".contains(Keys.privateKey))
    }
}
