/// Which status and reply codes the input shows, settled before any cause is ranked.
///
/// A 502 page or a "550 5.1.1" bounce is not a 421 however much of its wording sounds like one, and
/// sending someone after a 421 fix for it costs them hours. So kb first asks what the input shows:
/// a 421 in any of its forms, another error code, or no code at all.
public struct CodeCensus: Sendable, Codable, Hashable {
    /// One error code the input shows that is not a 421.
    public struct Shown: Sendable, Codable, Hashable {
        /// "http", "smtp", "ftp", or "smtp or ftp" when a bare reply does not say which.
        public var `protocol`: String
        /// "502", "550", or a named error such as "ERR_SSL_PROTOCOL_ERROR".
        public var code: String
        /// What the code means in general ("Bad Gateway"), when kb knows it.
        public var meaning: String?

        public init(protocol: String, code: String, meaning: String? = nil) {
            self.protocol = `protocol`
            self.code = code
            self.meaning = meaning
        }

        /// "HTTP 502 (Bad Gateway)".
        public var label: String {
            let name = self.protocol == "smtp or ftp" ? "SMTP or FTP" : self.protocol.uppercased()
            let isNamed = code.first?.isNumber == false
            return (isNamed ? code : "\(name) \(code)") + (meaning.map { " (\($0))" } ?? "")
        }
    }

    /// The forms of 421 found: a code, a reason phrase or a text only a 421 carries.
    public var cues: [String]
    /// Other error codes, in order of appearance, without duplicates.
    public var others: [Shown]

    public init(cues: [String] = [], others: [Shown] = []) {
        self.cues = cues
        self.others = others
    }

    public var shows421: Bool { !cues.isEmpty }
    /// The input shows another error and nothing of a 421.
    public var isNot421: Bool { cues.isEmpty && !others.isEmpty }
}

extension CodeCensus {
    /// Reads the codes from extracted facts and the 421 cues from the text itself.
    public init(_ facts: Facts) {
        var cues: [String] = []
        if Self.has421Token(facts.text) { cues.append("421") }
        let lower = facts.text.lowercased()
        for phrase in Self.digitlessCues where lower.contains(phrase) { cues.append(phrase) }
        for key in facts.signatures.keys.sorted() where key.contains("421") { cues.append(key) }

        var others: [Shown] = []
        func add(_ shown: Shown) { if !others.contains(shown) { others.append(shown) } }
        for status in facts.httpStatuses where status >= 400 && status != 421 {
            add(Shown(protocol: "http", code: String(status), meaning: Self.httpMeanings[status]))
        }
        for reply in facts.replies where reply.code >= 400 && reply.code != 421 {
            let proto = Self.replyProtocol(reply, verdict: facts.protocolVerdict.value)
            let meaning = proto == "ftp" ? Self.ftpMeanings[reply.code] : proto == "smtp" ? Self.smtpMeanings[reply.code] : nil
            add(Shown(protocol: proto, code: String(reply.code), meaning: meaning))
        }
        for code in Self.statusPhrases(facts.text) {
            add(Shown(protocol: "http", code: String(code), meaning: Self.httpMeanings[code]))
        }
        for code in Self.replyLines(facts.text) + Self.parenthesisedCodes(facts.text) {
            let proto = Self.replyProtocol(Reply(code: code, text: ""), verdict: facts.protocolVerdict.value)
            let meaning = proto == "ftp" ? Self.ftpMeanings[code] : proto == "smtp" ? Self.smtpMeanings[code] : nil
            if !others.contains(where: { $0.code == String(code) }) { add(Shown(protocol: proto, code: String(code), meaning: meaning)) }
        }
        // A 5.x.x enhanced code is a permanent failure, which a 421 never is.
        for enhanced in (facts.enhancedCodes + Self.permanentEnhanced(facts.text)) where enhanced.hasPrefix("5.") && others.isEmpty {
            add(Shown(protocol: "smtp", code: enhanced, meaning: "permanent failure"))
        }
        for name in Self.namedErrors(facts.text) {
            add(Shown(protocol: "http", code: name, meaning: nil))
        }
        self.init(cues: cues, others: others)
    }

