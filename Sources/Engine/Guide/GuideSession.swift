import Foundation

/// The guided conversation as a pure state machine: it takes answers and returns the next question or a
/// conclusion. It prints nothing and reads no terminal; `kb guide` does the I/O, tests drive it directly.
///
/// Every step recomputes the facts from the inputs plus the answers so far (so `undo` is dropping the last
/// answer), ranks through `Engine.diagnose`, then picks the question whose possible answers would move the
/// ranking most.
public struct GuideSession: Sendable {
    public struct Turn: Sendable {
        public var question: Question
        public var answer: Answer

        public init(question: Question, answer: Answer) {
            self.question = question
            self.answer = answer
        }
    }

    public enum Step: Sendable {
        case ask(Question, Standing)
        case conclude(Standing)
    }

    /// Runs the live survey of a target the user named, after they said yes: the prepared target and
    /// environment (addresses resolved) and what was observed, as input text.
    public typealias LiveObserver = @Sendable (Target, RunEnvironment) async -> (Target, RunEnvironment, InputText)

    /// What is known after the answers so far.
    public struct Standing: Sendable {
        public struct Leader: Sendable {
            public var cause: String
            public var title: String
            public var confidence: Double
        }

        public var report: Report
        public var protocolValue: WireProtocol
        public var protocolConfidence: Double
        public var leaders: [Leader]
        /// The leading cause stands clear of the others: nothing more needs asking.
        public var confirmed: Bool
        /// Values for the `{{variables}}` of question texts and commands, from the same facts.
        public var variables: [String: String] = [:]

        /// The cause the session ends at: the top diagnosis of a report that names a problem, else nil.
        public var cause: String? {
            guard report.status == .problem, let top = report.diagnoses.first, top.tentative != true else { return nil }
            return top.cause
        }

        /// The ranking in one line: `h2-coalescing 0.71 · sni-host-mismatch 0.20`.
        public var ranking: String {
            leaders.isEmpty ? "no cause has evidence yet"
                : leaders.prefix(3).map { "\($0.cause) \(String(format: "%.2f", $0.confidence))" }.joined(separator: " · ")
        }

        /// What is known, in at most five lines.
        public var summary: [String] {
            let proto = protocolValue == .unknown ? "not known yet"
                : "\(protocolValue.rawValue) (confidence \(String(format: "%.2f", protocolConfidence)))"
            var lines = ["protocol: \(proto)", "leading: \(ranking)"]
            if report.status == .healthy { lines.append("live checks found nothing wrong") }
            if report.status == .not421 { lines.append("the input shows another error code, not a 421") }
            return Array(lines.prefix(5))
        }
    }

    let engine: Engine
    public let inputs: [InputText]
    public let statements: Statements
    public let target: Target?
    let environment: RunEnvironment
    public let questions: [Question]
    let observer: LiveObserver?
    public private(set) var turns: [Turn] = []
    /// Facts already read for a set of inputs and statements: a large log is read once, not at every step.
    private let cache = FactsCache()
    /// Set after the user allowed live checks.
    private var live: (target: Target, environment: RunEnvironment, input: InputText)?
    /// The session ends after this many questions whatever the standing.
    public var maxQuestions = 12
    /// Below this expected change of the ranking a question is not worth asking.
    public var minimumValue = 0.04
    /// Past a confirmed cause, only a question expected to move the ranking this much is still asked.
    public var confirmedValue = 0.2

    /// `builtin` are the built-in questions (`BuiltinQuestions.all`); the playbooks' own come from the engine's catalog.
    public init(engine: Engine, inputs: [InputText], statements: Statements = Statements(), target: Target? = nil,
                environment: RunEnvironment = RunEnvironment(), builtin: [Question], observer: LiveObserver? = nil) {
        self.engine = engine
        self.inputs = inputs
        self.statements = statements
        self.target = target
        self.environment = environment
        self.questions = builtin + engine.catalog.playbooks.flatMap(\.questions)
        self.observer = observer
    }

    public var liveChecked: Bool { live != nil }

    // MARK: answers

    /// Records an answer; a yes to the probe question runs the live survey now (and only then).
    public mutating func answer(_ answer: Answer, to question: Question) async {
        turns.append(Turn(question: question, answer: answer))
        if answer == .yes, question.yes?.probe == true, live == nil, let target, let observer {
            var (t, e, input) = await observer(target, environment)
            e.liveCache = e.liveCache ?? ProbeCache()
            live = (t, e, input)
        }
    }

