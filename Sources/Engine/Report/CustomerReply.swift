/// What the person who reported the problem reads (`--audience customer`): what happened in plain words,
/// what they can do themselves and what to send back. It leaves out everything meant for the admin: the
/// server-side steps, signal ids, scores, checks, file findings, an organisation's internal checks and notes.
public struct CustomerReply: Sendable {
    /// A reply longer than this is not read to the end; the builder stays under it.
    public static let maxLines = 25
    /// Steps and questions beyond these make the reply a checklist instead of an answer.
    static let maxSteps = 3
    static let maxAsks = 5

    public struct Step: Sendable {
        public var title: String
        public var detail: String
    }

    public var headline: String
    /// One or two sentences: the protocol in plain words, then the cause.
    public var happened: [String]
    public var steps: [Step]
    /// Concrete things to send back.
    public var asks: [String]
    public var closing: String?

    public init(_ report: Report) {
        let proto = report.protocol.value
        let top = report.diagnoses.first
        let confirmed = top != nil && top?.tentative != true && top?.related != true
            && (report.status == .problem || report.status == .inconclusive)
        headline = Self.headline(report, confirmed: confirmed)
        happened = Self.happened(report, confirmed: confirmed)
        if confirmed, let top {
            steps = top.remediation.filter { $0.audience.includes(.customer) }.prefix(Self.maxSteps).map {
                Step(title: $0.step, detail: $0.detail)
            }
        } else {
            steps = []
        }
        var asks = report.ask
        if asks.isEmpty, report.status != .problem { asks = Self.plainAsks(protocol: proto, status: report.status) }
        let kept = Array(asks.prefix(Self.maxAsks))
        self.asks = kept
        if !kept.isEmpty {
            closing = "Reply to this message with what you have; a copy and paste of the text is best, a screenshot also helps."
        } else if steps.isEmpty {
            // A playbook without customer steps: say who acts, promise nothing about the cause.
            closing = "We are looking into it and will let you know when it is fixed."
        } else {
            closing = nil
        }
    }

    // MARK: what happened

    static func headline(_ report: Report, confirmed: Bool) -> String {
        switch report.status {
        case .not421: return "About the error you reported"
        case .healthy: return "We could not find a problem just now"
        case .problem, .inconclusive:
            guard confirmed else { return "We need a little more information" }
            switch report.protocol.value {
            case "http": return "About the 421 error on the website"
            case "smtp": return "About the e-mail that was not delivered yet"
            case "ftp": return "About the FTP connection that was closed"
            default: return "About the 421 error you reported"
            }
        }
    }

    static func happened(_ report: Report, confirmed: Bool) -> [String] {
        switch report.status {
        case .not421:
            let codes = report.codes.others.prefix(2).map(\.label)
            let shown = codes.isEmpty ? "another error" : codes.joined(separator: " and ")
            return ["What you sent shows \(shown), not a 421. That is a different error with other causes, so we "
                    + "look at it on its own."]
        case .healthy:
            return ["We checked what you sent and found nothing wrong, so we could not see the error ourselves yet."]
        case .problem, .inconclusive:
            var sentences: [String] = []
            let provider = report.facts.providers.first.flatMap { providerNames[$0] }
            guard confirmed else {
                // Nothing is certain yet: say what was seen, never more.
                let others = report.codes.others.prefix(2).map(\.label)
                if !others.isEmpty {
                    sentences.append("What you sent shows \(others.joined(separator: " and "))"
                                     + (report.codes.shows421 ? " and mentions a 421" : "") + ".")
                }
                let area = ["http": "the website", "smtp": "e-mail delivery", "ftp": "an FTP connection"]
                if let what = area[report.protocol.value] {
                    sentences.append("It looks like a problem with \(what), but from what you sent we cannot tell "
                                     + "yet what causes it.")
                } else {
                    sentences.append("From what you sent we cannot tell yet whether the error comes from the "
                                     + "website, from e-mail or from an FTP connection.")
                }
                return sentences
            }
            switch report.protocol.value {
            case "http":
                sentences.append("The message \"421 Misdirected Request\" comes from the web server: it received "
                                 + "a request for an address it does not serve on that connection.")
            case "smtp":
                let who = provider.map { "\($0)'s mail servers" } ?? "The receiving mail server"
                sentences.append("\(who) did not accept the message for now (a 421 reply). This is a temporary "
                                 + "refusal: the sending server keeps the message and tries again.")
            case "ftp":
                sentences.append("The FTP server closed the connection (a 421 reply) before the transfer could go on.")
            default:
                sentences.append("From what you sent we cannot tell yet whether the error comes from the website, "
                                 + "from e-mail or from an FTP connection.")
            }
            if let plain = report.diagnoses.first?.customerSummary, !plain.isEmpty { sentences.append(plain) }
            return sentences
        }
    }

