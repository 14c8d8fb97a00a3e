import Foundation

/// What a run may use from outside; the CLI builds the real one, tests build their own.
public struct RunEnvironment: Sendable {
    public var files: any FileAccess
    public var timeouts: Timeouts
    public var byteLimit: Int
    public var logger: Logger
    public var services: [String: any Sendable]
    /// Where live probes may send packets: what the user named on the command line, nothing by default.
    public var contacts: ContactPolicy
    /// Live probe outcomes kept across several runs (the steps of one `kb guide` session), so the target
    /// answers each distinct request once per session rather than once per question. Nil: one run only.
    public var liveCache: ProbeCache?

    /// `files` reads nothing by default: a config analysis follows includes only where the caller allows.
    public init(files: any FileAccess = ConfinedFiles(roots: []), timeouts: Timeouts = Timeouts(),
                byteLimit: Int = 1 << 20, logger: Logger = Logger(label: "kb"),
                services: [String: any Sendable] = [:], contacts: ContactPolicy = ContactPolicy()) {
        self.files = files
        self.timeouts = timeouts
        self.byteLimit = byteLimit
        self.logger = logger
        self.services = services
        self.contacts = contacts
    }

    /// The context a probe runs with: these services around the facts it reads.
    public func context(_ facts: Facts, requester: String = "kb") -> ProbeContext {
        ProbeContext(facts: facts, files: files, timeouts: timeouts, byteLimit: byteLimit, logger: logger, services: services,
                     contacts: contacts, requester: requester)
    }
}

/// The rule engine: facts from input, ranking by signals, checks through probes, then a report.
public struct Engine: Sendable {
    public var catalog: PlaybookCatalog
    public var knowledge: KnowledgeBase
    public var registry: ProbeRegistry
    public var analyzers: [any InputAnalyzer]
    public var extractor: SymptomExtractor
    public var matcher = Matcher()
    /// How many candidates get their checks run, and how many diagnoses a report lists.
    public var maxDiagnoses = 3

    public init(catalog: PlaybookCatalog, knowledge: KnowledgeBase, registry: ProbeRegistry,
                analyzers: [any InputAnalyzer] = [], extractor: SymptomExtractor = SymptomExtractor()) {
        self.catalog = catalog
        self.knowledge = knowledge
        self.registry = registry
        self.analyzers = analyzers
        self.extractor = extractor
    }

    // MARK: facts

    /// Detects each input's kind, runs the analyzers that read it, then extracts symptoms.
    public func facts(_ inputs: [InputText], statements: Statements = Statements(), target: Target? = nil,
                      environment: RunEnvironment = RunEnvironment()) async -> Facts {
        var typed = inputs
        for i in typed.indices where typed[i].kind == "text" || typed[i].kind == "auto" {
            typed[i].kind = analyzers.lazy.compactMap { $0.detect(typed[i]) }.first ?? "text"
        }
        // Text signals and symptom cues read prose: a config's comments and directives are not evidence of
        // what happened, only its analyzer's findings are. Line numbers stay those of the input.
        let prose = typed.map { input -> InputText in
            guard input.kind != "text", let analyzer = analyzers.first(where: { $0.kinds.contains(input.kind) }) else {
                return input
            }
            return InputText(name: input.name, text: analyzer.prose(input), kind: input.kind)
        }
        // Symptoms and signals read the salient part of large inputs; analyzers read them whole.
        var reducedNames: [String] = []
        let salient = prose.map { input -> InputText in
            let (text, lineMap) = Salience.reduce(input.text)
            if lineMap != nil { reducedNames.append(input.name) }
            return InputText(name: input.name, text: text, kind: input.kind, lineMap: lineMap)
        }
        var facts = extractor.extract(salient, statements: statements)
        facts.inputs = salient
        facts.remapLines()
        // Probes read a config whole (its directives are what they check); the facts' text keeps the prose alone.
        for i in facts.inputs.indices where prose[i].text != typed[i].text {
            facts.inputs[i] = typed[i]
        }
        facts.reducedInputs = reducedNames
        facts.target = target
        // Analyzers read the config lines alone: a ticket that pastes a server block between sentences still
        // parses, and the sentences are read as prose above.
        var analysed = facts
        analysed.inputs = typed
        for i in analysed.inputs.indices where prose[i].text != typed[i].text {
            analysed.inputs[i].text = Self.configLines(typed[i].text, prose: prose[i].text)
        }
        let context = environment.context(analysed)
        var directiveHosts: [String] = []
        for input in analysed.inputs where input.kind != "text" {
            for analyzer in analyzers where analyzer.kinds.contains(input.kind) {
                let analysis = await analyzer.examine(input, context: context)
                facts.findings += analysis.findings
                if let checked = analysis.checked { facts.checked.append(checked) }
                directiveHosts += analysis.hosts
            }
            if let stack = Vocabulary.impliedStack(ofFileKind: input.kind), facts.stacks[stack] == nil {
                facts.stacks[stack] = Evidence(kind: "file-kind", text: input.kind,
                                               detail: "the input is an \(input.kind)",
                                               location: SourceLocation(file: input.name, line: 1))
            }
        }
        // Names the text mentions (requests, replies) come first, then the names directives serve.
        for host in directiveHosts.map({ $0.lowercased() }) where !facts.hosts.contains(host) {
            facts.hosts.append(host)
        }
        facts.fileKinds = Array(Set(typed.map(\.kind))).sorted()
        facts.census = CodeCensus(facts)
        if let target {
            facts.hosts.removeAll { $0 == target.host }
            facts.hosts.insert(target.host, at: 0)
        }
        // Config directives (their comments are skipped) can name the origin; logs were read as prose already.
        extractor.completeRoles(&facts, configs: analysed.inputs.filter { $0.kind.hasSuffix("-config") })
        return facts
    }

