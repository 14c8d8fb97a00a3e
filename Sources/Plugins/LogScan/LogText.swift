import Engine

/// Reads access lines without a stated format, by the shapes servers write: common, combined and
/// vhost_combined with any extra fields around them (`%v`, the SNI, request times), the time first or in ISO
/// form, Nginx Proxy Manager's proxy layout, and JSON lines.
enum AccessAuto {
    /// `keepAll`: read every field even when the status is not 421 (the hot path stops early).
    static func parse(_ l: ByteLine, keepAll: Bool = false) -> AccessRecord? {
        if let record = clf(l, keepAll: keepAll) { return record }
        if l.byte(0) == UInt8(ascii: "{") { return json(l, keepAll: keepAll) }
        if let record = proxyManager(l, keepAll: keepAll) { return record }
        return anchored(l, keepAll: keepAll)
    }

    /// A name for the layout of a line `parse` reads, for the report: `common`, `combined`, `vhost_combined`,
    /// `combined+2` (two fields after the user agent), `json`, `npm-proxy`, `request-anchored`.
    static func layout(_ l: ByteLine) -> String? {
        if clf(l, keepAll: false) != nil {
            guard let open = timeOpen(l), let close = l.index(of: UInt8(ascii: "]"), from: open),
                  let end = quotedEnd(l, from: close + 2) else { return "common" }
            let before = tokens(l, from: 0, to: max(0, open - 1), limit: 16)
            let after = tokens(l, from: end + 1, to: l.count, limit: 64)
            // `%v:%p` (or `%v`) in front of `%h %l %u`.
            let vhost = before.count >= 4
            // `"%{Referer}i" "%{User-Agent}i"` after `%>s %b`.
            let agent = after.count >= 4 && l.byte(after[2].0) == UInt8(ascii: "\"") && l.byte(after[3].0) == UInt8(ascii: "\"")
            var name = vhost ? "vhost_combined" : agent ? "combined" : "common"
            let extraBefore = before.count - (vhost ? 4 : 3)
            let extraAfter = after.count - (agent ? 4 : 2)
            if extraBefore > 0 { name += " +\(extraBefore) before" }
            if extraAfter > 0 { name += " +\(extraAfter) after" }
            return name
        }
        if l.byte(0) == UInt8(ascii: "{") { return json(l, keepAll: false) != nil ? "json" : nil }
        if proxyManager(l, keepAll: false) != nil { return "npm-proxy" }
        return anchored(l, keepAll: false) != nil ? "request-anchored" : nil
    }

    /// Whitespace-separated tokens in `from..<to`, quoted strings kept whole.
    private static func tokens(_ l: ByteLine, from: Int, to: Int, limit: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        var t = from
        while t < to, out.count < limit {
            while t < to, l[t] == UInt8(ascii: " ") { t += 1 }
            guard t < to else { break }
            let start = t
            if l[t] == UInt8(ascii: "\""), let end = quotedEnd(l, from: t) {
                t = min(end + 1, to)
            } else {
                while t < to, l[t] != UInt8(ascii: " ") { t += 1 }
            }
            out.append((start, t))
        }
        return out
    }

    /// The index of the quote that closes the quoted string opening at `from`.
    private static func quotedEnd(_ l: ByteLine, from: Int) -> Int? {
        guard l.byte(from) == UInt8(ascii: "\"") else { return nil }
        var i = from + 1
        while i < l.count, l[i] != UInt8(ascii: "\"") { i += l[i] == UInt8(ascii: "\\") ? 2 : 1 }
        return i < l.count ? i : nil
    }

    /// `[` followed by a digit, at the start or after a space, within the first 400 bytes.
    private static func timeOpen(_ l: ByteLine) -> Int? {
        var from = 0
        while let o = l.index(of: UInt8(ascii: "["), from: from), o < 400 {
            if o == 0 || l[o - 1] == UInt8(ascii: " "), ByteLine.isDigit(l.byte(o + 1)) { return o }
            from = o + 1
        }
        return nil
    }

    /// A three-digit status at `i` standing alone: followed by a space, a tab or the end of the line.
    private static func status(_ l: ByteLine, at i: Int) -> Int? {
        guard let value = l.digits(at: i, count: 3), value >= 100, value <= 599 else { return nil }
        let after = l.byte(i + 3)
        return i + 3 == l.count || after == UInt8(ascii: " ") || after == UInt8(ascii: "\t") ? value : nil
    }

