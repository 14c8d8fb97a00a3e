import Foundation

/// A ticket-ready Markdown record of a guided session: what was given, each question and answer, and a last
/// `## Conclusion` section naming the cause slug in backticks (or `unknown`) with the fix steps.
public struct GuideTranscript: Sendable {
    public struct Exchange: Sendable {
        public var question: String
        public var command: String?
        public var answer: Answer
        public var described: String

        public init(question: String, command: String?, answer: Answer, described: String) {
            self.question = question
            self.command = command
            self.answer = answer
            self.described = described
        }
    }

    public var given: [InputText]
    public var target: String?
    public var exchanges: [Exchange] = []

    public init(given: [InputText], target: String?) {
        self.given = given
        self.target = target
    }

    /// A fenced block that no line of `text` can close early.
    static func fenced(_ text: String) -> String {
        let clean = Sanitizer.neutralize(text, keepNewlines: true)
        var fence = "```"
        while clean.contains(fence) { fence += "`" }
        return "\(fence)text\n\(clean)\(clean.hasSuffix("\n") ? "" : "\n")\(fence)\n"
    }

    static func code(_ text: String) -> String {
        let clean = Sanitizer.neutralize(text)
        return clean.contains("`") ? "``\(clean)``" : "`\(clean)`"
    }

    public func markdown(conclusion standing: GuideSession.Standing, stopped: Bool = false) -> String {
        var out = "# kb guide session\n\n## Given\n\n"
        if let target { out += "- live target: \(Self.code(target))\n" }
        if given.isEmpty { out += "- nothing but the answers below\n" }
        for input in given {
            out += "- \(Sanitizer.neutralize(input.name)):\n\n" + Self.fenced(String(input.text.prefix(4000))) + "\n"
        }
        out += "\n## Questions\n\n"
        if exchanges.isEmpty { out += "No question was needed.\n" }
        for (i, e) in exchanges.enumerated() {
            out += "\(i + 1). \(Sanitizer.neutralize(e.question))\n"
            if let command = e.command { out += "   command: \(Self.code(command))\n" }
            out += "   answer: \(Sanitizer.neutralize(e.described))\n"
            if case .paste(let text) = e.answer { out += "\n" + Self.fenced(String(text.prefix(4000))) }
            out += "\n"
        }
        out += "## Conclusion\n\n"
        if stopped { out += "The session was ended before a conclusion; this is what was known.\n\n" }
        let report = standing.report
        if let cause = standing.cause, let top = report.diagnoses.first {
            let confidence = String(format: "%.2f", top.confidence)
            out += "Cause: `\(cause)`: \(Sanitizer.neutralize(top.title)) (confidence \(confidence))\n\n"
            out += "\(Sanitizer.neutralize(report.verdict))\n\n"
            if !top.remediation.isEmpty { out += "Fix steps:\n\n" }
            for (i, step) in top.remediation.enumerated() {
                out += "\(i + 1). \(Sanitizer.neutralize(step.step))\n"
                if let verify = step.verify { out += "   verify: \(Self.code(verify))\n" }
            }
        } else {
            out += "Cause: `unknown`\n\n\(Sanitizer.neutralize(report.verdict))\n\n"
            out += "Leading: \(Sanitizer.neutralize(standing.ranking))\n"
            for line in report.next { out += "- \(Sanitizer.neutralize(line))\n" }
        }
        return out
    }
}
