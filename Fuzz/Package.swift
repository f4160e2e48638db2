// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for dstack-vpn's parsers and decoders (docs/FUZZING.md). Each target is one
// folder Targets/NAME holding a main.swift that hands its test function to `runFuzzer`, built
// as the executable `fuzz-NAME`; adding a target is that file plus its line below.
// Build with scripts/fuzz, which passes `-sanitize=fuzzer,address` (libFuzzer itself).

let core = Target.Dependency.product(name: "DstackVPNCore", package: "dstack-vpn")

/// The targets, each with what it needs beyond FuzzSupport and the core library.
let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
    ("environment", []),
    ("wg-quick", []),
    ("netlink", []),
    ("uapi", []),
    ("udp-over-tcp-framing", [.product(name: "NIOCore", package: "swift-nio")]),
    ("proxy-protocol", []),
    ("guest-agent", []),
    ("metrics-request", []),
]

let package = Package(
    name: "dstack-vpn-fuzz",
    dependencies: [
        .package(name: "dstack-vpn", path: ".."),
        // Only NIOCore is built: the wire formats (UDPOverTCPWire) need nothing else of NIO.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver", core]),
    ] + fuzzTargets.map { target in
        .executableTarget(name: "fuzz-\(target.name)", dependencies: ["FuzzSupport", core] + target.dependencies,
                          path: "Targets/\(target.name)")
    },
    swiftLanguageModes: [.v6]
)
