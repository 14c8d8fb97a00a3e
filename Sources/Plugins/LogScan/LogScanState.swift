import Engine

/// The aggregates of one scan. Every line passes through `line(_:number:interesting:)`; only lines the
/// byte search marked as interesting are parsed, and only their keys become Strings.
struct LogScanState {
    let options: LogScanOptions
    let format: AccessLogFormat?
    var lines = 0
    var truncated = 0
    var kindCounts = [Int](repeating: 0, count: LineKind.allCases.count)
    var lastYear = 0

    var access421 = 0
    var accessHost: BoundedCounter
    var accessVhost: BoundedCounter
    var accessClient: BoundedCounter
    var accessSNI: BoundedCounter
    var peaks: PeakTracker

    var ah02032NoSNI = 0, ah02032Mismatch = 0, ah02032Different = 0, ah02031 = 0, ah02033 = 0
    var apacheNoSNIHosts: BoundedCounter
    var apachePairs: BoundedCounter
    var apachePolicies: BoundedCounter
    var apacheClients: BoundedCounter

    var nginxMismatch = 0, nginxDisabled = 0
    var nginxPairs: BoundedCounter
    var nginxClients: BoundedCounter

    var mail421 = 0, deferred = 0, bounced = 0, rejected = 0
    var mailDomain: BoundedCounter
    var mailProvider: BoundedCounter
    var mailEnhanced: BoundedCounter
    var mailPhase: BoundedCounter
    var mailRelay: BoundedCounter
    var mailReply: BoundedCounter
    /// The first line of each distinct reply text, for findings that quote it.
    var replyExamples: [String: ReplyExample] = [:]

    var ftp421 = 0
    var ftpServer: BoundedCounter
    var ftpReply: BoundedCounter
    var ftpClient: BoundedCounter

    /// Lines of no kind kb reads, and access-like lines no reader could take apart: a 421 among them would
    /// be missed, so the report counts them instead of calling the log clean.
    var unread = 0
    /// Unread lines that hold the bytes `421`: the only ones that could be a missed 421.
    var unread421 = 0
    var unreadExample: LogExample?
    /// The access-log layouts recognised in the first lines, by name.
    var layouts: BoundedCounter
    var layoutSamples = 0
    static let maxLayoutSamples = 1000

    var timeline: TimelineCounter
    var examples: [[LogExample]] = []
    var exampleIndex: [String: Int] = [:]
    var exampleOrder: [String] = []
    /// Exchange `#Fields:` header: column index by name.
    var exchangeFields: [String: Int] = [:]

    init(options: LogScanOptions, format: AccessLogFormat?) {
        self.options = options
        self.format = format
        let k = options.maxKeys
        accessHost = BoundedCounter(capacity: k)
        accessVhost = BoundedCounter(capacity: k)
        accessClient = BoundedCounter(capacity: k)
        accessSNI = BoundedCounter(capacity: k)
        peaks = PeakTracker(capacity: k)
        apacheNoSNIHosts = BoundedCounter(capacity: k)
        apachePairs = BoundedCounter(capacity: k)
        apachePolicies = BoundedCounter(capacity: 16)
        apacheClients = BoundedCounter(capacity: k)
        nginxPairs = BoundedCounter(capacity: k)
        nginxClients = BoundedCounter(capacity: k)
        mailDomain = BoundedCounter(capacity: k)
        mailProvider = BoundedCounter(capacity: 64)
        mailEnhanced = BoundedCounter(capacity: 256)
        mailPhase = BoundedCounter(capacity: 16)
        mailRelay = BoundedCounter(capacity: k)
        mailReply = BoundedCounter(capacity: k)
        ftpServer = BoundedCounter(capacity: 16)
        ftpReply = BoundedCounter(capacity: k)
        ftpClient = BoundedCounter(capacity: k)
        timeline = TimelineCounter(capacity: options.maxTimeBuckets)
        layouts = BoundedCounter(capacity: 16)
    }

    // MARK: per line

