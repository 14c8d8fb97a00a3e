import Foundation

/// The `questions:` section of a playbook (and the built-in guide questions), decoded with positions.
extension PlaybookDecoder {
    static let questionKeys = ["id", "text", "kind", "why", "command", "input", "if-yes", "if-no", "choices", "reveals", "scope", "when"]
    static let effectKeys = ["signals", "weight", "protocol", "stack", "intermittent", "says", "probe"]
    static let choiceKeys = ["label"] + effectKeys
    /// Kinds a pasted answer may be stated as, as `--file KIND:path` states them.
    static let inputKinds = ["text", "nginx-config", "apache-config", "apachectl-s", "error-log", "access-log",
                             "mail-log", "ftp-log"]

    /// `owner` is the playbook id (nil for built-in questions, which may carry `scope` and `probe`).
    mutating func decodeQuestions(_ node: YAMLNode, owner: String?, signalIDs: Set<String>) -> [Question] {
        guard let items = reader.list(node, "'questions'") else { return [] }
        var out: [Question] = []
        var seen: Set<String> = []
        for item in items {
            let allowed = owner == nil ? Self.questionKeys : Self.questionKeys.filter { $0 != "scope" }
            guard let f = reader.fields(item, what: "question", allowed: allowed,
                                        required: ["id", "text", "kind", "why"]) else { continue }
            var id = ""
            if let n = f["id"]?.value, let value = reader.nonEmptyString(n, "question 'id'") {
                if !Self.isIdentifier(value) {
                    reader.error(.invalidValue, "question id '\(value)' may use only lowercase letters, digits, '.' and '-'", at: n)
                }
                if !seen.insert(value).inserted { reader.error(.invalidValue, "duplicate question id '\(value)'", at: n) }
                id = value
            }
            let text = f["text"].flatMap { reader.template($0.value, "question 'text'") }
            let why = f["why"].flatMap { reader.prose($0.value, "question 'why'") } ?? ""
            var kind = Question.Kind.yesNo
            if let n = f["kind"]?.value, let value = reader.string(n, "question 'kind'") {
                if let k = Question.Kind(rawValue: value) { kind = k } else {
                    var message = "unknown question kind '\(value)'; expected one of yes-no, choice, paste, command-output"
                    if let near = Suggest.closest(to: value, in: Question.Kind.allCases.map(\.rawValue)) {
                        message += "; did you mean '\(near)'?"
                    }
                    reader.error(.invalidValue, message, at: n)
                }
            }
            let command = f["command"].flatMap { reader.template($0.value, "question 'command'") }
            if kind == .commandOutput, command == nil, f["command"] == nil {
                reader.error(.missingKey, "a command-output question needs a 'command' to show", at: item)
            }
            var inputKind: String?
            if let n = f["input"]?.value, let value = reader.string(n, "question 'input'") {
                inputKind = reader.vocabulary([(value, n)], Self.inputKinds, "input kind").first
            }
            let yes = f["if-yes"].map { decodeEffect($0.value, "'if-yes'", owner: owner, signalIDs: signalIDs) }
            let no = f["if-no"].map { decodeEffect($0.value, "'if-no'", owner: owner, signalIDs: signalIDs) }
            var choices: [Question.Choice] = []
            if let n = f["choices"]?.value, let list = reader.list(n, "'choices'") {
                for choice in list {
                    guard let c = reader.fields(choice, what: "choice", allowed: Self.choiceKeys, required: ["label"]) else {
                        continue
                    }
                    let label = c["label"].flatMap { reader.prose($0.value, "choice 'label'") } ?? ""
                    choices.append(Question.Choice(label: label, effect: decodeEffect(choice, "choice", owner: owner,
                                                                                        signalIDs: signalIDs, skip: ["label"])))
                }
                if list.count < 2 || list.count > 9 { reader.error(.invalidValue, "a choice question needs 2 to 9 choices", at: n) }
            }
            var reveals: [String] = []
            if let n = f["reveals"]?.value, let list = reader.scalarList(n, "'reveals'") {
                reveals = reader.vocabulary(list, signalIDs.sorted(), "signal")
            }
            switch kind {
            case .yesNo where yes == nil && no == nil:
                reader.error(.missingKey, "a yes-no question needs 'if-yes' or 'if-no' to say what the answer means", at: item)
            case .choice where f["choices"] == nil:
                reader.error(.missingKey, "a choice question needs 'choices'", at: item)
            case .paste, .commandOutput:
                if f["if-yes"] != nil || f["if-no"] != nil || f["choices"] != nil {
                    reader.error(.invalidValue, "a \(kind.rawValue) question is read as pasted text; "
                                 + "'if-yes', 'if-no' and 'choices' do not apply", at: item)
                }
            default: break
            }
            var scope: WireProtocol?
            if let n = f["scope"]?.value, let value = reader.string(n, "question 'scope'") {
                if let p = WireProtocol(rawValue: value), p != .unknown { scope = p } else {
                    reader.error(.invalidValue, "unknown protocol '\(value)'; expected one of http, smtp, ftp", at: n)
                }
            }
            // Asked only where its premise holds: no load-balancer question without a load balancer in sight.
            var condition = CheckCondition(live: nil, stacks: [], signals: [], has: [])
            if let n = f["when"]?.value { condition = decodeCondition(n, signalIDs: signalIDs) }
            guard let text else { continue }
            var question = Question(id: id, text: text, kind: kind, why: why, command: command, inputKind: inputKind,
                                    yes: yes, no: no, choices: choices, reveals: reveals, scope: scope, playbook: owner,
                                    location: reader.location(item))
            question.when = condition
            out.append(question)
        }
        return out
    }

