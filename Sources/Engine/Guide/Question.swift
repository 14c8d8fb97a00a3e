import Foundation

/// One thing `kb guide` can ask: data from a playbook's `questions:` section or from the built-in set.
/// kb never runs the command a question shows; the user runs it and pastes what it printed.
public struct Question: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case yesNo = "yes-no"
        case choice
        case paste
        case commandOutput = "command-output"
    }

    /// One option of a `choice` question and what picking it means.
    public struct Choice: Sendable {
        public var label: String
        public var effect: AnswerEffect
    }

    /// Stable within its playbook (or the built-in set), so recorded answers and overlays can name it.
    public var id: String
    public var text: Template
    public var kind: Kind
    /// Why the question helps, shown on `?`.
    public var why: String
    /// For `command-output`: the command the user runs (kb prints it, never runs it).
    public var command: Template?
    /// The kind a pasted answer is read as (nginx-config, mail-log …); nil lets kb detect it.
    public var inputKind: String?
    public var yes: AnswerEffect?
    public var no: AnswerEffect?
    public var choices: [Choice] = []
    /// Signals of the owning playbook that a telling paste would match: what planning expects from it.
    public var reveals: [String] = []
    /// For built-in questions: the protocol they belong to (nil: any).
    public var scope: WireProtocol?
    /// The owning playbook, nil for a built-in question.
    public var playbook: String?
    public var location: SourceLocation
    /// The question is asked only when this holds on the evidence so far (the keys of a check's `when`).
    public var when = CheckCondition(live: nil, stacks: [], signals: [], has: [])

    /// The id as recorded and replayed: `playbook/question` for a playbook's question, `guide/question` for a built-in one.
    public var key: String { "\(playbook ?? "guide")/\(id)" }
}

/// What an answer means, as facts: statements, credited signals, a weight for the owning playbook, or a
/// sentence read by the same extractor as pasted text.
public struct AnswerEffect: Sendable {
    /// Signals of the owning playbook that the answer counts as matched.
    public var signals: [String] = []
    /// Added to the owning playbook's score (negative: the answer speaks against it).
    public var weight: Double?
    public var protocolValue: WireProtocol?
    public var stacks: [String] = []
    public var intermittent: Bool?
    /// Text read as if pasted, through the extractor and analyzers.
    public var says: String?
    /// The user allows live checks on the targets named on the command line (built-in question only).
    public var probe = false

    public init() {}

    public var isEmpty: Bool {
        signals.isEmpty && weight == nil && protocolValue == nil && stacks.isEmpty && intermittent == nil && says == nil && !probe
    }
}

/// The user's answer to one question.
public enum Answer: Sendable, Hashable {
    case yes, no, skip
    /// 0-based index into the question's choices.
    case choice(Int)
    case paste(String)

    /// How the answer reads in a transcript or a recording.
    public func describe(_ question: Question) -> String {
        switch self {
        case .yes: return "yes"
        case .no: return "no"
        case .skip: return "skipped"
        case .choice(let i): return i < question.choices.count ? question.choices[i].label : "choice \(i + 1)"
        case .paste(let text):
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            return "pasted \(lines) line\(lines == 1 ? "" : "s")"
        }
    }
}
