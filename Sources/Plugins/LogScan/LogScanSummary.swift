import Engine

extension LogScanAnalyzer {
    /// Findings plus how many lines were read and of which kind, so a log without a 421 says so.
    public func examine(_ input: InputText, context: ProbeContext) async -> Analysis {
        do {
            let report = try LogScanner(options: options).scan(text: input.text, name: input.name)
            let findings = Self.findings(from: report)
            let kinds = report.linesByKind.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            var checked = ["\(report.lines) " + (report.lines == 1 ? "line" : "lines") + " read"
                + (kinds.isEmpty ? "" : " (\(kinds))")]
            let replies = report.access.status421 + report.mail.replies421 + report.ftp.replies421
            checked.append(replies == 0 ? "no 421 in them" : "\(replies) with a 421")
            return Analysis(findings: findings, checked: CheckedInput(
                input: input.name, kind: input.kind, analyzer: id, checked: checked, findings: findings.count))
        } catch {
            let finding = Finding(id: "log.input-error", message: "the log could not be scanned: \(error.message)",
                                  location: error.location ?? SourceLocation(file: input.name, line: 1))
            return Analysis(findings: [finding], checked: CheckedInput(
                input: input.name, kind: input.kind, analyzer: id, checked: [], findings: 1,
                incomplete: [finding.message]))
        }
    }
}
