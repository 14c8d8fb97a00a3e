import Engine

/// Reads Apache inputs (config files and `apachectl -S` listings), follows `Include`/`IncludeOptional`
/// relative to ServerRoot, and keeps each file's lines for excerpts.
struct ApacheLoader {
    static let maxIncludeDepth = 16
    static let maxFiles = 512

    struct Root {
        var path: String
        var owner: String
        var directives: [ApacheDirective]
    }

    private(set) var roots: [Root] = []
    private(set) var listings: [(owner: String, listing: ApacheVHostListing)] = []
    private(set) var sources: [String: ConfigSourceLines] = [:]
    private(set) var owners: [String: String] = [:]
    private(set) var findings: [ConfigOwnedFinding] = []
    private var known: [String: (text: String, owner: String)] = [:]
    private var parsed: [String: [ApacheDirective]] = [:]
    private var failed: Set<String> = []
    private var filesRead = 0
    private let files: (any FileAccess)?
    private let byteLimit: Int
    private var serverRoot: String = "."
    /// Why an included file could not be had, by path; it decides which finding the include gets.
    private var unread: [String: KBError] = [:]

    init(files: (any FileAccess)?, byteLimit: Int) {
        self.files = files
        self.byteLimit = byteLimit
    }

    mutating func load(_ inputs: [InputText]) {
        var configs: [InputText] = []
        for input in inputs {
            if input.kind == "apachectl-s" || ApacheConfigAnalyzer.looksLikeListing(input.text),
               let listing = ApacheVHostListing.parse(text: input.text, file: input.name) {
                listings.append((input.name, listing))
                sources[input.name] = ConfigSourceLines(input.text)
                owners[input.name] = input.name
            } else {
                known[input.name] = (input.text, input.name)
                configs.append(input)
            }
        }
        var loaded: [(Root, Set<String>)] = []
        var reached: Set<String> = []
        for input in configs where !reached.contains(input.name) {
            serverRoot = Self.defaultServerRoot(for: input.name)
            var closure: Set<String> = [input.name]
            guard let directives = expandFile(input.name, owner: input.name, depth: 0, stack: [input.name],
                                              closure: &closure) else { continue }
            reached.formUnion(closure)
            loaded.append((Root(path: input.name, owner: input.name, directives: directives), closure))
        }
        roots = loaded.enumerated().filter { index, entry in
            !loaded.enumerated().contains { other, otherEntry in
                other != index && otherEntry.1.contains(entry.0.path) && !entry.1.contains(otherEntry.0.path)
            }
        }.map(\.element.0)
    }

    /// Apache resolves relative includes against ServerRoot. Without a ServerRoot directive, guess it from
    /// where the file is: /etc/apache2/apache2.conf → /etc/apache2, /etc/httpd/conf/httpd.conf → /etc/httpd,
    /// /etc/apache2/sites-enabled/x.conf → /etc/apache2.
    static func defaultServerRoot(for path: String) -> String {
        let dir = ConfigPath.directory(of: path)
        let last = ConfigPath.lastComponent(dir)
        let nested = ["conf", "conf.d", "conf.modules.d", "sites-enabled", "sites-available", "conf-enabled",
                      "conf-available", "mods-enabled", "extra", "vhosts.d", "other"]
        return nested.contains(last) ? ConfigPath.directory(of: dir) : dir
    }

    /// The names in the certificate at `path`, read through the run's file access; nil when unknown.
    func certificateNames(_ path: String) -> [String]? {
        CertificateFileNames.names(path, files: files)
    }

    private mutating func parsedFile(_ path: String, owner: String) -> [ApacheDirective]? {
        if let directives = parsed[path] { return directives }
        if failed.contains(path) { return [] }
        let text: String
        var fileOwner = owner
        if let entry = known[path] {
            text = entry.text
            fileOwner = entry.owner
        } else {
            guard let files, filesRead < Self.maxFiles else { return nil }
            filesRead += 1
            do {
                text = try files.read(path, limit: byteLimit)
            } catch {
                unread[path] = error
                return nil
            }
            known[path] = (text, owner)
        }
        sources[path] = ConfigSourceLines(text)
        owners[path] = fileOwner
        do {
            let directives = try ApacheConfig.parse(text: text, file: path)
            parsed[path] = directives
            return directives
        } catch {
            failed.insert(path)
            findings.append(ConfigOwnedFinding(owner: fileOwner, finding: Finding(
                id: "apache.syntax-error",
                message: "Apache cannot parse this file: \(error.message)",
                location: error.location,
                excerpt: error.location.flatMap { sources[path]?.excerpt($0.line) })))
            return []
        }
    }

