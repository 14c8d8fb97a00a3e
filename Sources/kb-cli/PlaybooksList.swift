import ArgumentParser
import Engine
import Foundation

extension KB.Playbooks {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the playbooks in force (built-in and your own), where each comes from and its overlays.")
        @OptionGroup var data: DataOptions
        @Option(name: .long, help: "Output format: text or json.") var format: ListFormat = .text

        enum ListFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

        struct Row: Codable {
            var id, protocolValue, cause, title, source: String
            var builtin: Bool
            var replaces: String?
            var overlays: [String]
        }

        func run() async throws {
            let engine = try data.loadEngine()
            let builtin = try data.dataRoot() + "/playbooks"
            let rows = engine.catalog.playbooks.map {
                Row(id: $0.id, protocolValue: $0.protocolValue.rawValue, cause: $0.cause, title: $0.title,
                    source: $0.source.file, builtin: KB.Playbooks.file($0.source.file, isUnder: builtin),
                    replaces: $0.replaces?.file, overlays: $0.overlays)
            }
            if format == .json {
                print(encodeJSON(rows), terminator: "")
                return
            }
            let width = rows.map(\.id.count).max() ?? 10
            for r in rows {
                let id = r.id.padding(toLength: width, withPad: " ", startingAt: 0)
                var line = "\(id)  \(r.protocolValue.padding(toLength: 4, withPad: " ", startingAt: 0))  \(r.title)"
                line += r.builtin ? "  [built-in]" : "  [\(r.source)]"
                if let replaced = r.replaces {
                    line += KB.Playbooks.file(replaced, isUnder: builtin) ? " (replaces built-in)" : " (replaces \(replaced))"
                }
                if !r.overlays.isEmpty {
                    line += "  + overlay\(r.overlays.count == 1 ? "" : "s") " + r.overlays.joined(separator: ", ")
                }
                printText(line)
            }
            for note in engine.catalog.notes { printText("note: \(note)") }
        }
    }
}
