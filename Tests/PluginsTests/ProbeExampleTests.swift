import Engine
import Testing
@testable import Plugins

/// Every probe's documented examples are its tests, as SwiftLint does with rule examples.
struct ExampleCase: CustomTestStringConvertible, Sendable {
    var probe: any Probe.Type
    var example: ProbeExample
    var testDescription: String { "\(probe.description.id): \(example.summary)" }
}

struct NoFiles: FileAccess {
    func read(_ path: String, limit: Int) throws(KBError) -> String { throw KBError(.inputUnreadable, "no files in tests") }
}

let allExamples: [ExampleCase] = BuiltinProbes.all.flatMap { probe in
    probe.description.examples.map { ExampleCase(probe: probe, example: $0) }
}

@Suite("probe examples")
struct ProbeExampleTests {
    @Test func everyProbeHasExamples() {
        for probe in BuiltinProbes.all {
            #expect(probe.description.examples.count >= 2, "\(probe.description.id) needs examples")
            #expect(probe.description.examples.contains { !$0.expectError }, "\(probe.description.id) needs a positive example")
        }
    }

    @Test func idsAreUniqueAndWellFormed() {
        let ids = BuiltinProbes.all.map { $0.description.id }
        #expect(Set(ids).count == ids.count)
        for id in ids { #expect(id.split(separator: ".").count == 2, "'\(id)' is not area.name") }
    }

    @Test("examples", arguments: allExamples)
    func example(_ c: ExampleCase) async {
        let facts = SymptomExtractor().extract([InputText(name: "example", text: c.example.input)])
        let context = ProbeContext(facts: facts, files: NoFiles())
        let outcome = await c.probe.init().run(c.example.parameters, context: context)
        if c.example.expectError {
            #expect(outcome.error != nil, "expected an error, got \(outcome.observations)")
            return
        }
        #expect(outcome.error == nil, "unexpected error: \(outcome.error ?? "")")
        for (key, value) in c.example.expect {
            #expect(c.probe.description.observations[key] != nil, "'\(key)' is not a documented observation")
            #expect(outcome.observations[key]?.description == value, "\(key): got \(outcome.observations[key]?.description ?? "nothing")")
        }
    }
}