    /// Display names for the providers kb recognises, as a customer knows them.
    static let providerNames: [String: String] = [
        "gmail": "Gmail", "microsoft": "Microsoft", "yahoo": "Yahoo", "icloud": "iCloud",
        "comcast": "Comcast", "gmx": "GMX", "godaddy": "GoDaddy", "orange": "Orange", "zoho": "Zoho", "free": "Free",
    ]

    /// Used when the report names no question of its own: concrete things a customer has, by protocol.
    static func plainAsks(protocol proto: String, status: ReportStatus) -> [String] {
        var asks: [String]
        switch proto {
        case "http":
            asks = ["the full address in the browser bar when the error shows",
                    "whether it also fails in a private window or another browser",
                    "the time it happened, and whether it happens every time or only sometimes"]
        case "smtp":
            asks = ["the whole bounce message you received, including the lines that start with 421 or 5",
                    "the address you wrote to and the time you sent the message"]
        case "ftp":
            asks = ["the log of your FTP program from connecting to the error "
                        + "(in FileZilla, the message pane at the top)",
                    "the server name, port and whether you chose FTP, FTPS or SFTP"]
        default:
            asks = ["the whole error message as text, copied and pasted rather than retyped",
                    "where you saw it: in the browser, in a bounced e-mail or in an FTP program",
                    "whether it happens every time or only sometimes"]
        }
        if status == .not421, proto != "unknown" {
            asks.insert("the whole error message as text, copied and pasted rather than retyped", at: 0)
            asks = Array(asks.prefix(3))
        }
        return asks
    }

    // MARK: rendering

    /// Plain text for an e-mail reply.
    public func text() -> String {
        var out: [String] = [Sanitizer.neutralize(headline), ""]
        out.append(happened.map { Sanitizer.neutralize($0) }.joined(separator: " "))
        if !steps.isEmpty {
            out.append("")
            out.append("What you can do:")
            for (i, step) in steps.enumerated() {
                out.append("\(i + 1). " + Self.sentence(Sanitizer.neutralize(step.title))
                           + Self.plainDetail(step.detail).map { " " + $0 } .joined())
            }
        }
        if !asks.isEmpty {
            out.append("")
            out.append("Please send us:")
            for ask in asks { out.append("- " + Sanitizer.neutralize(ask)) }
        }
        if let closing {
            out.append("")
            out.append(closing)
        }
        return Self.capped(out) + "\n"
    }

    /// Markdown for a ticket system; the same content as `text()`, valid CommonMark.
    public func markdown() -> String {
        var out: [String] = ["## " + Markdown.escape(headline), ""]
        out.append(happened.map(Markdown.escape).joined(separator: " "))
        if !steps.isEmpty {
            out.append("")
            out.append("**What you can do:**")
            out.append("")
            for (i, step) in steps.enumerated() {
                let detail = Markdown.paragraphs(step.detail).joined(separator: " ")
                out.append("\(i + 1). **" + Self.sentence(Markdown.prose(step.title)) + "**"
                           + (detail.isEmpty ? "" : " " + detail))
            }
        }
        if !asks.isEmpty {
            out.append("")
            out.append("**Please send us:**")
            out.append("")
            for ask in asks { out.append("- " + Markdown.escape(ask)) }
        }
        if let closing {
            out.append("")
            out.append(Markdown.escape(closing))
        }
        return Self.capped(out) + "\n"
    }

    /// The step's detail on one line, its backtick marks kept as they are for plain text.
    static func plainDetail(_ detail: String) -> [String] {
        let joined = detail.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        return joined.isEmpty ? [] : [Sanitizer.neutralize(joined)]
    }

    /// A title ends with a full stop so the detail after it reads as the next sentence.
    static func sentence(_ s: String) -> String {
        guard let last = s.last, !".!?:".contains(last) else { return s }
        return s + "."
    }

    /// Never more than `maxLines` non-empty lines, whatever a playbook or the report holds.
    static func capped(_ lines: [String]) -> String {
        var kept: [String] = []
        var count = 0
        for line in lines {
            if !line.isEmpty {
                guard count < maxLines else { break }
                count += 1
            }
            kept.append(line)
        }
        while kept.last?.isEmpty == true { kept.removeLast() }
        return kept.joined(separator: "\n")
    }
}
