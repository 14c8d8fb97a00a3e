// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "kb",
    products: [
        .executable(name: "kb", targets: ["kb-cli"]),
        // Libraries so that bench/fuzz (a separate package) can link the parsers; kb itself does not need them.
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Plugins", targets: ["Plugins"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            path: "Sources/CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .target(
            name: "CRE2",
            path: "Sources/CRE2",
            cxxSettings: [.unsafeFlags(["-Wall", "-Werror"])],
            linkerSettings: [.linkedLibrary("re2")]
        ),
        .target(name: "Engine", dependencies: ["CYAML", "CRE2"]),
        .target(
            name: "Plugins",
            dependencies: [
                "Engine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .executableTarget(
            name: "kb-cli",
            dependencies: [
                "Engine",
                "Plugins",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "EngineTests", dependencies: ["Engine"]),
        .testTarget(name: "PluginsTests", dependencies: ["Plugins", "Engine"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["Engine"], exclude: ["Fixtures", "Golden", "Tickets"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Plugins", "Engine"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)

for target in package.targets where target.type != .system && target.name != "CRE2" {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-warnings-as-errors"])]
}
