import Foundation
import Testing

/// `kb diagnose --target …` as a user runs it, with the shipped playbooks, against the real servers.
@Suite("kb diagnose --target against real servers", .serialized)
struct CLILiveTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var binary: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("kb").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return root.appendingPathComponent(".build/debug/kb").path
    }

    /// Runs kb and returns the parsed JSON report and the exit status.
    func diagnose(_ arguments: [String]) throws -> (report: [String: Any], status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["diagnose", "--format", "json", "--timeout", "5"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["KB_PLAYBOOK_PATH"] = nil
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let report = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return (report, process.terminationStatus)
    }

    func summary(_ report: [String: Any]) -> String {
        let diagnoses = report["diagnoses"] as? [[String: Any]] ?? []
        return "\(report["status"] ?? "?"): " + diagnoses.map { d in
            let checks = (d["checks"] as? [[String: Any]] ?? []).map { "\($0["id"] ?? "")=\($0["status"] ?? "")" }
            return "\(d["cause"] ?? "") \(d["score"] ?? "") [\(checks.joined(separator: " "))]"
        }.joined(separator: "; ") + " next: \(report["next"] ?? "") notes: \(report["notes"] ?? "")"
    }

    @Test func nginxWithoutSNIToApacheIsUpstreamSNIMissingThenHealthy() async throws {
        let stack = try WebStack()
        defer { stack.remove() }
        try await stack.start()
        let args = ["--target", "https://b.kb.test:\(stack.proxyPort)/", "--resolve", "b.kb.test:\(stack.proxyPort):127.0.0.1",
                    "--origin", "127.0.0.1:\(stack.originPort)", "customers get 421 since the update"]
        let (broken, status) = try diagnose(args)
        #expect(status == 1, "\(summary(broken))")
        #expect(broken["status"] as? String == "problem")
        let top = (broken["diagnoses"] as? [[String: Any]])?.first
        #expect(top?["cause"] as? String == "upstream-sni-missing", "\(summary(broken))")
        let failed = (top?["checks"] as? [[String: Any]] ?? []).filter { $0["status"] as? String == "fail" }
        #expect(!failed.isEmpty, "no failed check carries the evidence: \(summary(broken))")
        #expect(failed.contains { ($0["command"] as? String)?.contains("curl") == true || ($0["command"] as? String)?.contains("openssl") == true })

        try await stack.fixProxy()
        let (fixed, fixedStatus) = try diagnose(args)
        #expect(fixed["status"] as? String == "healthy", "\(summary(fixed))")
        #expect(fixedStatus == 0)
    }

    @Test func hostDifferentFromSNIIsSNIHostMismatchWhenTheTargetItselfIsFine() async throws {
        let stack = try WebStack()
        defer { stack.remove() }
        try await stack.start()
        let port = stack.originPort
        // What the user pasted: curl to one name with another name's Host, straight at Apache.
        let pasted = "curl -sk --resolve a.kb.test:\(port):127.0.0.1 -H 'Host: b.kb.test' https://a.kb.test:\(port)/ "
            + "returns 421 Misdirected Request, Apache logs AH02032 provided via SNI and hostname b.kb.test provided via HTTP"
        let (report, status) = try diagnose(["--target", "https://b.kb.test:\(port)/", "--resolve", "b.kb.test:\(port):127.0.0.1", pasted])
        #expect(status == 1, "\(summary(report))")
        let top = (report["diagnoses"] as? [[String: Any]])?.first
        #expect(top?["cause"] as? String == "sni-host-mismatch", "\(summary(report))")
        // kb asked the server the right way (SNI = Host) and it answered: the fault is the client's request.
        let live = (top?["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "live-target" }
        #expect(live?["status"] as? String == "pass", "\(summary(report))")
    }

    @Test func postfixConnectionLimitIsSMTPConcurrency() async throws {
        let server = try PostfixServer()
        defer { server.remove() }
        try await server.start()
        let held = try HeldConnection(port: server.port)
        defer { held.release() }
        // The limit counts a session once Postfix has greeted it; without the greeting the test proves nothing.
        try #require(held.greeting.hasPrefix("220"), "the held connection got no greeting: '\(held.greeting)'")
        let (report, status) = try diagnose(["--target", "smtp://127.0.0.1:\(server.port)"])
        #expect(status == 1, "\(summary(report))")
        #expect((report["protocol"] as? [String: Any])?["value"] as? String == "smtp")
        let top = (report["diagnoses"] as? [[String: Any]])?.first
        #expect(top?["cause"] as? String == "smtp-concurrency", "\(summary(report))")
    }
}