    /// Takes back the last answer; false when there is none.
    @discardableResult
    public mutating func undo() -> Bool {
        guard let last = turns.popLast() else { return false }
        if last.answer == .yes, last.question.yes?.probe == true { live = nil }
        return true
    }

    // MARK: the next step

    public func next() async -> Step {
        let state = await self.state(turns)
        let report = await state.engine.diagnose(state.facts, environment: live?.environment ?? environment)
        let standing = self.standing(report, state: state)
        let asked = Set(turns.map(\.question.key))
        if turns.count >= maxQuestions || (report.status == .healthy && live != nil) { return .conclude(standing) }
        // Another error code, or configs and logs that read clean, end the session once the whole error was
        // asked for: a first line often shows only part of it.
        if report.status == .not421 || report.status == .healthy {
            if let full = questions.first(where: { $0.playbook == nil && $0.kind == .paste }), !asked.contains(full.key) {
                return .ask(full, standing)
            }
            return .conclude(standing)
        }
        // A protocol that is still unknown is settled first.
        if state.facts.protocolVerdict.value == .unknown,
           let settle = questions.first(where: { $0.playbook == nil && $0.choices.contains { $0.effect.protocolValue != nil } }),
           !asked.contains(settle.key) {
            return .ask(settle, standing)
        }
        let base = distribution(state.engine.matcher.rank(state.engine.catalog.playbooks, facts: state.facts), state.facts)
        var best: (question: Question, value: Double)?
        for question in eligible(state, asked: asked) {
            let value = await self.value(of: question, state: state, base: base)
            if value > (best?.value ?? minimumValue) { best = (question, value) }
        }
        // A confirmed cause ends the session unless one question could still move the ranking a lot.
        guard let best, !standing.confirmed || best.value >= confirmedValue else { return .conclude(standing) }
        return .ask(best.question, standing)
    }

    /// The question's text and command with the facts' names filled in.
    public func render(_ question: Question, standing: Standing) -> (text: String, command: String?) {
        let variables = standing.variables
        let text = question.text.render(variables) ?? question.text.source
        return (text, question.command.map { $0.render(variables) ?? $0.source })
    }

    // MARK: state

    struct State {
        var engine: Engine
        var facts: Facts
    }

    /// Facts from the inputs plus `turns`, and the catalog with credited signals turned into findings.
    func state(_ turns: [Turn]) async -> State {
        var inputs = self.inputs
        var statements = self.statements
        var credits: [(playbook: String, signals: [String], weight: Double?, finding: Finding)] = []
        for (index, turn) in turns.enumerated() {
            let q = turn.question
            if case .paste(let text) = turn.answer, !text.isEmpty {
                inputs.append(InputText(name: "<answer \(q.key)>", text: text, kind: q.inputKind ?? "text"))
            }
            guard let effect = Self.effect(of: turn) else { continue }
            if let p = effect.protocolValue { statements.protocolValue = p }
            for s in effect.stacks where !statements.stacks.contains(s) { statements.stacks.append(s) }
            if let i = effect.intermittent { statements.intermittent = i }
            if let says = effect.says { inputs.append(InputText(name: "<answer \(q.key)>", text: says)) }
            if let owner = q.playbook, !effect.signals.isEmpty || effect.weight != nil {
                let finding = Finding(id: "guide.\(index + 1).\(q.id)",
                                      message: "answered '\(turn.answer.describe(q))' to question '\(q.id)'")
                credits.append((owner, effect.signals, effect.weight, finding))
            }
        }
        if let live { inputs.append(live.input) }
        let key = FactsCache.key(inputs, statements, live?.target)
        var facts: Facts
        if let cached = cache.facts(key) {
            facts = cached
        } else {
            facts = await engine.facts(inputs, statements: statements, target: live?.target,
                                       environment: live?.environment ?? environment)
            cache.store(key, facts)
        }
        var engine = self.engine
        for credit in credits {
            facts.findings.append(credit.finding)
            guard let index = engine.catalog.playbooks.firstIndex(where: { $0.id == credit.playbook }) else { continue }
            var playbook = engine.catalog.playbooks[index]
            for i in playbook.signals.indices where credit.signals.contains(playbook.signals[i].id) {
                playbook.signals[i].matcher = .finding([credit.finding.id])
            }
            if let weight = credit.weight {
                playbook.signals.append(Signal(id: "answer-\(credit.finding.id.dropFirst(6))", weight: weight,
                                               note: credit.finding.message, matcher: .finding([credit.finding.id]),
                                               location: playbook.source))
            }
            engine.catalog.playbooks[index] = playbook
        }
        return State(engine: engine, facts: facts)
    }

