import Foundation

/// Tickets as support staff receive them, shared by the Engine and plugin tests as files in
/// Tests/Fixtures/tickets; every name is invented (documentation ranges, .test domains).
enum Tickets {
    static func named(_ name: String) -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tickets/\(name).txt")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? "missing ticket fixture Tests/Fixtures/tickets/\(name).txt"
    }
}