    private mutating func expandFile(_ path: String, owner: String, depth: Int, stack: [String],
                                     closure: inout Set<String>) -> [ApacheDirective]? {
        guard let directives = parsedFile(path, owner: owner) else { return nil }
        return expand(directives, owner: owners[path] ?? owner, depth: depth, stack: stack, closure: &closure)
    }

    private mutating func expand(_ directives: [ApacheDirective], owner: String, depth: Int, stack: [String],
                                 closure: inout Set<String>) -> [ApacheDirective] {
        var out: [ApacheDirective] = []
        for directive in directives {
            if directive.key == "serverroot", let root = directive.args.first {
                serverRoot = root
            }
            if directive.children == nil, directive.key == "include" || directive.key == "includeoptional",
               let pattern = directive.args.first {
                let optional = directive.key == "includeoptional"
                let (targets, outside) = resolve(pattern)
                if let outside {
                    reportOutside(directive, owner: owner, path: outside)
                    continue
                }
                if targets.isEmpty && !optional {
                    unresolved(directive, owner: owner)
                }
                for target in targets {
                    if stack.contains(target) {
                        add("apache.include-cycle", "Include of '\(target)' loops back to a file that includes it",
                            directive, owner)
                        continue
                    }
                    guard depth + 1 <= Self.maxIncludeDepth else {
                        add("apache.include-too-deep",
                            "includes nested deeper than \(Self.maxIncludeDepth) levels; '\(target)' not read", directive, owner)
                        continue
                    }
                    closure.insert(target)
                    if let included = expandFile(target, owner: owner, depth: depth + 1, stack: stack + [target],
                                                 closure: &closure) {
                        out.append(contentsOf: included)
                    } else if let error = unread[target], error.code == .outsideRoots {
                        // Even IncludeOptional says so: a file that may not be read is not a file that is absent.
                        reportOutside(directive, owner: owner, path: target)
                    } else if let error = unread[target], error.code == .inputTooLarge {
                        add("apache.include-too-large", ConfigText.tooLarge(directive.name, target, byteLimit),
                            directive, owner)
                    } else if !optional {
                        unresolved(directive, owner: owner)
                    }
                }
                continue
            }
            var copy = directive
            if let children = directive.children {
                copy.children = expand(children, owner: owner, depth: depth, stack: stack, closure: &closure)
            }
            out.append(copy)
        }
        return out
    }

    /// The files an Include names, or the path that was refused when it lies outside what the user allowed.
    private mutating func resolve(_ pattern: String) -> (targets: [String], outside: String?) {
        let absolute = ConfigPath.join(serverRoot, pattern)
        let lister = files as? any DirectoryListing
        if ConfigGlob.hasMagic(pattern) {
            var matches = known.keys.filter { ConfigGlob.matchPath(absolute, $0) }
            do {
                matches += try ConfigGlob.expand(absolute, lister: lister, limit: Self.maxFiles) ?? []
            } catch {
                if matches.isEmpty { return ([], absolute) }
            }
            return (Array(Set(matches)).sorted(), nil)
        }
        if known[absolute] != nil { return ([absolute], nil) }
        // `Include conf.d/` names a directory: every file in it, sorted. A path outside the allowed directories
        // is not listed; reading it below reports it.
        if let lister, let names = try? lister.contents(ofDirectory: absolute) {
            return (names.filter { !$0.hasPrefix(".") }.sorted().map { ConfigPath.join(absolute, $0) }, nil)
        }
        let inDirectory = known.keys.filter { ConfigPath.directory(of: $0) == absolute }
        if !inDirectory.isEmpty { return (inDirectory.sorted(), nil) }
        return ([absolute], nil)
    }

    private mutating func reportOutside(_ directive: ApacheDirective, owner: String, path: String) {
        add("apache.include-outside", ConfigText.notFollowed(path), directive, owner)
    }

    private mutating func unresolved(_ directive: ApacheDirective, owner: String) {
        add("apache.include-unresolved",
            "\(directive.name) '\(directive.args.first ?? "")' names no file that was given or could be read; "
            + "findings may miss what it holds", directive, owner)
    }

    private mutating func add(_ id: String, _ message: String, _ directive: ApacheDirective, _ owner: String) {
        let location = directive.location
        guard !findings.contains(where: { $0.finding.id == id && $0.finding.location == location }) else { return }
        findings.append(ConfigOwnedFinding(owner: owners[location.file] ?? owner, finding: Finding(
            id: id, message: message, location: location, excerpt: sources[location.file]?.excerpt(location.line))))
    }
}
