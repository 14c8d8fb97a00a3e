import Foundation

/// Saved answers (`--record FILE.yaml`) and their replay (`--answers FILE.yaml`). Answers are matched to
/// questions by key, in order, so a replay reaches the same conclusion even if a question moves.
public struct GuideRecord: Sendable {
    public struct Entry: Sendable, Equatable {
        public var question: String
        public var answer: String?
        public var choice: String?
        public var paste: String?
    }

    public static let format = "guide-answers/1"
    public var entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    public init(turns: [GuideSession.Turn]) {
        entries = turns.map { turn in
            var e = Entry(question: turn.question.key)
            switch turn.answer {
            case .yes: e.answer = "yes"
            case .no: e.answer = "no"
            case .skip: e.answer = "skip"
            case .choice(let i): e.choice = turn.answer.describe(turn.question); _ = i
            case .paste(let text): e.paste = text
            }
            return e
        }
    }

    /// YAML with every value as a JSON string (JSON strings are YAML double-quoted scalars), so a paste with
    /// any characters survives the round trip.
    public func yaml() -> String {
        func quoted(_ s: String) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            let data = (try? encoder.encode(s)) ?? Data("\"\"".utf8)
            return String(decoding: data, as: UTF8.self)
        }
        var out = "kb: \(Self.format)\nanswers:\n"
        for e in entries {
            out += "  - question: \(quoted(e.question))\n"
            if let a = e.answer { out += "    answer: \(quoted(a))\n" }
            if let c = e.choice { out += "    choice: \(quoted(c))\n" }
            if let p = e.paste { out += "    paste: \(quoted(p))\n" }
        }
        return out
    }

    public static func parse(_ text: String, path: String) throws(KBErrors) -> GuideRecord {
        let root: YAMLNode?
        do { root = try YAML.parse(text, path: path) } catch { throw KBErrors([error]) }
        var reader = NodeReader(file: path, source: text)
        guard let root, let f = reader.fields(root, what: "answers file", allowed: ["kb", "answers"],
                                              required: ["kb", "answers"]) else {
            throw KBErrors(reader.errors.isEmpty
                ? [KBError(.missingKey, "the file holds no answers", at: SourceLocation(file: path, line: 1))] : reader.errors)
        }
        if let n = f["kb"]?.value, let v = reader.string(n, "'kb'"), v != format {
            reader.error(.invalidValue, "unsupported format '\(v)'; this kb reads '\(format)'", at: n)
        }
        var entries: [Entry] = []
        for item in f["answers"].flatMap({ reader.list($0.value, "'answers'") }) ?? [] {
            guard let g = reader.fields(item, what: "answer", allowed: ["question", "answer", "choice", "paste"],
                                        required: ["question"]) else { continue }
            var e = Entry(question: g["question"].flatMap { reader.nonEmptyString($0.value, "'question'") } ?? "")
            e.answer = g["answer"].flatMap { reader.string($0.value, "'answer'") }
            e.choice = g["choice"].flatMap { reader.string($0.value, "'choice'") }
            e.paste = g["paste"].flatMap { reader.string($0.value, "'paste'") }
            let given = [e.answer, e.choice, e.paste].compactMap { $0 }.count
            if given != 1 {
                reader.error(.invalidValue, "an answer needs exactly one of 'answer', 'choice' or 'paste'", at: item)
            }
            if let a = e.answer, !["yes", "no", "skip"].contains(a), let n = g["answer"]?.value {
                reader.error(.invalidValue, "answer '\(a)' must be yes, no or skip", at: n)
            }
            entries.append(e)
        }
        guard reader.errors.isEmpty else { throw KBErrors(reader.errors) }
        return GuideRecord(entries: entries)
    }

    /// The recorded answer for `question`, taking it off the record; skip when none was recorded.
    public mutating func take(for question: Question) -> Answer {
        guard let index = entries.firstIndex(where: { $0.question == question.key }) else { return .skip }
        let e = entries.remove(at: index)
        if let p = e.paste { return question.kind == .paste || question.kind == .commandOutput ? .paste(p) : .skip }
        if let c = e.choice {
            if let i = question.choices.firstIndex(where: { $0.label.lowercased() == c.lowercased() }) { return .choice(i) }
            if let n = Int(c), n >= 1, n <= question.choices.count { return .choice(n - 1) }
            return .skip
        }
        switch e.answer {
        case "yes": return .yes
        case "no": return .no
        default: return .skip
        }
    }
}
