import ArgumentParser
import Engine
import Foundation
import Plugins

extension KB {
    struct Playbooks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, show, validate and test playbooks.",
            subcommands: [List.self, Show.self, Validate.self, Test.self]
        )
    }
}

extension KB.Playbooks {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the playbooks in force (built-in and your own).")
        @OptionGroup var data: DataOptions
        @Option(name: .long, help: "Output format: text or json.") var format: ListFormat = .text

        enum ListFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

        struct Row: Codable { var id, protocolValue, cause, title, source: String; var replaces: String? }

        func run() async throws {
            let engine = try data.loadEngine()
            let rows = engine.catalog.playbooks.map {
                Row(id: $0.id, protocolValue: $0.protocolValue.rawValue, cause: $0.cause, title: $0.title,
                    source: $0.source.file, replaces: $0.replaces?.file)
            }
            if format == .json {
                print(encodeJSON(rows), terminator: "")
                return
            }
            let width = rows.map(\.id.count).max() ?? 10
            for r in rows {
                let id = r.id.padding(toLength: width, withPad: " ", startingAt: 0)
                printText("\(id)  \(r.protocolValue.padding(toLength: 4, withPad: " ", startingAt: 0))  \(r.title)" +
                      (r.replaces != nil ? "  (replaces built-in)" : ""))
            }
            for note in engine.catalog.notes { printText("note: \(note)") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one playbook: signals, checks, remediation and tests.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The playbook id (see 'kb playbooks list').") var id: String

        func run() async throws {
            let engine = try data.loadEngine()
            guard let p = engine.catalog.playbook(id) else {
                var message = "no playbook '\(id)'"
                if let near = Suggest.closest(to: id, in: engine.catalog.playbooks.map(\.id)) { message += "; did you mean '\(near)'?" }
                throw failUsage(message)
            }
            var out = ["\(p.id): \(p.title)", "  protocol \(p.protocolValue.rawValue), cause \(p.cause), article \(p.article)",
                       "  source \(p.source.file)" + (p.replaces.map { " (replaces \($0.file))" } ?? "")]
            if !p.stacks.isEmpty { out.append("  stacks: \(p.stacks.joined(separator: ", "))") }
            out.append("  threshold \(p.threshold)")
            out.append("signals:")
            for s in p.signals { out.append("  \(s.weight > 0 ? "+" : "")\(s.weight) \(s.id) [\(s.matcher.kindName)]" + (s.note.map { ": \($0)" } ?? "")) }
            if !p.checks.isEmpty {
                out.append("checks:")
                for c in p.checks { out.append("  \(c.id) (\(c.probe ?? "manual")): \(c.title)") }
            }
            out.append("remediation:")
            for (i, r) in p.remediation.enumerated() {
                out.append("  \(i + 1). \(r.step)" + (r.stacks.isEmpty ? "" : " (\(r.stacks.joined(separator: ", ")))"))
            }
            out.append("tests: \(p.tests.count)")
            printText(out.joined(separator: "\n"))
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check playbooks for errors; reports every problem with file:line:column.",
            discussion: "Without paths, validates the playbooks in force. Exit 0 when valid, 65 when not."
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "Playbook files or directories to validate (against the built-in articles and probes).") var paths: [String] = []

        func run() async throws {
            let engine = try data.loadEngine(checkingBuiltinPatterns: true)
            guard !paths.isEmpty else {
                printText("\(engine.catalog.playbooks.count) playbooks valid")
                return
            }
            let loader = PlaybookLoader(context: PlaybookContext(probes: engine.registry, articles: engine.knowledge.ids))
            var count = 0
            var errors: [KBError] = []
            for path in paths {
                let (files, problems) = PlaybookLoader.scan(path, extensions: ["yaml", "yml"])
                errors += problems
                for file in files {
                    do {
                        _ = try loader.decode(try TextFile.read(file, limit: YAMLLimits.default.maxBytes), path: file)
                        count += 1
                    } catch let e as KBErrors {
                        errors += e.errors
                    } catch let e as KBError {
                        errors.append(e)
                    }
                }
            }
            if !errors.isEmpty { throw failWithDataErrors(KBErrors(errors)) }
            printText("\(count) playbook\(count == 1 ? "" : "s") valid")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the playbooks' own test cases against all playbooks in force.",
            discussion: "Paths restrict the run to the playbooks in those files. Exit 0 when all pass, 1 when any fails."
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "Playbook files or directories whose tests to run (default: all).") var paths: [String] = []
        @Flag(name: .shortAndLong, help: "List every test, not only failures.") var verbose = false

        func run() async throws {
            let engine = try data.loadEngine(checkingBuiltinPatterns: true)
            var only: Set<String>?
            if !paths.isEmpty {
                var files: Set<String> = []
                for path in paths {
                    do {
                        for f in try PlaybookLoader.files(under: path, extensions: ["yaml", "yml"]) {
                            files.insert(URL(fileURLWithPath: f).standardizedFileURL.path)
                        }
                    } catch { throw failUsage(error.message) }
                }
                only = Set(engine.catalog.playbooks.filter { files.contains(URL(fileURLWithPath: $0.source.file).standardizedFileURL.path) }.map(\.id))
                if only!.isEmpty { throw failUsage("no playbook in force comes from \(paths.joined(separator: ", "))") }
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
            printText("\(results.count - failed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode(Exit.problem) }
        }
    }
}
