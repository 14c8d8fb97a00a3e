import Foundation

/// One cause of a 421. The taxonomy is data (`playbooks/causes.yaml`); the slugs are a public contract of the
/// JSON report: add, never rename.
public struct Cause: Sendable, Hashable {
    public var slug: String
    public var protocolValue: WireProtocol
    public var title: String
    public var summary: String
    /// Short phrases of what the input typically shows.
    public var evidence: [String]
    /// Whether it ships with kb; an organisation's slug carries a prefix (`acme.waf-plan-expired`).
    public var builtin: Bool
    public var location: SourceLocation?

    public init(slug: String, protocolValue: WireProtocol, title: String, summary: String, evidence: [String] = [],
                builtin: Bool = true, location: SourceLocation? = nil) {
        self.slug = slug
        self.protocolValue = protocolValue
        self.title = title
        self.summary = summary
        self.evidence = evidence
        self.builtin = builtin
        self.location = location
    }

    /// A built-in slug: lowercase words joined by '-', no dot.
    public static func isBuiltinSlug(_ s: String) -> Bool {
        isWord(Substring(s))
    }

    /// An organisation slug: `prefix.name`, both parts lowercase words joined by '-'. The dot is what keeps
    /// it apart from every built-in slug, present and future.
    public static func isOrganisationSlug(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy(isWord)
    }

    private static func isWord(_ s: Substring) -> Bool {
        guard let first = s.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first),
              s.last != "-" else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}

/// The causes in force: the built-in taxonomy, then each organisation's `causes.yaml`.
public struct CauseCatalog: Sendable {
    public private(set) var causes: [Cause]

    public init(_ causes: [Cause] = []) { self.causes = causes }

    public func cause(_ slug: String) -> Cause? { causes.first { $0.slug == slug } }
    public var slugs: [String] { causes.map(\.slug) }
    public var isEmpty: Bool { causes.isEmpty }

    /// The file name an organisation directory declares its causes in.
    public static let fileNames: Set<String> = ["causes.yaml", "causes.yml"]
    static let formatVersion = "causes/1"
    static let keys = ["slug", "protocol", "title", "summary", "evidence"]

    /// Adds the causes of one file; the same slug twice (in one file or across files) is an error, except the
    /// very same entry read again.
    public mutating func add(_ other: [Cause]) throws(KBErrors) {
        var errors: [KBError] = []
        for cause in other {
            if let first = self.cause(cause.slug) {
                guard first.location != cause.location else { continue }
                errors.append(KBError(.duplicateID, "cause '\(cause.slug)' is declared twice (first in "
                    + "\(first.location?.description ?? "kb")); give yours a prefix of your own", at: cause.location))
                continue
            }
            causes.append(cause)
        }
        if !errors.isEmpty { throw KBErrors(errors) }
    }

    /// Reads every `causes.yaml` under each source: built-in sources first, so organisation files can only add.
    public static func load(_ sources: [PlaybookSource],
                            limits: YAMLLimits = .default) throws(KBErrors) -> CauseCatalog {
        var catalog = CauseCatalog()
        var errors: [KBError] = []
        for source in sources {
            let (files, problems) = PlaybookLoader.scan(source.path, extensions: ["yaml", "yml"])
            errors += problems
            for file in files where fileNames.contains((file as NSString).lastPathComponent) {
                do {
                    let text = try TextFile.read(file, limit: limits.maxBytes)
                    try catalog.add(try decode(text, path: file, builtin: source.builtin, limits: limits))
                } catch let e as KBErrors {
                    errors += e.errors
                } catch let e as KBError {
                    errors.append(e)
                } catch {
                    errors.append(KBError(.inputUnreadable, "cannot read '\(Sanitizer.neutralize(file))'"))
                }
            }
        }
        if !errors.isEmpty { throw KBErrors(errors) }
        return catalog
    }