    // MARK: diagnosis

    public func diagnose(_ inputs: [InputText], statements: Statements = Statements(), target: Target? = nil,
                         environment: RunEnvironment = RunEnvironment()) async -> Report {
        let facts = await facts(inputs, statements: statements, target: target, environment: environment)
        return await diagnose(facts, environment: environment)
    }

    /// Ranks every playbook, runs the checks of the plausible ones and re-ranks with their results.
    public func evaluate(_ facts: Facts, environment: RunEnvironment = RunEnvironment()) async
        -> (candidates: [Candidate], checks: [String: [CheckResult]]) {
        var candidates = matcher.rank(catalog.playbooks, facts: facts)
        let variables = Self.variables(facts)
        // Checks run for the plausible candidates: those with evidence and of a protocol the text allows.
        var plausible = Array(candidates.indices.filter { candidates[$0].score > 0 }.prefix(maxDiagnoses + 2))
        // With a live target, the best playbooks of its protocol also get to look, even without text evidence:
        // their live checks are what can say "healthy".
        if facts.target != nil {
            let proto = facts.protocolVerdict.value
            for index in candidates.indices where plausible.count < maxDiagnoses + 2 && !plausible.contains(index)
                && candidates[index].playbook.protocolValue == proto {
                plausible.append(index)
            }
        }
        Self.discountCleared(&candidates, facts: facts)
        var checkResults: [String: [CheckResult]] = [:]
        let cache = ProbeCache()
        for index in plausible {
            let candidate = candidates[index]
            let results = await runChecks(candidate, facts: facts, variables: variables, environment: environment, cache: cache)
            checkResults[candidate.playbook.id] = results
            for result in results {
                guard let check = candidate.playbook.checks.first(where: { $0.id == result.id }) else { continue }
                if result.status == .fail { candidates[index].score += check.weight }
                if result.status == .pass { candidates[index].score -= check.weight }
            }
        }
        candidates.sort { a, b in a.score != b.score ? a.score > b.score : a.playbook.id < b.playbook.id }
        return (candidates, checkResults)
    }

