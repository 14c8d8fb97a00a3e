import Foundation

/// One signal that matched: which, what it matched and how much it weighed.
public struct SignalMatch: Sendable, Codable, Hashable {
    public var signal: String
    public var kind: String
    public var matched: String
    public var weight: Double
    public var note: String?
}

/// A playbook's standing against the facts, before and after its checks ran.
public struct Candidate: Sendable {
    public var playbook: Playbook
    /// Sum of matched signal weights, scaled down when the protocol verdict disagrees.
    public var score: Double
    public var matches: [SignalMatch]
    /// Why the score was scaled, when it was.
    public var protocolNote: String?

    public var reported: Bool { score >= playbook.threshold }
}

/// Scores playbooks' signals against facts. Pure: the same facts always give the same ranking.
public struct Matcher: Sendable {
    /// Above this protocol confidence, a playbook of another protocol does not compete at all.
    public var exclusionConfidence: Double = 0.6

    public init() {}

    public func rank(_ playbooks: [Playbook], facts: Facts) -> [Candidate] {
        let view = FactsView(facts)
        return playbooks.map { score($0, view) }.sorted { a, b in
            if a.score != b.score { return a.score > b.score }
            return a.playbook.id < b.playbook.id
        }
    }

    public func score(_ playbook: Playbook, facts: Facts) -> Candidate { score(playbook, FactsView(facts)) }

    private func score(_ playbook: Playbook, _ view: FactsView) -> Candidate {
        var matches: [SignalMatch] = []
        var total = 0.0
        for signal in playbook.signals {
            guard let matched = match(signal.matcher, view) else { continue }
            total += signal.weight
            matches.append(SignalMatch(signal: signal.id, kind: signal.matcher.kindName, matched: matched,
                                       weight: signal.weight, note: signal.note))
        }
        var note: String?
        let verdict = view.facts.protocolVerdict
        if verdict.value != .unknown, verdict.value != playbook.protocolValue, total > 0 {
            if verdict.confidence >= exclusionConfidence {
                note = "the text is \(verdict.value.rawValue), not \(playbook.protocolValue.rawValue)"
                total = 0
            } else {
                note = "scaled down: the text leans \(verdict.value.rawValue)"
                total *= 1 - verdict.confidence
            }
        }
        return Candidate(playbook: playbook, score: (total * 100).rounded() / 100, matches: matches, protocolNote: note)
    }

    private func match(_ matcher: Signal.Matcher, _ view: FactsView) -> String? {
        let facts = view.facts
        switch matcher {
        case .text(let pattern):
            return pattern.firstMatch(in: facts.text, lowered: view.loweredUTF8).map { Self.clip(String($0)) }
        case .absent(let pattern):
            return pattern.firstMatch(in: facts.text, lowered: view.loweredUTF8) == nil ? "" : nil
        case .any(let phrases):
            return phrases.first { view.lowered.contains($0) }
        case .status(let codes):
            return codes.first { facts.httpStatuses.contains($0) }.map { "HTTP status \($0)" }
        case .reply(let codes):
            return facts.replies.first { codes.contains($0.code) }.map { Self.clip("\($0.code) \($0.text)") }
        case .enhanced(let codes):
            for seen in facts.enhancedCodes where codes.contains(where: { Self.enhanced(seen, matches: $0) }) {
                return seen
            }
            return nil
        case .phase(let phases):
            return facts.phases.first { phases.contains($0) }.map { "phase \($0.rawValue)" }
        case .stack(let stacks):
            return stacks.first { facts.stacks[$0] != nil }.map { Self.named($0, facts.stacks[$0]!) }
        case .provider(let providers):
            return providers.first { facts.providers[$0] != nil }.map { Self.named($0, facts.providers[$0]!) }
        case .signature(let signatures):
            return signatures.first { facts.signatures[$0] != nil }.map { Self.named($0, facts.signatures[$0]!) }
        case .intermittent(let value):
            guard facts.intermittent == value else { return nil }
            return facts.intermittentEvidence.first.map { Self.clip($0.text) } ?? (value ? "intermittent" : "not intermittent")
        case .httpVersion(let versions):
            return versions.first { facts.httpVersions.contains($0) }.map { "HTTP/\($0)" }
        case .finding(let ids):
            return facts.findings.first { ids.contains($0.id) }.map { finding in
                finding.location.map { "\(finding.id) at \($0)" } ?? finding.id
            }
        case .fileKind(let kinds):
            return kinds.first { facts.fileKinds.contains($0) }
        }
    }

    /// `4.7.*` matches `4.7.28`; each part is compared whole.
    static func enhanced(_ code: String, matches pattern: String) -> Bool {
        let a = code.split(separator: "."), b = pattern.split(separator: ".")
        guard a.count == 3, b.count == 3 else { return false }
        return zip(a, b).allSatisfy { $1 == "*" || $0 == $1 }
    }

    /// "nginx (from 'nginx/1.22.1')", or just the slug when the text is the slug.
    static func named(_ slug: String, _ evidence: Evidence) -> String {
        let text = clip(evidence.text, to: 100)
        if evidence.kind == "stated" { return "\(slug) (stated)" }
        return text.lowercased() == slug ? slug : "\(slug) (from '\(text)')"
    }

    static func clip(_ text: String, to length: Int = 160) -> String {
        let oneLine = text.replacingOccurrences(of: "\n", with: " ")
        return oneLine.count > length ? String(oneLine.prefix(length - 3)) + "..." : oneLine
    }
}

/// Facts with the derived forms every signal needs, computed once per ranking.
struct FactsView {
    let facts: Facts
    let lowered: String
    /// ASCII-lowercased UTF-8 of the text, for the required-literal check of patterns.
    let loweredUTF8: [UInt8]

    init(_ facts: Facts) {
        self.facts = facts
        self.lowered = facts.text.lowercased()
        self.loweredUTF8 = facts.text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }
}

extension Signal.Matcher {
    public var kindName: String {
        switch self {
        case .text: return "text"
        case .absent: return "absent"
        case .any: return "any"
        case .status: return "status"
        case .reply: return "reply"
        case .enhanced: return "enhanced"
        case .phase: return "phase"
        case .stack: return "stack"
        case .provider: return "provider"
        case .signature: return "signature"
        case .intermittent: return "intermittent"
        case .httpVersion: return "http-version"
        case .finding: return "finding"
        case .fileKind: return "file-kind"
        }
    }
}
