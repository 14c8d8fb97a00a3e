// swift-tools-version:5.4
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point to `<target>_main`
// and links `main` to it, which leaves libFuzzer's own `main` unused and the link failing. The fuzz
// sources are still compiled in Swift 6 mode (`-swift-version 6` below); the kb package keeps its own settings.
//
// Build and run with bench/fuzz/run.sh, which passes `-sanitize=fuzzer,address` to every Swift module so
// that kb's Engine and Plugins are instrumented too. This package is never part of kb's own build.
import PackageDescription

let targets = ["playbook", "nginx", "apache", "logscan", "symptoms", "smtpreply", "dnswire"]

let package = Package(
    name: "kb-fuzz",
    // `name:` so the products can be named whatever folder the repository was cloned into.
    dependencies: [.package(name: "kb", path: "../..")],
    targets: targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: [
                .product(name: "Engine", package: "kb"),
                .product(name: "Plugins", package: "kb"),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library", "-swift-version", "6", "-warnings-as-errors"])]
        )
    }
)