    public func diagnose(_ facts: Facts, environment: RunEnvironment = RunEnvironment()) async -> Report {
        let (candidates, checkResults) = await evaluate(facts, environment: environment)
        let variables = Self.variables(facts)
        if facts.census.isNot421 {
            return not421Report(facts, candidates: candidates, checks: checkResults, variables: variables)
        }
        if let clean = healthyOffline(facts, checks: checkResults) { return clean }
        let reported = candidates.filter(\.reported).prefix(maxDiagnoses)
        var diagnoses = reported.map { diagnosis($0, facts: facts, checks: checkResults[$0.playbook.id] ?? [], variables: variables) }
        // Nothing is certain enough: the leading hypotheses still help a person decide what to ask for,
        // so they are listed as tentative and the report stays inconclusive.
        let tentative = diagnoses.isEmpty
        if tentative {
            let proto = facts.protocolVerdict.value
            let hypotheses = candidates.filter {
                $0.score >= max(1, $0.playbook.threshold / 2) && (proto == .unknown || $0.playbook.protocolValue == proto)
            }.prefix(maxDiagnoses)
            diagnoses = hypotheses.map {
                var d = diagnosis($0, facts: facts, checks: checkResults[$0.playbook.id] ?? [], variables: variables)
                d.tentative = true
                return d
            }
        }

        var verdict = facts.protocolVerdict
        if verdict.value == .unknown, let top = diagnoses.first, !tentative, let proto = WireProtocol(rawValue: top.protocol) {
            verdict.value = proto
            verdict.confidence = min(0.6, top.confidence)
            verdict.evidence.append(Evidence(kind: "playbook", text: top.playbook,
                                             detail: "no protocol cue of its own; the best-matching playbook is \(proto.rawValue)"))
        }

        let allChecks = checkResults.values.flatMap { $0 }
        let status: ReportStatus
        var next: [String] = []
        if let top = diagnoses.first, !tentative {
            if let errored = top.checks.first(where: { $0.status == .error && $0.required }) {
                status = .inconclusive
                next.append("check '\(errored.id)' could not run: \(errored.reason ?? "no reason given")")
            } else {
                status = .problem
            }
        } else if !allChecks.isEmpty, allChecks.contains(where: { $0.status == .pass && $0.probe != nil }),
                  !allChecks.contains(where: { ($0.status == .fail || $0.status == .error) && $0.required }),
                  allChecks.contains(where: { $0.status == .pass && Self.isLive($0.probe, registry) }) {
            status = .healthy
        } else {
            status = .inconclusive
            next += verdict.missing
            if verdict.value != .unknown {
                next.append("no \(verdict.value.rawValue) cause has enough evidence: paste the full error with the lines around it, the server software in use and whether it happens every time")
            }
            for d in diagnoses {
                let manual = d.checks.filter { $0.status == .manual }.map(\.title)
                if let first = manual.first { next.append("to tell whether it is \(d.cause): \(first.prefix(1).lowercased() + first.dropFirst())") }
            }
            for errored in allChecks where errored.status == .error && errored.required {
                next.append("check '\(errored.id)' could not run: \(errored.reason ?? "no reason given")")
            }
        }

        var verdictLine = Self.verdictLine(status, verdict: verdict, top: diagnoses.first)
        if status == .inconclusive, !facts.census.shows421, facts.target == nil, facts.findings.isEmpty {
            // Nothing in the input is a 421 or another error: say so rather than call it a 421.
            verdictLine = diagnoses.isEmpty || verdict.value == .unknown
                ? "no error code in the input: not enough evidence to tell whether it is a 421"
                : "no error code in the input; if it is a \(verdict.value.rawValue.uppercased()) 421, the likeliest cause is: \(diagnoses[0].title)"
        }
        if status == .inconclusive, facts.target == nil, Self.only421Mentioned(facts) {
            // "A colleague says it is a 421" next to a 502 page: the 502 is shown, the 421 only named.
            let shown = Self.shownWithReason(facts).prefix(2).map(\.label).joined(separator: " and ")
            verdictLine = "the input shows \(shown); 421 is only mentioned, not shown: not enough evidence that this is a 421"
            next.insert("the 421 itself, if one was seen: the page, bounce or log line that shows it, copied as text", at: 0)
        }
        var notes: [String] = []
        if facts.census.shows421, facts.target == nil, let cleared = Self.clearedSentence(facts, catalog: catalog) {
            // The text shows a 421 but the attached configs are clean: say so before the remaining causes.
            notes.append(cleared)
        }
        var report = Report(protocol: ProtocolReport(verdict), status: status,
                      verdict: verdictLine,
                      diagnoses: Array(diagnoses), codes: facts.census, facts: Self.summary(facts), next: Self.unique(next),
                      notes: notes + catalog.notes + knowledge.notes + facts.reducedInputs.map {
                          "\($0) is large: only the lines near a 421 cue were matched (kb logs reads a whole log)"
                      })
        report.ask = Self.ask(facts, diagnoses: report.diagnoses, status: status)
        return report
    }

    /// The input shows another error and nothing of a 421: say so first, and list only the causes whose
    /// playbooks declare that they also show as one of the codes seen.
    func not421Report(_ facts: Facts, candidates: [Candidate], checks: [String: [CheckResult]],
                      variables: [String: String]) -> Report {
        let census = facts.census
        let seen = Set(census.others.compactMap { Int($0.code) })
        let related = candidates.filter { $0.reported && !seen.isDisjoint(with: $0.playbook.relatedCodes) }
            .prefix(maxDiagnoses)
            .map { candidate -> Diagnosis in
                var d = diagnosis(candidate, facts: facts, checks: checks[candidate.playbook.id] ?? [], variables: variables)
                d.related = true
                return d
            }
        let shown = census.others.prefix(3).map(\.label).joined(separator: ", ")
        var next = ["kb answers for 421 replies; if a 421 was also seen, paste that message with the lines around it"]
        if let first = census.others.first, first.protocol == "http", Int(first.code) != nil {
            next.append("for the \(first.code) itself, the server's error log at the time of the request names its cause")
        } else if let first = census.others.first, Int(first.code) != nil {
            next.append("for the \(first.code) itself, the full bounce or session log names its cause")
        }
        var verdict = facts.protocolVerdict
        if let first = census.others.first, let proto = WireProtocol(rawValue: first.protocol), verdict.value != proto {
            verdict.value = proto
            verdict.confidence = max(verdict.confidence, 0.5)
        }
        var report = Report(protocol: ProtocolReport(verdict), status: .not421,
                      verdict: "not a 421: the input shows \(shown)" + (related.isEmpty ? "" : "; a 421 cause can also show as this code"),
                      diagnoses: Array(related), codes: census, facts: Self.summary(facts), next: next,
                      notes: catalog.notes + knowledge.notes)
        report.ask = Self.ask(facts, diagnoses: report.diagnoses, status: .not421)
        return report
    }

