import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// What happened, in plain words for the customer's reply (`customer-summary`); nil when not written.
    public var customerSummary: String? = nil
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
    // Overlays (Sources/Engine/Playbooks/OverlayDecoder.swift).
    /// The overlay files applied to this playbook, in the order they were applied.
    public var overlays: [String] = []
    /// Which overlay changed which part ("remediation acme-ticket", "threshold"), for `kb playbooks show --effective`.
    public var origins: [String: SourceLocation] = [:]
    /// What `kb guide` may ask to tell this cause from the others (`questions:`, decoded in QuestionDecoder.swift).
    public var questions: [Question] = []
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
    /// Lowercase ASCII literals one of which every match contains, or nil when the pattern has none
    /// that are easy to see. Lets a signal be skipped without compiling its pattern.
    let literals: [[UInt8]]?
    public var also: [Pattern] = []
    public var unless: [Pattern] = []
    public var differ: [GroupPair] = []
    public var same: [GroupPair] = []

    /// Nothing is compiled yet; `check()` or the first match compiles.
    public init(lazy source: String) {
        self.source = source
        self.regex = RegexPattern(source)
        self.literals = Self.requiredLiterals(source)
    }

    /// For a top-level alternation whose every branch starts with three or more plain ASCII characters,
    /// those leading characters (lowercased); nil otherwise. Conservative: a character followed by a
    /// quantifier is left out, and anything unusual (a group, a class, an escape, a flag) ends the literal.
    static func requiredLiterals(_ source: String) -> [[UInt8]]? {
        var branches: [[UInt8]] = [[]]
        var depth = 0, inClass = false, escaped = false
        for b in source.utf8 {
            if escaped { escaped = false; branches[branches.count - 1].append(b); continue }
            if b == 0x5C { escaped = true } else if inClass { if b == 0x5D { inClass = false } }
            else if b == 0x5B { inClass = true } else if b == 0x28 { depth += 1 } else if b == 0x29 { depth -= 1 }
            else if b == 0x7C && depth == 0 { branches.append([]); continue }
            branches[branches.count - 1].append(b)
        }
        guard depth == 0, !inClass else { return nil }
        let plain: (UInt8) -> Bool = { b in
            (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x20 || b == 0x2D
                || b == 0x5F || b == 0x3A || b == 0x2F || b == 0x3D || b == 0x22 || b == 0x27 || b == 0x2C || b == 0x3B
        }
        var out: [[UInt8]] = []
        for branch in branches {
            var literal: [UInt8] = []
            for (i, b) in branch.enumerated() {
                guard plain(b) else {
                    break
                }
                if i + 1 < branch.count, [0x3F, 0x2A, 0x7B].contains(branch[i + 1]) { break }
                literal.append(b)
            }
            guard literal.count >= 3 else { return nil }
            out.append(literal.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 })
        }
        return out
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

    /// The first match that meets every condition, if any. `lowered` (the text lowercased), when
    /// given, lets a pattern whose required literals do not occur answer without being compiled.
    public func firstMatch(in text: String, lowered: [UInt8]? = nil) -> Substring? {
        if let lowered, let literals, !literals.contains(where: { Self.contains(lowered, $0) }) { return nil }
        guard also.allSatisfy({ $0.firstMatch(in: text, lowered: lowered) != nil }) else { return nil }
        let plain = unless.isEmpty && differ.isEmpty && same.isEmpty
        let found = plain ? regex.firstMatch(in: text) : regex.firstMatch(in: text) { m in accepts(m, in: text) }
        return found.flatMap { $0.text(in: text) }
    }

    private static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, hay.count >= needle.count else { return needle.isEmpty }
        return hay.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                guard let hb = h.baseAddress, let nb = n.baseAddress else { return false }
                var at = 0
                let last = h.count - n.count
                while at <= last, let found = memchr(hb + at, Int32(first), last - at + 1) {
                    at = hb.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if memcmp(hb + at, nb, n.count) == 0 { return true }
                    at += 1
                }
                return false
            }
        }
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
    /// Conditions on the case's roles (`fact: {mechanism: [spf, dkim]}`), all of which must hold.
    public var facts: [FactCondition] = []

    public var isEmpty: Bool { live == nil && stacks.isEmpty && signals.isEmpty && has.isEmpty && facts.isEmpty }
}

/// A condition on one role of the case (issue 9): it holds when the input shows any of `values` for the role.
/// `known` holds when the input shows some value, `unknown` when it shows none.
public struct FactCondition: Sendable, Hashable {
    public var role: CaseRoles.Role
    public var values: [String]

    public init(role: CaseRoles.Role, values: [String]) {
        self.role = role
        self.values = values
    }

    /// Whether it holds, and whether it held on a value the input shows (not merely on `unknown`).
    public func evaluate(_ roles: CaseRoles) -> (holds: Bool, onEvidence: Bool) {
        let shown = roles.values(role).map { $0.lowercased() }
        var holdsUnknown = false
        for want in values.map({ $0.lowercased() }) {
            switch want {
            case "known": if !shown.isEmpty { return (true, true) }
            case "unknown": if shown.isEmpty { holdsUnknown = true }
            default: if shown.contains(want) { return (true, true) }
            }
        }
        return (holdsUnknown, false)
    }
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

/// Who a remediation step is written for. Support staff paste the customer's steps into a ticket;
/// server-side steps and organisation-internal notes stay with the admin.
public enum Audience: String, Sendable, Codable, CaseIterable {
    case admin, customer, both

    /// Whether a step written for `self` belongs in a reply for `reader`.
    public func includes(_ reader: Audience) -> Bool { self == .both || self == reader || reader == .both }
}

public struct RemediationStep: Sendable {
    /// Stable within its playbook, so overlays and tests can name the step.
    public var id: String
    public var step: String
    public var detail: String
    public var stacks: [String]
    public var verify: Template?
    public var audience: Audience = .admin
    /// A step whose condition the evidence rules out is left out of the report.
    public var when: CheckCondition = CheckCondition(live: nil, stacks: [], signals: [], has: [])
    /// A step is also left out when any one part of `unless` holds (issue 9).
    public var unless: CheckCondition?
    /// A step whose `first-when` holds moves ahead of the steps the evidence does not point at (issue 9).
    public var firstWhen: CheckCondition?
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
