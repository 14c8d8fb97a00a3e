/// A playbook as loaded: data only. `docs/playbooks.md` is the user-facing description of the format.
public struct Playbook: Sendable {
    /// Bounds that keep every score finite and printable whatever an organisation playbook says:
    /// a sum of bounded weights over a bounded number of YAML nodes cannot overflow a Double.
    public static let maxWeight = 100.0
    public static let maxThreshold = 1000.0

    public var id: String
    public var title: String
    public var protocolValue: WireProtocol
    public var cause: String
    public var stacks: [String]
    public var article: String
    public var summary: String
    public var threshold: Double
    /// Other codes this cause also shows as (an SNI mismatch behind a CDN seen as 403, greylisting as 451):
    /// on input that shows one of them and no 421, the cause is listed as related.
    public var relatedCodes: [Int] = []
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

/// A compiled, case-insensitive regular expression with its source text.
public struct Pattern: Sendable {
    public let source: String
    let regex: CompiledRegex

    public init(_ source: String) throws(KBError) {
        self.source = source
        self.regex = try CompiledRegex(source)
    }

    /// The first match, if any.
    public func firstMatch(in text: String) -> Substring? { regex.firstMatch(in: text) }
    public func matches(in text: String, limit: Int) -> [Substring] { regex.matches(in: text, limit: limit) }
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
    /// The title a failed check shows: what was found, stated as found. A title such as "the reply does not
    /// mention SPF" must never stand above a reply that names SPF.
    public var failTitle: String?
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