    mutating func line(_ l: ByteLine, number: Int, interesting: Bool) {
        lines = number
        var kind = LineClassifier.classify(l)
        if kind == .other, format != nil { kind = .access }
        kindCounts[kind.rawValue] += 1
        if kind == .header {
            header(l)
            return
        }
        guard interesting else {
            if kind == .access || kind == .other { checkReadable(l, number, kind: kind) }
            return
        }
        switch kind {
        case .access:
            if !access(l, number, kind: kind), !generic(l, number, kind: kind) { markUnread(l, number, has421: true) }
            else { sampleLayout(l) }
        case .apacheError:
            apacheError(l, number)
        case .nginxError:
            nginxError(l, number)
        case .postfix, .exim, .exchange, .sendmail:
            mail(l, number, kind: kind)
        case .vsftpd, .proftpd, .pureftpd:
            if !(kind == .proftpd && access(l, number, kind: kind)) { ftp(l, number, kind: kind) }
        case .other:
            if !generic(l, number, kind: kind) { markUnread(l, number, has421: true) }
        case .syslog, .transcript, .empty, .header:
            generic(l, number, kind: kind)
        }
    }

    /// A line without `421` in it: cheap to skip, but it still counts as read only if some reader takes it.
    private mutating func checkReadable(_ l: ByteLine, _ number: Int, kind: LineKind) {
        if kind == .access, (format?.parse(l, lastYear: lastYear) ?? AccessAuto.parse(l)) != nil {
            sampleLayout(l)
            return
        }
        // The byte search looks for `421` after a separator only; an unread line may spell it `status=421`.
        markUnread(l, number, has421: l.find(Self.digits421) != nil)
    }

    private static let digits421 = Array("421".utf8)

    private mutating func markUnread(_ l: ByteLine, _ number: Int, has421: Bool) {
        unread += 1
        if has421 { unread421 += 1 }
        if unreadExample == nil || (has421 && unread421 == 1) {
            unreadExample = LogExample(category: "unread", line: number, text: LogText.sample(l))
        }
    }

    private mutating func sampleLayout(_ l: ByteLine) {
        guard layoutSamples < Self.maxLayoutSamples else { return }
        layoutSamples += 1
        if format != nil {
            layouts.add("--access-format")
        } else if let name = AccessAuto.layout(l) {
            layouts.add(name)
        }
    }

    private mutating func example(_ category: StaticString, _ l: ByteLine, _ number: Int) {
        guard options.examples > 0 else { return }
        // Categories are few and fixed: look them up by their literal's address before hashing a String.
        let key = Int(bitPattern: category.utf8Start)
        let index: Int
        if let found = exampleSlots[key] {
            index = found
        } else {
            let name = category.description
            if let existing = exampleIndex[name] {
                index = existing
            } else {
                index = examples.count
                examples.append([])
                exampleIndex[name] = index
                exampleOrder.append(name)
            }
            exampleSlots[key] = index
        }
        guard examples[index].count < options.examples else { return }
        examples[index].append(LogExample(category: category.description, line: number, text: LogText.sample(l)))
    }

    private var exampleSlots: [Int: Int] = [:]

    /// The examples of one category, in line order.
    func examples(_ category: String) -> [LogExample] {
        exampleIndex[category].map { examples[$0] } ?? []
    }

    private mutating func minute(_ l: ByteLine, _ kind: LineKind) -> Int {
        let m = LogTime.leading(l, kind: kind, year: lastYear)
        if m >= 0, m / 100_000_000 > 0 { lastYear = m / 100_000_000 }
        return m
    }

    // MARK: access logs

    static let ftpVerbs: Set<String> = [
        "USER", "PASS", "RETR", "STOR", "LIST", "NLST", "CWD", "PWD", "QUIT", "PASV", "EPSV", "PORT", "TYPE",
        "MKD", "RMD", "DELE", "AUTH", "FEAT", "SIZE", "MDTM", "REST", "APPE", "MLSD", "NOOP", "SYST", "OPTS",
    ]

