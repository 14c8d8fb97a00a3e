import Engine

/// Reads nginx inputs (plain files or `nginx -T` dumps), follows `include`, and keeps every file's lines
/// for excerpts. Several inputs are loaded together so a finding that spans files is reported once.
struct NginxLoader {
    static let maxIncludeDepth = 16
    static let maxFiles = 512

    struct Root {
        var path: String
        var owner: String
        var directives: [NginxDirective]
    }

    /// Files known without reading anything: dump sections and the inputs themselves, by path.
    private var known: [String: (text: String, owner: String)] = [:]
    /// The conf prefix each known file's relative includes resolve against.
    private var prefixes: [String: String] = [:]
    private var parsed: [String: Result<[NginxDirective], KBError>] = [:]
    private(set) var sources: [String: ConfigSourceLines] = [:]
    private(set) var owners: [String: String] = [:]
    private(set) var findings: [ConfigOwnedFinding] = []
    private(set) var roots: [Root] = []
    /// Text of all inputs, for version strings such as `nginx version: nginx/1.29.7`.
    private(set) var versionHint: (major: Int, minor: Int, patch: Int)?
    private var filesRead = 0
    private let files: (any FileAccess)?
    private let byteLimit: Int
    private var reportedUnresolved: Set<String> = []
    /// Files that came from an `nginx -T` dump: their includes are complete as dumped, and nothing is read
    /// from disk for them.
    private var dumped: Set<String> = []
    /// Why an included file could not be had, by path; it decides which finding the include gets.
    private var unread: [String: KBError] = [:]

    init(files: (any FileAccess)?, byteLimit: Int) {
        self.files = files
        self.byteLimit = byteLimit
    }

    mutating func load(_ inputs: [InputText]) {
        var rootCandidates: [(path: String, owner: String, prefix: String)] = []
        for input in inputs {
            if versionHint == nil { versionHint = Self.version(in: input.text) }
            if let dump = NginxConfig.splitDump(input.text) {
                let prefix = ConfigPath.directory(of: dump[0].path)
                for file in dump where known[file.path] == nil {
                    known[file.path] = (file.text, input.name)
                    prefixes[file.path] = prefix
                    dumped.insert(file.path)
                }
                rootCandidates.append((dump[0].path, input.name, prefix))
                // Sections no include reaches are analysed on their own after the main file.
                for file in dump.dropFirst() { rootCandidates.append((file.path, input.name, prefix)) }
            } else {
                known[input.name] = (input.text, input.name)
                let prefix = Self.prefix(for: input.name)
                prefixes[input.name] = prefix
                rootCandidates.append((input.name, input.name, prefix))
            }
        }
        var reached: Set<String> = []
        var loadedRoots: [(Root, Set<String>)] = []
        for candidate in rootCandidates where !reached.contains(candidate.path) {
            var closure: Set<String> = [candidate.path]
            let directives = expandFile(candidate.path, owner: candidate.owner, prefix: candidate.prefix,
                                        depth: 0, stack: [candidate.path], closure: &closure)
            guard let directives else { continue }
            reached.formUnion(closure)
            loadedRoots.append((Root(path: candidate.path, owner: candidate.owner, directives: directives), closure))
        }
        // A root that another root includes is analysed only there.
        roots = loadedRoots.enumerated().filter { index, entry in
            !loadedRoots.enumerated().contains { other, otherEntry in
                other != index && otherEntry.1.contains(entry.0.path) && !entry.1.contains(otherEntry.0.path)
            }
        }.map(\.element.0)
    }

    /// nginx resolves relative includes against its conf prefix: the directory of nginx.conf. For a file
    /// given alone from a subdirectory such as sites-enabled, that is its parent.
    static func prefix(for path: String) -> String {
        let dir = ConfigPath.directory(of: path)
        let last = ConfigPath.lastComponent(dir)
        let subdirectories = ["sites-enabled", "sites-available", "conf.d", "snippets", "vhosts.d", "servers",
                              "default.d", "http.d", "stream.d", "modules-enabled"]
        if subdirectories.contains(last) { return ConfigPath.directory(of: dir) }
        return dir
    }

