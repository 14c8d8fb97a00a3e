/// The overall verdict of a run.
public enum ReportStatus: String, Sendable, Codable {
    /// A cause was diagnosed.
    case problem
    /// Checks ran and found nothing wrong.
    case healthy
    /// Not enough to tell, or a needed check could not run.
    case inconclusive
    /// The input shows another error and nothing of a 421.
    case not421 = "not-421"

    /// Exit codes are a documented contract (README and docs/report-json.md).
    public var exitCode: Int32 {
        switch self {
        case .healthy: return 0
        case .problem: return 1
        case .inconclusive: return 2
        case .not421: return 3
        }
    }
}

/// The result of one check.
public struct CheckResult: Sendable, Codable {
    public var id: String
    public var title: String
    public var status: CheckStatus
    public var reason: String?
    /// For a failed check, what the probe saw against what a healthy system shows.
    public var observed: String?
    public var evidence: [Evidence]
    /// What a person can run to see the same thing.
    public var command: String?
    public var probe: String?
    public var required: Bool
    /// Whether the check looked at a live system (its command reproduces what kb saw there).
    public var live: Bool = false
}

public struct RemediationItem: Sendable, Codable {
    public var id: String
    /// Who the step is for: admin, customer or both.
    public var audience: Audience
    public var step: String
    public var detail: String
    public var verify: String?
    public var stacks: [String]
}

public struct SignalReport: Sendable, Codable {
    public var signal: String
    public var kind: String
    public var matched: String
    public var weight: Double
    public var note: String?
}

public struct Diagnosis: Sendable, Codable {
    public var playbook: String
    public var cause: String
    public var title: String
    public var `protocol`: String
    public var score: Double
    public var confidence: Double
    public var summary: String
    /// What happened, in plain words for the person who reported it (the playbook's `customer-summary`).
    public var customerSummary: String?
    public var signals: [SignalReport]
    public var checks: [CheckResult]
    public var remediation: [RemediationItem]
    public var article: String
    public var articleTitle: String?
    public var references: [Article.Reference]
    /// The built-in playbook this one replaced, if an organisation's playbook did.
    public var replaces: String?
    /// The overlay files that changed this playbook, in the order applied; absent when none did.
    public var overlays: [String]?
    public var protocolNote: String?
    /// Set when no cause reached its threshold and this is only one of the leading hypotheses.
    public var tentative: Bool?
    /// Set on a not-421 report: this cause also shows as the code the input has (its playbook says so).
    public var related: Bool?
}

public struct ProtocolReport: Sendable, Codable {
    public var value: String
    public var confidence: Double
    public var evidence: [Evidence]
    public var scores: [String: Double]
    public var missing: [String]

    public init(_ verdict: ProtocolVerdict) {
        value = verdict.value.rawValue
        confidence = (verdict.confidence * 100).rounded() / 100
        var seen: Set<String> = []
        evidence = verdict.evidence.filter { seen.insert("\($0.detail ?? $0.kind)|\($0.text)|\($0.location?.line ?? 0)").inserted }
        scores = verdict.scores.mapValues { ($0 * 100).rounded() / 100 }
        missing = verdict.missing
    }
}

/// A summary of what kb read, so a reader can check it understood the input.
public struct FactsSummary: Sendable, Codable {
    public var inputs: [String]
    public var httpStatuses: [Int]
    public var replies: [String]
    public var enhancedCodes: [String]
    public var phases: [String]
    public var hosts: [String]
    public var stacks: [String]
    public var providers: [String]
    public var signatures: [String]
    public var intermittent: Bool?
    public var findings: [Finding]
    /// What each analyzer checked in each config or log, including clean ones.
    public var checked: [CheckedInput]
    /// Which name plays which part, role name to values best first (issue 9; docs/report-json.md).
    public var roles: [String: [String]] = [:]
}

/// The report contract: `schema` versions the JSON shape (docs/report-json.md).
public struct Report: Sendable, Codable {
    public var schema: String = "kb.report/1"
    /// The reader the output was written for (admin or customer); set by the renderer.
    public var audience: Audience?
    public var `protocol`: ProtocolReport
    public var status: ReportStatus
    /// One line that says what kb concluded.
    public var verdict: String
    public var diagnoses: [Diagnosis]
    /// Which codes the input shows: the 421 cues found and the other error codes.
    public var codes: CodeCensus
    public var facts: FactsSummary
    /// What would decide it, when inconclusive.
    public var next: [String]
    public var ask: [String] = []
    public var notes: [String]
}
