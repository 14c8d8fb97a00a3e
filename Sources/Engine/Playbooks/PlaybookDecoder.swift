import Foundation

/// What a playbook may refer to; the loader checks every reference against it.
public struct PlaybookContext: Sendable {
    public var probes: ProbeRegistry
    public var articles: Set<String>
    /// The causes in force (`playbooks/causes.yaml` and organisations' `causes.yaml`); the loader adds those
    /// of the sources it loads.
    public var causes: CauseCatalog

    public init(probes: ProbeRegistry, articles: Set<String>, causes: CauseCatalog = CauseCatalog()) {
        self.probes = probes
        self.articles = articles
        self.causes = causes
    }
}

/// Turns one YAML document into a `Playbook`, collecting every problem on the way.
struct PlaybookDecoder {
    static let formatVersion = "playbook/1"
    static let topKeys = ["kb", "id", "title", "protocol", "cause", "stacks", "article", "summary", "threshold",
                          "related-codes", "signals", "checks", "remediation", "tests",
                          "customer-summary", "questions"]
    static let matcherKeys = ["text", "absent", "any", "status", "reply", "enhanced", "phase", "stack", "provider", "signature",
                              "intermittent", "http-version", "finding", "file-kind"]
    /// Conditions a `text` signal may add, standing in for look-around and back-references.
    static let textConditionKeys = ["also", "unless", "differ", "same"]
    static let signalKeys = ["id", "weight", "note"] + matcherKeys + textConditionKeys
    static let checkKeys = ["id", "title", "probe", "with", "expect", "fail", "fail-title", "when", "needs", "required",
                            "weight", "manual"]
    static let remediationKeys = ["id", "step", "detail", "stacks", "verify", "audience", "when"] + stepOrderKeys
    static let testKeys = ["name", "input", "stack", "intermittent", "protocol", "expect"]
    static let conditionKeys = ["live", "stack", "signal", "has"] + factConditionKeys
    /// Conditions on the case's roles, and the step keys that choose and order steps by the evidence (issue 9).
    static let factConditionKeys = ["fact"]
    static let stepOrderKeys = ["unless", "first-when"]
    /// Values every `fact` condition accepts besides the role's own: some value shown, or none.
    static let factWildcards = ["known", "unknown"]
    static let hasValues = ["host", "target", "origin", "addresses"]
    static let expectOps = ["not", "contains", "matches", "lt", "gt"]

    let context: PlaybookContext
    var reader: NodeReader

    /// Whether patterns are compiled while decoding; shipped playbooks are checked by validate and the
    /// tests, then compiled on first use so that start-up stays small.
    var checkPatterns = true
    /// Check ids a `needs` may also name: those of the playbook an overlay changes.
    var knownCheckIDs: Set<String> = []

    init(file: String, source: String, context: PlaybookContext, checkPatterns: Bool = true) {
        self.context = context
        self.checkPatterns = checkPatterns
        self.reader = NodeReader(file: file, source: source)
    }

    var errors: [KBError] { reader.errors }

