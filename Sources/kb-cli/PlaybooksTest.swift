import ArgumentParser
import Engine
import Foundation

extension KB.Playbooks {
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the playbooks' own test cases against all playbooks in force.",
            discussion: """
                A directory is loaded with the built-in data (its causes, articles, playbooks and overlays), and \
                the run is restricted to its playbooks and to the playbooks its overlays change. \
                Exit 0 when all pass, 1 when any fails, 64 on a usage error, 65 when a playbook is invalid. \
                --junit FILE also writes the results as JUnit XML for CI.
                """
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "Directories (or playbook files) whose tests to run (default: all in force).") var paths: [String] = []
        @Flag(name: .shortAndLong, help: "List every test, not only failures.") var verbose = false
        @Option(name: .long, help: ArgumentHelp("Also write the results as JUnit XML to this file.", valueName: "file"))
        var junit: String?

        func run() async throws {
            for path in paths where !FileManager.default.fileExists(atPath: path) {
                throw failUsage("no such file or directory '\(Sanitizer.neutralize(path))'")
            }
            let engine = try data.loadEngine(checkingBuiltinPatterns: true, adding: paths)
            var only: Set<String>?
            if !paths.isEmpty {
                func inPaths(_ file: String) -> Bool { paths.contains { KB.Playbooks.file(file, isUnder: $0) } }
                let ids = engine.catalog.playbooks.filter { inPaths($0.source.file) || $0.overlays.contains(where: inPaths) }
                    .map(\.id)
                if ids.isEmpty {
                    throw failUsage("no playbook or overlay in \(KB.Playbooks.quoted(paths)) "
                        + "is in force; a playbook there is replaced by a later --playbooks with the same id, or there "
                        + "is none ('kb playbooks list' shows where each comes from)")
                }
                only = Set(ids)
            }
            let results = await engine.runTests(only: only)
            var failed = 0
            for r in results {
                if !r.passed { failed += 1 }
                guard verbose || !r.passed else { continue }
                let where_ = "\(r.location.file):\(r.location.line):\(r.location.column)"
                let got = r.rank.map { "ranked \($0)" } ?? "not reported"
                let mark = r.passed ? "pass" : "FAIL"
                printText("\(mark) \(r.playbook): \(r.test) (expect \(r.expect.rawValue), \(got), score \(r.score)" +
                      (r.top.map { r.passed ? "" : ", top \($0)" } ?? "") + ")" + (r.passed ? "" : "  \(where_)"))
            }
            if let junit {
                do {
                    try JUnitReport.xml(results).write(toFile: junit, atomically: true, encoding: .utf8)
                } catch {
                    throw failUsage("--junit: cannot write '\(Sanitizer.neutralize(junit))'")
                }
            }
            printText("\(results.count - failed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode(Exit.problem) }
        }
    }
}
