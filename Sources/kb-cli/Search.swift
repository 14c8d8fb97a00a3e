import ArgumentParser
import Engine
import Foundation

extension KB {
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search the knowledge base (ranked full text): directives, log codes, reply texts, words.",
            discussion: "Example: kb search proxy_ssl_server_name. Exit 0 with results, 1 with none."
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "Words to search for.") var query: [String]
        @Option(name: .long, help: "At most this many results.") var limit = 10
        @Option(name: .long, help: "Output format: text or json.") var format: Explain.Format = .text

        func validate() throws {
            if query.joined().trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("give words to search for") }
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        struct Hit: Codable { var id, title, snippet: String; var score: Double }

        func run() async throws {
            let engine = try data.loadEngine()
            let hits = engine.knowledge.search(query.joined(separator: " "), limit: limit)
            if format == .json {
                print(encodeJSON(hits.map { Hit(id: $0.id, title: $0.title, snippet: $0.snippet, score: $0.score) }), terminator: "")
            } else if hits.isEmpty {
                printText("no article matches '\(query.joined(separator: " "))'")
            } else {
                for h in hits {
                    printText("\(h.id)  \(h.title)  (\(h.score))")
                    print("    \(Sanitizer.neutralize(h.snippet))")
                }
            }
            if hits.isEmpty { throw ExitCode(Exit.problem) }
        }
    }
}
