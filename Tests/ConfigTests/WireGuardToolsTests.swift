@testable import Config
import Foundation
import Testing
import WireGuardModel

/// Rendered files fed to the real wireguard-tools (Debian's `wireguard-tools`, `wireguard-go`).
@Suite(.serialized) struct WireGuardToolsTests {
    static let isRoot = getuid() == 0
    static let hasWgQuick = FileManager.default.isExecutableFile(atPath: "/usr/bin/wg-quick")
    static let hasUserspaceDevice = FileManager.default.isExecutableFile(atPath: "/usr/bin/wg")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/wireguard-go")
        && FileManager.default.fileExists(atPath: "/dev/net/tun")

    /// Runs a program to completion; its standard output, standard error and exit status.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// A private directory for config files, removed afterwards.
    static func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let directory = NSTemporaryDirectory() + "vpncfg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try body(directory)
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    @Test(.enabled(if: hasWgQuick, "wg-quick is not installed (apt-get install wireguard-tools)"),
          .enabled(if: isRoot, "wg-quick strip re-runs itself through sudo unless run as root"))
    func wgQuickStripAcceptsRenderedFiles() throws {
        var random = SplitMix64(seed: 0xa11ce)
        try Self.withDirectory { directory in
            for index in 0..<20 {
                let config = random.quickConfig()
                let path = directory + "/wgt\(index).conf"
                try Self.write(config.render(), to: path)
                let result = try Self.run(["/usr/bin/wg-quick", "strip", path])
                #expect(result.status == 0, "wg-quick strip: \(result.error)")
                // strip drops exactly the wg-quick-only keys and keeps everything else verbatim.
                let expected = config.render().split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.hasPrefix("Address = ") && !$0.hasPrefix("MTU = ") }.joined(separator: "\n")
                #expect(result.output == expected + "\n")
                var stripped = config
                stripped.interface.addresses = []
                stripped.interface.mtu = nil
                #expect(try WireGuardQuickConfig.parse(result.output, file: path) == stripped)
            }
        }
    }

    @Test(.enabled(if: hasWgQuick && hasUserspaceDevice, "wireguard-tools, wireguard-go or /dev/net/tun is missing"),
          .enabled(if: isRoot, "needs root for a network namespace"))
    func wgSetconfAppliesStrippedFiles() throws {
        let suffix = UInt32.random(in: 10000...99999)
        let namespace = "vpncfg-test-\(suffix)"
        let interface = "wgcfg\(suffix)"
        // The namespace has no routes, so a keepalive can never leave it.
        #expect(try Self.run(["/usr/bin/ip", "netns", "add", namespace]).status == 0)
        defer {
            _ = try? Self.run(["/usr/bin/ip", "netns", "exec", namespace, "/usr/bin/ip", "link", "del", interface])
            _ = try? Self.run(["/usr/bin/ip", "netns", "del", namespace])
        }
        let inNamespace = ["/usr/bin/ip", "netns", "exec", namespace]
        // wireguard-go in the foreground, as our child: when it daemonizes, its child keeps
        // the output pipes open and nothing ever reads their end.
        let device = Process()
        device.executableURL = URL(fileURLWithPath: inNamespace[0])
        device.arguments = Array(inNamespace.dropFirst()) + ["/usr/bin/wireguard-go", "-f", interface]
        device.standardInput = FileHandle.nullDevice
        device.standardOutput = FileHandle.nullDevice
        device.standardError = FileHandle.nullDevice
        try device.run()
        defer {
            device.terminate()
            device.waitUntilExit()
        }
        let socket = "/var/run/wireguard/\(interface).sock"
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(50_000) }
        try #require(FileManager.default.fileExists(atPath: socket), "wireguard-go did not create \(socket)")

        var random = SplitMix64(seed: 0xb0b)
        try Self.withDirectory { directory in
            for index in 0..<10 {
                var config = random.quickConfig()
                // wg resolves names when it reads the file: use literal documentation addresses only.
                for peer in config.peers.indices where config.peers[peer].endpoint != nil {
                    let host: IPAddress = random.chance(0.5) ? .v4([192, 0, 2, UInt8(index)]) : IPAddress("2001:db8::\(index + 1)")!
                    config.peers[peer].endpoint = Endpoint(host: .address(host), port: UInt16(51820 + index))
                }
                // wg gives a network to the last peer that lists it: keep each network on one peer.
                var taken = Set<IPNetwork>()
                for peer in config.peers.indices {
                    config.peers[peer].allowedIPs.removeAll { !taken.insert($0.masked).inserted }
                }
                let path = directory + "/\(interface).conf"
                try Self.write(config.render(), to: path)
                let stripped = try Self.run(["/usr/bin/wg-quick", "strip", path])
                try #require(stripped.status == 0, "\(stripped.error)")
                try Self.write(stripped.output, to: path)
                let set = try Self.run(inNamespace + ["/usr/bin/wg", "setconf", interface, path])
                #expect(set.status == 0, "wg setconf: \(set.error)")
                let shown = try Self.run(inNamespace + ["/usr/bin/wg", "showconf", interface])
                try #require(shown.status == 0, "\(shown.error)")
                let applied = try WireGuardQuickConfig.parse(shown.output, file: "wg showconf")
                // wg stores the private key clamped (RFC 7748), which leaves its public key as is.
                #expect(applied.interface.privateKey.publicKey() == config.interface.privateKey.publicKey())
                #expect(applied.interface.fwmark == config.interface.fwmark)
                if let port = config.interface.listenPort, port != 0 { #expect(applied.interface.listenPort == port) }
                #expect(Self.summary(applied.peers) == Self.summary(config.peers), "case \(index)")
            }
        }
    }

    /// Peers as wg reports them: unordered, allowed IPs masked and unordered, no names.
    static func summary(_ peers: [WireGuardQuickConfig.Peer]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: peers.map { peer in
            let networks = Set(peer.allowedIPs.map(\.masked)).map(\.description).sorted().joined(separator: ",")
            let value = "\(peer.presharedKey?.base64 ?? "-") \(networks) \(peer.endpoint?.description ?? "-") \(peer.persistentKeepalive ?? 0)"
            return (peer.publicKey.base64, value)
        })
    }
}
