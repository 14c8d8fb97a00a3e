import Foundation
import Testing

/// Runs the built `kb` the way a user does and compares its output with golden files.
/// Re-record with `KB_RECORD=1 swift test --filter CLITests`.
enum CLI {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let golden = repoRoot.appendingPathComponent("Tests/CLITests/Golden")
    static let fixtures = repoRoot.appendingPathComponent("Tests/CLITests/Fixtures")

    /// The kb binary next to the test bundle (the same build configuration).
    static var binary: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("kb").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return repoRoot.appendingPathComponent(".build/debug/kb").path
    }

    struct Result {
        var stdout: String
        var stderr: String
        var status: Int32
    }

    static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["KB_PLAYBOOK_PATH"] = nil
        env["NO_COLOR"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.currentDirectoryURL = repoRoot
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self),
                      status: process.terminationStatus)
    }

    /// Compares with the golden file, or writes it when KB_RECORD is set.
    static func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["KB_RECORD"] != nil {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "output differs from Golden/\(name); re-record with KB_RECORD=1 if intended",
                sourceLocation: sourceLocation)
    }
}

@Suite("kb command line", .serialized)
struct CLITests {
    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: CLI.binary), "build kb first: swift build (looked at \(CLI.binary))")
    }

    @Test("golden diagnoses", arguments: [
        ("http-upstream.txt", ["diagnose", "--format", "text", "--stack", "nginx",
                               "[ssl:error] [pid 2211] AH02032: Hostname shop.example.com (default host as no SNI was provided) and hostname shop.example.com provided via HTTP have no compatible SSL setup"]),
        ("smtp-yahoo.md", ["diagnose", "--format", "markdown",
                           "status=deferred (host mta7.am0.yahoodns.net[67.195.204.72] said: 421 4.7.0 [TSS04] Messages from 198.51.100.23 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes (in reply to MAIL FROM command))"]),
        ("ftp-limit.json", ["diagnose", "--format", "json",
                            "lftp: Login failed: 421 Too many connections (8) from this IP"]),
        ("classify-smtp.json", ["classify", "--format", "json", "421 4.7.0 mx.example.net Error: too many connections from 192.0.2.10"]),
        ("unknown.txt", ["diagnose", "it is broken since this morning"]),
    ])
    func golden(_ name: String, _ arguments: [String]) throws {
        let result = try CLI.run(arguments)
        #expect(result.stderr == "")
        try CLI.expectGolden(result.stdout, name)
    }

    @Test func exitCodesFollowTheContract() throws {
        #expect(try CLI.run(["diagnose", "HTTP/2 421 Misdirected Request; refresh fixes it; Firefox; wildcard certificate *.example.com"]).status == 1)
        #expect(try CLI.run(["diagnose", "it is broken since this morning"]).status == 2)
        #expect(try CLI.run(["diagnose", "--protocol", "gopher", "x"]).status == 64)
        #expect(try CLI.run(["explain", "no-such-article"]).status == 64)
        #expect(try CLI.run(["classify", "421 4.3.2 Service not active"]).status == 0)
    }

    @Test func noInputIsAUsageErrorThatSaysWhatToDo() throws {
        let result = try CLI.run(["diagnose"], stdin: "")
        #expect(result.status == 64)
        #expect(result.stderr.contains("nothing to read"))
    }

    @Test func readsStandardInput() throws {
        let result = try CLI.run(["diagnose", "--file", "-", "--format", "json"],
                                 stdin: "Jan 1 postfix/smtp[9]: ABC: to=<x@example.org>, status=deferred (host mx.example.org[192.0.2.5] refused to talk to me: 421 4.7.0 mx.example.org Error: too many connections from 198.51.100.2)")
        #expect(result.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((json?["protocol"] as? [String: Any])?["value"] as? String == "smtp")
        #expect(((json?["diagnoses"] as? [[String: Any]])?.first?["cause"] as? String) == "smtp-concurrency")
    }

    @Test func controlCharactersFromInputAreNeutralised() throws {
        let result = try CLI.run(["diagnose", "HTTP/1.1 421 Misdirected Request \u{1B}[31mred\u{1B}[0m on a.example.com"])
        #expect(!result.stdout.contains("\u{1B}"))
    }

    @Test func noColorAndPipesGiveNoEscapes() throws {
        let result = try CLI.run(["diagnose", "HTTP/2 421 Misdirected Request"], environment: ["NO_COLOR": "1"])
        #expect(!result.stdout.contains("\u{1B}["))
    }

    @Test func invalidPlaybookDirectoryReportsEveryProblemWithLocation() throws {
        let result = try CLI.run(["playbooks", "validate", CLI.fixtures.appendingPathComponent("broken").path])
        #expect(result.status == 65)
        let text = result.stderr.replacingOccurrences(of: CLI.fixtures.path + "/", with: "")
        try CLI.expectGolden(text, "validate-broken.txt")
    }

    @Test func leakyPlaybooksAreRejectedByValidate() throws {
        let dir = CLI.repoRoot.appendingPathComponent("Tests/PluginsTests/Fixtures/leaks").path
        let result = try CLI.run(["playbooks", "validate", dir])
        #expect(result.status == 65)
        #expect(result.stderr.contains(dir + "/leak-connect.yaml:17:16: error: parameter 'connect' of probe 'http.request' "
                                       + "is '127.0.0.1:9099'; a playbook cannot choose where a probe connects"), "\(result.stderr)")
        #expect(result.stderr.contains("leak-dns.yaml:18:15: error: parameter 'server'"), "\(result.stderr)")
    }

    @Test func dnsServerNeedsATargetAndAnAddress() throws {
        let alone = try CLI.run(["diagnose", "--dns-server", "127.0.0.1", "HTTP/2 421"])
        #expect(alone.status == 64)
        #expect(alone.stderr.contains("--dns-server need a --target") || alone.stderr.contains("need a --target"), "\(alone.stderr)")
        let name = try CLI.run(["diagnose", "--target", "https://127.0.0.1:1/", "--dns-server", "ns.example.com", "HTTP/2 421"])
        #expect(name.status == 64)
        #expect(name.stderr.contains("--dns-server 'ns.example.com' must be an IP address"), "\(name.stderr)")
    }

    @Test func organisationPlaybookReplacesBuiltinAndReportSaysSo() throws {
        let dir = CLI.fixtures.appendingPathComponent("org").path
        let result = try CLI.run(["diagnose", "--playbooks", dir, "--format", "json",
                                  "421 4.7.0 mx.example.net Error: too many connections from 192.0.2.10"])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let first = (json?["diagnoses"] as? [[String: Any]])?.first
        #expect(first?["title"] as? String == "Our relay's connection limit (Example Corp runbook)")
        #expect((first?["replaces"] as? String)?.hasSuffix("playbooks/smtp/smtp-concurrency.yaml") == true)
        #expect((json?["notes"] as? [String])?.contains { $0.contains("replaces the built-in one") } == true)
        let viaEnv = try CLI.run(["playbooks", "list"], environment: ["KB_PLAYBOOK_PATH": dir])
        #expect(viaEnv.stdout.contains("(replaces built-in)"))
    }

    @Test func playbookTestsAllPass() throws {
        let result = try CLI.run(["playbooks", "test"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains(" passed, 0 failed"))
    }

    @Test func searchFindsDirectives() throws {
        let result = try CLI.run(["search", "proxy_ssl_server_name", "--format", "json"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("\"id\" : \"upstream-sni-missing\"") || result.stdout.contains("\"id\" : \"nginx-upstream-tls\""))
        #expect(try CLI.run(["search", "zzzqqqxxx"]).status == 1)
    }
}
