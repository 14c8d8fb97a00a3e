/// A playbook as loaded: data only. `docs/playbooks.md` is the user-facing description of the format.
public struct Playbook: Sendable {
    public var id: String
    public var title: String
    public var protocolValue: WireProtocol
    public var cause: String
    public var stacks: [String]
    public var article: String
    public var summary: String
    public var threshold: Double
    public var signals: [Signal]
    public var checks: [Check]
    public var remediation: [RemediationStep]
    public var tests: [PlaybookTest]
    /// Where the playbook came from, for messages and for the "replaces built-in" note.
    public var source: SourceLocation
    /// Set when this playbook replaced another with the same id.
    public var replaces: SourceLocation?
}

/// One piece of weighted evidence to look for.
public struct Signal: Sendable {
    public enum Matcher: Sendable {
        case text(Pattern)
        /// Matches when the pattern occurs nowhere in the text.
        case absent(Pattern)
        case any([String])
        case status([Int])
        case reply([Int])
        case enhanced([String])
        case phase([SMTPPhase])
        case stack([String])
        case provider([String])
        case signature([String])
        case intermittent(Bool)
        case httpVersion([String])
        case finding([String])
        case fileKind([String])
    }

    public var id: String
    public var weight: Double
    public var note: String?
    public var matcher: Matcher
    public var location: SourceLocation
}

/// A case-insensitive regular expression in RE2 syntax with its source text, compiled on first use.
///
/// RE2 has no look-around and no back-references (that is what keeps matching linear), so a `text`
/// signal can carry the conditions those were used for: other patterns that must also occur
/// (`also`), a pattern the matched text must not contain (`unless`), and groups that must differ
/// or be the same (`differ`, `same`).
public struct Pattern: Sendable {
    /// Two capture groups compared, case-insensitively; checked only when both took part in the match.
    public struct GroupPair: Sendable, Hashable {
        public var first: Int
        public var second: Int

        public init(_ first: Int, _ second: Int) {
            self.first = first
            self.second = second
        }
    }

    public let source: String
    let regex: RegexPattern
    public var also: [Pattern] = []
    public var unless: [Pattern] = []
    public var differ: [GroupPair] = []
    public var same: [GroupPair] = []

    /// Nothing is compiled yet; `check()` or the first match compiles.
    public init(lazy source: String) {
        self.source = source
        self.regex = RegexPattern(source)
    }

    /// Compiles now and throws what RE2 cannot run.
    public init(_ source: String) throws(KBError) {
        self.init(lazy: source)
        if let error = regex.check() { throw Self.error(error, source: source) }
    }

    /// What RE2 cannot run, or nil.
    public func syntaxError() -> RegexSyntaxError? { regex.check() }

    public var groupCount: Int { regex.groupCount }

    static func error(_ error: RegexSyntaxError, source: String) -> KBError {
        var message = "invalid regular expression '\(source)': \(error.message)"
        if !error.fragment.isEmpty { message += " at '\(error.fragment)'" }
        message += "; kb expects RE2 syntax, which has no look-around and no back-references"
        return KBError(.invalidPattern, message)
    }

    /// The first match that meets every condition, if any.
    public func firstMatch(in text: String) -> Substring? {
        guard also.allSatisfy({ $0.firstMatch(in: text) != nil }) else { return nil }
        let plain = unless.isEmpty && differ.isEmpty && same.isEmpty
        let found = plain ? regex.firstMatch(in: text) : regex.firstMatch(in: text) { m in accepts(m, in: text) }
        return found.flatMap { $0.text(in: text) }
    }

    private func accepts(_ m: RegexMatch, in text: String) -> Bool {
        func group(_ i: Int) -> String? { m.text(i, in: text).map { $0.lowercased() } }
        for pair in differ {
            if let a = group(pair.first), let b = group(pair.second), a == b { return false }
        }
        for pair in same {
            if let a = group(pair.first), let b = group(pair.second), a != b { return false }
        }
        if !unless.isEmpty, let whole = m.text(in: text) {
            let matched = String(whole)
            if unless.contains(where: { $0.firstMatch(in: matched) != nil }) { return false }
        }
        return true
    }

    public func matches(in text: String, limit: Int) -> [Substring] {
        regex.matches(in: text, limit: limit).compactMap { $0.text(in: text) }
    }
}

/// How a check's observation is compared with what a healthy system shows.
public enum Expectation: Sendable {
    case equals(ExpectedValue)
    case anyOf([ExpectedValue])
    case not(ExpectedValue)
    case contains(String)
    case matches(Pattern)
    case lessThan(Double)
    case greaterThan(Double)
}

public enum ExpectedValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)

    public var description: String {
        switch self {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .bool(let b): return String(b)
        }
    }
}

/// A parameter as written: literal text with `{{variable}}` holes, or a fixed value.
public enum ParameterTemplate: Sendable {
    case template(Template)
    case int(Int)
    case bool(Bool)
    case list([Template])
}

public struct CheckCondition: Sendable {
    public var live: Bool?
    public var stacks: [String]
    public var signals: [String]
    public var has: [String]

    public var isEmpty: Bool { live == nil && stacks.isEmpty && signals.isEmpty && has.isEmpty }
}

public struct Check: Sendable {
    public var id: String
    public var title: String
    /// nil for a manual check.
    public var probe: String?
    public var parameters: [(name: String, value: ParameterTemplate)]
    public var expect: [(key: String, expectation: Expectation)]
    public var failMeaning: String?
    public var when: CheckCondition
    public var needs: [String]
    public var required: Bool
    public var weight: Double
    public var manual: String?
    public var location: SourceLocation
}

public struct RemediationStep: Sendable {
    public var step: String
    public var detail: String
    public var stacks: [String]
    public var verify: Template?
}

public struct PlaybookTest: Sendable {
    public enum Expect: String, Sendable, CaseIterable {
        case top, top3, match
        case noMatch = "no-match"
    }

    public var name: String
    public var input: String
    public var statements: Statements
    public var expect: Expect
    public var location: SourceLocation
}
