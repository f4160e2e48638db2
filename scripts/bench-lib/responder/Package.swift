// swift-tools-version:6.0
// The library the metrics listener could have been built on, for scripts/bench's metrics section
// (scripts/bench-lib/responder.sh): a SwiftNIO HTTP/1 responder, and the same program without
// NIO (it binds and waits), both built as vpn-init is. Not part of the product.
import PackageDescription

let package = Package(
    name: "responder",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(name: "nio-responder", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .executableTarget(name: "base-listener"),
    ]
)