    /// The lines of `text` that `prose` emptied, with the prose lines emptied instead; line numbers are kept.
    static func configLines(_ text: String, prose: String) -> String {
        let original = text.split(separator: "\n", omittingEmptySubsequences: false)
        let kept = prose.split(separator: "\n", omittingEmptySubsequences: false)
        guard original.count == kept.count else { return text }
        return zip(original, kept).map { line, proseLine in proseLine.isEmpty ? line : "" }.joined(separator: "\n")
    }

    // MARK: clean analyses

    /// Whether a finding is evidence of a 421 cause: a playbook counts it in favour, or a log shows a 421.
    func pointsToCause(_ finding: Finding) -> Bool { Self.pointsToCause(finding, catalog: catalog) }

    static func pointsToCause(_ finding: Finding, catalog: PlaybookCatalog) -> Bool {
        if finding.id.hasPrefix("log.") { return finding.id != "log.input-error" && finding.id != "log.unread-lines" }
        return catalog.playbooks.contains { playbook in
            playbook.signals.contains { signal in
                guard signal.weight > 0, case .finding(let ids) = signal.matcher else { return false }
                return ids.contains(finding.id)
            }
        }
    }

    /// Configs or logs were analysed, nothing they hold points to a 421 cause, and nothing in the input shows a
    /// 421: that is a clean run, reported with what was checked, like a linter's.
    func healthyOffline(_ facts: Facts, checks: [String: [CheckResult]]) -> Report? {
        guard facts.target == nil, !facts.checked.isEmpty, !facts.census.shows421,
              !facts.findings.contains(where: pointsToCause) else { return nil }
        let incomplete = facts.checked.flatMap(\.incomplete)
        let what = Self.unique(facts.checked.map(\.kind)).joined(separator: ", ")
        var verdict = facts.protocolVerdict
        if verdict.value == .unknown, let implied = facts.checked.lazy.compactMap({
            Vocabulary.impliedProtocol(ofFileKind: $0.kind)?.0 }).first {
            verdict.value = implied
            verdict.confidence = max(verdict.confidence, 0.5)
        }
        guard incomplete.isEmpty else {
            return Report(protocol: ProtocolReport(verdict), status: .inconclusive,
                          verdict: "no finding in what was read (\(what)), but part of it could not be read",
                          diagnoses: [], codes: facts.census, facts: Self.summary(facts),
                          next: Self.unique(facts.checked.flatMap { c in
                              c.incomplete.map { "in '\(c.input)', \($0)" }
                          }),
                          notes: catalog.notes + knowledge.notes)
        }
        let unread = facts.checked.flatMap { c in c.notFollowed.map { "in '\(c.input)', \($0)" } }
        return Report(protocol: ProtocolReport(verdict), status: .healthy,
                      verdict: "no problem found: no finding in the \(what) points to a 421 cause, "
                          + "and no 421 in the input",
                      diagnoses: [], codes: facts.census, facts: Self.summary(facts), next: [],
                      notes: Self.unique(unread) + catalog.notes + knowledge.notes)
    }

    /// The analyzer areas ("nginx", "apache", "log") whose inputs were read whole and gave no finding of a cause.
    static func clearedAreas(_ facts: Facts) -> Set<String> {
        var areas: Set<String> = []
        for checked in facts.checked where checked.incomplete.isEmpty && checked.notFollowed.isEmpty {
            guard let area = checked.analyzer.split(separator: ".").first.map(String.init) else { continue }
            areas.insert(area)
        }
        return areas
    }

    /// A playbook whose findings an analyzer looks for, when that analyzer read a config and found none of them,
    /// is less likely: the config was checked for exactly that. It stays ranked, below the causes a config cannot
    /// show.
    static func discountCleared(_ candidates: inout [Candidate], facts: Facts) {
        let areas = clearedAreas(facts)
        guard !areas.isEmpty else { return }
        let found = Set(facts.findings.map(\.id))
        for i in candidates.indices {
            var covered = 0.0
            for signal in candidates[i].playbook.signals where signal.weight > 0 {
                guard case .finding(let ids) = signal.matcher else { continue }
                if !found.isDisjoint(with: ids) { covered = 0; break }
                if ids.contains(where: { id in areas.contains(where: { id.hasPrefix($0 + ".") }) }) {
                    covered = max(covered, signal.weight)
                }
            }
            guard covered > 0, candidates[i].score > 0 else { continue }
            candidates[i].score = max(0, candidates[i].score - covered / 2)
            candidates[i].matches.append(SignalMatch(
                signal: "config-checked", kind: "finding",
                matched: "the attached config shows none of this cause's findings",
                weight: -covered / 2, note: nil))
        }
        candidates.sort { a, b in a.score != b.score ? a.score > b.score : a.playbook.id < b.playbook.id }
    }

