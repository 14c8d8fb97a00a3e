import Foundation
import Testing
@testable import Engine
@testable import Plugins

/// Issue 8 part 4: no check result contradicts the text it quotes. Each shipped playbook's text checks run on
/// inputs that hold what their titles deny, and its live checks about a 421 are shown a 200.
@Suite("checks tell the truth")
struct CheckTruthTests {
    /// Inputs for text checks whose pattern has no plain-word alternative to try.
    static let handWritten: [String: [String]] = [
        "http.lb-node-drift/node-evidence": ["only web2 returns 421, the other nodes are fine"],
        "http.server-update-regression/version-change": ["it started after we upgraded Apache to 2.4.64"],
        "http.sni-host-mismatch/hand-made-request": ["curl --resolve www.example.com:443:192.0.2.1 https://www.example.com/"],
        "http.sni-host-mismatch/server-names-both": ["AH02032: Hostname a.example provided via SNI and hostname b.example provided via HTTP"],
        "http.upstream-sni-missing/no-sni-logged": ["AH02032: Hostname a.example (default host as no SNI was provided) and hostname a.example provided via HTTP"],
        "ftp.server-closed/client-side-text": ["Error: Connection closed by server (remote server has closed the connection)"],
        "smtp.concurrency/limit-text": ["421 4.7.0 Error: too many connections from 192.0.2.1"],
        "http.redirect-host-drift/redirect-seen": ["Location: https://www.example.com/ after a redirect"],
        "http.missing-vhost/vhost-words": ["there is no vhost for that name"],
        "smtp.policy/identity-text": ["421 4.7.0 SPF and DKIM both do not pass"],
    ]

    /// "not", "no", "nothing", "without", "never": a title that denies something.
    static func denies(_ title: String) -> Bool {
        let t = " " + title.lowercased().replacingOccurrences(of: ",", with: " ") + " "
        return [" not ", " no ", " nothing ", " without ", " never ", " none ", "n't "].contains { t.contains($0) }
    }

    /// Plain-word alternatives of a pattern's top level: `cpanel|whm|\bSPF\b|(a|b)c` gives cpanel, whm, SPF.
    static func literals(_ pattern: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        var escaped = false
        for c in pattern {
            defer { escaped = !escaped && c == "\\" }
            if !escaped, c == "(" || c == "[" { depth += 1 }
            if !escaped, c == ")" || c == "]" { depth -= 1 }
            if !escaped, depth == 0, c == "|" { parts.append(current); current = ""; continue }
            current.append(c)
        }
        parts.append(current)
        return parts.map { $0.replacingOccurrences(of: "\\b", with: "") }.filter { word in
            !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" }
        }
    }

    func run(_ playbook: Playbook, on text: String, engine: Engine, stacks: [String] = []) async -> [CheckResult] {
        let facts = await engine.facts([InputText(name: "t", text: text)], statements: Statements(stacks: stacks))
        var candidate = engine.matcher.score(playbook, facts: facts)
        // Every signal counts as matched, so conditions on signals do not hide a check from the test.
        candidate.matches = playbook.signals.map {
            SignalMatch(signal: $0.id, kind: "text", matched: "", weight: $0.weight, note: nil)
        }
        return await engine.runChecks(candidate, facts: facts, variables: Engine.variables(facts),
                                      environment: RunEnvironment())
    }

