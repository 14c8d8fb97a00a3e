import Foundation

/// Finds SMTP and FTP replies in pasted text and logs: the code, the RFC 3463 enhanced code, the text
/// with multi-line continuations joined, and the SMTP phase the reply answered.
///
/// Replies are recognised by where a code stands, not by the code alone: at the start of a line
/// (optionally after a transcript marker such as `S:`), after a colon, quote or `=` ("said: 421 …",
/// "Error: \"421 …\""), or after words such as "said", "error", "response". A code followed by a
/// number or by words like "errors"/"status" is not a reply.
struct ReplyParser: Sendable {
    struct Found {
        var reply: Reply
        /// Where it starts, for ordering across inputs: (input index, UTF-16 offset).
        var order: (Int, Int)
    }

    struct Output {
        var replies: [Found] = []
        /// Enhanced codes in SMTP contexts, with their order key.
        var enhanced: [(code: String, order: (Int, Int))] = []
        /// Phases named anywhere in the text, in order of appearance.
        var textPhases: [(phase: SMTPPhase, order: (Int, Int))] = []
    }

    private let candidate: NSRegularExpression?
    private let leadingEnhanced: NSRegularExpression?
    private let continuation: NSRegularExpression?
    private let inReplyTo: NSRegularExpression?
    private let afterCommand: NSRegularExpression?
    private let commandFailed: NSRegularExpression?
    private let clientCommand: NSRegularExpression?
    private let dsn: NSRegularExpression?
    private let contextEnhanced: NSRegularExpression?
    private let jsonCode: NSRegularExpression?
    private let pythonError: NSRegularExpression?
    private let pythonTuple: NSRegularExpression?
    private let jsonMessage: NSRegularExpression?
    private let textPhases: [(NSRegularExpression, [[UInt8]])]
    private let textPhasesComplete: Bool