    /// "the attached configs are not the cause: …", when configs were analysed whole and none points to a cause.
    static func clearedSentence(_ facts: Facts, catalog: PlaybookCatalog) -> String? {
        let configs = facts.checked.filter {
            !$0.analyzer.hasPrefix("log.") && $0.incomplete.isEmpty && $0.notFollowed.isEmpty
        }
        guard !configs.isEmpty, configs.count == facts.checked.filter({ !$0.analyzer.hasPrefix("log.") }).count
        else { return nil }
        let names = Set(configs.map(\.input))
        let owned = facts.findings.filter { finding in
            finding.location.map { names.contains($0.file) } ?? false
        }
        guard !owned.contains(where: { pointsToCause($0, catalog: catalog) }) else { return nil }
        let what = configs.map { "\($0.input): \($0.checked.joined(separator: ", "))" }.joined(separator: "; ")
        return "the attached configs show no 421 cause (\(what)), so look at the other causes"
    }

    /// Ranks without running checks: what `kb playbooks test` and scoring use.
    public func rank(_ facts: Facts) -> [Candidate] { matcher.rank(catalog.playbooks, facts: facts) }

    static func isLive(_ probe: String?, _ registry: ProbeRegistry) -> Bool {
        probe.flatMap { registry.probe($0)?.description.live } ?? false
    }

    static func unique(_ items: [String]) -> [String] {
        var seen: Set<String> = []
        return items.filter { seen.insert($0).inserted }
    }

    /// The only 421 is the number in someone's words (no status line, reply, reason phrase or 421-only text),
    /// while the input shows another error code.
    static func only421Mentioned(_ facts: Facts) -> Bool {
        facts.census.cues == ["421"] && !shownWithReason(facts).isEmpty && !facts.httpStatuses.contains(421)
            && !facts.replies.contains { $0.code == 421 }
    }

    /// Other codes the input shows with their reason phrase ("502 Bad Gateway"), not only as a number in a sentence.
    static func shownWithReason(_ facts: Facts) -> [CodeCensus.Shown] {
        let lower = facts.text.lowercased()
        return facts.census.others.filter { shown in shown.meaning.map { lower.contains($0.lowercased()) } ?? false }
    }

    static func verdictLine(_ status: ReportStatus, verdict: ProtocolVerdict, top: Diagnosis?) -> String {
        let name: String
        switch verdict.value {
        case .http: name = "HTTP 421 Misdirected Request"
        case .smtp: name = "SMTP 421 (temporary refusal)"
        case .ftp: name = "FTP 421 (service not available)"
        case .unknown: name = "a 421 of unknown protocol"
        }
        switch status {
        case .problem: return "\(name): \(top?.title ?? "diagnosed")"
        case .healthy: return "no problem found: the checks that ran all passed"
        case .not421: return "not a 421"
        case .inconclusive:
            if let top, top.tentative == true { return "\(name): not enough evidence to be sure; the likeliest cause is: \(top.title)" }
            if let top { return "\(name): probably \(top.title), but a needed check could not run" }
            return "\(name): not enough evidence to name a cause"
        }
    }

    // MARK: checks

    /// Values for `{{variable}}` templates, from the target first, then the text.
    public static func variables(_ facts: Facts) -> [String: String] {
        var v: [String: String] = [:]
        v["host"] = facts.target?.host ?? facts.roles.first(.requestedHost) ?? facts.hosts.first
        // A second name, for checks that compare two hosts on one connection.
        v["other"] = facts.hosts.first { $0 != v["host"] }
        if let target = facts.target {
            v["port"] = String(target.port)
            v["scheme"] = target.scheme
            v["target"] = target.url
            v["origin"] = target.origin
            v["address"] = target.pinnedAddress ?? target.host
            v["connect"] = target.connect
            // ADDR:PORT of each resolved address, for checks that ask every node; a list parameter splits it.
            if !target.addresses.isEmpty {
                v["addresses"] = target.addresses.map { $0.contains(":") ? "[\($0)]:\(target.port)" : "\($0):\(target.port)" }
                    .joined(separator: ",")
            }
        }
        v["status"] = facts.httpStatuses.first.map(String.init)
        v["enhanced"] = facts.enhancedCodes.first
        v["reply"] = facts.replies.first.map { String($0.code) }
        v["provider"] = firstByLocation(facts.providers)
        v["stack"] = firstByLocation(facts.stacks)
        // The ticket's own names by role; a role the input does not show stays unset and renders as a fill-in.
        for name in Template.roles {
            if let role = CaseRoles.Role(rawValue: name) { v[name] = facts.roles.templateValue(role) }
        }
        return v.compactMapValues { $0 }
    }