    @Test("a check that denies something is not passed when it is there", arguments: Shipped.playbookIDs)
    func textChecksDoNotContradictTheirInput(_ id: String) async throws {
        let engine = try Shipped.engine()
        let playbook = try #require(engine.catalog.playbooks.first { $0.id == id })
        for check in playbook.checks where check.probe == "text.match" {
            guard case .template(let pattern)? = check.parameters.first(where: { $0.name == "pattern" })?.value,
                  case .equals(.bool(let healthyFound))? = check.expect.first(where: { $0.key == "found" })?.expectation
            else { Issue.record("\(id)/\(check.id): a text check without a pattern or a 'found' expectation"); continue }
            let inputs = Self.literals(pattern.description).map { "the reply says \($0) here" }
                + (Self.handWritten["\(id)/\(check.id)"] ?? [])
            #expect(!inputs.isEmpty, "\(id)/\(check.id): add an input that holds what the check looks for")
            for input in inputs {
                let results = await run(playbook, on: input, engine: engine, stacks: check.when.stacks)
                let result = try #require(results.first { $0.id == check.id })
                // The thing is present: a check whose healthy state is its absence fails, and says it is there.
                #expect(result.status == (healthyFound ? .pass : .fail), "\(id)/\(check.id) on '\(input)': \(result.status)")
                #expect(!Self.denies(result.title), "\(id)/\(check.id) shows '\(result.title)' over '\(input)'")
            }
        }
    }

    @Test("every check that can fail says what it found", arguments: Shipped.playbookIDs)
    func failedTitlesStateWhatWasFound(_ id: String) throws {
        let engine = try Shipped.engine()
        let playbook = try #require(engine.catalog.playbooks.first { $0.id == id })
        for check in playbook.checks where check.probe != nil {
            let failTitle = try #require(check.failTitle, "\(id)/\(check.id) needs a fail-title")
            #expect(failTitle != check.title)
        }
    }

    @Test("a live check about a 421 does not fail on a 200", arguments: Shipped.playbookIDs)
    func liveChecksPassOnSuccess(_ id: String) throws {
        let engine = try Shipped.engine()
        let playbook = try #require(engine.catalog.playbooks.first { $0.id == id })
        for check in playbook.checks {
            guard let probe = check.probe, Engine.isLive(probe, engine.registry) else { continue }
            for (key, expectation) in check.expect where key == "status" || key == "code" {
                #expect(Engine.holds(expectation, .int(200)), "\(id)/\(check.id) fails on 200")
                #expect(Engine.holds(expectation, .int(250)), "\(id)/\(check.id) fails on 250")
            }
        }
    }

    @Test func the421VersionCheckIgnoresA200AfterTheFix() async throws {
        let engine = try Shipped.engine()
        let playbook = try #require(engine.catalog.playbooks.first { $0.id == "http.h2-coalescing" })
        let text = "after switching nginx to Apache it works:\n< HTTP/2 200\n< server: Apache\n"
        let result = try #require(await run(playbook, on: text, engine: engine).first { $0.id == "response-version" })
        #expect(result.status == .skipped, "\(result.status): \(result.reason ?? "")")
        let with421 = "< HTTP/2 421\n< server: nginx\n"
        let failed = try #require(await run(playbook, on: with421, engine: engine).first { $0.id == "response-version" })
        #expect(failed.status == .fail)
        #expect(failed.title == "The 421 arrived over HTTP/2 or HTTP/3")
    }

    @Test func aStatedPanelIsNamed() async throws {
        let engine = try Shipped.engine()
        let playbook = try #require(engine.catalog.playbooks.first { $0.id == "http.panel-apache-update" })
        let text = "HTTP/1.1 421 Misdirected Request since the last update"
        let result = try #require(await run(playbook, on: text, engine: engine, stacks: ["cpanel"]).first { $0.id == "panel-named" })
        #expect(result.status == .fail)
        #expect(!Self.denies(result.title))
    }

    @Test func gmailAndYahooRepliesAreNotDenied() async throws {
        let engine = try Shipped.engine()
        let cases = [
            ("smtp.policy", "identity-text", "421-4.7.0 This message does not pass authentication checks (SPF and DKIM both do not pass). - gsmtp"),
            ("smtp.reputation", "reputation-text", "421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints"),
        ]
        for (id, checkID, text) in cases {
            let playbook = try #require(engine.catalog.playbooks.first { $0.id == id })
            let result = try #require(await run(playbook, on: text, engine: engine).first { $0.id == checkID })
            #expect(result.status == .fail)
            #expect(!Self.denies(result.title), "\(result.title)")
        }
    }
}