    init() {
        let notAReply = #"(?![ \t]*(?:misdirected|errors?\b|responses?\b|status\b|codes?\b|repl(?:y|ies)\b|times?\b|ms\b|secs?\b|seconds?\b|bytes?\b|requests?\b|and\b|or\b|to\b|-?[ \t]*\d(?!\.\d)))"#
        // the pattern starts with the code so the search only stops at digits; the context before the
        // code is checked in Swift (a look-behind alternation is far slower in ICU)
        candidate = SymptomRegex.compile(#"(?<![\w.])([245]\d\d)([ -])"# + notAReply)
        leadingEnhanced = SymptomRegex.compile(#"^[ \t]*([245]\.\d{1,3}\.\d{1,3})(?=[\s,;:.)]|$)"#)
        continuation = SymptomRegex.compile(#"\s+([245]\d\d)[ -](?:[245]\.\d{1,3}\.\d{1,3}\s+)?"#)
        inReplyTo = SymptomRegex.compile(#"\(in reply to ([^)\n]{1,40}?) command\)"#)
        afterCommand = SymptomRegex.compile(
            #"\bafter (rcpt to|mail from|end of data|data|initial connection|connect(?:ion)?|banner|greeting|ehlo|helo|lhlo|starttls|auth|quit)\b"#)
        commandFailed = SymptomRegex.compile(#"\b(data|mail|recipient|rcpt|message|greeting|ehlo|helo|starttls|auth) (?:command )?failed\b|greeting never received|invalid greeting"#)
        clientCommand = SymptomRegex.compile(
            #"(?:^[ \t]*(?:C:|>>>|->|>|Client:|Command:)?|CLIENT -> SERVER:)[ \t]*(EHLO|HELO|LHLO|MAIL FROM|RCPT TO|DATA|STARTTLS|AUTH|QUIT)\b"#,
            caseSensitive: true)
        dsn = SymptomRegex.compile(#"\bdsn=([245]\.\d{1,3}\.\d{1,3})\b"#)
        contextEnhanced = SymptomRegex.compile(#"\b[45]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b"#)
        pythonError = SymptomRegex.compile(#"\bsmtp(data|sender|recipients|helo|connect|authentication)(?:error|refused)\b"#)
        pythonTuple = SymptomRegex.compile(#"\(([45]\d\d),\s{0,3}b?(['"])((?:(?!\2).){0,1000})\2"#)
        jsonCode = SymptomRegex.compile(#""(?:code|responseCode|replyCode)"\s{0,3}:\s{0,3}"?([45]\d\d)\b"#)
        jsonMessage = SymptomRegex.compile(#""message"\s{0,3}:\s{0,3}"((?:[^"\\\n]|\\.){1,500})""#)
        var phases: [(NSRegularExpression, [[UInt8]])] = []
        var phasesComplete = true
        for (pattern, requires) in [
            (#"\(in reply to ([^)\n]{1,40}?) command\)"#, ["in reply to"]),
            (#"\b(refused to talk to me)\b"#, ["refused to talk"]),
            (#"smtp error from remote mail server after (rcpt to|mail from|end of data|data|initial connection|ehlo|helo|starttls|auth)"#,
             ["smtp error from"]),
            (#"\b(data|mail|recipient|rcpt|message) command failed\b"#, ["command failed"]),
            (#"\((ehlo|helo)\)|\b(ehlo|helo)\b"#, ["ehlo", "helo"]),
            (#"\b(banner|greeting)\b"#, ["banner", "greeting"]),
            (#"\b(starttls)\b[^\n]{0,40}\b(?:fail|error|refused)"#, ["starttls"]),
            (#"\b(auth)(?:entication)? (?:command )?failed\b"#, ["auth"]),
            (#"\bsmtp(data|sender|recipients|helo|connect|authentication)(?:error|refused)\b"#, ["smtp"]),
            (#"\bcommand['"]?\s{0,3}:\s{0,3}['"](rcpt to|mail from|data|ehlo|helo|starttls|auth|conn)\b"#, ["command"]),
        ] {
            if let regex = SymptomRegex.compile(pattern) {
                phases.append((regex, requires.map { Array($0.utf8) }))
            } else {
                phasesComplete = false
            }
        }
        textPhases = phases
        textPhasesComplete = phasesComplete
    }

    /// Every regular expression compiled (tests assert this).
    var isComplete: Bool {
        let all = [candidate, leadingEnhanced, continuation, inReplyTo, afterCommand, commandFailed, clientCommand, dsn,
                   contextEnhanced, jsonCode, jsonMessage, pythonError, pythonTuple]
        return all.allSatisfy { $0 != nil } && textPhasesComplete
    }

    func parse(_ text: SymptomText, index: Int) -> Output {
        var out = Output()
        parseReplies(text, index: index, into: &out)
        parseJSON(text, index: index, into: &out)
        parseTuples(text, index: index, into: &out)
        parseEnhanced(text, index: index, into: &out)
        parseTextPhases(text, index: index, into: &out)
        return out
    }

    // MARK: replies

    private struct Candidate {
        let code: Int
        let continues: Bool
        let line: Int
        let location: SourceLocation
        let position: Int
        let body: String
        let prefix: String
        let suffix: String
        let lineStart: Bool
    }

    private func parseReplies(_ text: SymptomText, index: Int, into out: inout Output) {
        guard let candidate else { return }
        var found: [Candidate] = []
        var kept = 0
        for match in text.matches(candidate, limit: 50_000) {
            guard kept < 2_000, let parsed = makeCandidate(match, in: text) else { continue }
            kept += 1
            // two regex hits inside one reply (a flattened continuation) are one reply
            if let last = found.last, last.line == parsed.line, last.code == parsed.code, last.continues { continue }
            found.append(parsed)
        }
        var i = 0
        while i < found.count {
            var first = found[i]
            var body = first.body
            var suffix = first.suffix
            var continues = first.continues
            var j = i + 1
            while continues, j < found.count, found[j].code == first.code, found[j].lineStart,
                  found[j].line == found[j - 1].line + 1 {
                body += " " + stripLeadingEnhanced(found[j].body)
                suffix = found[j].suffix
                continues = found[j].continues
                j += 1
            }
            first = Candidate(code: first.code, continues: false, line: first.line, location: first.location,
                              position: first.position, body: body, prefix: first.prefix, suffix: suffix,
                              lineStart: first.lineStart)
            let reply = finish(first, in: text)
            out.replies.append(Found(reply: reply, order: (index, first.position)))
            i = j
        }
    }

    private func makeCandidate(_ match: NSTextCheckingResult, in text: SymptomText) -> Candidate? {
        guard let codeText = text.group(match, 1), let code = Int(codeText), let sep = text.group(match, 2) else {
            return nil
        }
        let codeRange = match.range(at: 1)
        let line = text.line(ofUTF16: codeRange.location)
        let lineStartOffset = text.start16(ofLine: line)
        let nearStart = max(lineStartOffset, codeRange.location - 40)
        let near = text.text(NSRange(location: nearStart, length: codeRange.location - nearStart))
        guard let isLineStart = Self.replyContext(near, wholeLine: nearStart == lineStartOffset) else { return nil }

        let lineRange = text.range(ofLine: line)
        let lineEnd = lineRange.location + lineRange.length
        let restStart = codeRange.location + codeRange.length + 1
        guard restStart <= lineEnd else { return nil }
        let restLength = min(lineEnd - restStart, 2_000)
        let rest = text.text(NSRange(location: restStart, length: restLength))
        let prefixStart = max(lineRange.location, codeRange.location - 300)
        let prefix = text.text(NSRange(location: prefixStart, length: codeRange.location - prefixStart))

        // the text must start like words, a bracketed tag or an enhanced code, not like a number
        let trimmed = rest.drop { $0 == " " || $0 == "\t" || $0 == "-" }
        guard let firstChar = trimmed.first else { return nil }
        let startsWell = firstChar.isLetter || "[(<".contains(firstChar) ||
            (firstChar.isNumber && trimmed.count > 4 && isEnhancedStart(trimmed))
        guard startsWell else { return nil }

        let opener = prefix.last(where: { $0 != " " && $0 != "\t" })
        var body = rest
        var suffix = ""
        if let opener, "\"'`“".contains(opener) {
            let closer: Character = opener == "“" ? "”" : opener
            if let end = body.firstIndex(of: closer) {
                suffix = String(body[end...])
                body = String(body[..<end])
            }
        } else if let range = body.range(of: "(in reply to ", options: [.caseInsensitive]) {
            suffix = String(body[range.lowerBound...])
            body = String(body[..<range.lowerBound])
        }
        return Candidate(
            code: code, continues: sep == "-", line: line, location: text.location(ofUTF16: codeRange.location),
            position: codeRange.location, body: body, prefix: prefix, suffix: suffix, lineStart: isLineStart)
    }

    private static let lineMarkers: Set<String> = [
        "s", "<-", "<<<", "<", "<**", "<~", "response", "server", "reply", "antwort",
    ]
    private static let replyWords: [String] = [
        "said", "was", "is", "error", "response", "reply", "raised", "returned", "receiving", "received", "got", "with",
    ]

    /// Whether the text just before a code makes it a reply: nil when not, else whether it starts its line
    /// (alone or after a transcript marker such as `S:`), which is what multi-line continuations need.
    /// `wholeLine` says `before` reaches back to the start of the line.
    static func replyContext(_ before: String, wholeLine: Bool) -> Bool? {
        let trimmed = before.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
        if wholeLine {
            if trimmed.isEmpty { return before.count <= 8 ? true : nil }
            var marker = trimmed.lowercased()
            if marker.hasSuffix(":") { marker.removeLast() }
            if lineMarkers.contains(marker.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))) { return true }
        }
        guard let last = trimmed.last else { return nil }
        let spaces = before.count - before.reversed().drop(while: { $0 == " " || $0 == "\t" }).count
        if ":=\"'`(“".contains(last) && spaces <= 3 { return false }
        guard spaces >= 1 && spaces <= 3 else { return nil }
        let lower = trimmed.lowercased()
        for word in replyWords where lower.hasSuffix(word) {
            let head = lower.dropLast(word.count)
            if head.last.map({ !$0.isLetter && !$0.isNumber }) ?? true { return false }
        }
        return nil
    }

    private func isEnhancedStart(_ s: Substring) -> Bool {
        let chars = Array(s.prefix(5))
        return chars.count >= 3 && "245".contains(chars[0]) && chars[1] == "." && chars[2].isNumber
    }

    private func finish(_ c: Candidate, in text: SymptomText) -> Reply {
        var body = c.body
        var enhanced: String?
        if let leadingEnhanced,
           let m = leadingEnhanced.firstMatch(in: body, range: NSRange(body.startIndex..., in: body)),
           let r = Range(m.range(at: 1), in: body), let whole = Range(m.range, in: body) {
            enhanced = String(body[r])
            body = String(body[whole.upperBound...])
        }
        body = joinContinuations(body, code: c.code)
        body = tidy(body)
        var reply = Reply(code: c.code, enhanced: enhanced, text: body, phase: nil, location: c.location)
        reply.phase = phase(of: c, text: body, in: text)
        return reply
    }

    private func stripLeadingEnhanced(_ body: String) -> String {
        guard let leadingEnhanced,
              let m = leadingEnhanced.firstMatch(in: body, range: NSRange(body.startIndex..., in: body)),
              let whole = Range(m.range, in: body) else { return body }
        return String(body[whole.upperBound...])
    }

    /// Removes the `421-4.7.0 ` markers that Postfix and Exim leave inside a flattened multi-line reply.
    private func joinContinuations(_ body: String, code: Int) -> String {
        guard let continuation else { return body }
        let ns = body as NSString
        var pieces: [String] = []
        var last = 0
        for m in continuation.matches(in: body, range: NSRange(location: 0, length: ns.length)) {
            guard Int(ns.substring(with: m.range(at: 1))) == code else { continue }
            pieces.append(ns.substring(with: NSRange(location: last, length: m.range.location - last)))
            last = m.range.location + m.range.length
        }
        guard !pieces.isEmpty else { return body }
        pieces.append(ns.substring(from: last))
        return pieces.joined(separator: " ")
    }

    private func tidy(_ body: String) -> String {
        var text = body.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
        while text.hasSuffix(")"), text.filter({ $0 == ")" }).count > text.filter({ $0 == "(" }).count {
            text.removeLast()
            text = text.trimmingCharacters(in: .whitespaces)
        }
        if text.count > 1_000 { text = String(text.prefix(1_000)) }
        return text
    }

    // MARK: phases

    private func phase(of c: Candidate, text body: String, in text: SymptomText) -> SMTPPhase? {
        if let inReplyTo, let m = firstMatch(inReplyTo, in: c.suffix), let command = group(m, 1, in: c.suffix) {
            if let phase = Self.phase(named: command) { return phase }
        }
        let prefix = c.prefix.lowercased()
        if prefix.contains("refused to talk to me") { return .connect }
        if let afterCommand, let m = lastMatch(afterCommand, in: prefix), let command = group(m, 1, in: prefix),
           let phase = Self.phase(named: command) {
            return phase
        }
        if let commandFailed, let m = lastMatch(commandFailed, in: prefix) {
            if let command = group(m, 1, in: prefix) {
                if let phase = Self.phase(named: command) { return phase }
            } else {
                return .connect
            }
        }
        if prefix.contains("banner") || prefix.contains("greeting") { return .connect }
        if let pythonError, let m = lastMatch(pythonError, in: prefix), let kind = group(m, 1, in: prefix),
           let phase = Self.phase(named: kind) {
            return phase
        }
        let lowerBody = body.lowercased()
        if lowerBody.contains("(ehlo)") || lowerBody.contains("(helo)") { return .helo }
        // a transcript: the client command or the banner just before the reply
        var line = c.line - 1
        while line >= max(1, c.line - 3) {
            let previous = text.lineText(line, limit: 300)
            if let clientCommand, let m = firstMatch(clientCommand, in: previous),
               let command = group(m, 1, in: previous), let phase = Self.phase(named: command) {
                return phase
            }
            let lower = previous.lowercased()
            if lower.contains("banner") || lower.contains("greeting") || lower.contains("connected to") {
                return .connect
            }
            line -= 1
        }
        return nil
    }

    static func phase(named command: String) -> SMTPPhase? {
        let c = command.lowercased().trimmingCharacters(in: .whitespaces)
        if c.contains("end of data") || c == "message" || c.contains("end of message") { return .endOfData }
        if c.hasPrefix("data") { return .data }
        if c.hasPrefix("rcpt") || c.hasPrefix("recipient") { return .rcpt }
        if c.hasPrefix("mail") || c == "sender" { return .mail }
        if c.hasPrefix("ehlo") || c.hasPrefix("helo") || c.hasPrefix("lhlo") { return .helo }
        if c.hasPrefix("starttls") { return .starttls }
        if c.hasPrefix("auth") { return .auth }
        if c.hasPrefix("quit") { return .quit }
        if c.contains("connect") || c == "conn" || c == "banner" || c == "greeting" || c.contains("talk to me") {
            return .connect
        }
        if c == "authentication" { return .auth }
        return nil
    }

    private func parseTextPhases(_ text: SymptomText, index: Int, into out: inout Output) {
        for (regex, requires) in textPhases where requires.contains(where: { text.contains($0) }) {
            for m in text.matches(regex, limit: 200) {
                for g in 1..<m.numberOfRanges {
                    guard let name = text.group(m, g), !name.isEmpty, let phase = Self.phase(named: name) else {
                        continue
                    }
                    out.textPhases.append((phase, (index, m.range.location)))
                    break
                }
            }
        }
    }

    // MARK: enhanced codes and JSON errors

    private func parseEnhanced(_ text: SymptomText, index: Int, into out: inout Output) {
        for regex in [text.contains(Array("dsn=".utf8)) ? dsn : nil, contextEnhanced].compactMap({ $0 }) {
            for m in text.matches(regex, limit: 500) {
                guard let code = text.group(m, 1) else { continue }
                out.enhanced.append((code, (index, m.range(at: 1).location)))
            }
        }
        for found in out.replies {
            if let code = found.reply.enhanced { out.enhanced.append((code, found.order)) }
        }
    }

    /// `{"message":"…","code":421}` from a client library: a reply the library turned into JSON.
    private func parseJSON(_ text: SymptomText, index: Int, into out: inout Output) {
        guard let jsonCode, text.contains(Array("code\"".utf8)) else { return }
        for m in text.matches(jsonCode, limit: 200) {
            guard let codeText = text.group(m, 1), let code = Int(codeText) else { continue }
            let line = text.line(ofUTF16: m.range.location)
            if out.replies.contains(where: { $0.reply.location?.line == line && $0.reply.code == code }) { continue }
            let lineText = text.lineText(line, limit: 8_000)
            var message = ""
            if let jsonMessage, let mm = firstMatch(jsonMessage, in: lineText), let body = group(mm, 1, in: lineText) {
                message = body.replacingOccurrences(of: "\\n", with: " ").replacingOccurrences(of: "\\\"", with: "\"")
            }
            let reply = Reply(code: code, enhanced: nil, text: tidy(message), phase: nil,
                              location: text.location(ofUTF16: m.range(at: 1).location))
            out.replies.append(Found(reply: reply, order: (index, m.range.location)))
        }
        out.replies.sort { $0.order < $1.order }
    }

    /// `SMTPDataError: (421, b'4.7.0 Try again later')`: Python's smtplib shows a reply as a tuple, with a
    /// multi-line reply's lines joined by `\n` and their code prefixes removed.
    private func parseTuples(_ text: SymptomText, index: Int, into out: inout Output) {
        guard let pythonTuple, text.contains(Array("(4".utf8)) || text.contains(Array("(5".utf8)) else { return }
        for m in text.matches(pythonTuple, limit: 200) {
            guard let codeText = text.group(m, 1), let code = Int(codeText), let raw = text.group(m, 3) else {
                continue
            }
            let line = text.line(ofUTF16: m.range.location)
            if out.replies.contains(where: { $0.reply.location?.line == line && $0.reply.code == code }) { continue }
            let lineStart = text.start16(ofLine: line)
            let prefix = text.text(NSRange(location: lineStart, length: m.range.location - lineStart))
            let parts = raw.components(separatedBy: "\\n")
            var enhanced: String?
            var pieces: [String] = []
            for part in parts {
                var piece = part
                if let leadingEnhanced,
                   let e = leadingEnhanced.firstMatch(in: piece, range: NSRange(piece.startIndex..., in: piece)),
                   let r = Range(e.range(at: 1), in: piece), let whole = Range(e.range, in: piece) {
                    if enhanced == nil { enhanced = String(piece[r]) }
                    piece = String(piece[whole.upperBound...])
                }
                pieces.append(piece)
            }
            var reply = Reply(code: code, enhanced: enhanced, text: tidy(pieces.joined(separator: " ")),
                              location: text.location(ofUTF16: m.range(at: 1).location))
            if let pythonError, let e = lastMatch(pythonError, in: prefix.lowercased()),
               let kind = group(e, 1, in: prefix.lowercased()) {
                reply.phase = Self.phase(named: kind)
            }
            out.replies.append(Found(reply: reply, order: (index, m.range.location)))
        }
        out.replies.sort { $0.order < $1.order }
    }

    // MARK: helpers

    private func firstMatch(_ regex: NSRegularExpression, in s: String) -> NSTextCheckingResult? {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s))
    }

    private func lastMatch(_ regex: NSRegularExpression, in s: String) -> NSTextCheckingResult? {
        regex.matches(in: s, range: NSRange(s.startIndex..., in: s)).last
    }

    private func group(_ m: NSTextCheckingResult, _ i: Int, in s: String) -> String? {
        guard i < m.numberOfRanges, m.range(at: i).location != NSNotFound, let r = Range(m.range(at: i), in: s) else {
            return nil
        }
        return String(s[r])
    }
}