    static func firstByLocation(_ map: [String: Evidence]) -> String? {
        map.min { a, b in
            let la = a.value.location?.line ?? Int.max, lb = b.value.location?.line ?? Int.max
            return la != lb ? la < lb : a.key < b.key
        }?.key
    }

    func runChecks(_ candidate: Candidate, facts: Facts, variables: [String: String],
                   environment: RunEnvironment, cache: ProbeCache = ProbeCache()) async -> [CheckResult] {
        let checks = candidate.playbook.checks
        let matchedSignals = Set(candidate.matches.map(\.signal))
        var results: [String: CheckResult] = [:]
        var pending = checks
        // Waves: every check whose dependencies are settled runs concurrently with the others of its wave.
        while !pending.isEmpty {
            let ready = pending.filter { check in check.needs.allSatisfy { results[$0] != nil } }
            guard !ready.isEmpty else {
                for check in pending {
                    results[check.id] = CheckResult(id: check.id, title: check.title, status: .skipped,
                                                    reason: "its dependencies never settled", observed: nil, evidence: [],
                                                    command: nil, probe: check.probe, required: check.required)
                }
                break
            }
            pending.removeAll { check in ready.contains { $0.id == check.id } }
            let settled = results
            let wave = await withTaskGroup(of: CheckResult.self) { group in
                for check in ready {
                    group.addTask {
                        await self.run(check, facts: facts, variables: variables, matchedSignals: matchedSignals,
                                       earlier: settled, environment: environment, cache: cache)
                    }
                }
                var out: [CheckResult] = []
                for await result in group { out.append(result) }
                return out
            }
            for result in wave { results[result.id] = result }
        }
        return checks.compactMap { results[$0.id] }
    }

    private func run(_ check: Check, facts: Facts, variables: [String: String], matchedSignals: Set<String>,
                     earlier: [String: CheckResult], environment: RunEnvironment, cache: ProbeCache) async -> CheckResult {
        func result(_ status: CheckStatus, _ reason: String?, observed: String? = nil, evidence: [Evidence] = [],
                    command: String? = nil) -> CheckResult {
            // A failed check shows what was found, so its title never denies what the evidence under it shows.
            let title = status == .fail ? check.failTitle ?? check.title : check.title
            return CheckResult(id: check.id, title: title, status: status, reason: reason, observed: observed,
                        evidence: evidence, command: command, probe: check.probe, required: check.required,
                        live: Self.isLive(check.probe, registry))
        }
        if let reason = unmet(check.when, facts: facts, variables: variables, matchedSignals: matchedSignals) {
            return result(.skipped, reason)
        }
        for need in check.needs {
            guard let status = earlier[need]?.status, status == .pass || status == .fail else {
                return result(.skipped, "needs check '\(need)', which was \(earlier[need]?.status.rawValue ?? "not run")")
            }
        }
        if let manual = check.manual {
            // Names the input lacks read as words in sentences and as shell-safe fill-ins in code spans.
            return result(.manual, Template.fillText(manual, variables))
        }
        guard let probeID = check.probe, let probeType = registry.probe(probeID) else {
            return result(.error, "probe '\(check.probe ?? "")' is not registered")
        }
        if probeType.description.live && facts.target == nil {
            return result(.skipped, "live check: no --target was given")
        }
        var parameters: [String: ProbeValue] = [:]
        for (name, value) in check.parameters {
            switch value {
            case .int(let i): parameters[name] = .int(i)
            case .bool(let b): parameters[name] = .bool(b)
            case .template(let t):
                guard let text = t.render(variables, placeholder: { _ in nil }) else {
                    let missing = t.variablesUsed.first { variables[$0] == nil } ?? "?"
                    return result(.skipped, "no value for '{{\(missing)}}' in the input")
                }
                parameters[name] = .string(text)
            case .list(let templates):
                var items: [String] = []
                for t in templates {
                    guard let text = t.render(variables, placeholder: { _ in nil }) else {
                        let missing = t.variablesUsed.first { variables[$0] == nil } ?? "?"
                        return result(.skipped, "no value for '{{\(missing)}}' in the input")
                    }
                    // A list variable such as {{addresses}} spreads into several items.
                    items += t.variablesUsed == ["addresses"] ? text.split(separator: ",").map(String.init) : [text]
                }
                parameters[name] = .list(items)
            }
        }
        // Every destination is asked about before the probe starts, so a check that names one place not named
        // on the command line sends nothing at all (the connection layer asks again for what a probe derives).
        if probeType.description.live,
           let refusal = Self.refusal(parameters, probe: probeType.description, policy: environment.contacts,
                                      requester: "check '\(check.id)'") {
            return result(.error, refusal)
        }
        let settled = parameters
        let shared = probeType.description.live ? (environment.liveCache ?? cache) : cache
        let outcome = await shared.outcome(probeID, settled) {
            await probeType.init().run(settled, context: environment.context(facts, requester: "check '\(check.id)'"))
        }
        if let error = outcome.error {
            return result(.error, error, evidence: outcome.evidence, command: outcome.command)
        }
        var failures: [String] = []
        for (key, expectation) in check.expect {
            guard let observed = outcome.observations[key] else {
                return result(.error, "probe '\(probeID)' did not report '\(key)'", evidence: outcome.evidence,
                              command: outcome.command)
            }
            // 'unknown' means the input does not show it: the check can neither pass nor fail on it.
            if observed == .string("unknown") {
                return result(.skipped, "the input does not show the \(key)", evidence: outcome.evidence,
                              command: outcome.command)
            }
            if !Self.holds(expectation, observed) {
                failures.append("\(key) is '\(observed)', healthy is \(Self.describe(expectation))")
            }
        }
        if failures.isEmpty {
            return result(.pass, nil, evidence: outcome.evidence, command: outcome.command)
        }
        let observed = failures.joined(separator: "; ")
        return result(.fail, check.failMeaning ?? observed, observed: observed, evidence: outcome.evidence,
                      command: outcome.command)
    }

