import ArgumentParser
import Engine
import Foundation

extension KB {
    struct Classify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say which 421 a text is about (http, smtp, ftp or unknown), with the evidence.",
            discussion: """
                Example: kb classify "421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred"
                --format json prints the report's 'protocol' object alone.
                Exit codes: 0 protocol known, 2 unknown, 64 usage error, 65 invalid data.
                """
        )

        @OptionGroup var input: InputOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var data: DataOptions

        func validate() throws {
            if output.audience == .customer {
                throw ValidationError("--audience customer is for 'kb diagnose'; classify prints only the protocol")
            }
        }

        func run() async throws {
            // Loading the playbooks keeps classify honest about the data it would diagnose with.
            let engine = try data.loadEngine()
            let inputs = try input.readInputs()
            let facts = await engine.facts(inputs, statements: input.statements,
                                           environment: RunEnvironment(files: input.fileAccess))
            var verdict = ProtocolReport(facts.protocolVerdict)
            if output.redact {
                var redactor = output.makeRedactor(inputs)
                verdict = try output.redacted(verdict, with: &redactor)
            }
            switch output.format {
            case .json:
                print(encodeJSON(verdict), terminator: "")
            case .text, .markdown:
                var lines = ["\(verdict.value) (\(Int((verdict.confidence * 100).rounded()))% confident)"]
                for e in verdict.evidence.prefix(8) {
                    let place = e.location.map { " [\($0.file):\($0.line)]" } ?? ""
                    lines.append("  - \(Sanitizer.neutralize(e.detail ?? e.kind)): \(Sanitizer.neutralize(e.text))\(place)")
                }
                for m in verdict.missing { lines.append("  to decide: \(m)") }
                // Only the playbooks of the protocol found are ranked: the others cannot be likely, and
                // skipping them spares compiling their patterns on this short path.
                let proto = facts.protocolVerdict.value
                let playbooks = engine.catalog.playbooks.filter { proto == .unknown || $0.protocolValue == proto }
                let likely = engine.matcher.rank(playbooks, facts: facts).filter(\.reported).prefix(3).map(\.playbook.cause)
                if !likely.isEmpty { lines.append("likely causes: \(likely.joined(separator: ", ")) (kb diagnose explains)") }
                print(lines.joined(separator: "\n"))
            }
            throw ExitCode(verdict.value == "unknown" ? Exit.inconclusive : Exit.healthy)
        }
    }
}