    mutating func decode(_ root: YAMLNode) -> Playbook? {
        guard let f = reader.fields(root, what: "playbook", allowed: Self.topKeys,
                                    required: ["kb", "id", "title", "protocol", "cause", "article", "summary",
                                               "signals", "remediation", "tests"]) else { return nil }
        if let node = f["kb"]?.value, let version = reader.string(node, "'kb'"), version != Self.formatVersion {
            reader.error(.invalidValue, "unsupported format '\(version)'; this kb reads '\(Self.formatVersion)'", at: node)
        }
        var id = ""
        if let node = f["id"]?.value, let value = reader.nonEmptyString(node, "'id'") {
            if !Self.isIdentifier(value) {
                reader.error(.invalidValue, "id '\(value)' may use only lowercase letters, digits, '.' and '-'", at: node)
            }
            id = value
        }
        let title = f["title"].flatMap { reader.prose($0.value, "'title'") } ?? ""
        var proto = WireProtocol.unknown
        if let node = f["protocol"]?.value, let value = reader.string(node, "'protocol'") {
            let known = ["http", "smtp", "ftp"]
            if let p = WireProtocol(rawValue: value), known.contains(value) {
                proto = p
            } else {
                var message = "unknown protocol '\(value)'; expected one of http, smtp, ftp"
                if let near = Suggest.closest(to: value, in: known) { message += "; did you mean '\(near)'?" }
                reader.error(.invalidValue, message, at: node)
            }
        }
        var cause = ""
        if let node = f["cause"]?.value, let value = reader.string(node, "'cause'") {
            if let known = context.causes.cause(value) {
                cause = value
                if proto != .unknown, known.protocolValue != .unknown, known.protocolValue != proto {
                    reader.error(.invalidValue,
                                 "cause '\(value)' is an \(known.protocolValue.rawValue) cause, but the playbook's protocol is '\(proto.rawValue)'",
                                 at: node)
                }
            } else {
                var message = "unknown cause '\(value)'"
                if let near = Suggest.closest(to: value, in: context.causes.slugs) {
                    message += "; did you mean '\(near)'?"
                } else {
                    message += "; declare it in 'causes.yaml' in your playbook directory (see 'kb explain --causes')"
                }
                reader.error(.unknownCause, message, at: node)
            }
        }
        var stacks: [String] = []
        if let node = f["stacks"]?.value, let items = reader.scalarList(node, "'stacks'") {
            stacks = reader.vocabulary(items, Vocabulary.stacks, "stack")
        }
        var article = ""
        if let node = f["article"]?.value, let value = reader.string(node, "'article'") {
            if context.articles.contains(value) {
                article = value
            } else {
                var message = "unknown article '\(value)'"
                if let near = Suggest.closest(to: value, in: context.articles) {
                    message += "; did you mean '\(near)'?"
                } else {
                    message += "; add '\(value).md' (Markdown with front matter) to your playbook directory, "
                        + "or name a built-in one ('kb explain' lists them)"
                }
                reader.error(.unknownArticle, message, at: node)
            }
        }
        let summary = f["summary"].flatMap { reader.prose($0.value, "'summary'") } ?? ""
        var threshold = 4.0
        if let node = f["threshold"]?.value, let value = reader.number(node, "'threshold'") {
            if !(value > 0 && value <= Playbook.maxThreshold) {
                reader.error(.invalidValue, "threshold must be greater than 0 and at most \(Int(Playbook.maxThreshold))", at: node)
            }
            threshold = value
        }
        var relatedCodes: [Int] = []
        if let node = f["related-codes"]?.value, let items = reader.scalarList(node, "'related-codes'") {
            for (value, item) in items {
                if let code = Int(value), (400...599).contains(code), code != 421 { relatedCodes.append(code) } else {
                    reader.error(.invalidValue, "'\(value)' is not an error code other than 421 (400 to 599)", at: item)
                }
            }
        }
        let signals = f["signals"].map { decodeSignals($0.value) } ?? []
        let signalIDs = Set(signals.map(\.id))
        let checks = f["checks"].map { decodeChecks($0.value, signalIDs: signalIDs) } ?? []
        let remediation = f["remediation"].map { decodeRemediation($0.value, signalIDs: Set(signals.map(\.id))) } ?? []
        let tests = f["tests"].map { decodeTests($0.value) } ?? []

        if let node = f["signals"]?.value, signals.isEmpty, reader.errors.isEmpty {
            reader.error(.invalidValue, "a playbook needs at least one signal", at: node)
        }
        if let node = f["signals"]?.value, !signals.isEmpty, !signals.contains(where: { $0.weight > 0 }) {
            reader.error(.invalidValue, "a playbook needs at least one signal with a positive weight", at: node)
        }
        if let node = f["remediation"]?.value, remediation.isEmpty, node.sequence?.isEmpty == true {
            reader.error(.invalidValue, "a playbook needs at least one remediation step", at: node)
        }
        if let node = f["tests"]?.value, node.sequence != nil {
            if !tests.contains(where: { $0.expect != .noMatch }) || !tests.contains(where: { $0.expect == .noMatch }) {
                reader.error(.invalidValue, "tests need at least one positive case and one 'no-match' case", at: node)
            }
        }
        // What the customer's reply says happened (issue 9): plain words, no jargon.
        let customerSummary = f["customer-summary"].flatMap { reader.prose($0.value, "'customer-summary'") }
        let questions = f["questions"].map { decodeQuestions($0.value, owner: id, signalIDs: signalIDs) } ?? []
        guard reader.errors.isEmpty else { return nil }
        var playbook = Playbook(id: id, title: title, protocolValue: proto, cause: cause, stacks: stacks, article: article,
                        summary: summary, threshold: threshold, relatedCodes: relatedCodes, signals: signals, checks: checks,
                        remediation: remediation, tests: tests, source: reader.location(root), replaces: nil,
                        questions: questions)
        playbook.customerSummary = customerSummary
        return playbook
    }