    /// `"GET /x HTTP/1.1" 421`: the first quoted request (an upper-case method, a space) anywhere in the line,
    /// the status right after it. Covers layouts with the time first, in ISO form, or fields before the client.
    private static func anchored(_ l: ByteLine, keepAll: Bool) -> AccessRecord? {
        var from = 0
        while let q = l.index(of: UInt8(ascii: "\""), from: from), q < 1000 {
            from = q + 1
            var m = q + 1
            while m < l.count, l[m] >= UInt8(ascii: "A"), l[m] <= UInt8(ascii: "Z") { m += 1 }
            guard m - q - 1 >= 3, m - q - 1 <= 10, l.byte(m) == UInt8(ascii: " "),
                  let end = quotedEnd(l, from: q), l.byte(end + 1) == UInt8(ascii: " "),
                  let code = status(l, at: end + 2) else { continue }
            var record = AccessRecord(status: code, host: nil, vhost: nil, client: nil, sni: nil,
                                      minute: MinuteKey.none, method: nil)
            guard code == 421 || keepAll else { return record }
            let (method, urlHost) = LogFields.request(l, q + 1, end)
            record.method = method
            record.host = urlHost
            if let open = timeOpen(l), open < q, let close = l.index(of: UInt8(ascii: "]"), from: open) {
                record.minute = LogTime.clf(l, from: open, to: close)
            } else if ByteLine.isDigit(l.byte(0)) {
                record.minute = LogTime.iso(l, at: 0)
            }
            return record
        }
        return nil
    }

    /// Nginx Proxy Manager's `proxy` layout:
    /// `[time] cache upstream_status status - METHOD scheme host "uri" [Client addr] …`.
    private static func proxyManager(_ l: ByteLine, keepAll: Bool) -> AccessRecord? {
        guard l.byte(0) == UInt8(ascii: "["), ByteLine.isDigit(l.byte(1)),
              let close = l.index(of: UInt8(ascii: "]")) else { return nil }
        let t = tokens(l, from: close + 1, to: min(l.count, close + 600), limit: 8)
        guard t.count >= 8, t[3].1 - t[3].0 == 1, l[t[3].0] == UInt8(ascii: "-"),
              let code = status(l, at: t[2].0), t[2].1 - t[2].0 == 3,
              l.byte(t[7].0) == UInt8(ascii: "\"") else { return nil }
        var record = AccessRecord(status: code, host: nil, vhost: nil, client: nil, sni: nil,
                                  minute: MinuteKey.none, method: nil)
        guard code == 421 || keepAll else { return record }
        record.minute = LogTime.clf(l, from: 0, to: close)
        record.method = l.string(t[4].0, min(t[4].1, t[4].0 + 16))
        record.host = l.host(t[6].0, t[6].1)
        let clientTag = Array("[Client ".utf8)
        if let c = l.find(clientTag, from: t[7].1) {
            let start = c + clientTag.count
            record.client = l.string(start, l.index(of: UInt8(ascii: "]"), from: start) ?? l.count)
        }
        return record
    }

    /// One JSON object per line (Caddy, Traefik, nginx `escape=json`): `"status":421` and, when present, the
    /// host, method and client.
    private static func json(_ l: ByteLine, keepAll: Bool) -> AccessRecord? {
        func value(_ keys: [String], quoted: Bool) -> (Int, Int)? {
            for key in keys {
                guard let k = l.find(Array("\"\(key)\":".utf8)) else { continue }
                var i = k + key.utf8.count + 3
                while l.byte(i) == UInt8(ascii: " ") { i += 1 }
                if quoted {
                    guard l.byte(i) == UInt8(ascii: "\""), let end = quotedEnd(l, from: i) else { continue }
                    return (i + 1, end)
                }
                var end = i
                while end < l.count, ByteLine.isDigit(l[end]) { end += 1 }
                return end > i ? (i, end) : nil
            }
            return nil
        }
        guard let (start, end) = value(["status", "status_code", "http_status"], quoted: false) ?? value(["status"], quoted: true),
              end - start == 3, let code = l.digits(at: start, count: 3) else { return nil }
        var record = AccessRecord(status: code, host: nil, vhost: nil, client: nil, sni: nil,
                                  minute: MinuteKey.none, method: nil)
        guard code == 421 || keepAll else { return record }
        if let (a, b) = value(["host", "http_host", "RequestHost", "server_name"], quoted: true) { record.host = l.host(a, b) }
        if let (a, b) = value(["method", "request_method", "RequestMethod"], quoted: true) { record.method = l.string(a, b) }
        if let (a, b) = value(["remote_ip", "remote_addr", "client_ip", "ClientHost"], quoted: true) { record.client = l.string(a, b) }
        if let (a, b) = value(["ssl_server_name", "server_name_indication", "sni"], quoted: true) { record.sni = l.string(a, b) }
        if let (a, _) = value(["time_iso8601", "time", "StartUTC", "ts"], quoted: true) { record.minute = LogTime.iso(l, at: a) }
        return record
    }