    /// Decodes one causes file. Built-in slugs have no dot; an organisation's must be `prefix.name`.
    public static func decode(_ text: String, path: String, builtin: Bool,
                              limits: YAMLLimits = .default) throws(KBErrors) -> [Cause] {
        let root: YAMLNode?
        do {
            root = try YAML.parse(text, path: path, limits: limits)
        } catch {
            throw KBErrors([error])
        }
        var reader = NodeReader(file: path, source: text)
        guard let root else {
            throw KBErrors([KBError(.missingKey, "the file declares no causes",
                                    at: SourceLocation(file: path, line: 1))])
        }
        guard let f = reader.fields(root, what: "causes file", allowed: ["kb", "causes"],
                                    required: ["kb", "causes"]) else {
            throw KBErrors(reader.errors)
        }
        if let node = f["kb"]?.value, let version = reader.string(node, "'kb'"), version != formatVersion {
            reader.error(.invalidValue, "unsupported format '\(version)'; a causes file says 'kb: \(formatVersion)'",
                         at: node)
        }
        var out: [Cause] = []
        var seen: [String: YAMLNode] = [:]
        for item in f["causes"].flatMap({ reader.list($0.value, "'causes'") }) ?? [] {
            guard let c = reader.fields(item, what: "cause", allowed: keys,
                                        required: ["slug", "protocol", "title", "summary"]) else { continue }
            guard let slugNode = c["slug"]?.value,
                  let slug = reader.nonEmptyString(slugNode, "cause 'slug'") else { continue }
            if builtin, !Cause.isBuiltinSlug(slug) {
                reader.error(.invalidValue, "built-in cause '\(slug)' may use only lowercase letters, digits and '-'",
                             at: slugNode)
            } else if !builtin, !Cause.isOrganisationSlug(slug) {
                let hint = Cause.isBuiltinSlug(slug) ? "'yourorg.\(slug)'" : "'yourorg.name'"
                reader.error(.invalidValue, "cause '\(slug)' needs a prefix of your own, such as \(hint): lowercase "
                    + "letters, digits and '-', one '.' between prefix and name; built-in slugs have no dot, so "
                    + "yours can never collide with one", at: slugNode)
            }
            if let first = seen[slug] {
                reader.error(.duplicateID, "duplicate cause '\(slug)' (first at \(first.mark))", at: slugNode)
            }
            seen[slug] = slugNode
            var proto = WireProtocol.unknown
            if let node = c["protocol"]?.value, let value = reader.string(node, "cause 'protocol'") {
                let known = builtin ? ["http", "smtp", "ftp", "unknown"] : ["http", "smtp", "ftp"]
                if let p = WireProtocol(rawValue: value), known.contains(value) { proto = p } else {
                    var message = "unknown protocol '\(value)'; expected one of \(known.joined(separator: ", "))"
                    if let near = Suggest.closest(to: value, in: known) { message += "; did you mean '\(near)'?" }
                    reader.error(.invalidValue, message, at: node)
                }
            }
            let title = c["title"].flatMap { reader.prose($0.value, "cause 'title'") } ?? ""
            let summary = c["summary"].flatMap { reader.prose($0.value, "cause 'summary'") } ?? ""
            var evidence: [String] = []
            if let node = c["evidence"]?.value, let items = reader.scalarList(node, "cause 'evidence'") {
                evidence = items.map { $0.0.trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            out.append(Cause(slug: slug, protocolValue: proto, title: title, summary: summary, evidence: evidence,
                             builtin: builtin, location: reader.location(slugNode)))
        }
        if !reader.errors.isEmpty { throw KBErrors(reader.errors) }
        return out
    }

    /// docs/causes.md, generated from the built-in causes so the page cannot drift from the data.
    public func markdown() -> String {
        var out = """
        # Cause taxonomy

        <!-- Generated from playbooks/causes.yaml by `kb explain --causes --format markdown`; edit the data, not this page. -->

        Every playbook names one `cause` from this list, and the JSON report carries it
        (`diagnoses[].cause`), so the slugs are a public contract: new ones are added, none is renamed.
        `kb explain SLUG` shows the article for a cause. An organisation adds causes of its own in a
        `causes.yaml` of its playbook directory, each slug with a prefix of its own (`acme.waf-plan-expired`);
        built-in slugs never contain a dot, so the two can never collide. See [playbooks.md](playbooks.md#causes).

        """
        let sections: [(WireProtocol, String)] = [
            (.http, "HTTP 421 Misdirected Request"), (.smtp, "SMTP 421 (a temporary refusal; the sender retries)"),
            (.ftp, "FTP 421"), (.unknown, "Not enough evidence"),
        ]
        for (proto, heading) in sections {
            let rows = causes.filter { $0.builtin && $0.protocolValue == proto }
            guard !rows.isEmpty else { continue }
            out += "\n## \(heading)\n\n| slug | title | what happened | typical evidence |\n|---|---|---|---|\n"
            for c in rows {
                let cells = [ "`\(c.slug)`", c.title, c.summary, c.evidence.joined(separator: "; ")]
                    .map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
                out += "| " + cells.joined(separator: " | ") + " |\n"
            }
        }
        return out
    }
}
