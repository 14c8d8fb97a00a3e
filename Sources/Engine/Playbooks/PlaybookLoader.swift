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

/// The playbooks in force after layering, with notes about replacements and overlays.
public struct PlaybookCatalog: Sendable {
    public var playbooks: [Playbook]
    /// "playbook 'x' from a.yaml replaces the built-in one from b.yaml", and overlay warnings
    public var notes: [String]
    /// The causes in force: the built-in taxonomy and each organisation's `causes.yaml`.
    public var causes: CauseCatalog
    /// Every overlay applied, in the order applied.
    public var overlays: [Overlay]

    public init(playbooks: [Playbook], notes: [String] = [], causes: CauseCatalog = CauseCatalog(),
                overlays: [Overlay] = []) {
        self.playbooks = playbooks
        self.notes = notes
        self.causes = causes
        self.overlays = overlays
    }

    public func playbook(_ id: String) -> Playbook? { playbooks.first { $0.id == id } }
}

/// Finds, parses and layers playbook, overlay and cause files, reporting every problem of every file in one pass.
///
/// Precedence: the sources in the order given (built-in, then KB_PLAYBOOK_PATH, then each `--playbooks`); a
/// later playbook with the same id replaces an earlier one. Overlays then apply to the playbooks in force, in
/// the same source order and, within a source, by file path.
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
        try decode(try parse(text, path: path), text: text, path: path, checkPatterns: checkPatterns)
    }

    private func parse(_ text: String, path: String) throws(KBErrors) -> YAMLNode {
        let root: YAMLNode?
        do {
            root = try YAML.parse(text, path: path, limits: limits)
        } catch {
            throw KBErrors([error])
        }
        guard let root else {
            throw KBErrors([KBError(.missingKey, "the file holds no playbook", at: SourceLocation(file: path, line: 1))])
        }
        return root
    }

    private func decode(_ root: YAMLNode, text: String, path: String, checkPatterns: Bool) throws(KBErrors) -> Playbook {
        if Overlay.isOverlay(root) {
            throw KBErrors([KBError(.invalidValue, "this is an overlay, not a playbook; load it with its directory "
                + "('kb playbooks validate DIR' or --playbooks DIR) so it finds the playbook it extends",
                at: SourceLocation(file: path, line: 1))])
        }
        var decoder = PlaybookDecoder(file: path, source: text, context: context, checkPatterns: checkPatterns)
        let playbook = decoder.decode(root)
        guard let playbook, decoder.errors.isEmpty else { throw KBErrors(decoder.errors) }
        return playbook
    }

    /// Loads the causes, then every playbook and overlay under each source; later layers replace earlier ones
    /// by id, then the overlays apply.
    public func load(_ sources: [PlaybookSource]) throws(KBErrors) -> PlaybookCatalog {
        var errors: [KBError] = []
        var context = self.context
        do {
            try context.causes.add(try CauseCatalog.load(sources, limits: limits).causes)
        } catch {
            errors += error.errors
        }
        var byID: [String: Int] = [:]
        var playbooks: [Playbook] = []
        var builtinIDs: Set<String> = []
        var notes: [String] = []
        var overlays: [Overlay] = []
        for (layer, source) in sources.enumerated() {
            var layerIDs: [String: SourceLocation] = [:]
            let (files, problems) = Self.scan(source.path, extensions: ["yaml", "yml"])
            errors += problems
            for file in files where !CauseCatalog.fileNames.contains((file as NSString).lastPathComponent) {
                let text: String
                do {
                    text = try TextFile.read(file, limit: limits.maxBytes)
                } catch {
                    errors.append(error)
                    continue
                }
                var playbook: Playbook
                do {
                    let root = try parse(text, path: file)
                    if Overlay.isOverlay(root) {
                        let (overlay, problems) = Overlay.read(root, source: text, file: file, layer: layer)
                        errors += problems
                        if let overlay { overlays.append(overlay) }
                        continue
                    }
                    var loader = self
                    loader.context = context
                    playbook = try loader.decode(root, text: text, path: file,
                                                 checkPatterns: !source.builtin || checksBuiltinPatterns)
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
        // Overlays apply to the playbooks in force, whichever layer they came from.
        var appliers: [String: OverlayApplier] = [:]
        for overlay in overlays {
            guard let index = byID[overlay.extends] else {
                var message = "overlay extends unknown playbook '\(overlay.extends)'"
                if let near = Suggest.closest(to: overlay.extends, in: byID.keys.sorted()) {
                    message += "; did you mean '\(near)'?"
                } else {
                    message += "; 'kb playbooks list' shows the ids"
                }
                errors.append(.at(.unknownKey, message, file: overlay.file, line: overlay.extendsNode.mark.line,
                                  column: overlay.extendsNode.mark.column, in: overlay.source))
                continue
            }
            var applier = appliers[overlay.extends] ?? OverlayApplier(context: context)
            let before = applier.errors.count
            applier.apply(overlay, to: &playbooks[index], context: context)
            errors += applier.errors[before...]
            appliers[overlay.extends] = applier
        }
        for id in appliers.keys.sorted() { notes += appliers[id]!.warnings }
        for playbook in playbooks where !playbook.overlays.isEmpty {
            notes.append("playbook '\(playbook.id)' is changed by overlay\(playbook.overlays.count == 1 ? "" : "s") "
                + playbook.overlays.map { "'\($0)'" }.joined(separator: ", "))
        }
        // The causes pass and the playbook pass walk the same directories: report a problem of the walk once.
        var seen: Set<String> = []
        errors = errors.filter { seen.insert($0.description).inserted }
        if !errors.isEmpty { throw KBErrors(errors) }
        return PlaybookCatalog(playbooks: playbooks, notes: notes, causes: context.causes, overlays: overlays)
    }

    /// Files with the given extensions under `path` (or `path` itself), sorted for a stable order; the first
    /// problem `scan` finds is thrown.
    public static func files(under path: String, extensions: Set<String>) throws(KBError) -> [String] {
        let (files, problems) = scan(path, extensions: extensions)
        if let first = problems.first { throw first }
        return files
    }

    /// Files with the given extensions under `path` (or `path` itself, when it is a file), sorted, and the
    /// problems found on the way. A directory of playbooks or articles is read only inside itself: an entry
    /// whose real path leads elsewhere (a symlink to /etc/shadow or to another directory) is a problem that
    /// names the entry, and nothing of its target is read or shown.
    public static func scan(_ path: String, extensions: Set<String>) -> (files: [String], problems: [KBError]) {
        let shown = Sanitizer.neutralize(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return ([], [KBError(.notFound, "no such file or directory '\(shown)'")])
        }
        guard isDirectory.boolValue else { return ([path], []) }
        guard let root = ConfinedFiles.realPath(path) else {
            return ([], [KBError(.inputUnreadable, "cannot list directory '\(shown)'")])
        }
        var files: [String] = []
        var problems: [KBError] = []
        var pending = [path]
        while let directory = pending.popLast() {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
                problems.append(KBError(.inputUnreadable, "cannot list directory '\(Sanitizer.neutralize(directory))'"))
                continue
            }
            for name in names.sorted() {
                let entry = (directory as NSString).appendingPathComponent(name)
                let wanted = extensions.contains((name as NSString).pathExtension.lowercased())
                var info = stat()
                guard lstat(entry, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    pending.append(entry)
                case S_IFLNK:
                    var target = stat()
                    let isDirectoryLink = stat(entry, &target) == 0 && (target.st_mode & S_IFMT) == S_IFDIR
                    guard wanted || isDirectoryLink else { continue }
                    guard let real = ConfinedFiles.realPath(entry) else {
                        problems.append(KBError(.inputUnreadable, "cannot read '\(Sanitizer.neutralize(entry))'"))
                        continue
                    }
                    guard ConfinedFiles.isWithin(real, root) else {
                        problems.append(KBError(.outsideRoots, "'\(Sanitizer.neutralize(entry))' is a link that leads "
                            + "outside '\(shown)'; it was not read"))
                        continue
                    }
                    // A link to a directory inside is walked where it really is; a link to a file inside is read.
                    if !isDirectoryLink { files.append(entry) }
                default:
                    // Other kinds (a FIFO named x.yaml) are refused when read, without blocking.
                    if wanted { files.append(entry) }
                }
            }
        }
        return (files.sorted(), problems)
    }
}

/// Reads a UTF-8 text file with a size limit, so a stray huge file fails with a message, not memory exhaustion,
/// and a FIFO or device in its place is refused instead of blocking kb.
public enum TextFile {
    public static func read(_ path: String, limit: Int) throws(KBError) -> String {
        try RegularFile.read(path, limit: limit)
    }
}