    /// `client ident user [time] "request" status …`, with any tokens before the time (vhost_combined's
    /// `%v:%p`, a `%v`, the SNI) and any fields after the status.
    private static func clf(_ l: ByteLine, keepAll: Bool) -> AccessRecord? {
        // The time: ` [` followed by a digit.
        var from = 0
        var open: Int?
        while let o = l.index(of: UInt8(ascii: "["), from: from), o < 400 {
            if o > 0, l[o - 1] == UInt8(ascii: " "), ByteLine.isDigit(l.byte(o + 1)) { open = o; break }
            from = o + 1
        }
        guard let open, let close = l.index(of: UInt8(ascii: "]"), from: open) else { return nil }
        // `] "request" status`
        guard l.byte(close + 1) == UInt8(ascii: " "), l.byte(close + 2) == UInt8(ascii: "\"") else { return nil }
        var i = close + 3
        let requestStart = i
        while i < l.count, l[i] != UInt8(ascii: "\"") {
            i += l[i] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard i < l.count, l.byte(i + 1) == UInt8(ascii: " "), let status = l.digits(at: i + 2, count: 3),
              l.byte(i + 5) == UInt8(ascii: " ") || i + 5 == l.count else { return nil }
        var record = AccessRecord(status: status, host: nil, vhost: nil, client: nil, sni: nil,
                                  minute: MinuteKey.none, method: nil)
        guard status == 421 || keepAll else { return record }
        record.minute = LogTime.clf(l, from: open, to: close)
        let (method, urlHost) = LogFields.request(l, requestStart, i)
        record.method = method
        // Tokens before the time: `client ident user` or `vhost:port client ident user`.
        var tokens: [(Int, Int)] = []
        var t = 0
        while t < open - 1, tokens.count < 6 {
            while t < open - 1, l[t] == UInt8(ascii: " ") { t += 1 }
            let start = t
            while t < open - 1, l[t] != UInt8(ascii: " ") { t += 1 }
            if t > start { tokens.append((start, t)) }
        }
        if tokens.count >= 4 {
            record.vhost = l.host(tokens[0].0, tokens[0].1)
            record.client = l.string(tokens[1].0, tokens[1].1)
        } else if let first = tokens.first {
            record.client = l.string(first.0, first.1)
        }
        record.host = urlHost ?? record.vhost
        return record
    }
}

/// Byte-level helpers for reply texts in mail and FTP logs.
enum LogText {
    /// What may stand before a reply code: `said: 421`, `(421`, `"421`, `,421`, `<<< 421`, `> 421`.
    private static func isReplyStart(_ l: ByteLine, _ p: Int) -> Bool {
        guard p > 0 else { return true }
        let b = l[p - 1]
        if b == UInt8(ascii: "(") || b == UInt8(ascii: "\"") || b == UInt8(ascii: ",") || b == UInt8(ascii: "\t")
            || b == UInt8(ascii: ":") {
            return true
        }
        guard b == UInt8(ascii: " ") else { return false }
        guard p > 1 else { return true }
        let c = l[p - 2]
        return c == UInt8(ascii: ":") || c == UInt8(ascii: "<") || c == UInt8(ascii: ">") || c == UInt8(ascii: "-")
            || c == UInt8(ascii: " ") || c == UInt8(ascii: "(") || c == UInt8(ascii: "\"") || c == UInt8(ascii: ",")
    }

    private static func isReplyBoundaryAfter(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "-") || b == UInt8(ascii: "\"") || b == UInt8(ascii: ",")
            || b == UInt8(ascii: ")") || b == UInt8(ascii: "\t")
    }

