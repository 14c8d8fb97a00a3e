import Foundation

/// One piece of evidence kb knows how to look for: a phrase or a pattern, what it says about the
/// protocol, and which stack, provider or signature it reveals.
///
/// Weights are points added to a protocol's score, counted once per text however often the cue
/// occurs: repetition in a long log says little more than one occurrence.
struct SymptomCue: Sendable {
    /// Whether a match counts, given the text around it.
    typealias Accept = @Sendable (SymptomText, RegexMatch) -> Bool

    enum Matcher: Sendable {
        /// Lowercase bytes searched in the lowercased text; `word` requires non-word bytes around the hit.
        case phrase([UInt8], word: Bool)
        /// A regular expression; skipped unless the lowercased text contains one of `requires`.
        /// `accept` checks the text around a match where the pattern once had a look-around.
        case pattern(RegexPattern, requires: [[UInt8]], accept: Accept?)
        /// A word followed on the same line, within `within` bytes, by one of `then` (all lowercase).
        /// Done with byte search rather than a lazy regex gap, which is quadratic on a long line.
        case near([UInt8], then: [[UInt8]], within: Int)
    }

    let id: String
    let matcher: Matcher
    var http: Double = 0
    var smtp: Double = 0
    var ftp: Double = 0
    /// Evidence kind, e.g. "status-line", "enhanced-code", "phrase", "log-line", "header".
    var kind: String = "phrase"
    /// Why it counts, in a few words, naming the protocol.
    var detail: String
    /// Counts only when its protocol already has other evidence (it corroborates, it does not decide).
    var corroborating = false
    var stack: String?
    var provider: String?
    var signature: String?
    /// For intermittency cues: what the words say.
    var intermittent: Bool?

    func weight(for wire: WireProtocol) -> Double {
        switch wire {
        case .http: return http
        case .smtp: return smtp
        case .ftp: return ftp
        case .unknown: return 0
        }
    }

    var weighsProtocol: Bool { http != 0 || smtp != 0 || ftp != 0 }
}

/// Where a cue was found first.
struct SymptomCueHit {
    let cue: SymptomCue
    let text: String
    let location: SourceLocation
    /// Index of the input it was found in.
    var input = 0
}

/// Builds cues; patterns compile on first use, and one that does not compile matches nothing
/// (tests assert none are invalid).
struct SymptomCueBuilder {
    private(set) var cues: [SymptomCue] = []

    /// A case-insensitive phrase.
    mutating func phrase(
        _ text: String, word: Bool = false, http: Double = 0, smtp: Double = 0, ftp: Double = 0,
        kind: String = "phrase", _ detail: String, corroborating: Bool = false,
        stack: String? = nil, provider: String? = nil, signature: String? = nil, intermittent: Bool? = nil
    ) {
        let bytes = Array(text.lowercased().utf8)
        cues.append(SymptomCue(
            id: text, matcher: .phrase(bytes, word: word), http: http, smtp: smtp, ftp: ftp, kind: kind,
            detail: detail, corroborating: corroborating, stack: stack, provider: provider, signature: signature,
            intermittent: intermittent))
    }

    /// A phrase lowercased the way `SymptomText` lowercases the input (ASCII letters only), so that a
    /// capitalised non-ASCII form such as "Иногда" can be matched as written.
    mutating func exactPhrase(
        _ text: String, word: Bool = false, smtp: Double = 0, ftp: Double = 0, kind: String = "phrase",
        _ detail: String, corroborating: Bool = false, intermittent: Bool? = nil
    ) {
        let bytes = text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        cues.append(SymptomCue(
            id: text, matcher: .phrase(bytes, word: word), smtp: smtp, ftp: ftp, kind: kind, detail: detail,
            corroborating: corroborating, intermittent: intermittent))
    }