    static func version(in text: String) -> (major: Int, minor: Int, patch: Int)? {
        guard let range = text.firstRange(of: "nginx/") else { return nil }
        let rest = text[range.upperBound...].prefix(16)
        let parts = rest.prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor, parts.count > 2 ? Int(parts[2]) ?? 0 : 0)
    }

    private mutating func text(of path: String, owner: String, fromDump: Bool) -> (String, String)? {
        if let entry = known[path] { return (entry.text, entry.owner) }
        guard !fromDump else {
            unread[path] = KBError(.notFound, "not in the dump")
            return nil
        }
        guard let files, filesRead < Self.maxFiles else { return nil }
        filesRead += 1
        do {
            let text = try files.read(path, limit: byteLimit)
            known[path] = (text, owner)
            return (text, owner)
        } catch {
            unread[path] = error
            return nil
        }
    }

    private mutating func parsedFile(_ path: String, owner: String, fromDump: Bool) -> [NginxDirective]? {
        if let result = parsed[path] {
            return try? result.get()
        }
        guard let (text, fileOwner) = text(of: path, owner: owner, fromDump: fromDump) else { return nil }
        sources[path] = ConfigSourceLines(text)
        owners[path] = fileOwner
        do {
            let directives = try NginxConfig.parse(text: text, file: path)
            parsed[path] = .success(directives)
            return directives
        } catch {
            parsed[path] = .failure(error)
            findings.append(ConfigOwnedFinding(owner: fileOwner, finding: Finding(
                id: "nginx.syntax-error",
                message: "nginx cannot parse this file: \(error.message)",
                location: error.location,
                excerpt: error.location.flatMap { sources[path]?.excerpt($0.line) })))
            return []
        }
    }

    private mutating func expandFile(_ path: String, owner: String, prefix: String, depth: Int,
                                     stack: [String], closure: inout Set<String>,
                                     fromDump: Bool = false) -> [NginxDirective]? {
        guard let directives = parsedFile(path, owner: owner, fromDump: fromDump) else { return nil }
        let fileOwner = owners[path] ?? owner
        return expand(directives, owner: fileOwner, prefix: prefix, depth: depth, stack: stack, closure: &closure)
    }

    private mutating func expand(_ directives: [NginxDirective], owner: String, prefix: String, depth: Int,
                                 stack: [String], closure: inout Set<String>) -> [NginxDirective] {
        var out: [NginxDirective] = []
        for directive in directives {
            if directive.name == "include", directive.block == nil, directive.args.count == 1 {
                let fromDump = dumped.contains(directive.location.file)
                let (targets, certain, outside) = resolve(directive.args[0], prefix: prefix, fromDump: fromDump)
                if let outside {
                    reportOutside(directive, owner: owner, path: outside)
                    continue
                }
                // An empty glob is fine for nginx; say so only when the directory could not be looked at.
                if targets.isEmpty, !certain, !fromDump {
                    reportUnresolved(directive, owner: owner, glob: ConfigGlob.hasMagic(directive.args[0]))
                }
                for target in targets {
                    if stack.contains(target) {
                        findings.append(ConfigOwnedFinding(owner: owner, finding: Finding(
                            id: "nginx.include-cycle",
                            message: "include of '\(target)' loops back to a file that includes it",
                            location: directive.location,
                            excerpt: sources[directive.location.file]?.excerpt(directive.location.line))))
                        continue
                    }
                    if depth + 1 > Self.maxIncludeDepth {
                        findings.append(ConfigOwnedFinding(owner: owner, finding: Finding(
                            id: "nginx.include-too-deep",
                            message: "includes nested deeper than \(Self.maxIncludeDepth) levels; '\(target)' not read",
                            location: directive.location,
                            excerpt: sources[directive.location.file]?.excerpt(directive.location.line))))
                        continue
                    }
                    closure.insert(target)
                    if let included = expandFile(target, owner: owner, prefix: prefix, depth: depth + 1,
                                                 stack: stack + [target], closure: &closure, fromDump: fromDump) {
                        out.append(contentsOf: included)
                    } else if let error = unread[target], error.code == .outsideRoots {
                        reportOutside(directive, owner: owner, path: target)
                    } else if let error = unread[target], error.code == .inputTooLarge {
                        add("nginx.include-too-large", ConfigText.tooLarge("include", target, byteLimit),
                            directive, owner)
                    } else if fromDump {
                        add("nginx.include-unresolved", "include '\(Finding.shortExcerpt(directive.args[0]))' names "
                            + "a file that is not in the dump; nothing is read from disk for an nginx -T dump",
                            directive, owner)
                    } else {
                        reportUnresolved(directive, owner: owner, glob: false)
                    }
                }
                continue
            }
            var copy = directive
            if let block = directive.block {
                copy.block = expand(block, owner: owner, prefix: prefix, depth: depth, stack: stack, closure: &closure)
            }
            out.append(copy)
        }
        return out
    }

    /// The files an include names, whether that list is certain (a glob whose directory was listed), and
    /// the path that was refused when the glob's directory lies outside what the user allowed.
    private mutating func resolve(_ pattern: String, prefix: String,
                                  fromDump: Bool) -> (targets: [String], certain: Bool, outside: String?) {
        let absolute = ConfigPath.join(prefix, pattern)
        if ConfigGlob.hasMagic(pattern) {
            var matches = known.keys.filter { ConfigGlob.matchPath(absolute, $0) }
            // A dump's globs match only the files in the dump.
            let lister: (any DirectoryListing)? = fromDump ? nil : files as? any DirectoryListing
            let expanded: [String]?
            do {
                expanded = try ConfigGlob.expand(absolute, lister: lister, limit: Self.maxFiles)
            } catch {
                if matches.isEmpty { return ([], false, absolute) }
                expanded = nil
            }
            matches.append(contentsOf: expanded ?? [])
            return (Array(Set(matches)).sorted(), expanded != nil, nil)
        }
        return ([absolute], true, nil)
    }

    private mutating func reportOutside(_ directive: NginxDirective, owner: String, path: String) {
        add("nginx.include-outside", ConfigText.notFollowed(path), directive, owner)
    }

    private mutating func add(_ id: String, _ message: String, _ directive: NginxDirective, _ owner: String) {
        let location = directive.location
        guard !findings.contains(where: { $0.finding.id == id && $0.finding.location == location }) else { return }
        findings.append(ConfigOwnedFinding(owner: owner, finding: Finding(
            id: id, message: message, location: location, excerpt: sources[location.file]?.excerpt(location.line))))
    }

    private mutating func reportUnresolved(_ directive: NginxDirective, owner: String, glob: Bool) {
        let key = "\(directive.location)"
        guard !reportedUnresolved.contains(key) else { return }
        reportedUnresolved.insert(key)
        let what = glob ? "matches no file that was given, and its directory could not be listed"
                        : "names a file that was not given and could not be read"
        findings.append(ConfigOwnedFinding(owner: owner, finding: Finding(
            id: "nginx.include-unresolved",
            message: "include '\(directive.args[0])' \(what); findings may miss what it holds",
            location: directive.location,
            excerpt: sources[directive.location.file]?.excerpt(directive.location.line))))
    }
}