    /// Where a 421 reply starts: `421` after `: `, `(`, a quote, a comma or a transcript arrow, and before a
    /// space, hyphen, quote or comma; not inside a number, a pid, a size or running text.
    static func replyStart(_ l: ByteLine) -> Int? {
        var from = 0
        while let p = l.index(of: UInt8(ascii: "4"), from: from) {
            if l.byte(p + 1) == UInt8(ascii: "2"), l.byte(p + 2) == UInt8(ascii: "1"),
               isReplyStart(l, p),
               p + 3 == l.count || isReplyBoundaryAfter(l[p + 3]) {
                return p
            }
            from = p + 1
        }
        return nil
    }

    /// The end of the reply starting at `r`: before Postfix's ` (in reply to …)`, a closing quote or, in CSV,
    /// the next comma; at most 400 bytes.
    static func replyEnd(_ l: ByteLine, from r: Int, csv: Bool) -> Int {
        var end = l.count
        if r > 0, l[r - 1] == UInt8(ascii: "\""), let q = l.index(of: UInt8(ascii: "\""), from: r) { end = q }
        if csv, let c = l.index(of: UInt8(ascii: ","), from: r), c < end { end = c }
        if let ir = l.find(inReplyTo, from: r), ir < end { end = ir }
        // Postfix appends the envelope to its own reject replies.
        if let envelope = l.find(rejectEnvelope, from: r), envelope < end { end = envelope }
        // Drop closing parentheses that belong to the log line, not to the reply.
        var open = 0
        var i = r
        while i < end {
            if l[i] == UInt8(ascii: "(") { open += 1 }
            if l[i] == UInt8(ascii: ")") {
                if open == 0 { end = i; break }
                open -= 1
            }
            i += 1
        }
        while end > r, l[end - 1] == UInt8(ascii: " ") { end -= 1 }
        return min(end, r + 1000)
    }

    private static let inReplyTo = Array(" (in reply to ".utf8)
    private static let rejectEnvelope = Array("; from=<".utf8)