    /// The first destination among `parameters` that `policy` refuses, as the message to report.
    public static func refusal(_ parameters: [String: ProbeValue], probe: ProbeDescription, policy: ContactPolicy,
                               requester: String) -> String? {
        for spec in probe.parameters {
            guard let role = spec.contact, let value = parameters[spec.name] else { continue }
            let items: [String]
            switch value {
            case .list(let l): items = l.flatMap { $0.split(separator: ",").map(String.init) }
            default: items = value.description.split(separator: ",").map(String.init)
            }
            for raw in items.map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
                let contact: ContactPolicy.Contact
                switch role {
                case .lookupName: contact = .lookup(raw)
                case .endpoint, .dnsServer:
                    // The probe applies its own default port; any port of a destination not named is refused anyway.
                    guard let d = ContactPolicy.parse(raw, defaultPort: role == .dnsServer ? 53 : nil)
                        ?? ContactPolicy.parse(raw, defaultPort: 443) else { continue }
                    contact = role == .dnsServer ? .dnsServer(host: d.host, port: d.port)
                                                 : .connect(host: d.host, port: d.port)
                }
                if let refusal = policy.refusal(contact, by: requester) { return refusal }
            }
        }
        return nil
    }

    func unmet(_ condition: CheckCondition, facts: Facts, variables: [String: String],
                       matchedSignals: Set<String>) -> String? {
        if let live = condition.live, live != (facts.target != nil) {
            return live ? "live check: no --target was given" : "offline check: a live target was given"
        }
        if !condition.stacks.isEmpty, !condition.stacks.contains(where: { facts.stacks[$0] != nil }) {
            return "only for stacks \(condition.stacks.joined(separator: ", "))"
        }
        if !condition.signals.isEmpty, matchedSignals.isDisjoint(with: condition.signals) {
            return "only when signal \(condition.signals.map { "'\($0)'" }.joined(separator: " or ")) matched"
        }
        for need in condition.has {
            switch need {
            case "target" where facts.target == nil: return "needs a --target"
            case "origin" where facts.target?.origin == nil: return "needs --origin"
            case "addresses" where (facts.target?.addresses.count ?? 0) < 2:
                return "the name has fewer than two addresses to compare"
            case "host" where variables["host"] == nil: return "no host name in the input"
            default: continue
            }
        }
        return Self.unmetFacts(condition.facts, roles: facts.roles)
    }

    static func holds(_ expectation: Expectation, _ observed: ProbeValue) -> Bool {
        switch expectation {
        case .equals(let value): return equal(value, observed)
        case .anyOf(let values): return values.contains { equal($0, observed) }
        case .not(let value): return !equal(value, observed)
        case .contains(let text):
            if case .list(let items) = observed { return items.contains { $0.caseInsensitiveCompare(text) == .orderedSame } }
            return observed.description.lowercased().contains(text.lowercased())
        case .matches(let pattern): return pattern.firstMatch(in: observed.description) != nil
        case .lessThan(let n): return Double(observed.description).map { $0 < n } ?? false
        case .greaterThan(let n): return Double(observed.description).map { $0 > n } ?? false
        }
    }

    static func equal(_ value: ExpectedValue, _ observed: ProbeValue) -> Bool {
        switch value {
        case .bool(let b): return observed.boolValue == b
        case .number(let n): return Double(observed.description) == n
        case .string(let s): return observed.description.caseInsensitiveCompare(s) == .orderedSame
        }
    }

    static func describe(_ expectation: Expectation) -> String {
        switch expectation {
        case .equals(let v): return "'\(v)'"
        case .anyOf(let vs): return "one of " + vs.map { "'\($0)'" }.joined(separator: ", ")
        case .not(let v): return "anything but '\(v)'"
        case .contains(let s): return "containing '\(s)'"
        case .matches(let p): return "matching '\(p.source)'"
        case .lessThan(let n): return "below \(ExpectedValue.number(n))"
        case .greaterThan(let n): return "above \(ExpectedValue.number(n))"
        }
    }

    // MARK: report pieces

    func diagnosis(_ candidate: Candidate, facts: Facts, checks: [CheckResult], variables: [String: String]) -> Diagnosis {
        let playbook = candidate.playbook
        let article = knowledge.article(playbook.article)
        // Providers count as stacks here, so a step for Gmail is left out of a Yahoo answer.
        let known = Set(facts.stacks.keys).union(facts.providers.keys)
        let relevant = !known.isDisjoint(with: playbook.remediation.flatMap(\.stacks))
        let matched = Set(candidate.matches.map(\.signal))
        // A step is dropped when its `when` is unmet or any part of its `unless` holds (issue 9).
        var possible = playbook.remediation.filter {
            unmet($0.when, facts: facts, variables: variables, matchedSignals: matched) == nil
                && !($0.unless.map { Self.anyHolds($0, facts: facts, matchedSignals: matched) } ?? false)
        }
        if possible.isEmpty {
            // The roles rule out every step (a reply that names something no step is about): keep the steps
            // whose other conditions hold rather than answer with none.
            possible = playbook.remediation.filter { step in
                var loose = step.when
                loose.facts = []
                return unmet(loose, facts: facts, variables: variables, matchedSignals: matched) == nil
            }
        }
        let steps = possible.filter { step in
            !relevant || step.stacks.isEmpty || !known.isDisjoint(with: step.stacks)
        }
        let chosen = Self.ordered(steps.isEmpty ? possible : steps, facts: facts, matchedSignals: matched) {
            unmet($0, facts: facts, variables: variables, matchedSignals: matched) == nil
        }
        let remediation = chosen.map { Self.render($0, variables: variables) }
        let proto = facts.protocolVerdict
        var confidence = 1 - exp(-max(0, candidate.score) / (2 * playbook.threshold))
        if proto.value == playbook.protocolValue { confidence = confidence * (0.7 + 0.3 * proto.confidence) }
        else if proto.value != .unknown { confidence *= 1 - proto.confidence }
        else { confidence *= 0.7 }
        return Diagnosis(
            playbook: playbook.id, cause: playbook.cause, title: playbook.title, protocol: playbook.protocolValue.rawValue,
            score: (candidate.score * 100).rounded() / 100, confidence: (confidence * 100).rounded() / 100,
            summary: playbook.summary,
            customerSummary: playbook.customerSummary,
            signals: candidate.matches.map {
                SignalReport(signal: $0.signal, kind: $0.kind, matched: $0.matched, weight: $0.weight, note: $0.note)
            },
            checks: checks, remediation: remediation, article: playbook.article, articleTitle: article?.title,
            references: article?.references ?? [], replaces: playbook.replaces?.file,
            overlays: playbook.overlays.isEmpty ? nil : playbook.overlays, protocolNote: candidate.protocolNote)
    }

    static func summary(_ facts: Facts) -> FactsSummary {
        func ordered(_ map: [String: Evidence]) -> [String] {
            map.sorted { a, b in
                let la = a.value.location?.line ?? Int.max, lb = b.value.location?.line ?? Int.max
                return la != lb ? la < lb : a.key < b.key
            }.map(\.key)
        }
        return FactsSummary(
            inputs: facts.inputs.map { "\($0.name) (\($0.kind))" }, httpStatuses: facts.httpStatuses,
            replies: facts.replies.map { Matcher.clip([String($0.code), $0.enhanced, $0.text].compactMap { $0 }.joined(separator: " "), to: 200) },
            enhancedCodes: facts.enhancedCodes, phases: facts.phases.map(\.rawValue), hosts: Array(facts.hosts.prefix(10)),
            stacks: ordered(facts.stacks), providers: ordered(facts.providers), signatures: ordered(facts.signatures),
            intermittent: facts.intermittent, findings: facts.findings, checked: facts.checked, roles: facts.roles.summary)
    }
}

/// Runs each distinct probe call once per diagnosis: several playbooks often ask the same question of a
/// live target, and a server should see one request, not one per playbook.
public actor ProbeCache {
    private var outcomes: [String: Task<ProbeOutcome, Never>] = [:]

    public init() {}

    func outcome(_ probe: String, _ parameters: [String: ProbeValue],
                 run: @escaping @Sendable () async -> ProbeOutcome) async -> ProbeOutcome {
        let key = probe + "|" + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "|")
        if let task = outcomes[key] { return await task.value }
        let task = Task { await run() }
        outcomes[key] = task
        return await task.value
    }
}
