import Engine
import Foundation

/// How `kb logs` prints a report.
public enum LogReportFormat: String, Sendable, CaseIterable {
    case text, json
}

/// The tables `kb logs --by …` asks for; an empty list shows every non-empty section.
public enum LogGrouping: String, Sendable, CaseIterable {
    case host, vhost, client, minute, domain, provider, code, phase
}

extension LogScanner {
    /// Renders a report: JSON (Codable, sorted keys, stable) or text for a terminal.
    public func render(_ report: LogReport, format: LogReportFormat, by groupings: [LogGrouping] = []) -> String {
        LogReportRenderer(top: options.top).render(report, format: format, by: groupings)
    }
}

public struct LogReportRenderer: Sendable {
    public var top: Int

    public init(top: Int = 20) {
        self.top = top
    }

    public func render(_ report: LogReport, format: LogReportFormat, by groupings: [LogGrouping] = []) -> String {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            guard let data = try? encoder.encode(report) else { return "{}" }
            return Sanitizer.jsonSafe(String(decoding: data, as: UTF8.self)) + "\n"
        case .text:
            return text(report, by: Set(groupings))
        }
    }

    // MARK: text

    private func text(_ r: LogReport, by: Set<LogGrouping>) -> String {
        var out: [String] = []
        let all = by.isEmpty
        func wants(_ g: LogGrouping) -> Bool { all || by.contains(g) }
        let kinds = r.linesByKind.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \(Self.number($0.value))" }.joined(separator: ", ")
        out.append("kb logs: \(Sanitizer.neutralize(r.source))")
        var summary = "  \(Self.bytes(r.bytes)), \(Self.number(r.lines)) lines"
        if !kinds.isEmpty { summary += " (\(kinds))" }
        if r.truncatedLines > 0 { summary += "; \(Self.number(r.truncatedLines)) over-long lines cut" }
        out.append(summary)
        if !r.access.layouts.entries.isEmpty {
            let entries = r.access.layouts.entries
            let sampled = entries.reduce(0) { $0 + $1.count } + r.access.layouts.other
            let names = entries.count == 1 ? entries[0].key
                : entries.prefix(3).map { "\($0.key) \(Self.number($0.count))" }.joined(separator: ", ")
                    + " (of the first \(Self.number(sampled)) read)"
            out.append("  access-log layout, recognised from the lines: \(names)")
        }
        if r.unread.lines > 0 {
            out.append("  " + Self.unreadSummary(r.unread))
            if let example = r.unread.example {
                out.append("    line \(example.line): \(example.text)")
            }
        }

        let a = r.access
        if a.status421 > 0 || (all && a.requests > 0) {
            out.append("")
            let share = a.requests > 0 ? String(format: " (%.2f%%)", Double(a.status421) * 100 / Double(a.requests)) : ""
            out.append("HTTP 421 in access logs: \(Self.number(a.status421)) of \(Self.number(a.requests)) requests\(share)")
            if wants(.host), !a.peaks.isEmpty {
                out.append(Self.row(["host", "421s", "busiest minute", "421s in it"], widths: [-34, 8, -18, 10]))
                for peak in a.peaks.prefix(top) {
                    out.append(Self.row([peak.host, Self.number(peak.count), peak.peakMinute, Self.number(peak.peakCount)],
                                        widths: [-34, 8, -18, 10]))
                }
                if a.byHost.other > 0 { out.append("  … \(Self.number(a.byHost.other)) more in other hosts") }
            }
            if wants(.vhost), !a.byVhost.entries.isEmpty, a.byVhost.entries != a.byHost.entries {
                out += table("by vhost", a.byVhost)
            }
            if wants(.client), !a.byClient.entries.isEmpty { out += table("by client", a.byClient, limit: all ? 5 : top) }
            if all, !a.bySNIHost.entries.isEmpty { out += table("SNI → Host", a.bySNIHost) }
        }

        let ap = r.apache
        if ap.ah02032NoSNI + ap.ah02032SNIMismatch + ap.ah02032Different + ap.ah02031 + ap.ah02033 > 0 {
            out.append("")
            out.append("Apache SNI checks (error log)")
            if ap.ah02032NoSNI > 0 {
                out.append("  AH02032 without SNI ('default host as no SNI was provided', 421): \(Self.number(ap.ah02032NoSNI))")
                out.append("    the client or proxy sent no SNI; Apache 2.4.64+ compares the default vhost with the Host's vhost")
                if all || wants(.host) { out += table("default vhost → Host", ap.noSNIHosts, indent: 4, limit: 5) }
            }
            if ap.ah02032SNIMismatch > 0 {
                out.append("  AH02032 SNI and Host have no compatible SSL setup (421): \(Self.number(ap.ah02032SNIMismatch))")
                if all || wants(.host) { out += table("SNI → Host", ap.sniHostPairs, indent: 4, limit: 5) }
            }
            if ap.ah02032Different > 0 {
                out.append("  AH02032 SNI and Host 'are different' (Apache before 2.4.18, 400): \(Self.number(ap.ah02032Different))")
            }
            if ap.ah02031 > 0 { out.append("  AH02031 SNI but no Host header (400): \(Self.number(ap.ah02031))") }
            if ap.ah02033 > 0 {
                out.append("  AH02033 no SNI with SSLStrictSNIVHostCheck on (403, not 421): \(Self.number(ap.ah02033))")
            }
            if !ap.policies.entries.isEmpty { out.append("  SSLVHostSNIPolicy in the messages: " + Self.inline(ap.policies)) }
            if wants(.client), !ap.clients.entries.isEmpty { out += table("by client", ap.clients, limit: all ? 5 : top) }
        }

        let n = r.nginx
        if n.sniMismatch + n.protocolDisabled > 0 {
            out.append("")
            out.append("nginx 421s (error log)")
            if n.sniMismatch > 0 {
                out.append("  'server name different from the one that was negotiated' (ssl_verify_client): \(Self.number(n.sniMismatch))")
            }
            if n.protocolDisabled > 0 {
                out.append("  'server name for which the negotiated protocol is disabled' (http2/http3 off): \(Self.number(n.protocolDisabled))")
            }
            if all || wants(.host) { out += table("server → host", n.serverHostPairs, indent: 4, limit: 5) }
        }

        let m = r.mail
        if m.replies421 > 0 {
            out.append("")
            out.append("SMTP 421 replies: \(Self.number(m.replies421)) (deferred \(Self.number(m.deferred)), bounced \(Self.number(m.bounced)), "
                       + "rejected by this server \(Self.number(m.rejected)))")
            if wants(.provider) { out.append("  provider: " + Self.inline(m.byProvider)) }
            if wants(.domain) { out.append("  recipient domain: " + Self.inline(m.byDomain)) }
            if wants(.code) { out.append("  enhanced code: " + Self.inline(m.byEnhancedCode)) }
            if wants(.phase) { out.append("  phase: " + Self.inline(m.byPhase)) }
            if all {
                out.append("  replies:")
                for entry in m.byReply.entries.prefix(5) {
                    out.append("    " + Self.pad(Self.number(entry.count), 8) + "  " + Sanitizer.neutralize(entry.key))
                }
            }
        }

        let f = r.ftp
        if f.replies421 > 0 {
            out.append("")
            out.append("FTP 421 replies: \(Self.number(f.replies421))")
            out.append("  server: " + Self.inline(f.byServer))
            for entry in f.byReply.entries.prefix(5) {
                out.append("    " + Self.pad(Self.number(entry.count), 8) + "  " + Sanitizer.neutralize(entry.key))
            }
            if wants(.client), !f.byClient.entries.isEmpty { out.append("  client: " + Self.inline(f.byClient)) }
        }

        let buckets = r.timeline.buckets
        if wants(.minute) || wants(.host), !buckets.isEmpty {
            out.append("")
            let busiest = buckets.sorted { $0.total != $1.total ? $0.total > $1.total : $0.time < $1.time }.prefix(by.contains(.minute) ? top : 5)
            out.append("421s per \(r.timeline.resolution), busiest first (\(Self.number(buckets.count)) \(r.timeline.resolution)s with 421s):")
            for bucket in busiest {
                var parts: [String] = []
                for (name, value) in [("access", bucket.access), ("apache", bucket.apache), ("nginx", bucket.nginx),
                                      ("mail", bucket.mail), ("ftp", bucket.ftp)] where value > 0 {
                    parts.append("\(name) \(Self.number(value))")
                }
                out.append("  \(Self.pad(bucket.time, -17)) \(Self.pad(Self.number(bucket.total), 8))  \(parts.joined(separator: ", "))")
            }
        }

        if all, !r.examples.isEmpty {
            out.append("")
            out.append("Examples:")
            for example in r.examples {
                out.append("  line \(example.line) [\(example.category)]")
                out.append("    \(example.text)")
            }
        }
        if r.access.status421 + r.apache.ah02032NoSNI + r.apache.ah02032SNIMismatch + r.nginx.sniMismatch
            + r.nginx.protocolDisabled + r.mail.replies421 + r.ftp.replies421 == 0 {
            out.append("")
            if r.unread.with421 > 0 {
                out.append("no 421 read, but \(Self.number(r.unread.with421)) line(s) kb could not read contain '421': "
                           + "whether they are 421s is unknown; \(Self.accessFormatHint)")
            } else if r.unread.lines > 0 {
                out.append("no 421 in the \(Self.number(r.lines - r.unread.lines)) lines read; the other "
                           + "\(Self.number(r.unread.lines)) could not be read, and none of them contains '421'")
            } else {
                out.append("no 421 found in \(Self.number(r.lines)) lines")
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static let accessFormatHint = "pass --access-format with the LogFormat or log_format string that wrote the log "
        + "(or common, combined, vhost_combined)"

    /// `12 lines could not be read (3 contain '421'): …`
    static func unreadSummary(_ unread: UnreadLines, hint: String = accessFormatHint) -> String {
        let with = unread.with421 > 0 ? " (\(number(unread.with421)) contain '421')" : ""
        return "\(number(unread.lines)) line(s) in a layout kb does not recognise were not read\(with); \(hint)"
    }

    private func table(_ title: String, _ t: CountTable, indent: Int = 2, limit: Int? = nil) -> [String] {
        guard !t.entries.isEmpty else { return [] }
        let pad = String(repeating: " ", count: indent)
        var lines = ["\(pad)\(title):"]
        for entry in t.entries.prefix(limit ?? top) {
            lines.append(pad + "  " + Self.pad(Self.number(entry.count), 8) + "  " + Sanitizer.neutralize(entry.key))
        }
        if t.other > 0 {
            lines.append(pad + "  " + Self.pad(Self.number(t.other), 8) + "  (other" + (t.approximate ? ", counts approximate" : "") + ")")
        }
        return lines
    }

    private static func inline(_ t: CountTable, limit: Int = 8) -> String {
        var parts = t.entries.prefix(limit).map { "\(Sanitizer.neutralize($0.key)) \(number($0.count))" }
        let rest = t.other + t.entries.dropFirst(limit).reduce(0) { $0 + $1.count }
        if rest > 0 { parts.append("other \(number(rest))") }
        return parts.joined(separator: ", ")
    }

    private static func row(_ cells: [String], widths: [Int]) -> String {
        "  " + zip(cells, widths).map { pad(Sanitizer.neutralize($0), $1) }.joined(separator: " ")
    }

    /// Pads to `width` columns: positive right-aligns, negative left-aligns.
    static func pad(_ s: String, _ width: Int) -> String {
        let w = abs(width)
        let count = s.count
        guard count < w else { return s }
        let fill = String(repeating: " ", count: w - count)
        return width > 0 ? fill + s : s + fill
    }

    static func number(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    static func bytes(_ n: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) bytes" : String(format: "%.1f", value) + " " + units[unit]
    }
}
