import Engine
import Foundation
import Testing
@testable import Plugins

/// Issue 7, part 1: inputs that made the backtracking engine run for seconds to hours. Each is the
/// minimal shape from the issue; the tests check what kb reads from them and that they complete.
/// Speed is measured by `bench/hostile/run.sh` on the release build, not asserted here.
@Suite("hostile input: bounded matching")
struct HostileInputTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let proto: String
        var testDescription: String { "\(name) (\(text.utf8.count / 1024) KiB)" }
    }

    static func repeated(_ piece: String, toBytes bytes: Int) -> String {
        String(repeating: piece, count: max(1, bytes / piece.utf8.count))
    }

    static let shapes: [Shape] = [
        Shape(name: "curl curl … on one line", text: repeated("curl ", toBytes: 32 * 1024), proto: "unknown"),
        Shape(name: "--resolve a:1:111…", text: "curl --resolve a:1:" + repeated("1", toBytes: 16 * 1024), proto: "unknown"),
        Shape(name: "for ip in …", text: "for ip in " + repeated("10.0.0.1 ", toBytes: 64 * 1024), proto: "unknown"),
        Shape(name: "a 256 KiB host name", text: "Host: " + repeated("a", toBytes: 256 * 1024), proto: "http"),
        Shape(name: "a 256 KiB dotted host name", text: "https://" + repeated("a.", toBytes: 256 * 1024) + "com/",
              proto: "unknown"),
        Shape(name: "64 KiB of {-headers", text: repeated("a.example {\n", toBytes: 64 * 1024), proto: "unknown"),
        Shape(name: "421 421 421 …", text: repeated("421 ", toBytes: 64 * 1024), proto: "unknown"),
    ]

    @Test("completes with the shipped playbooks", arguments: shapes)
    func shippedPlaybooks(_ shape: Shape) async throws {
        let engine = try Shipped.engine()
        let start = ContinuousClock.now
        let report = await engine.diagnose([InputText(name: "paste", text: shape.text)])
        // a watchdog, not a benchmark: the debug build on a shared machine, hours before the fix
        #expect(ContinuousClock.now - start < .seconds(120))
        // none of them says 421, so kb names a protocol only where the text does (a Host header)
        #expect(report.protocol.value == shape.proto, "\(report.protocol.evidence.map(\.text))")
        // a long run of one word is not evidence for many causes
        #expect(report.diagnoses.count <= 3)
    }

    @Test func organisationPlaybookWithHostilePatterns() async throws {
        let knowledge = try KnowledgeBase.load([Shipped.root + "/knowledge"])
        let loader = PlaybookLoader(context: PlaybookContext(probes: BuiltinProbes.registry, articles: knowledge.ids))
        let catalog = try loader.load([PlaybookSource(path: Shipped.root + "/playbooks", builtin: true),
                                       PlaybookSource(path: Shipped.root + "/bench/hostile/org-playbooks", builtin: false)])
        let engine = Engine(catalog: catalog, knowledge: knowledge, registry: BuiltinProbes.registry,
                            analyzers: BuiltinAnalyzers.all)
        let org = try #require(catalog.playbook("http.org-hostile-patterns"))
        let texts = [
            "HTTP/1.1 421 Misdirected Request " + String(repeating: "a", count: 36),
            "HTTP/1.1 421 Misdirected Request " + String(repeating: "a", count: 64 * 1024) + "!",
            "HTTP/1.1 421 Misdirected Request " + String(repeating: "x", count: 64 * 1024),
            "curl -H 'Host: a' " + String(repeating: "curl ", count: 8 * 1024),
        ]
        var matched: [[String]] = []
        for text in texts {
            let facts = await engine.facts([InputText(name: "paste", text: text)])
            matched.append(Matcher().score(org, facts: facts).matches.map(\.signal))
            _ = await engine.diagnose(facts)
        }
        #expect(matched[0].contains("nested-alternation"))
        #expect(!matched[1].contains("nested-alternation"))
        #expect(!matched[2].contains("nested-plus"))
        #expect(matched[3].contains("line-scan"))
    }

    @Test func textMatchProbeOnALongLine() async throws {
        let text = String(repeating: "curl ", count: 16 * 1024)
        let probe = TextMatchProbe()
        let context = analyzerContext(inputs: [InputText(name: "paste", text: text)])
        let outcome = await probe.run(["pattern": .string(#"curl\b[^\n]*(-H|--header)\s*Host:"#)], context: context)
        #expect(outcome.observations["found"] == .bool(false))
        let bad = await probe.run(["pattern": .string(#"(a)\1"#)], context: context)
        #expect(bad.observations.isEmpty)
    }
}