    /// The reply in `r..<end`. A multi-line reply as Postfix logs it (`421-4.7.28 … 421-4.7.28 … 421 4.7.28 …`)
    /// is joined: the continuation codes after the first line go and runs of spaces become one.
    static func reply(_ l: ByteLine, _ r: Int, _ end: Int) -> String {
        guard l.byte(r + 3) == UInt8(ascii: "-") else { return l.string(r, end) }
        var out: [UInt8] = Array("421 ".utf8)
        out.reserveCapacity(end - r)
        var i = r + 4
        var first = true
        while i < end {
            while i < end, l[i] == UInt8(ascii: " ") { i += 1 }
            let start = i
            while i < end, l[i] != UInt8(ascii: " ") { i += 1 }
            guard i > start else { break }
            let isCode = i - start >= 3 && l[start] == UInt8(ascii: "4") && l[start + 1] == UInt8(ascii: "2")
                && l[start + 2] == UInt8(ascii: "1")
            if !first, isCode {
                if i - start > 4, l[start + 3] == UInt8(ascii: "-") { continue }      // 421-4.7.28
                if i - start == 3 {                                                    // 421 4.7.28
                    var j = i
                    while j < end, l[j] == UInt8(ascii: " ") { j += 1 }
                    if l.byte(j) == UInt8(ascii: "4"), l.byte(j + 1) == UInt8(ascii: ".") {
                        while j < end, l[j] != UInt8(ascii: " ") { j += 1 }
                        i = j
                    }
                    continue
                }
            }
            if !first { out.append(UInt8(ascii: " ")) }
            out.append(contentsOf: UnsafeBufferPointer(start: l.base + start, count: i - start))
            first = false
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `4.7.0` right after `421 ` or `421-`.
    static func enhancedCode(_ l: ByteLine, after r: Int) -> String? {
        var i = r + 4
        guard l.byte(r + 3) == UInt8(ascii: " ") || l.byte(r + 3) == UInt8(ascii: "-") else { return nil }
        guard l.byte(i) == UInt8(ascii: "4"), l.byte(i + 1) == UInt8(ascii: ".") else { return nil }
        i += 2
        var digits = 0
        while ByteLine.isDigit(l.byte(i)), digits < 3 { i += 1; digits += 1 }
        guard digits > 0, l.byte(i) == UInt8(ascii: ".") else { return nil }
        i += 1
        digits = 0
        while ByteLine.isDigit(l.byte(i)), digits < 3 { i += 1; digits += 1 }
        guard digits > 0 else { return nil }
        return l.string(r + 4, i)
    }

    static func domain(of address: String) -> String? {
        var a = Substring(address)
        while a.hasPrefix("<") { a = a.dropFirst() }
        while a.hasSuffix(">") || a.hasSuffix(",") || a.hasSuffix(":") { a = a.dropLast() }
        guard let at = a.lastIndex(of: "@") else { return nil }
        let domain = a[a.index(after: at)...].lowercased()
        return domain.isEmpty ? nil : domain
    }

    /// The SMTP phase named in `in reply to RCPT TO command`, `after end of data`, `reject: RCPT from` ….
    static func phase(_ text: String) -> String {
        let t = text.lowercased()
        if t.contains("end of data") || t.contains("end of message") { return "end-of-data" }
        if t.hasPrefix("rcpt") || t.contains("rcpt to") || t.contains("pipelined rcpt") { return "rcpt" }
        if t.hasPrefix("mail") || t.contains("mail from") { return "mail" }
        if t.hasPrefix("data") || t.contains(" data") { return "data" }
        if t.contains("ehlo") || t.contains("helo") { return "helo" }
        if t.contains("starttls") { return "starttls" }
        if t.hasPrefix("auth") || t.contains(" auth") { return "auth" }
        if t.contains("quit") { return "quit" }
        if t.contains("connect") || t.contains("greeting") || t.contains("banner") { return "connect" }
        return "unknown"
    }

    private static let phases: [([UInt8], String)] = [
        ("end of data", "end-of-data"), ("end of message", "end-of-data"), ("rcpt", "rcpt"), ("mail", "mail"),
        ("data", "data"), ("ehlo", "helo"), ("helo", "helo"), ("lhlo", "helo"), ("starttls", "starttls"),
        ("auth", "auth"), ("quit", "quit"), ("initial connection", "connect"), ("connect", "connect"),
        ("greeting", "connect"), ("banner", "connect"),
    ].map { (Array($0.0.utf8), $0.1) }
    private static let pipelined = Array("pipelined ".utf8)

    /// The phase named at `i`: `RCPT TO command`, `end of DATA`, `pipelined RCPT TO:<…>`, `initial connection`.
    static func phase(_ l: ByteLine, at i: Int) -> String {
        var at = i
        if l.hasPrefixIgnoringCase(pipelined, at: at) { at += pipelined.count }
        for (name, phase) in phases where l.hasPrefixIgnoringCase(name, at: at) { return phase }
        return "unknown"
    }

    private static let ipMask = Array("<ip>".utf8)
    private static let numberMask = Array("<n>".utf8)
    private static let addressMask = Array("<addr>".utf8)

    /// A reply text with addresses, numbers and mail addresses masked, so that one kind of reply is one key.
    static func normalizeReply(_ reply: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(min(reply.utf8.count, 240))
        var source = reply
        return source.withUTF8 { all -> String in
            let bytes = UnsafeBufferPointer(rebasing: all.prefix(240))
            var i = 0
            while i < bytes.count {
                let b = bytes[i]
                if ByteLine.isDigit(b) {
                    var j = i
                    var dots = 0
                    while j < bytes.count, ByteLine.isDigit(bytes[j]) || bytes[j] == UInt8(ascii: ".") {
                        if bytes[j] == UInt8(ascii: ".") { dots += 1 }
                        j += 1
                    }
                    while j > i, bytes[j - 1] == UInt8(ascii: ".") { j -= 1; dots -= 1 }
                    let length = j - i
                    if dots == 3 && length >= 7 && i > 4 {
                        out += ipMask
                    } else if dots == 0 && length >= 5 {
                        out += numberMask
                    } else {
                        out += bytes[i..<j]
                    }
                    i = j
                    continue
                }
                if b == UInt8(ascii: "@") {
                    // Mask the local part already copied and the domain that follows.
                    while let last = out.last, last != UInt8(ascii: " "), last != UInt8(ascii: "<") { out.removeLast() }
                    out += addressMask
                    i += 1
                    while i < bytes.count, bytes[i] != UInt8(ascii: " "), bytes[i] != UInt8(ascii: ">") { i += 1 }
                    continue
                }
                if b == UInt8(ascii: " "), out.last == UInt8(ascii: " ") { i += 1; continue }
                out.append(b)
                i += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// The lowercased domain of the address in `start..<end` (`user@Example.COM>` → `example.com`).
    static func domain(_ l: ByteLine, _ start: Int, _ end: Int) -> String? {
        var e = min(end, l.count)
        while e > start, l[e - 1] == UInt8(ascii: ">") || l[e - 1] == UInt8(ascii: ",") || l[e - 1] == UInt8(ascii: ":") {
            e -= 1
        }
        var at = -1
        var i = start
        while i < e {
            if l[i] == UInt8(ascii: "@") { at = i }
            i += 1
        }
        guard at >= 0, at + 1 < e else { return nil }
        var bytes = [UInt8](UnsafeBufferPointer(start: l.base + at + 1, count: e - at - 1))
        for k in bytes.indices where bytes[k] &- 65 < 26 { bytes[k] |= 0x20 }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A line as an example: at most 400 bytes, invalid UTF-8 replaced, control characters made visible.
    static func sample(_ l: ByteLine) -> String {
        let cut = min(l.count, 400)
        var text = Sanitizer.neutralize(l.string(0, cut))
        if cut < l.count { text += " …" }
        return text
    }

    /// Splits a CSV line, honouring double quotes.
    static func csv(_ l: ByteLine) -> [String] {
        var fields: [String] = []
        var current: [UInt8] = []
        var quoted = false
        var i = 0
        while i < l.count, fields.count < 64 {
            let b = l[i]
            if quoted {
                if b == UInt8(ascii: "\"") {
                    if l.byte(i + 1) == UInt8(ascii: "\"") { current.append(b); i += 1 } else { quoted = false }
                } else {
                    current.append(b)
                }
            } else if b == UInt8(ascii: "\"") {
                quoted = true
            } else if b == UInt8(ascii: ",") {
                fields.append(String(decoding: current, as: UTF8.self))
                current = []
            } else {
                current.append(b)
            }
            i += 1
        }
        fields.append(String(decoding: current, as: UTF8.self))
        return fields
    }

    /// Whether a 421 outside a known log format is an SMTP or an FTP reply (or neither).
    static func replyProtocol(reply: String, line: ByteLine) -> String? {
        let text = reply.lowercased()
        if text.range421Enhanced() { return "smtp" }
        let smtpWords = ["smtp", "esmtp", "transmission channel", "gsmtp", "mail", "too many connections from",
                         "service not available, closing transmission", "helo", "ehlo", "rcpt", "postfix", "exim"]
        let ftpWords = ["control connection", "ftp", "connected users", "users (the maximum)", "timeout.",
                        "login timeout", "idle timeout", "no transfer timeout", "data timeout"]
        if ftpWords.contains(where: text.contains) { return "ftp" }
        if smtpWords.contains(where: text.contains) { return "smtp" }
        let whole = line.string(0, min(line.count, 400)).lowercased()
        if whole.contains("ftp") { return "ftp" }
        if whole.contains("smtp") || whole.contains("mail") { return "smtp" }
        return nil
    }
}

extension String {
    /// `421 4.x.x` or `421-4.x.x` at the start.
    fileprivate func range421Enhanced() -> Bool {
        let u = Array(utf8.prefix(10))
        return u.count >= 8 && u[0] == 52 && u[1] == 50 && u[2] == 49 && (u[3] == 32 || u[3] == 45)
            && u[4] == 52 && u[5] == 46 && ByteLine.isDigit(u[6])
    }
}

/// Mail providers by the host names of their MX and relays, recipient domains and reply texts.
public enum MailProviders {
    private static let relaySuffixes: [(String, String)] = [
        ("google.com", "gmail"), ("googlemail.com", "gmail"), ("gmail.com", "gmail"),
        ("outlook.com", "microsoft"), ("hotmail.com", "microsoft"), ("live.com", "microsoft"),
        ("office365.com", "microsoft"), ("microsoft.com", "microsoft"), ("msn.com", "microsoft"),
        ("yahoodns.net", "yahoo"), ("yahoo.com", "yahoo"), ("yahoo.net", "yahoo"), ("aol.com", "yahoo"),
        ("icloud.com", "icloud"), ("me.com", "icloud"), ("mac.com", "icloud"), ("apple.com", "icloud"),
        ("comcast.net", "comcast"), ("gmx.net", "gmx"), ("gmx.de", "gmx"), ("gmx.com", "gmx"), ("web.de", "gmx"),
        ("mimecast.com", "mimecast"), ("pphosted.com", "proofpoint"), ("ppe-hosted.com", "proofpoint"),
        ("proofpoint.com", "proofpoint"), ("secureserver.net", "godaddy"), ("orange.fr", "orange"),
        ("wanadoo.fr", "orange"), ("amazonses.com", "amazon-ses"), ("amazonaws.com", "amazon-ses"),
        ("zoho.com", "zoho"), ("zohomail.com", "zoho"), ("yandex.net", "yandex"), ("yandex.ru", "yandex"),
        ("mail.ru", "mailru"), ("qq.com", "qq"), ("t-online.de", "t-online"), ("messagingengine.com", "fastmail"),
        ("fastmail.com", "fastmail"), ("protonmail.ch", "proton"), ("proton.me", "proton"),
        ("barracudanetworks.com", "barracuda"), ("mailgun.org", "mailgun"), ("sendgrid.net", "sendgrid"),
    ]

    private static let domains: [String: String] = [
        "gmail.com": "gmail", "googlemail.com": "gmail",
        "outlook.com": "microsoft", "hotmail.com": "microsoft", "live.com": "microsoft", "msn.com": "microsoft",
        "hotmail.co.uk": "microsoft", "hotmail.fr": "microsoft", "outlook.de": "microsoft", "live.co.uk": "microsoft",
        "yahoo.com": "yahoo", "aol.com": "yahoo", "ymail.com": "yahoo", "rocketmail.com": "yahoo",
        "yahoo.co.uk": "yahoo", "yahoo.fr": "yahoo", "yahoo.de": "yahoo",
        "icloud.com": "icloud", "me.com": "icloud", "mac.com": "icloud",
        "comcast.net": "comcast", "gmx.de": "gmx", "gmx.net": "gmx", "gmx.com": "gmx", "web.de": "gmx",
        "orange.fr": "orange", "wanadoo.fr": "orange", "t-online.de": "t-online", "yandex.ru": "yandex",
        "mail.ru": "mailru", "qq.com": "qq", "proton.me": "proton", "protonmail.com": "proton",
    ]

    /// The provider of a relay host (`gmail-smtp-in.l.google.com` → gmail).
    public static func provider(relay host: String) -> String? {
        let h = host.lowercased().trimmingTrailingDot()
        for (suffix, provider) in relaySuffixes where h == suffix || h.hasSuffix("." + suffix) {
            return provider
        }
        return nil
    }

    /// The provider behind a recipient domain (`hotmail.com` → microsoft).
    public static func provider(domain: String) -> String? {
        domains[domain.lowercased()]
    }

    /// The provider a reply text names (` - gsmtp`, `[TSS04]`, `protection.outlook.com`).
    private static let replyHints: [([UInt8], String)] = [
        ("gsmtp", "gmail"), ("support.google.com", "gmail"), ("[ts0", "yahoo"), ("[tss0", "yahoo"), ("yahoo", "yahoo"),
        ("outlook.com", "microsoft"), ("hotmail", "microsoft"), ("rp-00", "microsoft"), ("(s77", "microsoft"),
        ("icloud", "icloud"), ("support.apple.com", "icloud"), ("nemesis", "gmx"), ("gmx", "gmx"), ("web.de", "gmx"),
        ("comcast", "comcast"),
    ].map { (Array($0.0.utf8), $0.1) }

    public static func provider(reply: String) -> String? {
        var bytes = Array(reply.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress else { return nil }
            let line = ByteLine(base: UnsafePointer(base), count: buffer.count)
            for (hint, provider) in replyHints where line.findIgnoringCase(hint) != nil { return provider }
            return nil
        }
    }

    static func provider(relay: String?, domain: String?, reply: String) -> String {
        if let relay, let p = provider(relay: relay) { return p }
        if let domain, let p = provider(domain: domain) { return p }
        return provider(reply: reply) ?? "other"
    }
}

extension String {
    fileprivate func trimmingTrailingDot() -> String { hasSuffix(".") ? String(dropLast()) : self }
}
