import Foundation

public enum ReportFormat: String, Sendable, CaseIterable {
    case text, markdown, json
}

/// Terminal styling; off unless the CLI decides the output is a colour-capable TTY.
public struct Style: Sendable {
    public var color: Bool
    public init(color: Bool) { self.color = color }

    func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    func dim(_ s: String) -> String { color ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
    func red(_ s: String) -> String { color ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
    func green(_ s: String) -> String { color ? "\u{1B}[32m\(s)\u{1B}[0m" : s }
    func yellow(_ s: String) -> String { color ? "\u{1B}[33m\(s)\u{1B}[0m" : s }
    func cyan(_ s: String) -> String { color ? "\u{1B}[36m\(s)\u{1B}[0m" : s }
}

/// Turns a report into text, Markdown or JSON. Everything that came from input is neutralised
/// here, at the last moment, so no renderer can forget it.
public struct ReportRenderer: Sendable {
    public var style: Style
    /// Who reads the output: the admin gets the full report, the customer a short reply (`CustomerReply`).
    public var audience: Audience

    public init(style: Style = Style(color: false), audience: Audience = .admin) {
        self.style = style
        self.audience = audience
    }

    public func render(_ report: Report, as format: ReportFormat) -> String {
        switch (format, audience) {
        case (.text, .customer): return CustomerReply(report).text()
        case (.markdown, .customer): return CustomerReply(report).markdown()
        case (.text, _): return text(report)
        case (.markdown, _): return markdown(report)
        case (.json, _): return json(report)
        }
    }

    private func clean(_ s: String) -> String { Sanitizer.neutralize(s) }

    private func mark(_ status: CheckStatus) -> String {
        switch status {
        case .pass: return style.green("pass")
        case .fail: return style.red("FAIL")
        case .skipped: return style.dim("skip")
        case .error: return style.yellow("ERROR")
        case .manual: return style.cyan("todo")
        }
    }

    private func percent(_ value: Double) -> String { Self.number(value * 100, digits: 0) + "%" }

    private func weight(_ w: Double) -> String {
        let text = Self.number(w, digits: 1)
        return w > 0 ? "+" + text : text
    }

    /// Whole numbers without a fraction; never traps, even on a value no validated playbook can produce.
    static func number(_ v: Double, digits: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        return String(format: "%.\(digits)f", v)
    }

    // MARK: text

    public func text(_ report: Report) -> String {
        var out: [String] = []
        let statusWord: String
        switch report.status {
        case .problem: statusWord = style.red("problem")
        case .healthy: statusWord = style.green("healthy")
        case .inconclusive: statusWord = style.yellow("inconclusive")
        case .not421: statusWord = style.cyan("not-421")
        }
        out.append(style.bold(clean(report.verdict)))
        out.append("status: \(statusWord)")
        if report.status == .not421 {
            out.append("codes seen: " + clean(report.codes.others.map(\.label).joined(separator: ", ")) + "; no 421")
        }
        let p = report.protocol
        out.append("protocol: \(p.value) (\(percent(p.confidence)) confident)")
        for e in p.evidence.prefix(5) {
            out.append("  - \(clean(e.detail ?? e.kind)): \(clean(Matcher.clip(e.text, to: 100)))" + (e.location.map { style.dim(" [\(clean($0.file)):\($0.line)]") } ?? ""))
        }
        if !report.facts.checked.isEmpty {
            out.append("checked:")
            for c in report.facts.checked {
                let count = "\(c.findings) finding" + (c.findings == 1 ? "" : "s")
                let result = !c.incomplete.isEmpty ? style.yellow("partly read")
                    : c.findings == 0 ? style.green("no finding") : count
                out.append("  - \(clean(c.input)) (\(clean(c.kind))): "
                    + clean(c.checked.joined(separator: "; ")) + (c.checked.isEmpty ? "" : "; ") + result)
            }
            if report.status != .healthy, report.codes.shows421,
               report.facts.checked.allSatisfy(\.isClean) {
                out.append("  the attached files show none of the causes kb checks for: "
                    + "they are not what causes this 421")
            }
        }
        for (i, d) in report.diagnoses.enumerated() {
            out.append("")
            if i == 0, d.tentative == true { out.append("possible causes (none has enough evidence yet):") }
            if i == 0, d.related == true { out.append("related 421 causes that can also show as this code:") }
            out.append(style.bold("\(i + 1). \(clean(d.title))") + "  [\(clean(d.cause)), score \(fmt(d.score)), \(percent(d.confidence))]"
                + (d.tentative == true ? " tentative" : ""))
            out.append("   playbook \(clean(d.playbook))" + (d.replaces.map { " (replaces the built-in one from \(clean($0)))" } ?? "")
                + (d.overlays.map { " (changed by \($0.map(clean).joined(separator: ", ")))" } ?? ""))
            out.append("   " + clean(d.summary).replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces))
            if !d.signals.isEmpty {
                out.append("   why:")
                for s in d.signals {
                    out.append("     \(weight(s.weight)) \(clean(s.signal)) (\(clean(s.kind))): \(clean(s.matched))")
                }
            }
            if let note = d.protocolNote { out.append("     note: \(clean(note))") }
            if !d.checks.isEmpty {
                out.append("   checks:")
                for c in d.checks {
                    out.append("     [\(mark(c.status))] \(clean(c.title))" + (c.reason.map { ": \(clean($0))" } ?? ""))
                    if let observed = c.observed, observed != c.reason { out.append("            " + style.dim(clean(observed))) }
                    for e in c.evidence.prefix(3) {
                        out.append("            \(clean(Matcher.clip(e.text, to: 120)))" + (e.location.map { style.dim(" [\(clean($0.file)):\($0.line)]") } ?? ""))
                    }
                    if let command = c.command { out.append("            rerun: \(clean(command))") }
                }
            }
            if i == 0 {
                out.append("   fix:")
                for (n, step) in d.remediation.filter({ $0.audience.includes(.admin) }).enumerated() {
                    let stacks = step.stacks.isEmpty ? "" : style.dim(" (\(clean(step.stacks.joined(separator: ", "))))")
                    out.append("     \(n + 1). \(clean(step.step))\(stacks)")
                    // One line per paragraph, so a command in the detail is never cut in two; snippets keep their lines.
                    for block in Markdown.blocks(step.detail) {
                        switch block {
                        case .paragraph(let text): out.append("        \(clean(text))")
                        case .code(let lines): for line in lines { out.append("            \(clean(line))") }
                        }
                    }
                    if let verify = step.verify { out.append("        verify: \(clean(verify))") }
                }
                out.append("   read more: kb explain \(clean(d.article))")
            }
        }
        if !report.next.isEmpty {
            out.append("")
            out.append("to decide, provide:")
            for n in report.next { out.append("  - \(clean(n))") }
        }
        for note in report.notes { out.append(style.dim("note: \(clean(note))")) }
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: markdown

    /// A reply a support agent can paste into a ticket: what it is, why, numbered steps, how to verify.
    /// Valid CommonMark: pasted text is backslash-escaped, never turned into entities or HTML, and every
    /// command is one code span or fenced block on lines of its own.
    public func markdown(_ report: Report) -> String {
        var out: [String] = []
        if report.status == .not421 {
            let codes = report.codes.others.prefix(3).map { "**\(md($0.label))**" }.joined(separator: ", ")
            out.append("## This is not a 421 error")
            out.append("")
            out.append("What you sent shows \(codes), and nothing of a 421. The fixes for a 421 would not help here.")
            if !report.diagnoses.isEmpty {
                out.append("")
                out.append("Some causes of a 421 can also show as this code:")
                out.append("")
                for d in report.diagnoses { out.append("- \(md(d.title)) (\(code(d.cause)))") }
            }
            out.append("")
            out.append("What would help next:")
            out.append("")
            for (i, n) in report.next.enumerated() { out.append("\(i + 1). \(md(n))") }
            return out.joined(separator: "\n") + "\n"
        }
        guard let d = report.diagnoses.first, report.status != .healthy, d.tentative != true else {
            out.append("## \(md(report.verdict))")
            out.append("")
            if report.status == .healthy {
                out.append(report.facts.checked.isEmpty
                    ? "The checks we ran all passed, so we could not reproduce the problem."
                    : "Nothing in what you sent points to a cause of a 421, and it shows no 421.")
                if !report.facts.checked.isEmpty { out.append("") }
                checkedList(report, into: &out)
            } else {
                out.append(protocolSentence(report))
                out.append("")
                if !report.diagnoses.isEmpty {
                    out.append("The likeliest causes, none of them certain yet:")
                    out.append("")
                    for d in report.diagnoses { out.append("- \(md(d.title)) (\(code(d.cause)))") }
                    out.append("")
                }
                checkedList(report, into: &out)
                if !report.facts.checked.isEmpty { out.append("") }
                out.append("To tell what causes it, we need a little more information:")
                out.append("")
                for (i, n) in report.next.enumerated() { out.append("\(i + 1). \(md(n))") }
            }
            return out.joined(separator: "\n") + "\n"
        }
        out.append("## \(md(d.title))")
        out.append("")
        out.append(protocolSentence(report))
        out.append("")
        // An organisation's overlay changed what this answer says: the admin reading it should know which file.
        if let overlays = d.overlays, !overlays.isEmpty {
            out.append("Playbook " + code(d.playbook) + " as changed by " + overlays.map(code).joined(separator: ", ") + ".")
            out.append("")
        }
        out.append("### What is happening")
        out.append("")
        for (i, paragraph) in Markdown.paragraphs(d.summary).enumerated() {
            if i > 0 { out.append("") }
            out.append(paragraph)
        }
        out.append("")
        out.append("### Why we think so")
        out.append("")
        for s in d.signals where s.weight > 0 {
            out.append("- \(code(s.matched))" + (s.note.map { ": \(md($0))" } ?? ""))
        }
        for c in d.checks where c.status == .fail {
            out.append("- \(md(c.title)): \(md(c.reason ?? "confirmed"))"
                + (c.live ? c.command.map { " (to see it yourself: \(code($0)))" } ?? "" : ""))
        }
        if !report.facts.checked.isEmpty {
            out.append("")
            checkedList(report, into: &out)
        }
        if report.status == .inconclusive {
            out.append("")
            out.append("We could not confirm it yet:")
            out.append("")
            for n in report.next { out.append("- \(md(n))") }
        }
        out.append("")
        // Steps written only for the customer are in the customer's reply (--audience customer), not here.
        let steps = d.remediation.filter { $0.audience.includes(.admin) }
        if !steps.isEmpty {
            out.append("### How to fix it")
            out.append("")
        }
        for (i, step) in steps.enumerated() {
            let stacks = step.stacks.isEmpty ? "" : " (\(md(step.stacks.joined(separator: ", "))))"
            let marker = "\(i + 1). "
            let indent = String(repeating: " ", count: marker.count)
            out.append(marker + "**\(Markdown.prose(step.step))**\(stacks)")
            let detail = Markdown.lines(step.detail, indent: indent)
            if !detail.isEmpty {
                out.append("")
                out += detail
            }
            if let verify = step.verify {
                out.append("")
                out.append(indent + "Check it with:")
                out.append("")
                out.append(contentsOf: Markdown.fence(verify, indent: indent))
            }
            out.append("")
        }
        let manual = d.checks.filter { $0.status == .manual }
        if !manual.isEmpty {
            out.append("### To confirm on the server")
            out.append("")
            for c in manual {
                out.append("- \(md(c.title)): " + Markdown.paragraphs(c.reason ?? "").joined(separator: " "))
            }
            out.append("")
        }
        if report.diagnoses.count > 1 {
            out.append("### If that is not it")
            out.append("")
            for other in report.diagnoses.dropFirst() {
                out.append("- \(md(other.title)) (\(code(other.cause)))")
            }
            out.append("")
        }
        if !d.references.isEmpty {
            out.append("### References")
            out.append("")
            for r in d.references { out.append("- [\(md(r.title))](\(Markdown.destination(r.url)))") }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    /// "What we checked": one line per analysed config or log, with its counts and result.
    /// No blank line before or after: callers place it.
    private func checkedList(_ report: Report, into out: inout [String]) {
        guard !report.facts.checked.isEmpty else { return }
        out.append("What we checked:")
        out.append("")
        for c in report.facts.checked {
            let result = !c.incomplete.isEmpty ? "partly read" : c.findings == 0 ? "no finding"
                : "\(c.findings) finding" + (c.findings == 1 ? "" : "s")
            out.append("- \(code(c.input)) (\(md(c.kind))): " + md((c.checked + [result]).joined(separator: "; ")))
        }
        if report.status != .healthy, report.codes.shows421,
           report.facts.checked.allSatisfy(\.isClean) {
            out.append("")
            out.append("The attached files show none of the causes we check for, so they are not what causes this 421.")
        }
    }

    private func protocolSentence(_ report: Report) -> String {
        switch report.protocol.value {
        case "http": return "This is an **HTTP 421 Misdirected Request**: a web server refused a request that reached it over a connection it does not serve that host name on. It is not a mail or FTP error."
        case "smtp": return "This is an **SMTP 421**: the receiving mail server refused the connection for now. It is a temporary error, so the sending server keeps the message queued and retries; it is not a web (HTTP) error."
        case "ftp": return "This is an **FTP 421**: the FTP server closed the control connection. It is not a web (HTTP) or mail (SMTP) error."
        default: return "From the text alone we cannot yet tell whether this is a web (HTTP), mail (SMTP) or FTP error."
        }
    }

    /// Text from input or a report field, as Markdown prose that stays literal.
    private func md(_ s: String) -> String { Markdown.escape(s) }

    /// A value as one code span (a command, a matched text, a file name).
    private func code(_ s: String) -> String { Markdown.code(s) }

    private func fmt(_ v: Double) -> String { Self.number(v, digits: 2) }

    // MARK: json

    /// Sorted keys and escaped control characters keep the output stable and safe for scripts.
    /// The JSON names its audience; for the customer it keeps only the steps written for them.
    public func json(_ report: Report) -> String {
        var report = report
        report.audience = audience
        if audience == .customer {
            for i in report.diagnoses.indices {
                report.diagnoses[i].remediation.removeAll { !$0.audience.includes(.customer) }
            }
        }
        return encodeJSON(report)
    }
}

/// Stable, pretty JSON for any report-like value.
public func encodeJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "{}\n" }
    return Sanitizer.jsonSafe(String(decoding: data, as: UTF8.self)) + "\n"
}

/// CommonMark building blocks. Renderers show text literally by escaping it, never with HTML entities (which
/// show as `&lt;` inside code) or raw HTML, and keep each command whole in one code span or fenced block.
public enum Markdown {
    /// ASCII punctuation that CommonMark can read as markup anywhere in a line.
    private static let special: Set<Character> = ["\\", "`", "*", "_", "[", "]", "<", ">", "#", "!", "|", "~", "&", "{", "}"]

    /// Prose that renders exactly as given: newlines become spaces, markup characters are backslash-escaped,
    /// and a start that could open a block (a list marker, a heading, a quote, an indented code block) is defused.
    public static func escape(_ s: String) -> String {
        let flat = Sanitizer.neutralize(oneLine(s)).trimmingCharacters(in: .whitespaces)
        var out = ""
        out.reserveCapacity(flat.utf8.count + 8)
        for ch in flat {
            if special.contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return defuseStart(out)
    }

    /// One code span holding `s` exactly: the fence is one backtick longer than any run inside, padded when the
    /// text starts or ends with a backtick or a space, so CommonMark gives back the same characters.
    public static func code(_ s: String) -> String {
        let text = Sanitizer.neutralize(oneLine(s))
        guard !text.isEmpty else { return "" }
        let fence = String(repeating: "`", count: longestRun(of: "`", in: text) + 1)
        let allSpaces = text.allSatisfy { $0 == " " }
        let pad = text.hasPrefix("`") || text.hasSuffix("`")
            || (!allSpaces && text.hasPrefix(" ") && text.hasSuffix(" ")) ? " " : ""
        return fence + pad + text + pad + fence
    }

    /// A fenced code block indented by `indent` (to stay inside a list item); its fence is longer than any run
    /// of backticks in the text.
    public static func fence(_ s: String, indent: String = "") -> [String] {
        let text = Sanitizer.neutralize(s, keepNewlines: true)
        let fence = String(repeating: "`", count: max(3, longestRun(of: "`", in: text) + 1))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { indent + $0 }
        return [indent + fence] + lines + [indent + fence]
    }

    /// Playbook prose, where authors mark commands and names with backticks: the code spans are kept (and
    /// re-fenced so they stay one code node), everything else is escaped.
    public static func prose(_ s: String) -> String {
        let text = oneLine(s).trimmingCharacters(in: .whitespaces)
        var out = ""
        var plain = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "`") {
            let run = rest[open...].prefix { $0 == "`" }
            let after = rest[run.endIndex...]
            if let close = closingRun(of: run.count, in: after) {
                plain += rest[..<open]
                out += escapeInline(plain) + code(String(after[..<close.lowerBound]))
                plain = ""
                rest = after[close.upperBound...]
            } else {
                plain += rest[..<run.endIndex]
                rest = after
            }
        }
        plain += rest
        out += escapeInline(plain)
        return defuseStart(out)
    }

    /// A piece of playbook prose as written: a paragraph, or lines indented deeper than the text around them
    /// (a config snippet), which keep their line breaks.
    public enum Block: Sendable, Equatable {
        case paragraph(String)
        case code([String])
    }

    /// Wrapped lines joined into paragraphs (so no code span is cut by a line break); indented lines kept as code.
    public static func blocks(_ s: String) -> [Block] {
        var blocks: [Block] = []
        var prose: [String] = []
        var code: [String] = []
        func flush() {
            if !prose.isEmpty { blocks.append(.paragraph(prose.joined(separator: " "))) }
            if !code.isEmpty { blocks.append(.code(code)) }
            prose = []
            code = []
        }
        for line in s.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                flush()
            } else if line.hasPrefix("  ") || line.hasPrefix("\t") {
                if !prose.isEmpty { flush() }
                code.append(trimmed)
            } else {
                if !code.isEmpty { flush() }
                prose.append(trimmed)
            }
        }
        flush()
        return blocks
    }