    static func effect(of turn: Turn) -> AnswerEffect? {
        switch turn.answer {
        case .yes: return turn.question.yes
        case .no: return turn.question.no
        case .choice(let i): return i >= 0 && i < turn.question.choices.count ? turn.question.choices[i].effect : nil
        case .skip, .paste: return nil
        }
    }

    func standing(_ report: Report, state: State) -> Standing {
        let verdict = state.facts.protocolVerdict
        var leaders = report.diagnoses.filter { $0.related != true }.map {
            Standing.Leader(cause: $0.cause, title: $0.title, confidence: $0.confidence)
        }
        if leaders.isEmpty {
            let ranked = state.engine.matcher.rank(state.engine.catalog.playbooks, facts: state.facts)
            leaders = ranked.filter { $0.score > 0 && (verdict.value == .unknown || $0.playbook.protocolValue == verdict.value) }
                .prefix(3).map { candidate in
                    let d = state.engine.diagnosis(candidate, facts: state.facts, checks: [], variables: [:])
                    return Standing.Leader(cause: d.cause, title: d.title, confidence: d.confidence)
                }
        }
        var confirmed = false
        if report.status == .problem, let top = report.diagnoses.first, top.tentative != true {
            let strength = report.diagnoses.map { d -> Double in
                let threshold = state.engine.catalog.playbook(d.playbook)?.threshold ?? 4
                return max(0, d.score) / threshold
            }
            let share = strength[0] / (1 + strength.reduce(0, +))
            confirmed = share >= 0.6
        }
        let proto = report.protocol
        var variables = Engine.variables(state.facts)
        variables["target"] = target?.url
        return Standing(report: report, protocolValue: WireProtocol(rawValue: proto.value) ?? .unknown,
                        protocolConfidence: proto.confidence, leaders: leaders, confirmed: confirmed, variables: variables)
    }

    // MARK: choosing

    /// Questions not yet asked that belong to the protocol at hand and, for playbook questions, to a
    /// playbook among the leading candidates.
    func eligible(_ state: State, asked: Set<String>) -> [Question] {
        let proto = state.facts.protocolVerdict.value
        let ranked = state.engine.matcher.rank(state.engine.catalog.playbooks, facts: state.facts)
            .filter { proto == .unknown || $0.playbook.protocolValue == proto }
        let leading = Set(ranked.prefix(4).map(\.playbook.id))
        let matched = Dictionary(ranked.map { ($0.playbook.id, Set($0.matches.map(\.signal))) }) { a, _ in a }
        let variables = Engine.variables(state.facts)
        return questions.filter { q in
            guard !asked.contains(q.key) else { return false }
            if !q.when.isEmpty, state.engine.unmet(q.when, facts: state.facts, variables: variables,
                                                   matchedSignals: q.playbook.flatMap { matched[$0] } ?? []) != nil {
                return false
            }
            if let owner = q.playbook {
                guard leading.contains(owner) else { return false }
                let playbook = state.engine.catalog.playbook(owner)
                return proto == .unknown || playbook?.protocolValue == proto
            }
            if let scope = q.scope, scope != proto { return false }
            if q.yes?.probe == true { return target != nil && live == nil && observer != nil }
            return true
        }
    }

    /// How much the ranking is expected to move: the mean, over the answers the question allows, of the
    /// total-variation distance between the ranking now and after that answer.
    func value(of question: Question, state: State, base: [String: Double]) async -> Double {
        if question.yes?.probe == true { return 0.3 }
        var outcomes: [Turn] = []
        switch question.kind {
        case .yesNo:
            outcomes = [Answer.yes, .no].map { Turn(question: question, answer: $0) }
        case .choice:
            outcomes = question.choices.indices.map { Turn(question: question, answer: .choice($0)) }
        case .paste, .commandOutput:
            guard !question.reveals.isEmpty else {
                // An open paste can show anything: worth most while nothing stands out.
                let top = base.filter { $0.key != "" }.values.max() ?? 0
                return 0.5 * (1 - top)
            }
            // A telling paste matches the signals it reveals; an unhelpful one changes nothing.
            var q = question
            var effect = AnswerEffect()
            effect.signals = question.reveals
            q.yes = effect
            outcomes = [Turn(question: q, answer: .yes)]
        }
        var total = 0.0
        for outcome in outcomes {
            guard let effect = Self.effect(of: outcome), !effect.isEmpty else { continue }
            let after = await simulated(outcome, effect: effect, state: state)
            let change = Self.distance(base, after)
            // An answer that changes nothing is what the input already shows (its signals matched, its
            // statement made): the question has been answered before it was asked.
            if change < 1e-9, question.kind != .paste, question.kind != .commandOutput { return 0 }
            total += change
        }
        let count = question.kind == .paste || question.kind == .commandOutput ? 2 : max(1, outcomes.count)
        return total / Double(count)
    }

