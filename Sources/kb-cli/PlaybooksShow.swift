import ArgumentParser
import Engine
import Foundation

extension KB.Playbooks {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one playbook: signals, checks, remediation, questions and tests.",
            discussion: "With --effective, every part is shown as the overlays left it, each with the file:line it came from."
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "The playbook id (see 'kb playbooks list').") var id: String
        @Flag(name: .long, help: "Show the playbook as merged with its overlays, with the origin of each part.")
        var effective = false

        func run() async throws {
            let engine = try data.loadEngine()
            let p = try KB.Playbooks.playbook(id, in: engine)
            printText((effective ? Self.effective(p) : Self.summary(p)).joined(separator: "\n"))
        }

        static func summary(_ p: Playbook) -> [String] {
            var out = ["\(p.id): \(p.title)", "  protocol \(p.protocolValue.rawValue), cause \(p.cause), article \(p.article)",
                       "  source \(p.source.file)" + (p.replaces.map { " (replaces \($0.file))" } ?? "")]
            if !p.overlays.isEmpty { out.append("  overlays: \(p.overlays.joined(separator: ", "))") }
            if !p.stacks.isEmpty { out.append("  stacks: \(p.stacks.joined(separator: ", "))") }
            out.append("  threshold \(p.threshold)")
            out.append("signals:")
            for s in p.signals {
                out.append("  \(s.weight > 0 ? "+" : "")\(s.weight) \(s.id) [\(s.matcher.kindName)]" + (s.note.map { ": \($0)" } ?? ""))
            }
            if !p.checks.isEmpty {
                out.append("checks:")
                for c in p.checks { out.append("  \(c.id) (\(c.probe ?? "manual")): \(c.title)") }
            }
            out.append("remediation:")
            for (i, r) in p.remediation.enumerated() {
                out.append("  \(i + 1). \(r.step)" + (r.stacks.isEmpty ? "" : " (\(r.stacks.joined(separator: ", ")))"))
            }
            if !p.questions.isEmpty {
                out.append("questions (kb guide):")
                for q in p.questions { out.append("  \(q.id) [\(q.kind.rawValue)]: \(q.text)") }
            }
            out.append("tests: \(p.tests.count)")
            return out
        }

        /// Every part with where it comes from: the playbook file, or the overlay that added, replaced or reweighted it.
        static func effective(_ p: Playbook) -> [String] {
            let base = p.source.file
            func at(_ location: SourceLocation?) -> String {
                guard let location else { return "  <- \(base)" }
                return "  <- \(location.file):\(location.line)"
            }
            func origin(_ part: String, _ fallback: SourceLocation?) -> String { at(p.origins[part] ?? fallback) }
            let applied = p.overlays.isEmpty ? "no overlays" : "with " + p.overlays.joined(separator: ", ")
            var out = ["# \(p.id), effective: \(applied)",
                       "# order: the playbook, then each overlay in precedence order (KB_PLAYBOOK_PATH, then --playbooks), "
                           + "then by file name",
                       "id: \(p.id)\(at(p.source))",
                       "title: \(p.title)",
                       "protocol: \(p.protocolValue.rawValue)",
                       "cause: \(p.cause)",
                       "article: \(p.article)",
                       "threshold: \(format(p.threshold))\(origin("threshold", nil))"]
            if !p.stacks.isEmpty {
                out.append("stacks:")
                for s in p.stacks { out.append("  - \(s)\(origin("stacks \(s)", nil))") }
            }
            out.append("signals:")
            for s in p.signals {
                let weight = p.origins["weight of signals \(s.id)"].map { " (weight\(at($0)))" } ?? ""
                out.append("  - \(s.id): \(format(s.weight)) [\(s.matcher.kindName)]\(at(s.location))\(weight)")
            }
            if !p.checks.isEmpty {
                out.append("checks:")
                for c in p.checks {
                    let weight = p.origins["weight of checks \(c.id)"].map { " (weight\(at($0)))" } ?? ""
                    out.append("  - \(c.id) (\(c.probe ?? "manual")): \(c.title)\(at(c.location))\(weight)")
                }
            }
            out.append("remediation:")
            for (i, r) in p.remediation.enumerated() {
                out.append("  \(i + 1). \(r.id): \(r.step)" + (r.stacks.isEmpty ? "" : " (\(r.stacks.joined(separator: ", ")))")
                    + origin("remediation \(r.id)", nil))
            }
            if !p.questions.isEmpty {
                out.append("questions:")
                for q in p.questions { out.append("  - \(q.id) [\(q.kind.rawValue)]: \(q.text)\(at(q.location))") }
            }
            let removed = p.origins.keys.filter { $0.hasPrefix("removed ") }.sorted()
            if !removed.isEmpty {
                out.append("removed:")
                for part in removed { out.append("  - \(part.dropFirst("removed ".count))\(at(p.origins[part]))") }
            }
            out.append("tests:")
            for t in p.tests { out.append("  - \(t.name) (\(t.expect.rawValue))\(at(t.location))") }
            return out
        }

        static func format(_ n: Double) -> String { n == n.rounded() && abs(n) < 1e9 ? String(Int(n)) : String(n) }
    }
}
