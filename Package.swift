// swift-tools-version:6.1
import PackageDescription

/// Linker flags for every executable: the C++ library (the Swift runtime's) and libgcc linked in
/// statically, so a start maps and resolves neither libstdc++.so nor libgcc_s.so
/// (build-support/static-libstdc++ says how).
let staticCxxLibrary = [
    "-L\(Context.packageDirectory)/build-support/static-libstdc++", "-Xclang-linker", "-static-libgcc",
]

let package = Package(
    name: "dstack-vpn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vpn-init", targets: ["vpn-init"]),
        .executable(name: "udp2tcp", targets: ["udp2tcp"]),
        .executable(name: "tcp2udp", targets: ["tcp2udp"]),
        // What the fuzz targets in Fuzz/ (a separate package that depends on this one) feed: the
        // parsers and decoders, and the netlink layers over a fake transport.
        .library(name: "DstackVPNCore", targets: [
            "Config", "WireGuardModel", "WireGuard", "FirewallRules", "Netlink", "NetlinkSocket", "SystemCalls", "VPNLog",
            "UDPOverTCPWire", "DstackAgent", "Metrics",
        ]),
        // Both tools in one file for the image (udp2tcp and tcp2udp link to it).
        .executable(name: "udp-over-tcp", targets: ["udp-over-tcp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // C and system libraries.
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        // X25519 for WireGuard public keys (README, "Keys"), linked from Debian's static archive
        // (its module map links `-l:libsodium.a`): the image needs no libsodium.so.
        .systemLibrary(name: "CSodium", providers: [.apt(["libsodium-dev"])]),
        .target(name: "CSupervisor"),
        .target(name: "CSystemShims"),
        .target(name: "CUDPOverTCP"),

        // Pure libraries: values, parsers and encodings; no descriptor, no global state, so no
        // root and no kernel to build or test them.
        .target(name: "VPNLog"),
        // Netlink messages and attributes; the framing of rtnetlink, generic netlink and nfnetlink;
        // the kernel numbers this project uses, in one file.
        .target(name: "Netlink"),
        // The one `host:port` splitter (endpoints and udp2tcp's arguments).
        .target(name: "HostPort"),
        // The metrics listener's HTTP request parsing and the Prometheus text format.
        .target(name: "Metrics"),
        // WireGuard's values: keys (X25519 by libsodium; generation reads getrandom), addresses,
        // endpoints, interface names, the device model and its UAPI and generic-netlink
        // encodings, the routes a device needs.
        .target(name: "WireGuardModel", dependencies: ["HostPort", "SystemCalls", "CSystemShims", "Netlink", "CSodium"]),
        // nf_tables batches and expressions, byte-identical to nft's, and vpn-init's ruleset.
        .target(name: "FirewallRules", dependencies: ["Netlink", "WireGuardModel"]),
        // The environment contract, the MTU rule, wg-quick rendering, the key store's rules
        // (its file access goes through SystemCalls), exit codes.
        .target(name: "Config", dependencies: ["WireGuardModel", "SystemCalls", "VPNLog", "DstackAgent"]),

        // System layers: each wraps one kind of system access.
        // Files, errno, argv, process hardening.
        .target(name: "SystemCalls", dependencies: ["CSystemShims"]),
        // Netlink sockets (libmnl) and the one request loop every family uses.
        .target(name: "NetlinkSocket", dependencies: ["CMnl", "Netlink", "SystemCalls"]),
        // rtnetlink links, addresses and routes; TUN devices; the WireGuard backends (kernel over
        // generic netlink, wireguard-go over its UAPI socket).
        .target(name: "WireGuard", dependencies: ["WireGuardModel", "SystemCalls", "CSystemShims", "Netlink", "NetlinkSocket"]),
        // nf_tables transactions, default routes, sysctls.
        .target(name: "Firewall", dependencies: ["FirewallRules", "Netlink", "NetlinkSocket", "SystemCalls", "WireGuardModel"]),
        // The dstack guest agent's client: JSON over HTTP/1.1 on a Unix socket (or http://host:port).
        .target(name: "DstackAgent", dependencies: ["SystemCalls", "VPNLog"]),
        // PID 1's loop: children, reaping, signals, timers, the shutdown order.
        .target(name: "Supervisor", dependencies: ["CSupervisor", "CSystemShims", "SystemCalls", "VPNLog"]),
        // The udp-over-tcp wire formats alone (framing, PROXY headers): NIOCore and nothing else.
        .target(name: "UDPOverTCPWire", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "UDPOverTCP", dependencies: [
            "UDPOverTCPWire", "HostPort", "VPNLog", "SystemCalls", "CUDPOverTCP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // The node's boot and teardown: configuration, keys, the WireGuard interface, the TCP
        // transport's helpers, forwarding and the firewall, each undone in reverse order. Every
        // kernel object and process comes through `NodeSystem` and `BootHost`, so tests drive
        // the whole sequence against a fake kernel (Tests/NodeBootTests).
        .target(name: "NodeBoot", dependencies: [
            "Config", "WireGuardModel", "WireGuard", "FirewallRules", "Firewall", "Supervisor", "VPNLog", "SystemCalls",
            "DstackAgent", "Netlink", "NetlinkSocket", "Metrics",
        ]),
        // Thin executables.
        .executableTarget(
            name: "vpn-init",
            dependencies: ["NodeBoot", "Config", "WireGuardModel", "WireGuard", "Supervisor", "VPNLog", "SystemCalls", "DstackAgent"],
            // A position-independent executable (the toolchain's default), so PID 1's own image is
            // randomised like its libraries, stack and heap. `-no-pie` would spare the loader its
            // relative relocations at every start; BENCHMARKS.md measures what that saves
            // (scripts/bench's vpn-init-nopie), and scripts/test-cli checks the build is PIE.
            linkerSettings: [.unsafeFlags(staticCxxLibrary)]
        ),
        .executableTarget(name: "udp2tcp", dependencies: ["UDPOverTCP"], linkerSettings: [.unsafeFlags(staticCxxLibrary)]),
        .executableTarget(name: "tcp2udp", dependencies: ["UDPOverTCP"], linkerSettings: [.unsafeFlags(staticCxxLibrary)]),
        .executableTarget(
            name: "udp-over-tcp", dependencies: ["UDPOverTCP"],
            // Swift's static-stdlib link exports every symbol dynamically; nothing dlsyms them,
            // and exported symbols are roots --gc-sections must keep (1.6 MB of the image).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"] + staticCxxLibrary)]
        ),

        // Fixture loader, a scripted fake kernel, and a fake network of links and WireGuard
        // devices, shared by the netlink, WireGuard and boot tests.
        .target(name: "NetlinkTestSupport", dependencies: ["Netlink", "NetlinkSocket", "SystemCalls", "SeededRandom", "WireGuardModel"],
                path: "Tests/NetlinkTestSupport"),
        // The seeded generator every property test uses.
        .target(name: "SeededRandom", path: "Tests/SeededRandom"),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "NetlinkSocket", "NetlinkTestSupport", "SeededRandom", "SystemCalls"]),
        .testTarget(name: "WireGuardTests", dependencies: [
            "WireGuardModel", "WireGuard", "Netlink", "NetlinkSocket", "NetlinkTestSupport", "SeededRandom", "SystemCalls",
            // Cross-checks libsodium's X25519 against swift-crypto's (BoringSSL's).
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "VPNLogTests", dependencies: ["VPNLog"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "WireGuardModel", "VPNLog", "SystemCalls", "SeededRandom"]),
        .testTarget(name: "DstackAgentTests", dependencies: ["DstackAgent", "SeededRandom", "SystemCalls", "VPNLog"]),
        .testTarget(name: "KeyStoreTests", dependencies: ["Config", "WireGuardModel", "SystemCalls"]),
        .testTarget(name: "FirewallTests", dependencies: [
            "FirewallRules", "Firewall", "Netlink", "NetlinkSocket", "NetlinkTestSupport", "SeededRandom", "SystemCalls", "WireGuardModel",
        ]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor", "CSupervisor", "SeededRandom"]),
        .testTarget(name: "NodeBootTests", dependencies: [
            "NodeBoot", "Config", "FirewallRules", "Firewall", "Netlink", "NetlinkSocket", "NetlinkTestSupport", "SeededRandom",
            "Supervisor", "SystemCalls", "VPNLog", "WireGuardModel", "WireGuard",
        ]),
        .testTarget(name: "UDPOverTCPTests", dependencies: [
            "UDPOverTCP", "UDPOverTCPWire", "HostPort", "SeededRandom",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        // Inputs found by the fuzz targets in Fuzz/ (docs/FUZZING.md).
        .testTarget(name: "RegressionTests", dependencies: ["Config", "Netlink", "SystemCalls", "WireGuardModel"]),
    ],
    swiftLanguageModes: [.v6]
)