    /// The ranking after one more answer: only the credit is applied when the answer states nothing that
    /// would change the facts, else the facts are rebuilt.
    func simulated(_ outcome: Turn, effect: AnswerEffect, state: State) async -> [String: Double] {
        var next = effect.says != nil ? await self.state(turns + [outcome]) : await credited(outcome, state: state)
        // Statements are applied to the facts as the extractor applies them, without reading the inputs again.
        if effect.says == nil {
            if let p = effect.protocolValue {
                next.facts.protocolVerdict = ProtocolVerdict(value: p, confidence: 1,
                                                             evidence: [Evidence(kind: "stated", text: p.rawValue)])
            }
            for stack in effect.stacks where next.facts.stacks[stack] == nil {
                next.facts.stacks[stack] = Evidence(kind: "stated", text: stack)
            }
            if let i = effect.intermittent { next.facts.intermittent = i }
        }
        return distribution(next.engine.matcher.rank(next.engine.catalog.playbooks, facts: next.facts), next.facts)
    }

    /// `state` with one more answer's credited signals and weight, without rebuilding the facts.
    func credited(_ outcome: Turn, state: State) async -> State {
        guard let owner = outcome.question.playbook, let effect = Self.effect(of: outcome),
              let index = state.engine.catalog.playbooks.firstIndex(where: { $0.id == owner }) else { return state }
        var s = state
        let finding = Finding(id: "guide.planned.\(outcome.question.id)", message: "planned")
        s.facts.findings.append(finding)
        var playbook = s.engine.catalog.playbooks[index]
        for i in playbook.signals.indices where effect.signals.contains(playbook.signals[i].id) {
            playbook.signals[i].matcher = .finding([finding.id])
        }
        if let weight = effect.weight {
            playbook.signals.append(Signal(id: "planned", weight: weight, note: nil, matcher: .finding([finding.id]),
                                           location: playbook.source))
        }
        s.engine.catalog.playbooks[index] = playbook
        return s
    }

    /// Each candidate's share of belief: its score over its threshold, against a "none of them" of weight 1
    /// (key ""). Candidates of another protocol than the facts' get none.
    func distribution(_ ranked: [Candidate], _ facts: Facts) -> [String: Double] {
        let proto = facts.protocolVerdict.value
        var strength: [String: Double] = [:]
        for c in ranked where c.score > 0 && (proto == .unknown || c.playbook.protocolValue == proto) {
            strength[c.playbook.id] = c.score / c.playbook.threshold
        }
        let total = 1 + strength.values.reduce(0, +)
        var out = strength.mapValues { $0 / total }
        out[""] = 1 / total
        return out
    }

    static func distance(_ a: [String: Double], _ b: [String: Double]) -> Double {
        let keys = Set(a.keys).union(b.keys)
        return 0.5 * keys.reduce(0) { $0 + abs((a[$1] ?? 0) - (b[$1] ?? 0)) }
    }
}

/// Facts by what they were read from. Shared by copies of a session, which only ever add entries that are
/// the same for the same key.
final class FactsCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: Facts] = [:]
    /// A few sets of inputs are live at a time (the answers so far, one taken back); more are dropped.
    private let limit = 8

    static func key(_ inputs: [InputText], _ statements: Statements, _ target: Target?) -> String {
        var hasher = Hasher()
        for input in inputs { hasher.combine(input) }
        let digest = hasher.finalize()
        let stated = [statements.protocolValue?.rawValue ?? "-", statements.stacks.joined(separator: ","),
                      statements.intermittent.map { String($0) } ?? "-", target?.url ?? "-"].joined(separator: "|")
        return "\(inputs.count)|\(inputs.map { $0.text.utf8.count })|\(digest)|\(stated)"
    }

    func facts(_ key: String) -> Facts? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    func store(_ key: String, _ facts: Facts) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= limit { entries.removeAll() }
        entries[key] = facts
    }
}