    /// Returns false when the line is not an access-log request after all.
    private mutating func access(_ l: ByteLine, _ number: Int, kind: LineKind) -> Bool {
        let parsed = format?.parse(l, lastYear: lastYear) ?? AccessAuto.parse(l)
        guard var record = parsed else { return false }
        guard record.status == 421 else { return true }
        if record.minute < 0 { record.minute = LogTime.leading(l, kind: .access, year: lastYear) }
        if record.minute >= 0, record.minute / 100_000_000 > 0 { lastYear = record.minute / 100_000_000 }
        if let method = record.method, Self.ftpVerbs.contains(method.uppercased()) {
            // ProFTPD's ExtendedLog looks like an access log but logs FTP commands.
            ftp421 += 1
            ftpServer.add(kind.isFTP ? kind.ftpServer : "proftpd")
            ftpReply.add("421 (\(method.uppercased()))")
            if let client = record.client { ftpClient.add(client) }
            timeline.add(record.minute, source: 4)
            example("ftp-421", l, number)
            return true
        }
        access421 += 1
        let host = record.host ?? record.vhost ?? "-"
        accessHost.add(host)
        if let vhost = record.vhost { accessVhost.add(vhost) }
        if let client = record.client { accessClient.add(client) }
        if let sni = record.sni { accessSNI.add("\(sni) -> \(record.host ?? record.vhost ?? "-")") }
        peaks.add(host, minute: record.minute)
        timeline.add(record.minute, source: 0)
        example("access-421", l, number)
        return true
    }

    // MARK: Apache error log

    private static let ah0203 = Array("AH0203".utf8)
    private static let hostname = Array("Hostname ".utf8)
    private static let viaSNIAnd = Array(" provided via SNI and hostname ".utf8)
    private static let noSNIAnd = Array(" (default host as no SNI was provided) and hostname ".utf8)
    private static let areDifferent = Array("are different".utf8)
    private static let forPolicy = Array("for policy '".utf8)
    private static let clientField = Array("[client ".utf8)

    private mutating func apacheError(_ l: ByteLine, _ number: Int) {
        guard let p = l.find(Self.ah0203), l.byte(p + 7) == UInt8(ascii: ":") else {
            generic(l, number, kind: .apacheError)
            return
        }
        let code = l.byte(p + 6)
        let m = minute(l, .apacheError)
        if let c = l.find(Self.clientField) {
            let start = c + Self.clientField.count
            let end = l.index(of: UInt8(ascii: "]"), from: start) ?? l.count
            apacheClients.add(l.host(start, end))
        }
        switch code {
        case UInt8(ascii: "2"):
            guard let h = l.find(Self.hostname, from: p + 8) else { return }
            let (first, afterFirst) = l.token(from: h + Self.hostname.count) { $0 == UInt8(ascii: " ") }
            if l.hasPrefix(Self.viaSNIAnd, at: afterFirst) {
                let (host, _) = l.token(from: afterFirst + Self.viaSNIAnd.count) { $0 == UInt8(ascii: " ") }
                if l.find(Self.areDifferent, from: afterFirst) != nil {
                    ah02032Different += 1
                    apachePairs.add("\(first) -> \(host)")
                    example("ah02032-different", l, number)
                } else {
                    ah02032Mismatch += 1
                    apachePairs.add("\(first) -> \(host)")
                    timeline.add(m, source: 1)
                    example("ah02032-sni-mismatch", l, number)
                }
            } else if l.hasPrefix(Self.noSNIAnd, at: afterFirst) {
                let (host, _) = l.token(from: afterFirst + Self.noSNIAnd.count) { $0 == UInt8(ascii: " ") }
                ah02032NoSNI += 1
                apacheNoSNIHosts.add("\(first) -> \(host)")
                timeline.add(m, source: 1)
                example("ah02032-no-sni", l, number)
            } else {
                return
            }
            if let policy = l.find(Self.forPolicy, from: afterFirst) {
                let (value, _) = l.token(from: policy + Self.forPolicy.count) { $0 == UInt8(ascii: "'") }
                apachePolicies.add(value)
            }
        case UInt8(ascii: "1"):
            ah02031 += 1
            example("ah02031", l, number)
        case UInt8(ascii: "3"):
            ah02033 += 1
            example("ah02033", l, number)
        default:
            break
        }
    }

    // MARK: nginx error log

    private static let attempted = Array("attempted to request the server name ".utf8)
    private static let different = Array("different".utf8)
    private static let forWhich = Array("for which".utf8)
    private static let nginxClient = Array(", client: ".utf8)
    private static let nginxServer = Array(", server: ".utf8)
    private static let nginxHost = Array(", host: \"".utf8)

