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
            // Apache's AH0203x and nginx's SNI errors are the server's side of a 421, so they count as one.
            let a = report.apache, n = report.nginx
            let shown = [
                (report.access.status421, "421 status"), (report.mail.replies421 + report.ftp.replies421, "421 reply"),
                (a.ah02032NoSNI + a.ah02032SNIMismatch + a.ah02032Different + a.ah02031 + a.ah02033, "AH0203x error"),
                (n.sniMismatch + n.protocolDisabled, "nginx SNI error"),
            ].filter { $0.0 > 0 }.map { "\($0.0) " + ($0.0 == 1 ? $0.1 : $0.1 + "s") }
            checked.append(shown.isEmpty ? "no 421 in them" : shown.joined(separator: ", "))
            if report.unread.lines > 0 { checked.append("\(report.unread.lines) not read") }
            // Unread lines that hold '421' could hide one: the log was not read whole.
            let unread = findings.filter { $0.id == "log.unread-lines" }
            return Analysis(findings: findings, checked: CheckedInput(
                input: input.name, kind: input.kind, analyzer: id, checked: checked,
                findings: findings.count - unread.count, incomplete: unread.map(\.message)))
        } catch {
            let finding = Finding(id: "log.input-error", message: "the log could not be scanned: \(error.message)",
                                  location: error.location ?? SourceLocation(file: input.name, line: 1))
            return Analysis(findings: [finding], checked: CheckedInput(
                input: input.name, kind: input.kind, analyzer: id, checked: [], findings: 1,
                incomplete: [finding.message]))
        }
    }
}
