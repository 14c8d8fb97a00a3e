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
        /// Where it starts, for ordering across inputs: (input index, UTF-8 byte offset).
        var order: (Int, Int)
    }

    struct Output {
        var replies: [Found] = []
        /// Enhanced codes in SMTP contexts, with their order key.
        var enhanced: [(code: String, order: (Int, Int))] = []
        /// Phases named anywhere in the text, in order of appearance.
        var textPhases: [(phase: SMTPPhase, order: (Int, Int))] = []
    }

    private let candidate: RegexPattern
    private let leadingEnhanced: RegexPattern
    private let continuation: RegexPattern
    private let inReplyTo: RegexPattern
    private let afterCommand: RegexPattern
    private let commandFailed: RegexPattern
    private let clientCommand: RegexPattern
    private let dsn: RegexPattern
    private let contextEnhanced: RegexPattern
    private let jsonCode: RegexPattern
    private let pythonError: RegexPattern
    private let pythonTuple: RegexPattern
    private let jsonMessage: RegexPattern
    private let textPhases: [(RegexPattern, [[UInt8]])]

    init() {
        // the pattern is the code alone so the search only stops at digits; what may stand before and
        // after it (once ICU look-arounds) is checked in Swift, see `isCandidate`
        candidate = SymptomRegex.compile(#"([245]\d\d)([ -])"#)
        leadingEnhanced = SymptomRegex.compile(#"^[ \t]*([245]\.\d{1,3}\.\d{1,3})(?:[\s,;:.)]|$)"#)
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
        // a back-reference to the opening quote was `(['"])…\2`; the two quotes are two alternatives
        pythonTuple = SymptomRegex.compile(#"\(([45]\d\d),\s{0,3}b?(?:'([^'\n]{0,1000})'|"([^"\n]{0,1000})")"#)
        jsonCode = SymptomRegex.compile(#""(?:code|responseCode|replyCode)"\s{0,3}:\s{0,3}"?([45]\d\d)\b"#)
        jsonMessage = SymptomRegex.compile(#""message"\s{0,3}:\s{0,3}"((?:[^"\\\n]|\\.){1,500})""#)
        textPhases = [
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
        ].map { (SymptomRegex.compile($0.0), $0.1.map { Array($0.utf8) }) }
    }

    /// Patterns RE2 rejects (tests assert there are none); compiles them all.
    var invalidPatterns: [String] {
        let all = [candidate, leadingEnhanced, continuation, inReplyTo, afterCommand, commandFailed, clientCommand, dsn,
                   contextEnhanced, jsonCode, jsonMessage, pythonError, pythonTuple] + textPhases.map(\.0)
        return all.filter { $0.check() != nil }.map(\.source)
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
        var found: [Candidate] = []
        // at most 2,000 codes that read as replies; the search stops there
        _ = text.matches(candidate, limit: 2_000, tries: 1_000_000) { match in
            guard isCandidate(match, in: text), let parsed = makeCandidate(match, in: text) else { return false }
            // two regex hits inside one reply (a flattened continuation) are one reply
            if let last = found.last, last.line == parsed.line, last.code == parsed.code, last.continues { return true }
            found.append(parsed)
            return true
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

    /// Words after a code that make it a count or a quantity, not a reply ("421 errors", "500 ms").
    private static let notAReplyWords = [
        "errors", "error", "responses", "response", "status", "codes", "code", "replies", "reply", "times", "time",
        "ms", "secs", "sec", "seconds", "second", "bytes", "byte", "requests", "request", "and", "or", "to",
    ]

    /// What once were look-arounds: no word character or dot right before the code, and after it
    /// neither 'misdirected', nor one of `notAReplyWords`, nor a number (but an enhanced code is fine).
    private func isCandidate(_ m: RegexMatch, in text: SymptomText) -> Bool {
        guard let code = m[1] else { return false }
        if text.isWordScalar(before: code.lowerBound) || text.byte(at: code.lowerBound - 1) == 0x2E { return false }
        func blank(_ at: Int) -> Bool { text.byte(at: at) == 0x20 || text.byte(at: at) == 0x09 }
        var at = m.range.upperBound
        while blank(at) { at += 1 }
        if text.has("misdirected", at: at) { return false }
        for word in Self.notAReplyWords where text.has(word, at: at) {
            if !text.isWordScalar(at: at + word.utf8.count) { return false }
        }
        if text.byte(at: at) == 0x2D { at += 1 }
        while blank(at) { at += 1 }
        if let digit = text.byte(at: at), SymptomCueTable.isDigit(digit) {
            let enhanced = text.byte(at: at + 1) == 0x2E && text.byte(at: at + 2).map(SymptomCueTable.isDigit) == true
            if !enhanced { return false }
        }
        return true
    }

    private func makeCandidate(_ match: RegexMatch, in text: SymptomText) -> Candidate? {
        guard let codeText = text.group(match, 1), let code = Int(codeText), let sep = text.group(match, 2),
              let codeRange = match[1] else {
            return nil
        }
        let line = text.line(ofByte: codeRange.lowerBound)
        let lineStartOffset = text.start(ofLine: line)
        let nearStart = max(lineStartOffset, codeRange.lowerBound - 40)
        let near = text.text(nearStart..<codeRange.lowerBound)
        guard let isLineStart = Self.replyContext(near, wholeLine: nearStart == lineStartOffset) else { return nil }

        let lineRange = text.range(ofLine: line)
        let lineEnd = lineRange.upperBound
        let restStart = codeRange.upperBound + 1
        guard restStart <= lineEnd else { return nil }
        let rest = text.text(restStart..<min(lineEnd, restStart + 2_000))
        let prefixStart = max(lineRange.lowerBound, codeRange.lowerBound - 300)
        let prefix = text.text(prefixStart..<codeRange.lowerBound)

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
            code: code, continues: sep == "-", line: line, location: text.location(ofByte: codeRange.lowerBound),
            position: codeRange.lowerBound, body: body, prefix: prefix, suffix: suffix, lineStart: isLineStart)
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
        if let (code, after) = Self.leading(leadingEnhanced, in: body) {
            enhanced = code
            body = after
        }
        body = joinContinuations(body, code: c.code)
        body = tidy(body)
        var reply = Reply(code: c.code, enhanced: enhanced, text: body, phase: nil, location: c.location)
        reply.phase = phase(of: c, text: body, in: text)
        return reply
    }

    private func stripLeadingEnhanced(_ body: String) -> String {
        Self.leading(leadingEnhanced, in: body)?.rest ?? body
    }

    /// A leading enhanced code and the text after it (the character that ends the code stays).
    private static func leading(_ regex: RegexPattern, in body: String) -> (code: String, rest: String)? {
        guard let m = regex.firstMatch(in: body), let code = m.text(1, in: body), let end = m[1] else { return nil }
        let utf8 = body.utf8
        return (String(code), String(body[utf8.index(utf8.startIndex, offsetBy: end.upperBound)...]))
    }

    /// Removes the `421-4.7.0 ` markers that Postfix and Exim leave inside a flattened multi-line reply.
    private func joinContinuations(_ body: String, code: Int) -> String {
        var pieces: [String] = []
        let utf8 = body.utf8
        var last = utf8.startIndex
        for m in continuation.matches(in: body) {
            guard m.text(1, in: body).flatMap({ Int($0) }) == code else { continue }
            let start = utf8.index(utf8.startIndex, offsetBy: m.range.lowerBound)
            pieces.append(String(body[last..<start]))
            last = utf8.index(utf8.startIndex, offsetBy: m.range.upperBound)
        }
        guard !pieces.isEmpty else { return body }
        pieces.append(String(body[last...]))
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
        if let m = inReplyTo.firstMatch(in: c.suffix), let command = group(m, 1, in: c.suffix) {
            if let phase = Self.phase(named: command) { return phase }
        }
        let prefix = c.prefix.lowercased()
        if prefix.contains("refused to talk to me") { return .connect }
        if let m = lastMatch(afterCommand, in: prefix), let command = group(m, 1, in: prefix),
           let phase = Self.phase(named: command) {
            return phase
        }
        if let m = lastMatch(commandFailed, in: prefix) {
            if let command = group(m, 1, in: prefix) {
                if let phase = Self.phase(named: command) { return phase }
            } else {
                return .connect
            }
        }
        if prefix.contains("banner") || prefix.contains("greeting") { return .connect }
        if let m = lastMatch(pythonError, in: prefix), let kind = group(m, 1, in: prefix),
           let phase = Self.phase(named: kind) {
            return phase
        }
        let lowerBody = body.lowercased()
        if lowerBody.contains("(ehlo)") || lowerBody.contains("(helo)") { return .helo }
        // a transcript: the client command or the banner just before the reply
        var line = c.line - 1
        while line >= max(1, c.line - 3) {
            let previous = text.lineText(line, limit: 300)
            if let m = clientCommand.firstMatch(in: previous),
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
                for g in 1..<m.groups.count {
                    guard let name = text.group(m, g), !name.isEmpty, let phase = Self.phase(named: name) else {
                        continue
                    }
                    out.textPhases.append((phase, (index, m.range.lowerBound)))
                    break
                }
            }
        }
    }

    // MARK: enhanced codes and JSON errors

    private func parseEnhanced(_ text: SymptomText, index: Int, into out: inout Output) {
        for regex in text.contains(Array("dsn=".utf8)) ? [dsn, contextEnhanced] : [contextEnhanced] {
            for m in text.matches(regex, limit: 500) {
                guard let code = text.group(m, 1) else { continue }
                out.enhanced.append((code, (index, m[1]?.lowerBound ?? m.range.lowerBound)))
            }
        }
        for found in out.replies {
            if let code = found.reply.enhanced { out.enhanced.append((code, found.order)) }
        }
    }

    /// `{"message":"…","code":421}` from a client library: a reply the library turned into JSON.
    private func parseJSON(_ text: SymptomText, index: Int, into out: inout Output) {
        guard text.contains(Array("code\"".utf8)) else { return }
        for m in text.matches(jsonCode, limit: 200) {
            guard let codeText = text.group(m, 1), let code = Int(codeText) else { continue }
            let line = text.line(ofByte: m.range.lowerBound)
            if out.replies.contains(where: { $0.reply.location?.line == line && $0.reply.code == code }) { continue }
            let lineText = text.lineText(line, limit: 8_000)
            var message = ""
            if let mm = jsonMessage.firstMatch(in: lineText), let body = group(mm, 1, in: lineText) {
                message = body.replacingOccurrences(of: "\\n", with: " ").replacingOccurrences(of: "\\\"", with: "\"")
            }
            let reply = Reply(code: code, enhanced: nil, text: tidy(message), phase: nil,
                              location: text.location(ofByte: m[1]?.lowerBound ?? m.range.lowerBound))
            out.replies.append(Found(reply: reply, order: (index, m.range.lowerBound)))
        }
        out.replies.sort { $0.order < $1.order }
    }

    /// `SMTPDataError: (421, b'4.7.0 Try again later')`: Python's smtplib shows a reply as a tuple, with a
    /// multi-line reply's lines joined by `\n` and their code prefixes removed.
    private func parseTuples(_ text: SymptomText, index: Int, into out: inout Output) {
        guard text.contains(Array("(4".utf8)) || text.contains(Array("(5".utf8)) else { return }
        for m in text.matches(pythonTuple, limit: 200) {
            guard let codeText = text.group(m, 1), let code = Int(codeText), let raw = text.group(m, 2) ?? text.group(m, 3) else {
                continue
            }
            let line = text.line(ofByte: m.range.lowerBound)
            if out.replies.contains(where: { $0.reply.location?.line == line && $0.reply.code == code }) { continue }
            let prefix = text.text(text.start(ofLine: line)..<m.range.lowerBound)
            let parts = raw.components(separatedBy: "\\n")
            var enhanced: String?
            var pieces: [String] = []
            for part in parts {
                var piece = part
                if let (code, rest) = Self.leading(leadingEnhanced, in: piece) {
                    if enhanced == nil { enhanced = code }
                    piece = rest
                }
                pieces.append(piece)
            }
            var reply = Reply(code: code, enhanced: enhanced, text: tidy(pieces.joined(separator: " ")),
                              location: text.location(ofByte: m[1]?.lowerBound ?? m.range.lowerBound))
            if let e = lastMatch(pythonError, in: prefix.lowercased()),
               let kind = group(e, 1, in: prefix.lowercased()) {
                reply.phase = Self.phase(named: kind)
            }
            out.replies.append(Found(reply: reply, order: (index, m.range.lowerBound)))
        }
        out.replies.sort { $0.order < $1.order }
    }

    // MARK: helpers

    private func lastMatch(_ regex: RegexPattern, in s: String) -> RegexMatch? {
        regex.matches(in: s).last
    }

    private func group(_ m: RegexMatch, _ i: Int, in s: String) -> String? {
        m.text(i, in: s).map(String.init)
    }
}
