import ArgumentParser
import Engine
import Foundation

extension KB {
    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the knowledge article for a cause or topic (e.g. upstream-sni-missing, which-421).",
            discussion: "Without an id, lists the articles."
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "A cause slug or article id.") var id: String?
        @Option(name: .long, help: "Output format: text (Markdown as written) or json.") var format: Format = .text

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

        struct ArticleJSON: Codable {
            var id, title, `protocol`, body, path: String
            var causes, stacks: [String]
            var references: [Article.Reference]
        }

        func run() async throws {
            let engine = try data.loadEngine()
            guard let id else {
                for a in engine.knowledge.articles.sorted(by: { $0.id < $1.id }) {
                    printText("\(a.id.padding(toLength: 28, withPad: " ", startingAt: 0)) \(a.title)")
                }
                return
            }
            guard let article = engine.knowledge.article(id) ?? engine.knowledge.article(forCause: id) else {
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
    }
}
