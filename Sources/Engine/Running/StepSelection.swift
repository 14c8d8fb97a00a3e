import Foundation

/// Remediation steps chosen and ordered by the evidence, filled with the case's own names (issue 9), and the
/// questions a customer can answer when kb needs more.
extension Engine {
    /// Why a `fact` condition is unmet, or nil when every one holds.
    static func unmetFacts(_ conditions: [FactCondition], roles: CaseRoles) -> String? {
        for condition in conditions where !condition.evaluate(roles).holds {
            let values = condition.values.map { "'\($0)'" }.joined(separator: " or ")
            return "only when the input shows \(condition.role.rawValue) \(values)"
        }
        return nil
    }

    /// Whether any one part of a condition holds: what `unless` means.
    static func anyHolds(_ condition: CheckCondition, facts: Facts, matchedSignals: Set<String>) -> Bool {
        if let live = condition.live, live == (facts.target != nil) { return true }
        if condition.stacks.contains(where: { facts.stacks[$0] != nil || facts.providers[$0] != nil }) { return true }
        if !matchedSignals.isDisjoint(with: condition.signals) { return true }
        for need in condition.has {
            switch need {
            case "target" where facts.target != nil: return true
            case "origin" where facts.target?.origin != nil: return true
            case "addresses" where (facts.target?.addresses.count ?? 0) >= 2: return true
            case "host" where !facts.hosts.isEmpty || facts.target != nil: return true
            default: continue
            }
        }
        return condition.facts.contains { $0.evaluate(facts.roles).onEvidence }
    }

    /// Whether a condition that holds points at this case: a signal that matched, a stack the facts show, or a
    /// role value the input shows. `live`, `has` and a fact held only on `unknown` say nothing about the cause.
    static func heldOnEvidence(_ condition: CheckCondition, facts: Facts, matchedSignals: Set<String>) -> Bool {
        if !condition.signals.isEmpty, !matchedSignals.isDisjoint(with: condition.signals) { return true }
        if !condition.stacks.isEmpty, condition.stacks.contains(where: { facts.stacks[$0] != nil }) { return true }
        return condition.facts.contains { $0.evaluate(facts.roles).onEvidence }
    }

    /// The steps in the order the evidence calls for: steps whose `when` or `first-when` held on evidence come
    /// first, then the rest, each group in the playbook's order.
    static func ordered(_ steps: [RemediationStep], facts: Facts, matchedSignals: Set<String>,
                        firstWhenHolds: (CheckCondition) -> Bool) -> [RemediationStep] {
        let pointed = steps.map { step -> Bool in
            if heldOnEvidence(step.when, facts: facts, matchedSignals: matchedSignals) { return true }
            guard let first = step.firstWhen else { return false }
            return firstWhenHolds(first) && (first.isEmpty == false)
        }
        return zip(steps, pointed).filter { $0.1 }.map(\.0) + zip(steps, pointed).filter { !$0.1 }.map(\.0)
    }

    /// A step as the report shows it: its texts and command filled with the case's names; where a command still
    /// shows a fill-in, the detail says where to find that value.
    static func render(_ step: RemediationStep, variables: [String: String]) -> RemediationItem {
        let verify = step.verify.flatMap { $0.render(variables) }
        var detail = Template.fillText(step.detail, variables)
        var missing = step.verify?.missing(variables) ?? []
        for text in [step.step, step.detail] {
            guard text.contains("{{"), let template = try? Template(text) else { continue }
            missing += template.missing(variables)
        }
        var notes: [String] = []
        var seen: Set<String> = []
        let shown = (verify ?? "") + "\n" + detail
        for name in missing where seen.insert(Template.fillIn(name)).inserted && shown.contains(Template.fillIn(name)) {
            guard let whereTo = Template.whereToFind(name) else { continue }
            notes.append("Replace \(Template.fillIn(name)) with \(Template.fillText(whereTo, variables)).")
        }
        if !notes.isEmpty { detail += "\n\n" + notes.joined(separator: "\n") }
        return RemediationItem(id: step.id, audience: step.audience, step: Template.fillText(step.step, variables),
                               detail: detail, verify: verify, stacks: step.stacks)
    }

    // MARK: questions for the customer

    /// Concrete things a customer has and can send, chosen by what the input lacks; in plain words, no jargon.
    static func ask(_ facts: Facts, diagnoses: [Diagnosis], status: ReportStatus) -> [String] {
        guard status == .inconclusive || status == .not421 else { return [] }
        var out: [String] = []
        let roles = facts.roles
        let proto = facts.protocolVerdict.value
        let causes = Set(diagnoses.map(\.cause))
        if status == .not421 {
            out.append("if a message with the number 421 appeared as well, that whole message, copied as text")
            return out
        }
        switch proto {
        case .unknown:
            out.append("the whole error message exactly as it appeared, copied as text rather than a screenshot")
            out.append("where you saw it: in the browser, in your e-mail program, or in a file transfer program")
            out.append("if it was a web page: the address in the browser bar, and whether it also fails in a "
                + "private window")
            out.append("if it was an e-mail: the whole bounce message you received, including the lines that start "
                + "with 421")
        case .smtp:
            if facts.replies.isEmpty && facts.enhancedCodes.isEmpty {
                out.append("the whole bounce message you received, including the lines that start with 421")
            } else if roles.first(.receivingMX) == nil && roles.first(.recipientDomain) == nil {
                out.append("the whole bounce message you received, not only the error line: it names the server "
                    + "that refused the mail")
            }
            if roles.first(.senderDomain) == nil {
                out.append("the e-mail address you sent from")
            }
            if roles.first(.recipientDomain) == nil {
                out.append("the e-mail address you were writing to")
            }
            out.append("whether all your messages are affected or only those to some addresses, and since when")
            if causes.contains("smtp-rate-limit") || causes.contains("smtp-reputation") {
                out.append("whether you sent a newsletter or many messages at once shortly before")
            }
        case .http:
            if let host = roles.first(.requestedHost) {
                out.append("whether \(host) also fails in a private window or in another browser")
            } else {
                out.append("the address in the browser bar, and whether it also fails in a private window")
            }
            if facts.intermittent == nil {
                out.append("whether it happens every time or only sometimes, and since when")
            }
            if facts.httpStatuses.isEmpty {
                out.append("the exact text of the error page, or a screenshot of the whole browser window")
            }
            if roles.first(.product) == nil, causes.contains("server-update-regression") || causes.isEmpty {
                out.append("whether anything changed on the site or server shortly before: an update, a new "
                    + "plugin, a moved domain")
            }
        case .ftp:
            out.append("the name of your file transfer program and its version")
            out.append("the last lines of the program's message log, including the line with 421")
            out.append("the server name and port you connect to, and whether you chose plain FTP or FTP over TLS")
        }
        return unique(out)
    }
}
