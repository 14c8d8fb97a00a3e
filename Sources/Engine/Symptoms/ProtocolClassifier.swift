import Foundation

/// Weighs evidence into a protocol verdict.
///
/// Each protocol's score is the sum of the weights of the cues found for it (each cue once;
/// corroborating cues only when the protocol has other evidence). The verdict is the best score
/// when it reaches `floor` and beats the runner-up by `minimumMargin`; otherwise it is unknown.
/// Confidence is a softmax of the scores (how clearly the best one wins) times a saturation of the
/// best score (how much evidence there is at all), so one weak hint never reads as certainty.
struct ProtocolClassifier: Sendable {
    static let contenders: [WireProtocol] = [.http, .smtp, .ftp]

    /// Below this score the text does not say enough to name a protocol.
    var floor = 1.5
    /// A lead smaller than this is a tie.
    var minimumMargin = 1.0
    /// Softmax temperature: points of score per e-fold of odds.
    var scale = 0.6
    /// Score at which the evidence is "plenty" (saturation 1 - 1/e).
    var saturation = 3.0

    /// One weighed piece of evidence.
    struct Weighed {
        let wire: WireProtocol
        let weight: Double
        let evidence: Evidence
        let corroborating: Bool
    }

    func verdict(
        weighed: [Weighed], statements: Statements, sawReplyOrStatus: Bool, mentions421: Bool
    ) -> ProtocolVerdict {
        var decisive: [WireProtocol: Double] = [:]
        for item in weighed where !item.corroborating { decisive[item.wire, default: 0] += item.weight }
        var scores: [WireProtocol: Double] = [:]
        var counted: [Weighed] = []
        for item in weighed {
            if item.corroborating && (decisive[item.wire] ?? 0) <= 0 { continue }
            scores[item.wire, default: 0] += item.weight
            counted.append(item)
        }
        let scoreTable = Dictionary(uniqueKeysWithValues: Self.contenders.map {
            ($0.rawValue, (scores[$0, default: 0] * 100).rounded() / 100)
        })
        let ranked = Self.contenders.sorted { scores[$0, default: 0] > scores[$1, default: 0] }
        let best = ranked[0]
        let bestScore = scores[best, default: 0]
        let secondScore = scores[ranked[1], default: 0]

        // a stated protocol wins outright; stating "unknown" says nothing, so the text decides
        if let stated = statements.protocolValue, stated != .unknown {
            let evidence = Evidence(kind: "stated", text: stated.rawValue, detail: "stated by the user: --protocol, the --target scheme or an answer in kb guide")
            return ProtocolVerdict(
                value: stated, confidence: 1.0, evidence: [evidence] + ordered(counted, first: stated),
                scores: scoreTable, missing: [])
        }

        var value: WireProtocol = .unknown
        var confidence = 0.0
        if bestScore >= floor && bestScore - secondScore >= minimumMargin {
            value = best
            let exps = Self.contenders.map { exp((scores[$0, default: 0] - bestScore) * scale) }
            let share = 1 / exps.reduce(0, +)
            let amount = 1 - exp(-bestScore / saturation)
            confidence = ((share * amount) * 1000).rounded() / 1000
        }
        var verdict = ProtocolVerdict(value: value, confidence: confidence, evidence: ordered(counted, first: value),
                                      scores: scoreTable)
        if value == .unknown || confidence < 0.6 {
            verdict.missing = missing(scores: scores, value: value, sawReplyOrStatus: sawReplyOrStatus,
                                      mentions421: mentions421)
        }
        return verdict
    }

    /// Evidence for the verdict first, strongest first; then the evidence for the others.
    private func ordered(_ items: [Weighed], first: WireProtocol) -> [Evidence] {
        let sorted = items.enumerated().sorted { a, b in
            let aFirst = a.element.wire == first, bFirst = b.element.wire == first
            if aFirst != bFirst { return aFirst }
            if a.element.weight != b.element.weight { return a.element.weight > b.element.weight }
            return a.offset < b.offset
        }
        return sorted.map(\.element.evidence)
    }

    /// Short lowercase hints of what would decide the verdict.
    private func missing(
        scores: [WireProtocol: Double], value: WireProtocol, sawReplyOrStatus: Bool, mentions421: Bool
    ) -> [String] {
        var out: [String] = []
        if !sawReplyOrStatus {
            out.append(mentions421
                ? "the full status line or reply line containing 421"
                : "the exact error text with the status or reply code")
        }
        let best = scores.values.max() ?? 0
        func inPlay(_ wire: WireProtocol) -> Bool {
            let score = scores[wire, default: 0]
            return best <= 0 || (score > 0 && score >= best / 2)
        }
        if inPlay(.http) || inPlay(.smtp) {
            out.append("whether this came from a browser/web server or a mail log")
        }
        if inPlay(.ftp) {
            out.append("whether the client was an ftp program (ports 21/990) or a mail server (port 25)")
        }
        if value == .http || (value == .unknown && inPlay(.http)) {
            out.append("the response headers or the web server's error log line for the request")
        }
        if value == .smtp || (value == .unknown && inPlay(.smtp)) {
            out.append("the mail log line with the reply, its enhanced status code and the smtp command it answered")
        }
        return out
    }
}
