import Engine
import Foundation
import Testing
@testable import Plugins

/// The shipped playbooks and articles, loaded the way `kb` loads them.
enum Shipped {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func engine() throws -> Engine {
        let knowledge = try KnowledgeBase.load([root + "/knowledge"])
        let loader = PlaybookLoader(context: PlaybookContext(probes: BuiltinProbes.registry, articles: knowledge.ids))
        let catalog = try loader.load([PlaybookSource(path: root + "/playbooks", builtin: true)])
        return Engine(catalog: catalog, knowledge: knowledge, registry: BuiltinProbes.registry, analyzers: BuiltinAnalyzers.all)
    }

    static var playbookIDs: [String] { ((try? engine())?.catalog.playbooks.map(\.id)) ?? [] }

    /// The shipped cause taxonomy, for loading an organisation's playbooks without the built-in ones.
    static func causes() throws -> CauseCatalog {
        try CauseCatalog.load([PlaybookSource(path: root + "/playbooks/causes.yaml", builtin: true)])
    }
}

@Suite("shipped playbooks")
struct PlaybookCaseTests {
    @Test func everyCauseHasAPlaybookAndAnArticle() throws {
        let engine = try Shipped.engine()
        for cause in engine.catalog.causes.causes where cause.slug != "unknown" {
            #expect(engine.catalog.playbooks.contains { $0.cause == cause.slug }, "no playbook for \(cause.slug)")
            #expect(engine.knowledge.article(cause.slug) != nil, "no article for \(cause.slug)")
        }
        #expect(engine.knowledge.article("unknown") != nil)
    }

    @Test("own test cases", arguments: Shipped.playbookIDs)
    func ownTestCases(_ id: String) async throws {
        let engine = try Shipped.engine()
        let results = await engine.runTests(only: [id])
        #expect(results.count >= 4, "\(id) needs at least two positive and two negative cases")
        for r in results where !r.passed {
            Issue.record("\(r.location.file):\(r.location.line): '\(r.test)' expected \(r.expect.rawValue), got rank \(r.rank.map(String.init) ?? "none") (score \(r.score), top \(r.top ?? "none"))")
        }
    }

    @Test func playbooksSeparateProtocols() async throws {
        // A playbook never wins on text of another protocol: every negative case of another protocol stays unreported.
        let engine = try Shipped.engine()
        let texts = [("http", "HTTP/2 421 Misdirected Request"), ("smtp", "421 4.7.0 mx.example.net Error: too many connections from 192.0.2.1"),
                     ("ftp", "421 There are too many connected users, please try later.")]
        for (proto, text) in texts {
            let report = await engine.diagnose([InputText(name: "t", text: text)])
            #expect(report.protocol.value == proto)
            #expect(report.diagnoses.allSatisfy { $0.protocol == proto }, "\(text): \(report.diagnoses.map(\.playbook))")
        }
    }
}

/// The published JSON Schema must keep up with what the loader accepts, or editors flag valid playbooks.
@Suite("playbook JSON Schema")
struct PlaybookSchemaTests {
    func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Shipped.root + "/schema/playbook.schema.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func def(_ name: String) throws -> [String: Any] {
        let defs = try #require(try schema()["$defs"] as? [String: Any])
        return try #require(defs[name] as? [String: Any])
    }

    @Test func probesCausesStacksAndVariablesMatchTheLoader() throws {
        let probeCheck = try def("probeCheck")
        let probes = ((probeCheck["properties"] as? [String: Any])?["probe"] as? [String: Any])?["enum"] as? [String] ?? []
        for id in BuiltinProbes.registry.ids { #expect(probes.contains(id), "schema lacks probe '\(id)'") }
        // The schema's enum is the built-in taxonomy (playbooks/causes.yaml); an organisation's slug matches its pattern.
        let cause = try def("cause")
        let variants = cause["anyOf"] as? [[String: Any]] ?? []
        let causes = Set(variants.compactMap { $0["enum"] as? [String] }.flatMap { $0 })
        let shipped = try Shipped.engine().catalog.causes.causes
        #expect(shipped.count > 20)
        #expect(causes == Set(shipped.filter(\.builtin).map(\.slug).filter { $0 != "unknown" }))
        let prefixed = try #require(variants.compactMap { $0["pattern"] as? String }.first)
        let regex = try Regex(prefixed)
        #expect((try? regex.wholeMatch(in: "acme.waf-plan-expired")) != nil)
        for slug in shipped.map(\.slug) { #expect((try? regex.wholeMatch(in: slug)) == nil, "pattern admits built-in '\(slug)'") }
        let stacks = Set(try def("stack")["enum"] as? [String] ?? [])
        #expect(stacks == Set(Vocabulary.stacks))
        let pattern = try def("templated")["pattern"] as? String ?? ""
        for variable in Template.variables { #expect(pattern.contains(variable), "schema lacks {{\(variable)}}") }
    }
}

/// Attachments alone, as support staff get them: configs and logs, no pasted error text.
@Suite("diagnosis from configs and logs alone")
struct AttachmentDiagnosisTests {
    func input(_ relative: String) throws -> InputText {
        let path = Shipped.root + "/Tests/PluginsTests/Fixtures/" + relative
        return InputText(name: relative, text: try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test func upstreamSNIMissingFromAnNginxDumpAndAnApacheErrorLog() async throws {
        let engine = try Shipped.engine()
        let report = await engine.diagnose([try input("golden/nginx-T.txt"), try input("golden/error.log")])
        #expect(report.status == .problem)
        #expect(report.protocol.value == "http")
        let top = try #require(report.diagnoses.first)
        #expect(top.cause == "upstream-sni-missing")
        // The verdict rests on the analyzers' findings, each pointing at its file and line.
        let findings = top.signals.filter { $0.kind == "finding" }
        #expect(!findings.isEmpty, "\(top.signals.map(\.signal))")
        #expect(report.facts.findings.contains { $0.id == "nginx.proxy-ssl-server-name-off" && $0.location != nil })
    }

    @Test func smtpCausesFromAPostfixLogAlone() async throws {
        let engine = try Shipped.engine()
        let mixed = await engine.diagnose([try input("logs/postfix.log")])
        #expect(mixed.status == .problem)
        #expect(mixed.protocol.value == "smtp")
        #expect(!mixed.diagnoses.isEmpty && mixed.diagnoses.allSatisfy { $0.protocol == "smtp" })

        let log = """
            Nov 22 09:14:02 relay postfix/smtp[3310]: 9A1B2C3D4E: to=<ops@partner.example>, relay=none, delay=31, \
            delays=30/0.01/0.5/0, dsn=4.7.0, status=deferred (host mx1.partner.example[198.51.100.25] refused to talk \
            to me: 421 4.7.0 mx1.partner.example Error: too many connections from 203.0.113.9)
            """
        let concurrency = await engine.diagnose([InputText(name: "mail.log", text: log)])
        #expect(concurrency.diagnoses.first?.cause == "smtp-concurrency", "\(concurrency.diagnoses.map(\.cause))")
        #expect(concurrency.facts.inputs.first?.hasSuffix("(mail-log)") == true, "\(concurrency.facts.inputs)")
    }
}