    private mutating func nginxError(_ l: ByteLine, _ number: Int) {
        guard let p = l.find(Self.attempted) else {
            generic(l, number, kind: .nginxError)
            return
        }
        let after = p + Self.attempted.count
        let m = minute(l, .nginxError)
        let disabled = l.hasPrefix(Self.forWhich, at: after)
        guard disabled || l.hasPrefix(Self.different, at: after) else { return }
        var server = "-", host = "-"
        if let c = l.find(Self.nginxClient, from: after) {
            nginxClients.add(l.token(from: c + Self.nginxClient.count) { $0 == UInt8(ascii: ",") }.0)
        }
        if let s = l.find(Self.nginxServer, from: after) {
            server = l.token(from: s + Self.nginxServer.count) { $0 == UInt8(ascii: ",") }.0
        }
        if let h = l.find(Self.nginxHost, from: after) {
            host = l.token(from: h + Self.nginxHost.count) { $0 == UInt8(ascii: "\"") }.0
        }
        nginxPairs.add("\(server) -> \(host)")
        timeline.add(m, source: 2)
        if disabled {
            nginxDisabled += 1
            example("nginx-protocol-disabled", l, number)
        } else {
            nginxMismatch += 1
            example("nginx-sni-mismatch", l, number)
        }
    }

    // MARK: mail logs

    private static let inReplyTo = Array(" (in reply to ".utf8)
    private static let statusEq = Array("status=".utf8)
    private static let toEq = Array("to=<".utf8)
    private static let relayEq = Array("relay=".utf8)
    private static let hostSpace = Array("host ".utf8)
    private static let refusedToTalk = Array("refused to talk to me".utf8)
    private static let rejectColon = Array("reject: ".utf8)
    private static let dsnEq = Array("dsn=".utf8)
    private static let eximH = Array(" H=".utf8)
    private static let eximAfter = Array(" after ".utf8)
    private static let eximDefer = Array(" == ".utf8)
    private static let eximBounce = Array(" ** ".utf8)
    private static let statDeferred = Array("stat=Deferred".utf8)