    private mutating func decodeEffect(_ node: YAMLNode, _ what: String, owner: String?, signalIDs: Set<String>,
                                       skip: [String] = []) -> AnswerEffect {
        var effect = AnswerEffect()
        let allowed = Self.effectKeys.filter { owner == nil || $0 != "probe" } + skip
        guard let f = reader.fields(node, what: what, allowed: allowed) else { return effect }
        if let n = f["signals"]?.value, let list = reader.scalarList(n, "'signals'") {
            if owner == nil {
                reader.error(.invalidValue, "a built-in question names no playbook, so it cannot credit signals", at: n)
            } else {
                effect.signals = reader.vocabulary(list, signalIDs.sorted(), "signal")
            }
        }
        if let n = f["weight"]?.value, let value = reader.number(n, "'weight'") {
            if abs(value) > Playbook.maxWeight {
                let bound = Int(Playbook.maxWeight)
                reader.error(.invalidValue, "weight must be between -\(bound) and \(bound)", at: n)
            } else if owner == nil {
                reader.error(.invalidValue, "a built-in question names no playbook, so it cannot give weight", at: n)
            } else {
                effect.weight = value
            }
        }
        if let n = f["protocol"]?.value, let value = reader.string(n, "'protocol'") {
            if let p = WireProtocol(rawValue: value), p != .unknown { effect.protocolValue = p } else {
                reader.error(.invalidValue, "unknown protocol '\(value)'; expected one of http, smtp, ftp", at: n)
            }
        }
        if let n = f["stack"]?.value, let items = reader.scalarList(n, "'stack'") {
            effect.stacks = reader.vocabulary(items, Vocabulary.stacks, "stack")
        }
        if let n = f["intermittent"]?.value { effect.intermittent = reader.bool(n, "'intermittent'") }
        if let n = f["says"]?.value { effect.says = reader.prose(n, "'says'") }
        if let n = f["probe"]?.value { effect.probe = reader.bool(n, "'probe'") ?? false }
        return effect
    }
}

extension PlaybookLoader {
    /// Decodes a file of built-in guide questions: a mapping with `kb: guide-questions/1` and `questions:`.
    public func decodeQuestions(_ text: String, path: String) throws(KBErrors) -> [Question] {
        let root: YAMLNode?
        do {
            root = try YAML.parse(text, path: path, limits: limits)
        } catch {
            throw KBErrors([error])
        }
        var decoder = PlaybookDecoder(file: path, source: text, context: context)
        guard let root, let f = decoder.reader.fields(root, what: "question file", allowed: ["kb", "questions"],
                                                       required: ["kb", "questions"]) else {
            throw KBErrors(decoder.errors.isEmpty
                ? [KBError(.missingKey, "the file holds no questions", at: SourceLocation(file: path, line: 1))] : decoder.errors)
        }
        if let n = f["kb"]?.value, let version = decoder.reader.string(n, "'kb'"), version != "guide-questions/1" {
            decoder.reader.error(.invalidValue, "unsupported format '\(version)'; this kb reads 'guide-questions/1'", at: n)
        }
        let questions = f["questions"].map { decoder.decodeQuestions($0.value, owner: nil, signalIDs: []) } ?? []
        guard decoder.errors.isEmpty else { throw KBErrors(decoder.errors) }
        return questions
    }
}