    /// A word followed on the same line, within `within` bytes, by one of `then`.
    mutating func near(
        _ word: String, then: [String], within: Int = 300, http: Double = 0, smtp: Double = 0, ftp: Double = 0,
        kind: String = "phrase", _ detail: String, stack: String? = nil
    ) {
        cues.append(SymptomCue(
            id: word + " … " + then.joined(separator: "|"),
            matcher: .near(
                Array(word.lowercased().utf8), then: then.map { Array($0.lowercased().utf8) }, within: within),
            http: http, smtp: smtp, ftp: ftp, kind: kind, detail: detail, stack: stack))
    }

    /// A regular expression, case-insensitive unless `caseSensitive`. `requires` lists lowercase
    /// literals of which at least one must occur for the pattern to be worth running.
    mutating func pattern(
        _ source: String, requires: [String] = [], caseSensitive: Bool = false,
        http: Double = 0, smtp: Double = 0, ftp: Double = 0,
        kind: String = "phrase", _ detail: String, corroborating: Bool = false,
        stack: String? = nil, provider: String? = nil, signature: String? = nil, intermittent: Bool? = nil,
        accept: SymptomCue.Accept? = nil
    ) {
        let regex = SymptomRegex.compile(source, caseSensitive: caseSensitive)
        cues.append(SymptomCue(
            id: source, matcher: .pattern(regex, requires: requires.map { Array($0.utf8) }, accept: accept), http: http, smtp: smtp,
            ftp: ftp, kind: kind, detail: detail, corroborating: corroborating, stack: stack, provider: provider,
            signature: signature, intermittent: intermittent))
    }
}

enum SymptomRegex {
    /// A constant pattern, compiled on first use; multi-line so that `^` and `$` work per line.
    static func compile(_ source: String, caseSensitive: Bool = false) -> RegexPattern {
        RegexPattern(source, options: caseSensitive ? [.multiline] : [.multiline, .caseInsensitive])
    }
}

extension SymptomText {
    /// The first hit of a cue in this text, if any.
    func firstHit(of cue: SymptomCue) -> SymptomCueHit? {
        switch cue.matcher {
        case .phrase(let bytes, let word):
            guard let at = find(bytes, word: word) else { return nil }
            return SymptomCueHit(cue: cue, text: text(bytes: at..<(at + bytes.count)), location: location(ofByte: at))
        case .pattern(let regex, let requires, let accept):
            if !requires.isEmpty, !requires.contains(where: { contains($0) }) { return nil }
            let found = accept.map { accept in firstMatch(regex) { accept(self, $0) } } ?? firstMatch(regex)
            guard let match = found else { return nil }
            let range = match.range
            return SymptomCueHit(cue: cue, text: text(range.lowerBound..<min(range.upperBound, range.lowerBound + 300)),
                                 location: location(ofByte: range.lowerBound))
        case .near(let word, let then, let within):
            guard let (start, end) = firstNear(word, then: then, within: within) else { return nil }
            return SymptomCueHit(cue: cue, text: text(bytes: start..<end), location: location(ofByte: start))
        }
    }
}

extension SymptomText {
    /// Byte range from the first `word` (as a whole word) to the end of the first of `then` that follows it
    /// on the same line within `within` bytes. At most 1,000 occurrences of `word` are tried.
    func firstNear(_ word: [UInt8], then: [[UInt8]], within: Int) -> (Int, Int)? {
        guard then.contains(where: { contains($0) }) else { return nil }
        var from = 0
        var tries = 0
        while tries < 1_000, let at = find(word, from: from, word: true) {
            tries += 1
            let windowEnd = min(lower.count, at + word.count + within)
            var lineEnd = at + word.count
            while lineEnd < windowEnd && lower[lineEnd] != 0x0A { lineEnd += 1 }
            var best: Int?
            for needle in then {
                if let hit = find(needle, from: at + word.count, before: lineEnd) {
                    best = min(best ?? Int.max, hit + needle.count)
                }
            }
            if let best { return (at, best) }
            from = at + 1
        }
        return nil
    }
}