    private mutating func mail(_ l: ByteLine, _ number: Int, kind: LineKind) {
        guard let r = LogText.replyStart(l) else { return }
        let replyEnd = LogText.replyEnd(l, from: r, csv: kind == .exchange)
        let reply = LogText.reply(l, r, replyEnd)
        var domain: String?
        var relay: String?
        var phase: String?
        var outcome = ""
        var enhanced = LogText.enhancedCode(l, after: r)
        switch kind {
        case .postfix, .sendmail:
            if let t = l.find(Self.toEq) {
                let start = t + Self.toEq.count
                domain = LogText.domain(l, start, l.index(of: UInt8(ascii: ">"), from: start) ?? l.count)
            }
            if let rl = l.find(Self.relayEq) {
                let (value, _) = l.token(from: rl + Self.relayEq.count) {
                    $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: " ")
                }
                if value != "none" && !value.isEmpty { relay = value }
            }
            if relay == nil, let h = l.find(Self.hostSpace), h < r {
                relay = l.token(from: h + Self.hostSpace.count) { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: " ") }.0
            }
            if let s = l.find(Self.statusEq) {
                let (status, _) = l.token(from: s + Self.statusEq.count) { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ",") }
                if status == "deferred" { outcome = "deferred" }
                if status == "bounced" || status == "expired" { outcome = "bounced" }
            } else if l.find(Self.statDeferred) != nil {
                outcome = "deferred"
            }
            if let rj = l.find(Self.rejectColon), rj < r {
                outcome = "rejected"
                phase = LogText.phase(l, at: rj + Self.rejectColon.count)
            }
            if let ir = l.find(Self.inReplyTo, from: r) {
                phase = LogText.phase(l, at: ir + Self.inReplyTo.count)
            } else if let talk = l.find(Self.refusedToTalk), talk < r {
                phase = "connect"
            }
            if enhanced == nil, let d = l.find(Self.dsnEq), l.byte(d + 4) == UInt8(ascii: "4") {
                enhanced = l.token(from: d + 4) { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: " ") }.0
            }
        case .exim:
            let head = min(l.count, 64)
            if let d = l.find(Self.eximDefer), d < head {
                outcome = "deferred"
                domain = LogText.domain(l, d + 4, l.index(of: UInt8(ascii: " "), from: d + 4) ?? l.count)
            } else if let b = l.find(Self.eximBounce), b < head {
                outcome = "bounced"
                domain = LogText.domain(l, b + 4, l.index(of: UInt8(ascii: " "), from: b + 4) ?? l.count)
            }
            if let h = l.find(Self.eximH) {
                relay = l.token(from: h + Self.eximH.count) { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "[") }.0
            }
            if let a = l.find(Self.eximAfter), a < r {
                phase = LogText.phase(l, at: a + Self.eximAfter.count)
            }
        case .exchange:
            let fields = LogText.csv(l)
            func field(_ name: String) -> String? {
                guard let index = exchangeFields[name], index < fields.count else { return nil }
                return fields[index]
            }
            switch field("event-id")?.uppercased() {
            case "DEFER": outcome = "deferred"
            case "FAIL": outcome = "bounced"
            default: break
            }
            domain = field("recipient-address").flatMap(LogText.domain(of:))
            relay = field("server-hostname").flatMap { $0.isEmpty ? nil : $0 }
        default:
            break
        }
        recordMail(l, number, reply: reply, domain: domain, relay: relay, phase: phase, outcome: outcome,
                   enhanced: enhanced, kind: kind)
    }

    private mutating func recordMail(_ l: ByteLine, _ number: Int, reply: String, domain: String?, relay: String?,
                            phase: String?, outcome: String, enhanced: String?, kind: LineKind) {
        mail421 += 1
        switch outcome {
        case "deferred": deferred += 1
        case "bounced": bounced += 1
        case "rejected": rejected += 1
        default: break
        }
        if let domain { mailDomain.add(domain) }
        if let relay { mailRelay.add(relay) }
        let provider = provider(relay: relay, domain: domain, reply: reply)
        mailProvider.add(provider)
        mailEnhanced.add(enhanced ?? "none")
        mailPhase.add(phase ?? "unknown")
        let key = LogText.normalizeReply(reply)
        mailReply.add(key)
        if replyExamples[key] == nil, replyExamples.count < options.maxKeys {
            replyExamples[key] = ReplyExample(key: key, reply: Sanitizer.neutralize(reply), count: 0, provider: provider,
                                              outcome: outcome.isEmpty ? "unknown" : outcome, line: number,
                                              text: LogText.sample(l))
        }
        timeline.add(minute(l, kind), source: 3)
        example("smtp-421", l, number)
    }

    private var relayProviders: [String: String] = [:]

    /// The provider, with relay host lookups cached (a log names few relays many times).
    private mutating func provider(relay: String?, domain: String?, reply: String) -> String {
        if let relay {
            if let cached = relayProviders[relay] {
                if !cached.isEmpty { return cached }
            } else {
                let found = MailProviders.provider(relay: relay) ?? ""
                if relayProviders.count < options.maxKeys { relayProviders[relay] = found }
                if !found.isEmpty { return found }
            }
        }
        if let domain, let p = MailProviders.provider(domain: domain) { return p }
        return MailProviders.provider(reply: reply) ?? "other"
    }

    // MARK: FTP logs

    private static let vsftpdClient = Array("Client \"".utf8)

    private mutating func ftp(_ l: ByteLine, _ number: Int, kind: LineKind) {
        guard let r = LogText.replyStart(l) else { return }
        let reply = l.string(r, LogText.replyEnd(l, from: r, csv: false))
        ftp421 += 1
        ftpServer.add(kind.ftpServer)
        ftpReply.add(LogText.normalizeReply(reply))
        if let c = l.find(Self.vsftpdClient) {
            ftpClient.add(l.token(from: c + Self.vsftpdClient.count) { $0 == UInt8(ascii: "\"") }.0)
        } else if let at = l.find(Array("(?@".utf8)) {
            ftpClient.add(l.token(from: at + 3) { $0 == UInt8(ascii: ")") }.0)
        }
        timeline.add(minute(l, kind), source: 4)
        example("ftp-421", l, number)
    }

    // MARK: anything else with a 421 in it

    /// Returns false when nothing in the line could be read.
    @discardableResult
    private mutating func generic(_ l: ByteLine, _ number: Int, kind: LineKind) -> Bool {
        if kind != .access, kind != .apacheError, kind != .nginxError, access(l, number, kind: .access) {
            return true
        }
        guard let r = LogText.replyStart(l) else { return false }
        let end = LogText.replyEnd(l, from: r, csv: false)
        let reply = l.string(r, end)
        switch LogText.replyProtocol(reply: reply, line: l) {
        case "smtp":
            recordMail(l, number, reply: reply, domain: nil, relay: nil, phase: nil, outcome: "",
                       enhanced: LogText.enhancedCode(l, after: r), kind: kind)
        case "ftp":
            ftp421 += 1
            ftpServer.add("other")
            ftpReply.add(LogText.normalizeReply(reply))
            timeline.add(minute(l, kind), source: 4)
            example("ftp-421", l, number)
        default:
            return false
        }
        return true
    }

    // MARK: headers

    private static let fieldsHeader = Array("#Fields: ".utf8)

    private mutating func header(_ l: ByteLine) {
        guard l.hasPrefix(Self.fieldsHeader) else { return }
        let names = l.string(Self.fieldsHeader.count, min(l.count, 4096)).split(separator: ",")
        var map: [String: Int] = [:]
        for (index, name) in names.prefix(64).enumerated() {
            map[name.trimmingCharacters(), default: index] = index
        }
        exchangeFields = map
    }

    // MARK: report

    func report(source: String, bytes: Int) -> LogReport {
        let top = options.top
        var byKind: [String: Int] = [:]
        for kind in LineKind.allCases where kindCounts[kind.rawValue] > 0 {
            byKind[kind.name, default: 0] += kindCounts[kind.rawValue]
        }
        var allExamples: [LogExample] = []
        for category in exampleOrder { allExamples += examples(category) }
        return LogReport(
            schema: "kb.logs/1", source: source, bytes: bytes, lines: lines, truncatedLines: truncated,
            linesByKind: byKind,
            access: AccessSummary(
                requests: kindCounts[LineKind.access.rawValue], status421: access421,
                byHost: accessHost.table(top: top), byVhost: accessVhost.table(top: top),
                byClient: accessClient.table(top: top), bySNIHost: accessSNI.table(top: top),
                peaks: peaks.peaks(top: top), layouts: layouts.table(top: top)),
            apache: ApacheErrorSummary(
                ah02032NoSNI: ah02032NoSNI, ah02032SNIMismatch: ah02032Mismatch, ah02032Different: ah02032Different,
                ah02031: ah02031, ah02033: ah02033, noSNIHosts: apacheNoSNIHosts.table(top: top),
                sniHostPairs: apachePairs.table(top: top), policies: apachePolicies.table(top: top),
                clients: apacheClients.table(top: top)),
            nginx: NginxErrorSummary(
                sniMismatch: nginxMismatch, protocolDisabled: nginxDisabled,
                serverHostPairs: nginxPairs.table(top: top), clients: nginxClients.table(top: top)),
            mail: MailSummary(
                replies421: mail421, deferred: deferred, bounced: bounced, rejected: rejected,
                byDomain: mailDomain.table(top: top), byProvider: mailProvider.table(top: top),
                byEnhancedCode: mailEnhanced.table(top: top), byPhase: mailPhase.table(top: top),
                byRelay: mailRelay.table(top: top), byReply: mailReply.table(top: top),
                topReplies: mailReply.table(top: top).entries.compactMap { entry in
                    guard var example = replyExamples[entry.key] else { return nil }
                    example.count = entry.count
                    return example
                }),
            ftp: FTPSummary(
                replies421: ftp421, byServer: ftpServer.table(top: top), byReply: ftpReply.table(top: top),
                byClient: ftpClient.table(top: top)),
            timeline: timeline.timeline,
            examples: allExamples,
            unread: UnreadLines(lines: unread, with421: unread421, example: unreadExample))
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        ConfigText.trimmed(String(self))
    }
}
