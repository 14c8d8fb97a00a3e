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
}

@Suite("shipped playbooks")
struct PlaybookCaseTests {
    @Test func everyCauseHasAPlaybookAndAnArticle() throws {
        let engine = try Shipped.engine()
        for cause in Causes.all where cause.slug != "unknown" {
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
        let causes = Set(try def("cause")["enum"] as? [String] ?? [])
        #expect(causes == Set(Causes.all.map(\.slug).filter { $0 != "unknown" }))
        let stacks = Set(try def("stack")["enum"] as? [String] ?? [])
        #expect(stacks == Set(Vocabulary.stacks))
        let pattern = try def("templated")["pattern"] as? String ?? ""
        for variable in Template.variables { #expect(pattern.contains(variable), "schema lacks {{\(variable)}}") }
    }
}