    /// Paragraphs of playbook prose rendered for one line each; a snippet becomes code spans on that line.
    public static func paragraphs(_ s: String) -> [String] {
        blocks(s).map { block in
            switch block {
            case .paragraph(let text): return prose(text)
            case .code(let lines): return lines.map(code).joined(separator: " ")
            }
        }.filter { !$0.isEmpty }
    }

    /// Playbook prose as Markdown lines under `indent` (inside a list item): paragraphs, and snippets as
    /// fenced blocks, separated by blank lines.
    public static func lines(_ s: String, indent: String) -> [String] {
        var out: [String] = []
        for block in blocks(s) {
            if !out.isEmpty { out.append("") }
            switch block {
            case .paragraph(let text): out.append(indent + prose(text))
            case .code(let lines): out += fence(lines.joined(separator: "\n"), indent: indent)
            }
        }
        return out
    }

    /// A link destination CommonMark reads whole: spaces, angle brackets, parentheses and backslashes encoded.
    public static func destination(_ url: String) -> String {
        var out = ""
        for scalar in Sanitizer.neutralize(url).unicodeScalars {
            switch scalar {
            case " ": out += "%20"
            case "<": out += "%3C"
            case ">": out += "%3E"
            case "(": out += "%28"
            case ")": out += "%29"
            case "\\": out += "%5C"
            case "`": out += "%60"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // MARK: helpers

    private static func oneLine(_ s: String) -> String {
        guard s.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
        return s.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    private static func escapeInline(_ s: String) -> String {
        var out = ""
        for ch in Sanitizer.neutralize(s) {
            if special.contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// A line that starts with `-`, `+`, `=`, `1.` or `1)` would open a list or underline a heading.
    private static func defuseStart(_ s: String) -> String {
        guard let first = s.first else { return s }
        if first == "-" || first == "+" || first == "=" { return "\\" + s }
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 9, let next = s.dropFirst(digits.count).first, next == "." || next == ")" {
            return String(digits) + "\\" + String(s.dropFirst(digits.count))
        }
        return s
    }

    private static func longestRun(of c: Character, in s: String) -> Int {
        var longest = 0, current = 0
        for ch in s {
            if ch == c { current += 1; longest = max(longest, current) } else { current = 0 }
        }
        return longest
    }

    /// The next run of exactly `count` backticks: the end of a code span opened by such a run.
    private static func closingRun(of count: Int, in s: Substring) -> Range<Substring.Index>? {
        var i = s.startIndex
        while i < s.endIndex {
            guard s[i] == "`" else { i = s.index(after: i); continue }
            let run = s[i...].prefix { $0 == "`" }
            if run.count == count { return i..<run.endIndex }
            i = run.endIndex
        }
        return nil
    }
}
