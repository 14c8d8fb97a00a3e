// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "kb",
    products: [
        .executable(name: "kb", targets: ["kb-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            path: "Sources/CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .target(name: "Engine", dependencies: ["CYAML"]),
        .target(name: "Plugins", dependencies: ["Engine"]),
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
        .testTarget(name: "CLITests", dependencies: ["Engine"], exclude: ["Fixtures", "Golden"]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-warnings-as-errors"])]
}
