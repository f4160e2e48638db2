// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "dstack-vpn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vpn-init", targets: ["vpn-init"]),
        // The pure core, for the fuzz targets in Fuzz/ (a separate package that depends on this one).
        .library(name: "DstackVPNCore", targets: ["Config", "WireGuard", "Netlink", "NetlinkSocket", "SystemCalls", "VPNLog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
    ],
    targets: [
        // C and system libraries.
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        .target(name: "CSupervisor"),
        .target(name: "CSystemShims"),

        // Pure libraries: no root, no kernel needed to build or test them.
        .target(name: "SystemCalls", dependencies: ["CSystemShims"]),
        .target(name: "VPNLog"),
        .target(name: "Netlink"),
        .target(name: "NetlinkSocket", dependencies: ["CMnl", "Netlink", "SystemCalls"]),
        .target(name: "WireGuard", dependencies: [
            "SystemCalls", "CSystemShims", "Netlink", "NetlinkSocket",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Config", dependencies: ["WireGuard", "SystemCalls", "VPNLog"]),
        .target(name: "Supervisor", dependencies: ["CSupervisor", "CSystemShims", "SystemCalls", "VPNLog"]),

        // Thin executables.
        .executableTarget(
            name: "vpn-init",
            dependencies: ["Config", "WireGuard", "Supervisor", "VPNLog", "SystemCalls"]
        ),

        // Fixture loader and a scripted fake kernel shared by the netlink tests.
        .target(name: "NetlinkTestSupport", dependencies: ["Netlink", "NetlinkSocket", "SystemCalls"],
                path: "Tests/NetlinkTestSupport"),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "NetlinkSocket", "NetlinkTestSupport", "SystemCalls"]),
        .testTarget(name: "WireGuardTests", dependencies: [
            "WireGuard", "Netlink", "NetlinkSocket", "NetlinkTestSupport", "SystemCalls",
        ]),
        .testTarget(name: "VPNLogTests", dependencies: ["VPNLog"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "WireGuard", "VPNLog", "SystemCalls"]),
        .testTarget(name: "KeyStoreTests", dependencies: ["Config", "WireGuard", "SystemCalls"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor", "CSupervisor"]),
        // Inputs found by the fuzz targets in Fuzz/ (docs/FUZZING.md).
        .testTarget(name: "RegressionTests", dependencies: ["Config", "Netlink", "SystemCalls", "WireGuard"]),
    ],
    swiftLanguageModes: [.v6]
)
