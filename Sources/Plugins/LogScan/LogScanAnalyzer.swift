import Engine

/// Reads attached logs (Apache and nginx error logs, access logs, Postfix/Exim/Exchange mail logs, FTP
/// logs) into findings for `kb diagnose`, each pointing at the first line that shows it.
public struct LogScanAnalyzer: InputAnalyzer {
    public let id = "log.scan"
    public let kinds = ["error-log", "access-log", "mail-log", "ftp-log"]
    public var options: LogScanOptions

    public static let findingIDs = [
        "log.ah02032-no-sni", "log.ah02032-sni-mismatch", "log.ah02031", "log.ah02033", "log.nginx-sni-mismatch",
        "log.nginx-protocol-disabled", "log.access-421", "log.smtp-421", "log.ftp-421", "log.input-error",
        "log.unread-lines",
    ]

    /// At most this many `log.smtp-421` findings, one per distinct reply, most frequent first.
    static let maxReplyFindings = 5

    public init(options: LogScanOptions = LogScanOptions()) {
        self.options = options
    }

    public func detect(_ input: InputText) -> String? {
        Self.detectKind(input.text)
    }

    public func analyze(_ input: InputText, context: ProbeContext) async -> [Finding] {
        do {
            let report = try LogScanner(options: options).scan(text: input.text, name: input.name)
            return Self.findings(from: report)
        } catch {
            return [Finding(id: "log.input-error", message: "the log could not be scanned: \(error.message)",
                            location: error.location ?? SourceLocation(file: input.name, line: 1))]
        }
    }