    /// Lowercase letters, digits, '.' and '-', starting with a letter or digit.
    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isLowercase || ("0"..."9").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }
    }

    /// `4.7.28`, `4.7.*` or `5.*.*`: class 2, 4 or 5, then two parts of up to three digits or a star.
    static func isEnhancedPattern(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, ["2", "4", "5"].contains(parts[0]) else { return false }
        return parts.dropFirst().allSatisfy { $0 == "*" || (1...3).contains($0.count) && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    // MARK: patterns

    /// A pattern from a scalar; when checking, what RE2 cannot run is reported at the place in the
    /// pattern RE2 names, counted from the scalar's position.
    private mutating func pattern(_ node: YAMLNode, _ what: String) -> Pattern? {
        guard let source = reader.nonEmptyString(node, what) else { return nil }
        let pattern = Pattern(lazy: source)
        guard checkPatterns, let problem = pattern.syntaxError() else { return pattern }
        let error = Pattern.error(problem, source: source)
        let (line, column) = Self.position(of: problem.offset, in: node, source: source)
        reader.error(.invalidPattern, error.message, line: line, column: column)
        return nil
    }

    /// Line and column of a byte offset of a scalar's value, when the scalar writes it on one line
    /// without escapes before that offset; else the scalar's own position.
    static func position(of offset: Int?, in node: YAMLNode, source: String) -> (Int, Int) {
        let start = (node.mark.line, node.mark.column)
        guard let offset, case .scalar(let scalar) = node.kind,
              let prefix = String(bytes: source.utf8.prefix(offset), encoding: .utf8),
              !prefix.contains("\n") else { return start }
        var column = node.mark.column + prefix.unicodeScalars.count
        switch scalar.style {
        case .plain: break
        case .singleQuoted: column += 1 + prefix.filter { $0 == "'" }.count
        case .doubleQuoted:
            guard !prefix.contains("\\"), !prefix.contains("\"") else { return start }
            column += 1
        case .literal, .folded: return start
        }
        return (node.mark.line, column)
    }

    /// `also`, `unless`, `differ` and `same` of a `text` signal.
    private mutating func decodeConditions(_ f: [String: (key: YAMLNode, value: YAMLNode)], into pattern: inout Pattern) {
        for key in ["also", "unless"] {
            guard let node = f[key]?.value else { continue }
            let items = node.sequence ?? [node]
            let patterns = items.compactMap { self.pattern($0, "'\(key)'") }
            if key == "also" { pattern.also = patterns } else { pattern.unless = patterns }
        }
        for key in ["differ", "same"] {
            guard let node = f[key]?.value else { continue }
            let pairs = groupPairs(node, key, groups: checkPatterns ? pattern.groupCount : nil)
            if key == "differ" { pattern.differ = pairs } else { pattern.same = pairs }
        }
    }

    /// `[1, 2]` or `[[1, 2], [3, 4]]`: capture group numbers, each within the pattern's groups.
    private mutating func groupPairs(_ node: YAMLNode, _ key: String, groups: Int?) -> [Pattern.GroupPair] {
        guard let items = node.sequence, !items.isEmpty else {
            reader.error(.wrongType, "'\(key)' must be a pair of group numbers such as [1, 2], or a list of pairs", at: node)
            return []
        }
        let lists = items.allSatisfy { $0.sequence != nil } ? items : [node]
        var out: [Pattern.GroupPair] = []
        for list in lists {
            let numbers = (list.sequence ?? []).compactMap { item -> Int? in
                guard let value = item.scalar.flatMap({ Int($0) }), value >= 1, value <= (groups ?? Int.max) else {
                    let limit = groups.map { "1 to \($0)" } ?? "1 or more"
                    reader.error(.invalidValue, "'\(key)' group '\(item.scalar ?? "")' is not a capture group of the pattern (\(limit))",
                                 at: item)
                    return nil
                }
                return value
            }
            guard numbers.count == 2 else {
                if numbers.count == (list.sequence ?? []).count {
                    reader.error(.invalidValue, "'\(key)' compares two groups, not \(numbers.count)", at: list)
                }
                continue
            }
            out.append(Pattern.GroupPair(numbers[0], numbers[1]))
        }
        return out
    }

    // MARK: signals

    mutating func decodeSignals(_ node: YAMLNode) -> [Signal] {
        guard let items = reader.list(node, "'signals'") else { return [] }
        var out: [Signal] = []
        var seen: [String: YAMLNode] = [:]
        for (index, item) in items.enumerated() {
            guard let f = reader.fields(item, what: "signal", allowed: Self.signalKeys, required: ["weight"]) else { continue }
            var id = "signal-\(index + 1)"
            if let node = f["id"]?.value, let value = reader.nonEmptyString(node, "signal 'id'") {
                if let first = seen[value] {
                    reader.error(.duplicateID, "duplicate signal id '\(value)' (first at \(first.mark))", at: node)
                }
                seen[value] = node
                id = value
            }
            var weight = 0.0
            if let node = f["weight"]?.value, let value = reader.number(node, "signal 'weight'") {
                if value == 0 { reader.error(.invalidValue, "signal weight must not be 0", at: node) }
                if abs(value) > Playbook.maxWeight {
                    reader.error(.invalidValue, "signal weight must be between -\(Int(Playbook.maxWeight)) and \(Int(Playbook.maxWeight))", at: node)
                }
                weight = value
            }
            let note = f["note"].flatMap { reader.prose($0.value, "signal 'note'") }
            let present = Self.matcherKeys.filter { f[$0] != nil }
            guard present.count == 1, let key = present.first, let valueNode = f[key]?.value else {
                if present.isEmpty {
                    reader.error(.missingKey, "signal needs exactly one matcher: \(Self.matcherKeys.joined(separator: ", "))", at: item)
                } else {
                    reader.error(.invalidValue,
                                 "signal has \(present.count) matchers (\(present.joined(separator: ", "))); use one per signal",
                                 at: f[present[1]]!.key)
                }
                continue
            }
            guard var matcher = decodeMatcher(key, valueNode) else { continue }
            if case .text(var pattern) = matcher {
                decodeConditions(f, into: &pattern)
                matcher = .text(pattern)
            } else if let extra = Self.textConditionKeys.first(where: { f[$0] != nil }) {
                reader.error(.invalidValue, "'\(extra)' goes with a 'text' signal only", at: f[extra]!.key)
            }
            out.append(Signal(id: id, weight: weight, note: note, matcher: matcher, location: reader.location(item)))
        }
        return out
    }

    private mutating func decodeMatcher(_ key: String, _ node: YAMLNode) -> Signal.Matcher? {
        switch key {
        case "text":
            return pattern(node, "'text'").map(Signal.Matcher.text)
        case "absent":
            return pattern(node, "'absent'").map(Signal.Matcher.absent)
        case "any":
            guard let items = reader.scalarList(node, "'any'") else { return nil }
            return .any(items.map { $0.0.lowercased() })
        case "status", "reply":
            guard let items = reader.scalarList(node, "'\(key)'") else { return nil }
            var codes: [Int] = []
            for (value, item) in items {
                if let code = Int(value), (100...599).contains(code) { codes.append(code) } else {
                    reader.error(.invalidValue, "'\(value)' is not a three-digit \(key) code", at: item)
                }
            }
            return key == "status" ? .status(codes) : .reply(codes)
        case "enhanced":
            guard let items = reader.scalarList(node, "'enhanced'") else { return nil }
            for (value, item) in items where !Self.isEnhancedPattern(value) {
                reader.error(.invalidValue, "'\(value)' is not an enhanced status code such as '4.7.0' or '4.7.*'", at: item)
            }
            return .enhanced(items.map(\.0))
        case "phase":
            guard let items = reader.scalarList(node, "'phase'") else { return nil }
            let names = reader.vocabulary(items, SMTPPhase.allCases.map(\.rawValue), "phase")
            return .phase(names.compactMap(SMTPPhase.init(rawValue:)))
        case "stack":
            guard let items = reader.scalarList(node, "'stack'") else { return nil }
            return .stack(reader.vocabulary(items, Vocabulary.stacks, "stack"))
        case "provider":
            guard let items = reader.scalarList(node, "'provider'") else { return nil }
            return .provider(reader.vocabulary(items, Vocabulary.providers, "provider"))
        case "signature":
            guard let items = reader.scalarList(node, "'signature'") else { return nil }
            return .signature(reader.vocabulary(items, Vocabulary.signatures, "signature"))
        case "intermittent":
            return reader.bool(node, "'intermittent'").map(Signal.Matcher.intermittent)
        case "http-version":
            guard let items = reader.scalarList(node, "'http-version'") else { return nil }
            return .httpVersion(reader.vocabulary(items, ["1.0", "1.1", "2", "3"], "HTTP version"))
        case "finding":
            guard let items = reader.scalarList(node, "'finding'") else { return nil }
            for (value, item) in items where !(Self.isIdentifier(value) && value.contains(".") && !value.hasSuffix(".")) {
                reader.error(.invalidValue, "finding id '\(value)' must look like 'area.name'", at: item)
            }
            return .finding(items.map(\.0))
        case "file-kind":
            guard let items = reader.scalarList(node, "'file-kind'") else { return nil }
            return .fileKind(reader.vocabulary(items, Vocabulary.fileKinds, "file kind"))
        default:
            return nil
        }
    }

    // MARK: checks

    mutating func decodeChecks(_ node: YAMLNode, signalIDs: Set<String>) -> [Check] {
        guard let items = reader.list(node, "'checks'") else { return [] }
        var out: [Check] = []
        var seen: [String: YAMLNode] = [:]
        var needNodes: [(check: String, need: String, node: YAMLNode)] = []
        for item in items {
            guard let f = reader.fields(item, what: "check", allowed: Self.checkKeys, required: ["id", "title"]) else { continue }
            guard let idNode = f["id"]?.value, let id = reader.nonEmptyString(idNode, "check 'id'") else { continue }
            if let first = seen[id] {
                reader.error(.duplicateID, "duplicate check id '\(id)' (first at \(first.mark))", at: idNode)
            }
            seen[id] = idNode
            let title = f["title"].flatMap { reader.prose($0.value, "check 'title'") } ?? id
            var probeID: String?
            var description: ProbeDescription?
            if let node = f["probe"]?.value, let value = reader.string(node, "check 'probe'") {
                if let probe = context.probes.probe(value) {
                    probeID = value
                    description = probe.description
                } else {
                    var message = "unknown probe '\(value)'"
                    if let near = Suggest.closest(to: value, in: context.probes.ids) { message += "; did you mean '\(near)'?" }
                    reader.error(.unknownProbe, message, at: node)
                }
            }
            let manual = f["manual"].flatMap { reader.prose($0.value, "check 'manual'") }
            if f["probe"] == nil && f["manual"] == nil {
                reader.error(.missingKey, "check '\(id)' needs either 'probe' or 'manual'", at: item)
            }
            if f["probe"] != nil && f["manual"] != nil {
                reader.error(.invalidValue, "check '\(id)' has both 'probe' and 'manual'; use one", at: f["manual"]!.key)
            }
            if f["probe"] == nil {
                for key in ["with", "expect"] where f[key] != nil {
                    reader.error(.invalidValue, "'\(key)' needs a 'probe' in check '\(id)'", at: f[key]!.key)
                }
            }
            var parameters: [(name: String, value: ParameterTemplate)] = []
            if let node = f["with"]?.value, let description {
                parameters = decodeParameters(node, probe: description)
            } else if let description {
                for parameter in description.parameters where parameter.required {
                    reader.error(.missingKey, "probe '\(description.id)' needs parameter '\(parameter.name)'", at: item)
                }
            }
            var expect: [(key: String, expectation: Expectation)] = []
            if let node = f["expect"]?.value, let description {
                expect = decodeExpect(node, probe: description)
            } else if f["probe"] != nil, f["expect"] == nil {
                reader.error(.missingKey, "check '\(id)' runs a probe and needs 'expect' (the healthy state)", at: item)
            }
            let failMeaning = f["fail"].flatMap { reader.prose($0.value, "check 'fail'") }
            let failTitle = f["fail-title"].flatMap { reader.prose($0.value, "check 'fail-title'") }
            var condition = CheckCondition(live: nil, stacks: [], signals: [], has: [])
            if let node = f["when"]?.value {
                condition = decodeCondition(node, signalIDs: signalIDs)
            }
            var needs: [String] = []
            if let node = f["needs"]?.value, let items = reader.scalarList(node, "'needs'") {
                for (value, itemNode) in items {
                    needs.append(value)
                    needNodes.append((id, value, itemNode))
                }
            }
            let required = f["required"].flatMap { reader.bool($0.value, "check 'required'") } ?? true
            var weight = 3.0
            if let node = f["weight"]?.value, let value = reader.number(node, "check 'weight'") {
                if !(0...Playbook.maxWeight).contains(value) {
                    reader.error(.invalidValue, "check weight must be between 0 and \(Int(Playbook.maxWeight))", at: node)
                }
                weight = value
            }
            out.append(Check(id: id, title: title, probe: probeID, parameters: parameters, expect: expect,
                             failMeaning: failMeaning, failTitle: failTitle, when: condition, needs: needs,
                             required: required,
                             weight: weight, manual: manual, location: reader.location(item)))
        }
        for (check, need, node) in needNodes where seen[need] == nil && !knownCheckIDs.contains(need) {
            var message = "check '\(check)' needs unknown check '\(need)'"
            if let near = Suggest.closest(to: need, in: Array(seen.keys) + knownCheckIDs.sorted()) {
                message += "; did you mean '\(near)'?"
            }
            reader.error(.unknownCheck, message, at: node)
        }
        if let cycle = Self.findCycle(out) {
            let check = out.first { $0.id == cycle[0] }!
            reader.error(.checkCycle, "checks depend on each other in a cycle: \(cycle.joined(separator: " -> "))",
                         line: check.location.line, column: check.location.column)
        }
        return out
    }

    /// The first dependency cycle among checks, as a path that starts and ends with the same id.
    static func findCycle(_ checks: [Check]) -> [String]? {
        let needs = Dictionary(checks.map { ($0.id, $0.needs) }, uniquingKeysWith: { first, _ in first })
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var path: [String] = []
        func visit(_ id: String) -> [String]? {
            if state[id] == 2 { return nil }
            if state[id] == 1 {
                let start = path.firstIndex(of: id)!
                return Array(path[start...]) + [id]
            }
            state[id] = 1
            path.append(id)
            for next in needs[id] ?? [] where needs[next] != nil {
                if let cycle = visit(next) { return cycle }
            }
            path.removeLast()
            state[id] = 2
            return nil
        }
        for check in checks {
            if let cycle = visit(check.id) { return cycle }
        }
        return nil
    }

    private mutating func decodeParameters(_ node: YAMLNode, probe: ProbeDescription) -> [(name: String, value: ParameterTemplate)] {
        guard let pairs = node.mapping else {
            reader.error(.wrongType, "'with' must be a mapping, not a \(node.kindName)", at: node)
            return []
        }
        var out: [(name: String, value: ParameterTemplate)] = []
        for pair in pairs {
            guard let name = pair.key.scalar else { continue }
            guard let spec = probe.parameters.first(where: { $0.name == name }) else {
                var message = "probe '\(probe.id)' has no parameter '\(name)'"
                if let near = Suggest.closest(to: name, in: probe.parameters.map(\.name)) { message += "; did you mean '\(near)'?" }
                reader.error(.unknownParameter, message, at: pair.key)
                continue
            }
            switch spec.kind {
            case .string:
                if let t = reader.template(pair.value, "parameter '\(name)'") {
                    checkDestination(t, spec, probe: probe, at: pair.value)
                    out.append((name, .template(t)))
                }
            case .int:
                if let i = reader.int(pair.value, "parameter '\(name)'") { out.append((name, .int(i))) }
            case .bool:
                if let b = reader.bool(pair.value, "parameter '\(name)'") { out.append((name, .bool(b))) }
            case .list:
                if let items = reader.scalarList(pair.value, "parameter '\(name)'") {
                    var templates: [Template] = []
                    for (_, itemNode) in items {
                        if let t = reader.template(itemNode, "parameter '\(name)'") {
                            checkDestination(t, spec, probe: probe, at: itemNode)
                            templates.append(t)
                        }
                    }
                    out.append((name, .list(templates)))
                }
            }
        }
        for parameter in probe.parameters where parameter.required && !out.contains(where: { $0.name == parameter.name }) {
            reader.error(.missingKey, "probe '\(probe.id)' needs parameter '\(parameter.name)'", at: node)
        }
        return out
    }

    /// A playbook never chooses where a probe sends packets: a destination comes only from what the user named
    /// (`{{connect}}`, `{{origin}}`, `{{addresses}}`), and a name to look up stays under `{{host}}`. The run's
    /// contact policy refuses anything else too; this says so at load time, with the position.
    private mutating func checkDestination(_ template: Template, _ spec: ProbeParameter, probe: ProbeDescription,
                                           at node: YAMLNode) {
        let shown = Sanitizer.neutralize(template.source)
        switch spec.contact {
        case .endpoint?:
            guard !template.isExactly(oneOf: Template.destinationVariables) else { return }
            reader.error(.invalidValue, "parameter '\(spec.name)' of probe '\(probe.id)' is '\(shown)'; a playbook cannot "
                + "choose where a probe connects: use '{{connect}}', '{{origin}}' or '{{addresses}}'", at: node)
        case .dnsServer?:
            reader.error(.invalidValue, "parameter '\(spec.name)' of probe '\(probe.id)' is '\(shown)'; a playbook cannot "
                + "choose the DNS server: leave it out and kb asks the system resolver or the --dns-server the user names",
                at: node)
        case .lookupName?:
            guard !template.ends(under: "host") else { return }
            reader.error(.invalidValue, "parameter '\(spec.name)' of probe '\(probe.id)' is '\(shown)'; a name to look up "
                + "must be '{{host}}' or end in '.{{host}}' so it stays under the name the user gave", at: node)
        case nil:
            return
        }
    }

    private mutating func decodeExpect(_ node: YAMLNode, probe: ProbeDescription) -> [(key: String, expectation: Expectation)] {
        guard let pairs = node.mapping else {
            reader.error(.wrongType, "'expect' must be a mapping, not a \(node.kindName)", at: node)
            return []
        }
        if pairs.isEmpty { reader.error(.invalidValue, "'expect' must name at least one observation", at: node) }
        var out: [(key: String, expectation: Expectation)] = []
        for pair in pairs {
            guard let key = pair.key.scalar else { continue }
            guard probe.observations[key] != nil else {
                var message = "probe '\(probe.id)' reports no observation '\(key)'"
                if let near = Suggest.closest(to: key, in: probe.observations.keys) { message += "; did you mean '\(near)'?" }
                reader.error(.unknownKey, message, at: pair.key)
                continue
            }
            if let expectation = decodeExpectation(pair.value) { out.append((key, expectation)) }
        }
        return out
    }

    private mutating func decodeExpectation(_ node: YAMLNode) -> Expectation? {
        switch node.kind {
        case .scalar:
            return expectedValue(node).map(Expectation.equals)
        case .sequence(let items):
            let values = items.compactMap { expectedValue($0) }
            return values.count == items.count ? .anyOf(values) : nil
        case .mapping(let pairs):
            guard pairs.count == 1, let op = pairs[0].key.scalar else {
                reader.error(.invalidValue, "a comparison takes exactly one of \(Self.expectOps.joined(separator: ", "))", at: node)
                return nil
            }
            let value = pairs[0].value
            switch op {
            case "not": return expectedValue(value).map(Expectation.not)
            case "contains": return reader.string(value, "'contains'").map(Expectation.contains)
            case "matches":
                return pattern(value, "'matches'").map(Expectation.matches)
            case "lt": return reader.number(value, "'lt'").map(Expectation.lessThan)
            case "gt": return reader.number(value, "'gt'").map(Expectation.greaterThan)
            default:
                var message = "unknown comparison '\(op)'"
                if let near = Suggest.closest(to: op, in: Self.expectOps) { message += "; did you mean '\(near)'?" }
                reader.error(.unknownKey, message, at: pairs[0].key)
                return nil
            }
        }
    }

    private mutating func expectedValue(_ node: YAMLNode) -> ExpectedValue? {
        guard case .scalar(let scalar) = node.kind else {
            reader.error(.wrongType, "expected a scalar value, not a \(node.kindName)", at: node)
            return nil
        }
        if scalar.style == .plain {
            if let b = node.bool { return .bool(b) }
            if let d = node.double { return .number(d) }
        }
        return .string(scalar.value)
    }

    mutating func decodeCondition(_ node: YAMLNode, signalIDs: Set<String>,
                                          what: String = "'when'") -> CheckCondition {
        var condition = CheckCondition(live: nil, stacks: [], signals: [], has: [])
        guard let f = reader.fields(node, what: what, allowed: Self.conditionKeys) else { return condition }
        if let n = f["live"]?.value { condition.live = reader.bool(n, "'live'") }
        if let n = f["stack"]?.value, let items = reader.scalarList(n, "'stack'") {
            condition.stacks = reader.vocabulary(items, Vocabulary.stacks, "stack")
        }
        if let n = f["signal"]?.value, let items = reader.scalarList(n, "'signal'") {
            condition.signals = reader.vocabulary(items, signalIDs.sorted(), "signal id")
        }
        if let n = f["has"]?.value, let items = reader.scalarList(n, "'has'") {
            condition.has = reader.vocabulary(items, Self.hasValues, "'has' value")
        }
        if let n = f["fact"]?.value { condition.facts = decodeFactConditions(n) }
        return condition
    }

    /// `fact: {mechanism: [spf, dkim], sender-ip: known}`: role names with the values any of which must be shown.
    private mutating func decodeFactConditions(_ node: YAMLNode) -> [FactCondition] {
        guard let pairs = node.mapping, !pairs.isEmpty else {
            reader.error(.wrongType, "'fact' must be a mapping of role names to values, such as {mechanism: [spf, dkim]}",
                         at: node)
            return []
        }
        let roleNames = CaseRoles.Role.allCases.map(\.rawValue)
        var out: [FactCondition] = []
        for pair in pairs {
            guard let key = pair.key.scalar else { continue }
            guard let role = CaseRoles.Role(rawValue: key) else {
                var message = "unknown role '\(key)' in 'fact'"
                if let near = Suggest.closest(to: key, in: roleNames) { message += "; did you mean '\(near)'?" }
                reader.error(.unknownKey, message, at: pair.key)
                continue
            }
            guard let items = reader.scalarList(pair.value, "'fact' '\(key)'") else { continue }
            guard !items.isEmpty else {
                reader.error(.invalidValue, "'fact' '\(key)' needs at least one value", at: pair.value)
                continue
            }
            var values: [String] = []
            if let known = CaseRoles.vocabulary(of: role) {
                values = reader.vocabulary(items, known + Self.factWildcards, "\(key) value")
            } else {
                values = items.map { $0.0 }
            }
            if values.count == items.count { out.append(FactCondition(role: role, values: values)) }
        }
        return out
    }

    // MARK: remediation and tests

    mutating func decodeRemediation(_ node: YAMLNode, signalIDs: Set<String>) -> [RemediationStep] {
        guard let items = reader.list(node, "'remediation'") else { return [] }
        var out: [RemediationStep] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            guard let f = reader.fields(item, what: "remediation step", allowed: Self.remediationKeys,
                                        required: ["step", "detail"]) else { continue }
            let step = f["step"].flatMap { reader.prose($0.value, "'step'") } ?? ""
            let detail = f["detail"].flatMap { reader.prose($0.value, "'detail'") } ?? ""
            var stacks: [String] = []
            if let n = f["stacks"]?.value, let items = reader.scalarList(n, "'stacks'") {
                stacks = reader.vocabulary(items, Vocabulary.stacks + Vocabulary.providers, "stack or provider")
            }
            let verify = f["verify"].flatMap { reader.template($0.value, "'verify'") }
            // Without an id a step is known by its position; overlays need ids to name it.
            var id = "step-\(index + 1)"
            if let n = f["id"]?.value, let value = reader.nonEmptyString(n, "step 'id'") {
                if !Self.isIdentifier(value) {
                    reader.error(.invalidValue, "step id '\(value)' may use only lowercase letters, digits, '.' and '-'", at: n)
                }
                id = value
                if !seen.insert(value).inserted { reader.error(.invalidValue, "duplicate step id '\(value)'", at: n) }
            }
            var audience = Audience.admin
            if let n = f["audience"]?.value, let value = reader.string(n, "step 'audience'") {
                if let a = Audience(rawValue: value) { audience = a } else {
                    var message = "unknown audience '\(value)'; expected one of admin, customer, both"
                    if let near = Suggest.closest(to: value, in: Audience.allCases.map(\.rawValue)) {
                        message += "; did you mean '\(near)'?"
                    }
                    reader.error(.invalidValue, message, at: n)
                }
            }
            var condition = CheckCondition(live: nil, stacks: [], signals: [], has: [])
            if let n = f["when"]?.value { condition = decodeCondition(n, signalIDs: signalIDs) }
            var item = RemediationStep(id: id, step: step, detail: detail, stacks: stacks, verify: verify,
                                       audience: audience, when: condition)
            // issue 9: steps chosen and ordered by the evidence; templates in the step's text
            if let n = f["unless"]?.value { item.unless = decodeCondition(n, signalIDs: signalIDs, what: "'unless'") }
            if let n = f["first-when"]?.value {
                item.firstWhen = decodeCondition(n, signalIDs: signalIDs, what: "'first-when'")
            }
            for key in ["step", "detail"] {
                if let n = f[key]?.value, n.scalar?.contains("{{") == true { _ = reader.template(n, "'\(key)'") }
            }
            out.append(item)
        }
        return out
    }

    mutating func decodeTests(_ node: YAMLNode) -> [PlaybookTest] {
        guard let items = reader.list(node, "'tests'") else { return [] }
        var out: [PlaybookTest] = []
        for item in items {
            guard let f = reader.fields(item, what: "test", allowed: Self.testKeys,
                                        required: ["name", "input", "expect"]) else { continue }
            let name = f["name"].flatMap { reader.nonEmptyString($0.value, "test 'name'") } ?? ""
            let input = f["input"].flatMap { reader.nonEmptyString($0.value, "test 'input'") } ?? ""
            var statements = Statements()
            if let n = f["stack"]?.value, let items = reader.scalarList(n, "test 'stack'") {
                statements.stacks = reader.vocabulary(items, Vocabulary.stacks, "stack")
            }
            if let n = f["intermittent"]?.value { statements.intermittent = reader.bool(n, "test 'intermittent'") }
            if let n = f["protocol"]?.value, let value = reader.string(n, "test 'protocol'") {
                if let p = WireProtocol(rawValue: value), p != .unknown { statements.protocolValue = p } else {
                    reader.error(.invalidValue, "unknown protocol '\(value)'; expected one of http, smtp, ftp", at: n)
                }
            }
            var expect = PlaybookTest.Expect.match
            if let n = f["expect"]?.value, let value = reader.string(n, "test 'expect'") {
                if let e = PlaybookTest.Expect(rawValue: value) { expect = e } else {
                    var message = "unknown test expectation '\(value)'; expected one of top, top3, match, no-match"
                    if let near = Suggest.closest(to: value, in: PlaybookTest.Expect.allCases.map(\.rawValue)) {
                        message += "; did you mean '\(near)'?"
                    }
                    reader.error(.invalidValue, message, at: n)
                }
            }
            out.append(PlaybookTest(name: name, input: input, statements: statements, expect: expect,
                                    location: reader.location(item)))
        }
        return out
    }
}
