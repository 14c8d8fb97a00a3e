import ArgumentParser
import Engine
import Foundation

extension KB {
    struct Playbooks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, show, validate, test and scaffold playbooks and overlays.",
            discussion: """
                Precedence: the built-in playbooks, then each directory of KB_PLAYBOOK_PATH, then each --playbooks \
                in order; a later playbook with the same id replaces an earlier one. Overlays (kb: overlay/1) \
                then change the playbooks in force, in the same order and, within a directory, by file name. \
                See docs/playbooks.md.
                """,
            subcommands: [List.self, Show.self, Validate.self, Test.self, New.self, OverlayCommand.self]
        )
    }
}

extension KB.Playbooks {
    /// The playbook named on the command line, or a usage error with a suggestion.
    static func playbook(_ id: String, in engine: Engine) throws -> Playbook {
        guard let p = engine.catalog.playbook(id) else {
            var message = "no playbook '\(id)'"
            if let near = Suggest.closest(to: id, in: engine.catalog.playbooks.map(\.id)) {
                message += "; did you mean '\(near)'?"
            }
            throw failUsage(message + " ('kb playbooks list' shows the ids)")
        }
        return p
    }

    /// The paths as a message quotes them.
    static func quoted(_ paths: [String]) -> String {
        paths.map { "'\(Sanitizer.neutralize($0))'" }.joined(separator: ", ")
    }

    /// A path as compared across the command line and the loader.
    static func standard(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// Whether `file` is `path` or lies under it.
    static func file(_ file: String, isUnder path: String) -> Bool {
        let f = standard(file), p = standard(path)
        return f == p || f.hasPrefix(p.hasSuffix("/") ? p : p + "/")
    }
}