    /// The kind of log most of the first lines are, or nil.
    static func detectKind(_ text: String) -> String? {
        var tally: [String: Int] = [:]
        var examined = 0
        var bytes = Array(text.utf8.prefix(256 * 1024))
        return bytes.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress else { return nil }
            var start = 0
            while start < buffer.count, examined < 200 {
                var end = start
                while end < buffer.count, base[end] != 0x0A { end += 1 }
                var length = end - start
                if length > 0, base[start + length - 1] == 0x0D { length -= 1 }
                let line = ByteLine(base: UnsafePointer(base + start), count: length)
                let lineKind = length > 0 ? LineClassifier.classify(line) : .empty
                if lineKind == .header, line.find(Array("Microsoft Exchange".utf8)) != nil {
                    tally["mail-log", default: 0] += 1000
                }
                if lineKind != .empty, lineKind != .header {
                    examined += 1
                    var kind = lineKind.inputKind
                    // ProFTPD's ExtendedLog: access-log shape, FTP commands.
                    if lineKind == .access, let record = AccessAuto.parse(line, keepAll: true), let method = record.method,
                       LogScanState.ftpVerbs.contains(method.uppercased()) {
                        kind = "ftp-log"
                    }
                    // `AH02032: …` or `[ssl:error]` without the usual timestamp in front.
                    if kind == nil, line.find(Array("AH0".utf8)) != nil || line.find(Array("[ssl:".utf8)) != nil {
                        kind = "error-log"
                    }
                    if let kind { tally[kind, default: 0] += 1 }
                }
                start = end + 1
            }
            guard let best = tally.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }),
                  best.value * 2 >= examined else { return nil }
            return best.key
        }
    }

    /// What an example line of each category is about, kept in view when a long line is cut for its excerpt.
    static let focus: [String: String] = [
        "ah02032-no-sni": "AH02032", "ah02032-sni-mismatch": "AH02032", "ah02032-different": "AH02032",
        "ah02031": "AH02031", "ah02033": "AH02033", "nginx-sni-mismatch": "client attempted",
        "nginx-protocol-disabled": "protocol", "access-421": " 421", "smtp-421": "421", "ftp-421": "421",
    ]

    /// Findings for a report: one per kind of evidence, at the first example line.
    public static func findings(from report: LogReport) -> [Finding] {
        var out: [Finding] = []
        func first(_ category: String) -> LogExample? { report.examples.first { $0.category == category } }
        func add(_ id: String, _ message: String, _ example: LogExample?) {
            out.append(Finding(
                id: id, message: message,
                location: example.map { SourceLocation(file: report.source, line: $0.line) },
                excerpt: example?.text, focus: example.flatMap { Self.focus[$0.category] }))
        }
        func top(_ table: CountTable) -> String {
            guard let entry = table.entries.first(where: { $0.key != "-" }) else { return "" }
            return "; most often '\(entry.key)' (\(LogReportRenderer.number(entry.count)))"
        }
        let n = LogReportRenderer.number

        let apache = report.apache
        if apache.ah02032NoSNI > 0 {
            add("log.ah02032-no-sni",
                "Apache logged AH02032 '(default host as no SNI was provided)' \(n(apache.ah02032NoSNI)) time(s): requests "
                + "arrive without SNI, typically from a reverse proxy, and Apache 2.4.64+ answers 421 when the Host "
                + "belongs to a vhost whose TLS setup differs from the default\(top(apache.noSNIHosts))",
                first("ah02032-no-sni"))
        }
        let mismatches = apache.ah02032SNIMismatch + apache.ah02032Different
        if mismatches > 0 {
            var detail = ""
            if apache.ah02032Different > 0 {
                detail = " (\(n(apache.ah02032Different)) in the pre-2.4.18 wording 'are different', answered with 400)"
            }
            add("log.ah02032-sni-mismatch",
                "Apache logged AH02032 with SNI \(n(mismatches)) time(s)\(detail): the host name sent as SNI and the Host "
                + "header select vhosts with no compatible SSL setup, so Apache answers 421\(top(apache.sniHostPairs))",
                first("ah02032-sni-mismatch") ?? first("ah02032-different"))
        }
        if apache.ah02031 > 0 {
            add("log.ah02031",
                "Apache logged AH02031 \(n(apache.ah02031)) time(s): SNI was sent but the request had no Host header (400)",
                first("ah02031"))
        }
        if apache.ah02033 > 0 {
            add("log.ah02033",
                "Apache logged AH02033 \(n(apache.ah02033)) time(s): no SNI reached a name-based vhost while "
                + "SSLStrictSNIVHostCheck is on (403, not 421)",
                first("ah02033"))
        }
        let nginx = report.nginx
        if nginx.sniMismatch > 0 {
            add("log.nginx-sni-mismatch",
                "nginx logged 'client attempted to request the server name different from the one that was negotiated' "
                + "\(n(nginx.sniMismatch)) time(s): the Host selects another server block than the SNI on a server that "
                + "verifies client certificates, and nginx answers 421\(top(nginx.serverHostPairs))",
                first("nginx-sni-mismatch"))
        }
        if nginx.protocolDisabled > 0 {
            add("log.nginx-protocol-disabled",
                "nginx logged 'client attempted to request the server name for which the negotiated protocol is disabled' "
                + "\(n(nginx.protocolDisabled)) time(s): a reused HTTP/2 (or HTTP/3) connection asked for a server block "
                + "with http2 off, and nginx answered 421",
                first("nginx-protocol-disabled"))
        }
        let access = report.access
        if access.status421 > 0 {
            var message = "\(n(access.status421)) of \(n(access.requests)) logged requests were answered with 421"
                + top(access.byHost)
            if let peak = access.peaks.first(where: { $0.host != "-" }) ?? access.peaks.first {
                message += "; busiest minute for '\(peak.host)': \(peak.peakMinute) with \(n(peak.peakCount))"
            }
            add("log.access-421", message, first("access-421"))
        }
        let mail = report.mail
        for reply in mail.topReplies.prefix(maxReplyFindings) {
            let example = LogExample(category: "smtp-421", line: reply.line, text: reply.text)
            add("log.smtp-421",
                "SMTP reply '\(reply.reply)' seen \(n(reply.count)) time(s) (provider \(reply.provider), \(reply.outcome)); "
                + "\(n(mail.replies421)) 421 replies in all, \(n(mail.deferred)) deferred, \(n(mail.bounced)) bounced",
                example)
        }
        if mail.replies421 > 0, mail.topReplies.isEmpty {
            add("log.smtp-421", "\(n(mail.replies421)) SMTP 421 replies", first("smtp-421"))
        }
        let ftp = report.ftp
        if ftp.replies421 > 0 {
            let reply = ftp.byReply.entries.first.map { ": most often '\($0.key)' (\(n($0.count)))" } ?? ""
            add("log.ftp-421", "the FTP server answered 421 \(n(ftp.replies421)) time(s)\(reply)", first("ftp-421"))
        }
        // Only unread lines with `421` in them could hide a 421; say so rather than let the log look clean.
        if report.unread.with421 > 0 {
            add("log.unread-lines", LogReportRenderer.unreadSummary(report.unread, hint: "read the log with "
                + "'kb logs \(report.source) --access-format FORMAT', FORMAT being the LogFormat or log_format string "
                + "that wrote it"), report.unread.example)
        }
        return out
    }
}
