// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for dstack-vpn's parsers and decoders (docs/FUZZING.md). Each target is one
// folder Targets/NAME holding a main.swift that hands its test function to `runFuzzer`, built
// as the executable `fuzz-NAME`; adding a target is that file plus its NAME in this list.
// Build with scripts/fuzz, which passes `-sanitize=fuzzer,address` (libFuzzer itself).
let fuzzTargets = ["environment", "wg-quick", "netlink", "uapi"]

let core = Target.Dependency.product(name: "DstackVPNCore", package: "dstack-vpn")

let package = Package(
    name: "dstack-vpn-fuzz",
    dependencies: [.package(name: "dstack-vpn", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver", core]),
    ] + fuzzTargets.map { name in
        .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzSupport", core], path: "Targets/\(name)")
    },
    swiftLanguageModes: [.v6]
)
