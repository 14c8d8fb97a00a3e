import Foundation

/// One search result: the article, its score and the line that best shows why it matched.
public struct SearchHit: Sendable {
    public var id: String
    public var title: String
    public var score: Double
    public var snippet: String
}

/// A small BM25 index over articles, with title and heading words weighted up,
/// so "proxy_ssl_server_name" or "4.7.28" finds the article that is about it, not one that mentions it.
struct SearchIndex: Sendable {
    private struct Doc: Sendable {
        var terms: [String: Double]
        var length: Double
        var lowered: String
    }

    private var docs: [Doc] = []
    private var documentFrequency: [String: Int] = [:]
    private var averageLength: Double = 1

    init(_ articles: [Article]) {
        for article in articles {
            var terms: [String: Double] = [:]
            var length = 0.0
            func add(_ text: String, weight: Double) {
                for token in Self.tokens(text) {
                    terms[token, default: 0] += weight
                    length += 1
                }
            }
            add(article.id.replacingOccurrences(of: "-", with: " "), weight: 3)
            add(article.title, weight: 3)
            add((article.causes + article.stacks).joined(separator: " "), weight: 2)
            for line in article.body.split(separator: "\n") {
                add(String(line), weight: line.hasPrefix("#") ? 2 : 1)
            }
            for term in terms.keys { documentFrequency[term, default: 0] += 1 }
            docs.append(Doc(terms: terms, length: length, lowered: (article.title + "\n" + article.body).lowercased()))
        }
        averageLength = docs.isEmpty ? 1 : max(1, docs.map(\.length).reduce(0, +) / Double(docs.count))
    }

    /// Words, identifiers (`proxy_ssl_server_name`), codes (`4.7.28`, `ah02032`) and tags, lowercased.
    static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        func flush() {
            while let last = current.last, last == "." || last == "-" { current.removeLast() }
            while let first = current.first, first == "." || first == "-" { current.removeFirst() }
            if !current.isEmpty { out.append(current) }
            current = ""
        }
        for ch in text.lowercased() {
            if ch.isLetter || ch.isNumber || ch == "_" || ch == "." || ch == "-" {
                current.append(ch)
            } else {
                flush()
            }
        }
        flush()
        // A dotted or hyphenated token is also indexed by its parts, so "ssl-vhost" finds "ssl".
        var expanded = out
        for token in out where token.contains(".") || token.contains("-") {
            let parts = token.split(whereSeparator: { $0 == "." || $0 == "-" }).map(String.init)
            if parts.count > 1, !parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) { expanded += parts }
        }
        return expanded
    }

    func search(_ query: String, articles: [Article], limit: Int) -> [SearchHit] {
        let terms = Array(Set(Self.tokens(query)))
        guard !terms.isEmpty else { return [] }
        let n = Double(docs.count)
        let phrase = query.lowercased().trimmingCharacters(in: .whitespaces)
        var hits: [SearchHit] = []
        for (i, doc) in docs.enumerated() {
            var score = 0.0
            for term in terms {
                guard let tf = doc.terms[term] else { continue }
                let df = Double(documentFrequency[term] ?? 0)
                let idf = log(1 + (n - df + 0.5) / (df + 0.5))
                let k1 = 1.2, b = 0.75
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc.length / averageLength))
            }
            guard score > 0 else { continue }
            if phrase.count > 3, doc.lowered.contains(phrase) { score *= 1.5 }
            let article = articles[i]
            hits.append(SearchHit(id: article.id, title: article.title, score: (score * 100).rounded() / 100,
                                  snippet: Self.snippet(article, terms: terms, phrase: phrase)))
        }
        return Array(hits.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }.prefix(limit))
    }

    private static func snippet(_ article: Article, terms: [String], phrase: String) -> String {
        let lines = article.body.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        let best = lines.max { a, b in lineScore(a, terms, phrase) < lineScore(b, terms, phrase) }
        guard let line = best, lineScore(line, terms, phrase) > 0 else { return article.title }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.count > 160 ? String(trimmed.prefix(157)) + "..." : trimmed
    }

    private static func lineScore(_ line: String, _ terms: [String], _ phrase: String) -> Int {
        let lowered = line.lowercased()
        var score = terms.filter { lowered.contains($0) }.count
        if lowered.contains(phrase) { score += 3 }
        return score
    }
}