    /// A reply with an enhanced code is SMTP; FTP and SMTP share the other codes, so the verdict decides.
    static func replyProtocol(_ reply: Reply, verdict: WireProtocol) -> String {
        if reply.enhanced != nil { return "smtp" }
        switch verdict {
        case .smtp: return "smtp"
        case .ftp: return "ftp"
        default: return "smtp or ftp"
        }
    }

    /// Texts that only a 421 carries, so they count even without the digits.
    static let digitlessCues = [
        "misdirected request", "ah02032", "closing transmission channel", "closing control connection",
        "too many sessions opened", "cleartext sessions and weak ciphers are not accepted",
        // Apache's SNI-versus-Host line: a 421 since 2.4.18, a 400 before; the cause and the fix are the same.
        "provided via sni and hostname",
    ]

    /// Finds "421" as a code: not part of a longer number, a version, an address, a line, issue or port number.
    public static func has421Token(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var i = 0
        while i + 3 <= bytes.count {
            guard bytes[i] == 0x34, bytes[i + 1] == 0x32, bytes[i + 2] == 0x31 else { i += 1; continue }
            defer { i += 3 }
            if i > 0, !isCodeBoundaryBefore(bytes, i) { continue }
            let after = i + 3
            if after < bytes.count {
                let next = bytes[after]
                if isASCIIAlnum(next) || next == 0x5F || next == 0x25 { continue }  // 4210, 421ms, 421_, 421%
                // "421.5" or "421,000" are numbers; "421." ending a sentence is a code.
                if next == 0x2E || next == 0x2C, after + 1 < bytes.count, isDigit(bytes[after + 1]) { continue }
            }
            if precededByCountingWord(bytes, i) { continue }
            return true
        }
        return false
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isASCIIAlnum(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    private static func isCodeBoundaryBefore(_ bytes: [UInt8], _ i: Int) -> Bool {
        let prev = bytes[i - 1]
        // Letters, digits and these marks make it part of a word, number, version, path or id: v421, 1.421, #421, /421, $421.
        if isASCIIAlnum(prev) || prev == 0x5F { return false }
        if [0x2E, 0x23, 0x2F, 0x24, 0x2C, 0x2D, 0x40, 0x7E].contains(prev) {
            // A dash after a word keeps "http-421" a code only when a digit does not come before ("0-421" is a range).
            if prev == 0x2D, i >= 2, !isDigit(bytes[i - 2]) { return true }
            return false
        }
        // "host:421" or "12:421" is a port or a time; '"code":421' and 'status: 421' are codes.
        if prev == 0x3A, i >= 2, isASCIIAlnum(bytes[i - 2]) || bytes[i - 2] == 0x5D { return false }
        return true
    }

    /// "line 421", "issue 421", "PR 421", "port 421", "pid 421", "build 421" count things; they are not codes.
    private static func precededByCountingWord(_ bytes: [UInt8], _ i: Int) -> Bool {
        var end = i
        while end > 0, [0x20, 0x09, 0x3A, 0x3D, 0x23, 0x2E].contains(bytes[end - 1]) { end -= 1 }
        var start = end
        while start > 0, isASCIIAlnum(bytes[start - 1]) { start -= 1 }
        guard start < end, end - start <= 12 else { return false }
        let word = String(decoding: bytes[start..<end], as: UTF8.self).lowercased()
        return countingWords.contains(word)
    }

    static let countingWords: Set<String> = [
        "line", "lines", "ln", "issue", "issues", "pr", "pull", "bug", "ticket", "order", "invoice", "port", "pid",
        "tid", "build", "version", "ver", "release", "row", "col", "column", "page", "nr", "number", "id", "room",
        "commit", "revision", "rev", "uid", "gid", "offset", "chapter", "section", "rfc",
    ]

    /// Three-digit codes between 400 and 599 standing alone (not part of a longer number, version or address).
    private static func codeTokens(_ bytes: [UInt8]) -> [(code: Int, start: Int, end: Int)] {
        var out: [(Int, Int, Int)] = []
        var i = 0
        while i + 3 <= bytes.count, out.count < 200 {
            guard (bytes[i] == 0x34 || bytes[i] == 0x35), isDigit(bytes[i + 1]), isDigit(bytes[i + 2]),
                  i == 0 || !(isASCIIAlnum(bytes[i - 1]) || bytes[i - 1] == 0x2E || bytes[i - 1] == 0x5F),
                  i + 3 == bytes.count || !(isASCIIAlnum(bytes[i + 3]) || bytes[i + 3] == 0x5F)
            else { i += 1; continue }
            let code = Int(bytes[i] - 0x30) * 100 + Int(bytes[i + 1] - 0x30) * 10 + Int(bytes[i + 2] - 0x30)
            out.append((code, i, i + 3))
            i += 3
        }
        return out
    }

    /// HTTP codes shown with their reason phrase ("502 Bad Gateway" in a page title) or as "HTTP Error 503"
    /// and Cloudflare's "Error 525": forms of an error page that carry no status line.
    static func statusPhrases(_ text: String) -> [Int] {
        let bytes = Array(text.utf8)
        var out: [Int] = []
        for token in codeTokens(bytes) where token.code != 421 && !out.contains(token.code) {
            let after = String(decoding: bytes[token.end..<min(bytes.count, token.end + 40)], as: UTF8.self)
                .lowercased().replacingOccurrences(of: "-", with: " ")
            let before = String(decoding: bytes[max(0, token.start - 12)..<token.start], as: UTF8.self).lowercased()
            let phrase = httpMeanings[token.code].map { $0.lowercased().replacingOccurrences(of: "-", with: " ") }
            let phraseFollows = phrase.map { p in
                after.drop(while: { $0 == " " }).hasPrefix(p) || (token.code == 504 && after.drop(while: { $0 == " " }).hasPrefix("gateway time out"))
            } ?? false
            let named = ["http error ", "http ", "http status ", "status code ", "http code "].contains { before.hasSuffix($0) }
                || (before.hasSuffix("error ") && (520...530).contains(token.code))
            if (phraseFollows && !(phrase?.contains(":") ?? false)) || named { out.append(token.code) }
        }
        return out
    }

    /// Reply codes at the start of a line as clients and logs show them ("< 550 …", "<~* 530 …",
    /// "Response: 425 …", "ftp> … 553 …"), which the reply parser may not take as replies.
    static func replyLines(_ text: String) -> [Int] {
        var out: [Int] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(5000) {
            var rest = Substring(line).drop(while: { $0 == " " || $0 == "\t" })
            for prefix in ["response:", "<~*", "<~", "<", "error:"] where rest.lowercased().hasPrefix(prefix) {
                rest = rest.dropFirst(prefix.count).drop(while: { $0 == " " || $0 == "\t" })
                break
            }
            let head = Array(rest.utf8.prefix(4))
            guard head.count == 4, head[0] == 0x34 || head[0] == 0x35, isDigit(head[1]), isDigit(head[2]),
                  head[3] == 0x20 || head[3] == 0x2D else { continue }
            let code = Int(head[0] - 0x30) * 100 + Int(head[1] - 0x30) * 10 + Int(head[2] - 0x30)
            if code != 421, !out.contains(code) { out.append(code) }
        }
        return out
    }

    /// "5.7.1" on a line about mail ("The server response was: 5.7.1 Unable to relay"), where no reply code
    /// came with it; a version number on a line about software is not taken.
    static func permanentEnhanced(_ text: String) -> [String] {
        var out: [String] = []
        let context = ["smtp", "response", "reply", "said", "dsn", "bounce", "mail", "relay", "recipient", "sender"]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(5000) {
            let lower = line.lowercased()
            guard lower.contains("5."), context.contains(where: { lower.contains($0) }) else { continue }
            let bytes = Array(line.utf8)
            var i = 0
            while i + 5 <= bytes.count {
                defer { i += 1 }
                guard bytes[i] == 0x35, bytes[i + 1] == 0x2E, (0x30...0x37).contains(bytes[i + 2]), bytes[i + 3] == 0x2E,
                      isDigit(bytes[i + 4]), i == 0 || !(isASCIIAlnum(bytes[i - 1]) || bytes[i - 1] == 0x2E) else { continue }
                var j = i + 4
                while j < bytes.count, isDigit(bytes[j]), j < i + 7 { j += 1 }
                if j < bytes.count, isASCIIAlnum(bytes[j]) || (bytes[j] == 0x2E && j + 1 < bytes.count && isDigit(bytes[j + 1])) { continue }
                let code = String(decoding: bytes[i..<j], as: UTF8.self)
                if !out.contains(code) { out.append(code) }
            }
        }
        return out
    }

    /// .NET's "The remote server returned an error: (550) File unavailable": the code in parentheses after
    /// "error:", from an FTP, SMTP or HTTP client alike, so the protocol verdict names it.
    static func parenthesisedCodes(_ text: String) -> [Int] {
        let bytes = Array(text.utf8)
        var out: [Int] = []
        for token in codeTokens(bytes) where token.code != 421 && token.start >= 1 && bytes[token.start - 1] == 0x28 {
            guard token.end < bytes.count, bytes[token.end] == 0x29 else { continue }
            let before = String(decoding: bytes[max(0, token.start - 9)..<(token.start - 1)], as: UTF8.self).lowercased()
            if before.hasSuffix("error: ") || before.hasSuffix("error ") { if !out.contains(token.code) { out.append(token.code) } }
        }
        return out
    }

    /// Browser and TLS library error names: Chrome's ERR_…, Firefox's SSL_ERROR_…, NS_ERROR_… and PR_…_ERROR.
    static func namedErrors(_ text: String) -> [String] {
        var out: [String] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b >= 0x41 && b <= 0x5A, i == 0 || !(isASCIIAlnum(bytes[i - 1]) || bytes[i - 1] == 0x5F) else { i += 1; continue }
            var j = i
            while j < bytes.count, (bytes[j] >= 0x41 && bytes[j] <= 0x5A) || isDigit(bytes[j]) || bytes[j] == 0x5F { j += 1 }
            if j - i <= 64 {
                let word = String(decoding: bytes[i..<j], as: UTF8.self)
                if (word.hasPrefix("ERR_") && word.count > 7) || word.hasPrefix("SSL_ERROR_") || word.hasPrefix("NS_ERROR_")
                    || (word.hasPrefix("PR_") && word.hasSuffix("_ERROR")) || word.hasPrefix("SEC_ERROR_") {
                    if !out.contains(word) { out.append(word) }
                    if out.count >= 8 { break }
                }
            }
            i = j + 1
        }
        return out
    }

    static let httpMeanings: [Int: String] = [
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        408: "Request Timeout", 409: "Conflict", 410: "Gone", 413: "Content Too Large", 414: "URI Too Long",
        415: "Unsupported Media Type", 422: "Unprocessable Content", 425: "Too Early", 426: "Upgrade Required",
        429: "Too Many Requests", 431: "Request Header Fields Too Large", 444: "nginx closed the connection",
        494: "nginx: request header too large", 495: "nginx: client certificate error",
        496: "nginx: no client certificate", 497: "nginx: plain HTTP sent to an HTTPS port",
        499: "nginx: client closed the request", 500: "Internal Server Error", 501: "Not Implemented",
        502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
        520: "Cloudflare: unknown error from the origin", 521: "Cloudflare: origin refused the connection",
        522: "Cloudflare: connection to the origin timed out", 523: "Cloudflare: origin unreachable",
        524: "Cloudflare: origin answered too late", 525: "Cloudflare: TLS handshake with the origin failed",
        526: "Cloudflare: invalid origin certificate", 530: "Cloudflare: origin error",
    ]

    static let smtpMeanings: [Int: String] = [
        450: "mailbox unavailable for now", 451: "local error, try again later", 452: "insufficient storage for now",
        454: "TLS or authentication not available for now", 455: "parameters not accommodated for now",
        500: "syntax error", 501: "syntax error in parameters", 502: "command not implemented",
        503: "bad sequence of commands", 504: "parameter not implemented", 521: "host does not accept mail",
        530: "authentication required", 534: "authentication mechanism too weak", 535: "authentication failed",
        538: "encryption required", 550: "mailbox unavailable or message refused", 551: "user not local",
        552: "storage exceeded", 553: "mailbox name not allowed", 554: "transaction failed",
        556: "domain does not accept mail",
    ]

    static let ftpMeanings: [Int: String] = [
        425: "cannot open the data connection", 426: "data connection closed, transfer aborted",
        430: "invalid user name or password", 450: "file unavailable for now", 451: "local error in processing",
        452: "insufficient storage", 500: "syntax error", 501: "syntax error in parameters",
        502: "command not implemented", 503: "bad sequence of commands", 504: "parameter not implemented",
        530: "not logged in", 532: "account needed to store files", 534: "TLS policy refused the request",
        550: "file unavailable or permission denied", 551: "page type unknown", 552: "storage exceeded",
        553: "file name not allowed",
    ]
}
