import ArgumentParser
import Engine
import Foundation

extension KB.Playbooks {
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check playbooks, overlays, causes and articles; reports every problem with file:line:column.",
            discussion: """
                Without paths, validates everything in force. A directory is read whole, its causes.yaml, articles \
                (*.md), playbooks and overlays together with the built-in data and any --playbooks, as \
                'kb diagnose --playbooks DIR' would use it. Exit 0 when valid (warnings are printed), 64 on a usage \
                error, 65 when something is invalid.
                """
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "Directories (or playbook files) to validate along with the built-in data.") var paths: [String] = []

        func run() async throws {
            for path in paths where !FileManager.default.fileExists(atPath: path) {
                throw failUsage("no such file or directory '\(Sanitizer.neutralize(path))'")
            }
            let engine = try data.loadEngine(checkingBuiltinPatterns: true, adding: paths)
            for note in engine.catalog.notes where note.contains(": warning: ") { printError(note) }
            guard !paths.isEmpty else {
                printText("\(engine.catalog.playbooks.count) playbooks, \(engine.catalog.overlays.count) overlays and "
                    + "\(engine.catalog.causes.causes.count) causes valid")
                return
            }
            func inPaths(_ file: String) -> Bool { paths.contains { KB.Playbooks.file(file, isUnder: $0) } }
            let playbooks = engine.catalog.playbooks.filter { inPaths($0.source.file) }.count
            let overlays = engine.catalog.overlays.filter { inPaths($0.file) }.count
            let causes = engine.catalog.causes.causes.filter { $0.location.map { inPaths($0.file) } ?? false }.count
            let articles = engine.knowledge.articles.filter { inPaths($0.path) }.count
            if playbooks + overlays + causes + articles == 0 {
                throw failUsage("no playbook, overlay, causes.yaml or article in \(KB.Playbooks.quoted(paths)); "
                    + "playbooks and overlays are *.yaml files, articles *.md files "
                    + "('kb playbooks new ID --dir DIR' writes a start)")
            }
            func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
            printText("\(count(playbooks, "playbook")), \(count(overlays, "overlay")), \(count(causes, "cause")) and "
                + "\(count(articles, "article")) valid")
        }
    }
}
