import Engine
import Foundation
@testable import Plugins

/// Fixture files next to the tests, found from this source file's path.
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    static func input(_ relative: String, kind: String = "text", name: String? = nil) throws -> InputText {
        InputText(name: name ?? path(relative), text: try text(relative), kind: kind)
    }

    /// `id@file:line` for every marker in `text`, whose lines belong to `file`: `<-- finding: id id…` at the
    /// end of a line marks that line; a comment line `v-- finding: id…` marks the next line (for syntaxes such
    /// as Apache's that allow comments only on their own line).
    static func markers(in text: String, file: String, lineOffset: Int = 0) -> [String] {
        var out: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var target = index + 1
            var found = line.firstRange(of: "<-- finding:")
            if found == nil, let below = line.firstRange(of: "v-- finding:") {
                found = below
                target = index + 2
            }
            guard let range = found else { continue }
            let ids = line[range.upperBound...].split(separator: " ").prefix { token in
                token.contains(".") && token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
            }
            for id in ids { out.append("\(id)@\(file):\(target + lineOffset)") }
        }
        return out.sorted()
    }

    /// Markers of every file of an `nginx -T` dump, with the original paths and lines.
    static func dumpMarkers(in text: String) -> [String] {
        (NginxConfig.splitDump(text) ?? []).flatMap { markers(in: $0.text, file: $0.path) }.sorted()
    }

    /// The 1-based line of the first line containing `needle`.
    static func line(of needle: String, in text: String) -> Int? {
        text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) }.map { $0 + 1 }
    }
}

extension Array where Element == Finding {
    /// `id@file:line`, sorted, for comparing with fixture markers.
    func findingKeys(_ ids: Set<String>? = nil) -> [String] {
        filter { ids?.contains($0.id) ?? true }
            .map { "\($0.id)@\($0.location?.file ?? "?"):\($0.location?.line ?? 0)" }
            .sorted()
    }
}

/// Files in memory, for include tests that must not touch the disk.
struct FixtureFiles: FileAccess, DirectoryListing {
    var files: [String: String]

    func read(_ path: String, limit: Int) throws(KBError) -> String {
        guard let text = files[path] else { throw KBError(.inputUnreadable, "cannot open '\(path)'") }
        guard text.utf8.count <= limit else { throw KBError(.inputTooLarge, "'\(path)' is too large") }
        return text
    }

    func contents(ofDirectory directory: String) throws(KBError) -> [String] {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let names = files.keys.filter { $0.hasPrefix(prefix) }.compactMap { path -> String? in
            let rest = path.dropFirst(prefix.count)
            return rest.split(separator: "/").first.map(String.init)
        }
        if names.isEmpty { throw KBError(.inputUnreadable, "cannot list '\(directory)'") }
        return Array(Set(names))
    }
}

func analyzerContext(inputs: [InputText] = [], files: any FileAccess = FixtureFiles(files: [:])) -> ProbeContext {
    ProbeContext(facts: Facts(inputs: inputs), files: files)
}
