import Foundation

/// NSRegularExpression behind a Sendable wrapper: compiled once when a playbook loads,
/// then only read, which NSRegularExpression allows from any thread.
struct CompiledRegex: @unchecked Sendable {
    private let regex: NSRegularExpression

    init(_ source: String, caseInsensitive: Bool = true) throws(KBError) {
        do {
            regex = try NSRegularExpression(pattern: source, options: caseInsensitive ? [.caseInsensitive] : [])
        } catch {
            throw KBError(.invalidPattern, "invalid regular expression '\(source)'")
        }
    }

    func firstMatch(in text: String) -> Substring? {
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        guard let match = regex.firstMatch(in: text, options: [], range: range),
              let r = Range(match.range, in: text) else { return nil }
        return text[r]
    }

    func matches(in text: String, limit: Int) -> [Substring] {
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        var out: [Substring] = []
        regex.enumerateMatches(in: text, options: [], range: range) { match, _, stop in
            if let match, let r = Range(match.range, in: text) { out.append(text[r]) }
            if out.count >= limit { stop.pointee = true }
        }
        return out
    }
}
