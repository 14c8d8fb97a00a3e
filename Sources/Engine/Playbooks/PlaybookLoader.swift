import Foundation

/// A layer of playbooks: the built-in set, then each organisation directory in the order given.
public struct PlaybookSource: Sendable {
    public var path: String
    public var builtin: Bool

    public init(path: String, builtin: Bool) {
        self.path = path
        self.builtin = builtin
    }
}

/// The playbooks in force after layering, with notes about replacements.
public struct PlaybookCatalog: Sendable {
    public var playbooks: [Playbook]
    /// "playbook 'x' from a.yaml replaces the built-in one from b.yaml"
    public var notes: [String]

    public init(playbooks: [Playbook], notes: [String] = []) {
        self.playbooks = playbooks
        self.notes = notes
    }

    public func playbook(_ id: String) -> Playbook? { playbooks.first { $0.id == id } }
}

/// Finds, parses and layers playbook files, reporting every problem of every file in one pass.
public struct PlaybookLoader: Sendable {
    public var context: PlaybookContext
    public var limits: YAMLLimits
    /// Whether the built-in playbooks' patterns are compiled while loading. `kb playbooks validate`
    /// and the tests check them; other commands compile each on first use. Organisation patterns
    /// are always checked while loading.
    public var checksBuiltinPatterns = true

    public init(context: PlaybookContext, limits: YAMLLimits = .default) {
        self.context = context
        self.limits = limits
    }

    /// Decodes one playbook text; `path` names it in messages.
    public func decode(_ text: String, path: String, checkPatterns: Bool = true) throws(KBErrors) -> Playbook {
        let root: YAMLNode?
        do {
            root = try YAML.parse(text, path: path, limits: limits)
        } catch {
            throw KBErrors([error])
        }
        guard let root else {
            throw KBErrors([KBError(.missingKey, "the file holds no playbook", at: SourceLocation(file: path, line: 1))])
        }
        var decoder = PlaybookDecoder(file: path, source: text, context: context, checkPatterns: checkPatterns)
        let playbook = decoder.decode(root)
        guard let playbook, decoder.errors.isEmpty else { throw KBErrors(decoder.errors) }
        return playbook
    }

    /// Loads every `*.yaml`/`*.yml` under each source; later layers replace earlier ones by id.
    public func load(_ sources: [PlaybookSource]) throws(KBErrors) -> PlaybookCatalog {
        var errors: [KBError] = []
        var byID: [String: Int] = [:]
        var playbooks: [Playbook] = []
        var builtinIDs: Set<String> = []
        var notes: [String] = []
        for source in sources {
            var layerIDs: [String: SourceLocation] = [:]
            let files: [String]
            do {
                files = try Self.files(under: source.path, extensions: ["yaml", "yml"])
            } catch {
                errors.append(error)
                continue
            }
            for file in files {
                let text: String
                do {
                    text = try TextFile.read(file, limit: limits.maxBytes)
                } catch {
                    errors.append(error)
                    continue
                }
                var playbook: Playbook
                do {
                    playbook = try decode(text, path: file, checkPatterns: !source.builtin || checksBuiltinPatterns)
                } catch {
                    errors += error.errors
                    continue
                }
                if let first = layerIDs[playbook.id] {
                    errors.append(KBError(.duplicateID, "duplicate playbook id '\(playbook.id)' (first in \(first))",
                                          at: playbook.source))
                    continue
                }
                layerIDs[playbook.id] = playbook.source
                if let index = byID[playbook.id] {
                    playbook.replaces = playbooks[index].source
                    let what = builtinIDs.contains(playbook.id) ? "the built-in one" : "the one"
                    notes.append("playbook '\(playbook.id)' from \(playbook.source.file) replaces \(what) from \(playbooks[index].source.file)")
                    playbooks[index] = playbook
                } else {
                    byID[playbook.id] = playbooks.count
                    playbooks.append(playbook)
                    if source.builtin { builtinIDs.insert(playbook.id) }
                }
            }
        }
        if !errors.isEmpty { throw KBErrors(errors) }
        return PlaybookCatalog(playbooks: playbooks, notes: notes)
    }

    /// Files with the given extensions under `path` (or `path` itself), sorted for a stable order.
    public static func files(under path: String, extensions: Set<String>) throws(KBError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw KBError(.notFound, "no such file or directory '\(path)'")
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw KBError(.inputUnreadable, "cannot list directory '\(path)'")
        }
        var out: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let ext = (relative as NSString).pathExtension.lowercased()
            if extensions.contains(ext) { out.append((path as NSString).appendingPathComponent(relative)) }
        }
        return out.sorted()
    }
}

/// Reads a UTF-8 text file with a size limit, so a stray huge file fails with a message, not memory exhaustion.
public enum TextFile {
    public static func read(_ path: String, limit: Int) throws(KBError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw KBError(.inputUnreadable, "cannot read '\(path)'")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw KBError(.inputUnreadable, "cannot read '\(path)': \(error.localizedDescription)")
        }
        if data.count > limit {
            throw KBError(.inputTooLarge, "'\(path)' is larger than the limit of \(limit) bytes")
        }
        // Invalid UTF-8 is repaired rather than refused: logs and pastes often carry stray bytes.
        return String(decoding: data, as: UTF8.self)
    }
}
