import Foundation

/// A knowledge article: Markdown with YAML front matter.
public struct Article: Sendable {
    public struct Reference: Sendable, Codable, Hashable {
        public var title: String
        public var url: String
    }

    public var id: String
    public var title: String
    public var protocolValue: String
    public var causes: [String]
    public var stacks: [String]
    public var references: [Reference]
    /// The Markdown after the front matter.
    public var body: String
    public var path: String
    public var replaces: String?
}

/// The articles in force, built-in first, then organisation directories (same id replaces).
public struct KnowledgeBase: Sendable {
    public private(set) var articles: [Article]
    public private(set) var notes: [String]

    public init(articles: [Article], notes: [String] = []) {
        self.articles = articles
        self.notes = notes
    }

    public func article(_ id: String) -> Article? { articles.first { $0.id == id } }
    public var ids: Set<String> { Set(articles.map(\.id)) }

    /// The article for a cause: the one whose id is the slug, else the first that lists it.
    public func article(forCause slug: String) -> Article? {
        article(slug) ?? articles.first { $0.causes.contains(slug) }
    }

    /// Builds the index on demand: only `kb search` needs it, and building it costs more than loading everything else.
    public func search(_ query: String, limit: Int = 10) -> [SearchHit] {
        SearchIndex(articles).search(query, articles: articles, limit: limit)
    }

    static let keys = ["id", "title", "protocol", "causes", "stacks", "references"]

    /// Parses one article; `path` names it in messages. Its id must match the file name. `causes`, when given,
    /// is the taxonomy in force that the front matter's `causes` must come from.
    public static func parse(_ text: String, path: String, causes known: [String]? = nil) throws(KBErrors) -> Article {
        // Front matter sits between a first line '---' and the next line that is '---'.
        guard text.hasPrefix("---\n") || text.hasPrefix("---\r\n"),
              let close = text.range(of: "\n---\n") ?? text.range(of: "\n---\r\n")
                ?? (text.hasSuffix("\n---") ? text.range(of: "\n---", options: .backwards) : nil) else {
            throw KBErrors([.at(.articleFormat, "an article starts with front matter between two '---' lines",
                                file: path, line: 1, column: 1, in: text)])
        }
        let firstLineEnd = text.firstIndex(of: "\n")!
        // A blank first line keeps YAML's line numbers equal to the file's.
        let front = "\n" + text[text.index(after: firstLineEnd)..<close.lowerBound]
        let body = String(text[close.upperBound...])
        let root: YAMLNode?
        do {
            root = try YAML.parse(front, path: path)
        } catch {
            throw KBErrors([KBError(error.code, error.message, at: error.location,
                                    sourceLine: error.location.flatMap { KBError.line($0.line, of: text) })])
        }
        guard let root else {
            throw KBErrors([.at(.articleFormat, "the front matter is empty", file: path, line: 1, column: 1, in: text)])
        }
        var reader = NodeReader(file: path, source: text)
        guard let f = reader.fields(root, what: "front matter", allowed: keys, required: ["id", "title", "protocol"]) else {
            throw KBErrors(reader.errors)
        }
        let id = f["id"].flatMap { reader.nonEmptyString($0.value, "'id'") } ?? ""
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        if let node = f["id"]?.value, !id.isEmpty, id != stem {
            reader.error(.invalidValue, "article id '\(id)' must match its file name '\(stem).md'", at: node)
        }
        let title = f["title"].flatMap { reader.nonEmptyString($0.value, "'title'") } ?? ""
        var proto = ""
        if let node = f["protocol"]?.value, let value = reader.string(node, "'protocol'") {
            if ["http", "smtp", "ftp", "any"].contains(value) { proto = value } else {
                reader.error(.invalidValue, "unknown protocol '\(value)'; expected one of http, smtp, ftp, any", at: node)
            }
        }
        var causes: [String] = []
        if let node = f["causes"]?.value {
            if node.sequence?.isEmpty == true {
                causes = []
            } else if let items = reader.scalarList(node, "'causes'") {
                causes = known.map { reader.vocabulary(items, $0, "cause") } ?? items.map(\.0)
            }
        }
        var stacks: [String] = []
        if let node = f["stacks"]?.value, node.sequence?.isEmpty != true, let items = reader.scalarList(node, "'stacks'") {
            stacks = reader.vocabulary(items, Vocabulary.stacks + Vocabulary.providers, "stack")
        }
        var references: [Article.Reference] = []
        if let node = f["references"]?.value, let items = reader.list(node, "'references'") {
            for item in items {
                guard let r = reader.fields(item, what: "reference", allowed: ["title", "url"], required: ["title", "url"]),
                      let t = r["title"].flatMap({ reader.nonEmptyString($0.value, "reference 'title'") }),
                      let u = r["url"].flatMap({ reader.nonEmptyString($0.value, "reference 'url'") }) else { continue }
                if !(u.hasPrefix("https://") || u.hasPrefix("http://")) {
                    reader.error(.invalidValue, "reference url '\(u)' must start with https://", at: r["url"]!.value)
                }
                references.append(Article.Reference(title: t, url: u))
            }
        }
        if !reader.errors.isEmpty { throw KBErrors(reader.errors) }
        return Article(id: id, title: title, protocolValue: proto, causes: causes, stacks: stacks,
                       references: references, body: body, path: path, replaces: nil)
    }

    /// Loads `*.md` articles under each directory; later directories replace earlier ones by id.
    public static func load(_ directories: [String], limit: Int = 1 << 20,
                            causes: [String]? = nil) throws(KBErrors) -> KnowledgeBase {
        var errors: [KBError] = []
        var articles: [Article] = []
        var byID: [String: Int] = [:]
        var notes: [String] = []
        for directory in directories {
            var layer: [String: String] = [:]
            let (files, problems) = PlaybookLoader.scan(directory, extensions: ["md"])
            errors += problems
            for file in files {
                if ((file as NSString).lastPathComponent).uppercased() == "README.MD" { continue }
                do {
                    var article = try parse(try TextFile.read(file, limit: limit), path: file, causes: causes)
                    if let first = layer[article.id] {
                        errors.append(KBError(.duplicateID, "duplicate article id '\(article.id)' (first in \(first))",
                                              at: SourceLocation(file: file, line: 2)))
                        continue
                    }
                    layer[article.id] = file
                    if let index = byID[article.id] {
                        article.replaces = articles[index].path
                        notes.append("article '\(article.id)' from \(file) replaces the one from \(articles[index].path)")
                        articles[index] = article
                    } else {
                        byID[article.id] = articles.count
                        articles.append(article)
                    }
                } catch let error as KBErrors {
                    errors += error.errors
                } catch let error as KBError {
                    errors.append(error)
                } catch {
                    errors.append(KBError(.inputUnreadable, "cannot read '\(file)'"))
                }
            }
        }
        if !errors.isEmpty { throw KBErrors(errors) }
        return KnowledgeBase(articles: articles, notes: notes)
    }
}
