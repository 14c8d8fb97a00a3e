import ArgumentParser
import Engine
import Foundation

extension KB {
    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the knowledge article for a cause or topic (e.g. upstream-sni-missing, which-421).",
            discussion: """
                Without an id, lists the articles. --causes lists the cause taxonomy in force (built-in and your \
                causes.yaml); '--causes --format markdown' prints docs/causes.md.
                """
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "A cause slug or article id.") var id: String?
        @Option(name: .long, help: "Output format: text (Markdown as written), markdown or json.") var format: Format = .text
        @Flag(name: .long, help: "List the causes in force: slug, protocol, title, summary and typical evidence.")
        var causes = false

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, markdown, json }

        struct CauseJSON: Codable {
            var slug, `protocol`, title, summary: String
            var evidence: [String]
            var builtin: Bool
            var source: String?
        }

        struct ArticleJSON: Codable {
            var id, title, `protocol`, body, path: String
            var causes, stacks: [String]
            var references: [Article.Reference]
        }

        func run() async throws {
            let engine = try data.loadEngine()
            if causes {
                guard id == nil else { throw failUsage("give either an id or --causes, not both") }
                listCauses(engine.catalog.causes)
                return
            }
            guard let id else {
                for a in engine.knowledge.articles.sorted(by: { $0.id < $1.id }) {
                    printText("\(a.id.padding(toLength: 28, withPad: " ", startingAt: 0)) \(a.title)")
                }
                return
            }
            guard let article = engine.knowledge.article(id) ?? engine.knowledge.article(forCause: id) else {
                if let cause = engine.catalog.causes.cause(id) {
                    // A cause without an article still has its entry in the taxonomy.
                    if format == .json {
                        print(encodeJSON(Self.json(cause)), terminator: "")
                    } else {
                        printText(Self.describe(cause) + "\n(no article lists this cause)")
                    }
                    return
                }
                var message = "no article '\(id)'"
                if let near = Suggest.closest(to: id, in: engine.knowledge.ids) { message += "; did you mean '\(near)'?" }
                throw failUsage(message + " (kb explain lists them)")
            }
            if format == .json {
                print(encodeJSON(ArticleJSON(id: article.id, title: article.title, protocol: article.protocolValue,
                                             body: article.body, path: article.path, causes: article.causes,
                                             stacks: article.stacks, references: article.references)), terminator: "")
                return
            }
            var out = article.body.trimmingCharacters(in: .whitespacesAndNewlines)
            if !article.references.isEmpty, !out.contains("## Sources") && !out.contains("## References") {
                out += "\n\n## References\n" + article.references.map { "- \($0.title): \($0.url)" }.joined(separator: "\n")
            }
            if let replaced = article.replaces { out += "\n\n(this article from \(article.path) replaces the one in \(replaced))" }
            printText(out)
        }

        static func json(_ c: Cause) -> CauseJSON {
            CauseJSON(slug: c.slug, protocol: c.protocolValue.rawValue, title: c.title, summary: c.summary,
                      evidence: c.evidence, builtin: c.builtin, source: c.location?.file)
        }

        static func describe(_ c: Cause) -> String {
            let origin = c.builtin ? "" : ", from \(c.location?.file ?? "?")"
            var out = "\(c.slug) (\(c.protocolValue.rawValue)\(origin)): \(c.title)\n  \(c.summary)"
            for e in c.evidence { out += "\n  - \(e)" }
            return out
        }

        func listCauses(_ catalog: CauseCatalog) {
            switch format {
            case .json: print(encodeJSON(catalog.causes.map(Self.json)), terminator: "")
            case .markdown: printText(catalog.markdown(), terminator: "")
            case .text: printText(catalog.causes.map(Self.describe).joined(separator: "\n"))
            }
        }
    }
}
