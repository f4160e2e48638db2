// swift-tools-version:6.1
import PackageDescription

// Release binaries carry the Swift runtime statically, so the image needs only glibc and libmnl.
let staticStdlib: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]

let package = Package(
    name: "dstack-vpn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vpn-init", targets: ["vpn-init"]),
        .executable(name: "udp2tcp", targets: ["udp2tcp"]),
        .executable(name: "tcp2udp", targets: ["tcp2udp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // C and system libraries.
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        .target(name: "CSupervisor"),
        .target(name: "CSystemShims"),

        // Pure libraries: no root, no kernel needed to build or test them.
        .target(name: "SystemCalls", dependencies: ["CSystemShims"]),
        .target(name: "VPNLog"),
        .target(name: "WireGuard", dependencies: [
            "SystemCalls", "CSystemShims",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Config", dependencies: ["WireGuard", "SystemCalls", "VPNLog"]),
        .target(name: "Supervisor", dependencies: ["CSupervisor", "SystemCalls", "VPNLog"]),
        .target(name: "UDPOverTCP", dependencies: [
            "VPNLog", "SystemCalls",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // Thin executables.
        .executableTarget(
            name: "vpn-init",
            dependencies: ["Config", "WireGuard", "Supervisor", "VPNLog", "SystemCalls"],
            linkerSettings: staticStdlib
        ),
        .executableTarget(name: "udp2tcp", dependencies: ["UDPOverTCP"], linkerSettings: staticStdlib),
        .executableTarget(name: "tcp2udp", dependencies: ["UDPOverTCP"], linkerSettings: staticStdlib),

        .testTarget(name: "WireGuardTests", dependencies: ["WireGuard"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "WireGuard"]),
        .testTarget(name: "VPNLogTests", dependencies: ["VPNLog"]),
        .testTarget(name: "BlackBoxTests", dependencies: ["WireGuard"]),
        .testTarget(name: "UDPOverTCPTests", dependencies: [
            "UDPOverTCP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
