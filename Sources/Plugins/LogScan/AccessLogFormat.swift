import Engine

/// The fields of one access-log request that the 421 tables use.
struct AccessRecord {
    var status: Int
    var host: String?
    var vhost: String?
    var client: String?
    var sni: String?
    var minute: Int
    var method: String?
}

/// An access-log format compiled from Apache `LogFormat` or nginx `log_format` syntax.
struct AccessLogFormat: Sendable {
    enum Field: Sendable, Equatable {
        case client, time, request, status, vhost, host, sni, port, isoTime, other
    }

    enum Element: Sendable, Equatable {
        case literal([UInt8])
        case field(Field)
    }

    let elements: [Element]
    let source: String

    static let common = #"%h %l %u %t \"%r\" %>s %b"#
    static let combined = #"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\""#
    static let vhostCombined = #"%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\""#

    /// Compiles a nickname (`common`, `combined`, `vhost_combined`), an Apache `LogFormat` string or an nginx
    /// `log_format` string. Throws when the format cannot tell the status.
    init(_ spec: String) throws(KBError) {
        var format = spec
        switch spec.lowercased() {
        case "common", "clf": format = Self.common
        case "combined", "nginx", "nginx-combined": format = Self.combined
        case "vhost_combined", "vhost-combined": format = Self.vhostCombined
        default: break
        }
        source = format
        let unescaped = format.replacingBackslashQuotes()
        elements = unescaped.contains("%") && !unescaped.contains("$") ? Self.apache(unescaped) : Self.nginx(unescaped)
        guard elements.contains(.field(.status)) else {
            throw KBError(.invalidValue, "access-log format '\(spec)' has no status field (%>s, %s or $status)")
        }
    }

    private static func apache(_ format: String) -> [Element] {
        var out: [Element] = []
        var literal: [UInt8] = []
        let bytes = Array(format.utf8)
        var i = 0
        func flush() {
            if !literal.isEmpty { out.append(.literal(literal)); literal = [] }
        }
        while i < bytes.count {
            let b = bytes[i]
            guard b == UInt8(ascii: "%"), i + 1 < bytes.count else {
                literal.append(b)
                i += 1
                continue
            }
            if bytes[i + 1] == UInt8(ascii: "%") {
                literal.append(b)
                i += 2
                continue
            }
            i += 1
            // Modifiers: <, >, !, status lists such as 400,501.
            while i < bytes.count, bytes[i] == UInt8(ascii: "<") || bytes[i] == UInt8(ascii: ">")
                    || bytes[i] == UInt8(ascii: "!") || bytes[i] == UInt8(ascii: ",") || ByteLine.isDigit(bytes[i]) {
                i += 1
            }
            var argument = ""
            if i < bytes.count, bytes[i] == UInt8(ascii: "{") {
                let start = i + 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "}") { i += 1 }
                argument = String(decoding: bytes[start..<min(i, bytes.count)], as: UTF8.self).lowercased()
                i += 1
            }
            guard i < bytes.count else { break }
            let letter = bytes[i]
            i += 1
            let field: Field
            switch letter {
            case UInt8(ascii: "h"), UInt8(ascii: "a"): field = .client
            case UInt8(ascii: "t"): field = argument.isEmpty ? .time : .other
            case UInt8(ascii: "r"): field = .request
            case UInt8(ascii: "s"): field = .status
            case UInt8(ascii: "v"), UInt8(ascii: "V"): field = .vhost
            case UInt8(ascii: "p"): field = .port
            case UInt8(ascii: "i"): field = argument == "host" ? .host : .other
            case UInt8(ascii: "x"), UInt8(ascii: "e"): field = argument == "ssl_tls_sni" ? .sni : .other
            default: field = .other
            }
            flush()
            out.append(.field(field))
        }
        flush()
        return out
    }

    private static func nginx(_ format: String) -> [Element] {
        var out: [Element] = []
        var literal: [UInt8] = []
        let bytes = Array(format.utf8)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "$") else {
                literal.append(bytes[i])
                i += 1
                continue
            }
            i += 1
            var braced = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "{") { braced = true; i += 1 }
            let start = i
            while i < bytes.count, ByteLine.isAlpha(bytes[i]) || ByteLine.isDigit(bytes[i]) || bytes[i] == UInt8(ascii: "_") {
                i += 1
            }
            let name = String(decoding: bytes[start..<i], as: UTF8.self)
            if braced, i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1 }
            let field: Field
            switch name {
            case "remote_addr", "binary_remote_addr", "realip_remote_addr", "proxy_add_x_forwarded_for": field = .client
            case "time_local": field = .time
            case "time_iso8601": field = .isoTime
            case "request": field = .request
            case "status": field = .status
            case "host", "http_host": field = .host
            case "server_name": field = .vhost
            case "ssl_server_name": field = .sni
            case "server_port": field = .port
            default: field = .other
            }
            if !literal.isEmpty { out.append(.literal(literal)); literal = [] }
            out.append(.field(field))
        }
        if !literal.isEmpty { out.append(.literal(literal)) }
        return out
    }

    /// Reads a line by the format: each field runs to the next literal (a `%t` value to its `]`, a quoted
    /// field past escaped quotes).
    func parse(_ line: ByteLine, lastYear: Int) -> AccessRecord? {
        var record = AccessRecord(status: 0, host: nil, vhost: nil, client: nil, sni: nil, minute: MinuteKey.none, method: nil)
        var i = 0
        var index = 0
        while index < elements.count {
            switch elements[index] {
            case .literal(let bytes):
                guard line.hasPrefix(bytes, at: i) else { return nil }
                i += bytes.count
            case .field(let field):
                var end: Int
                let next: [UInt8]? = {
                    if index + 1 < elements.count, case .literal(let l) = elements[index + 1] { return l }
                    return nil
                }()
                if field == .time, line.byte(i) == UInt8(ascii: "[") {
                    guard let close = line.index(of: UInt8(ascii: "]"), from: i) else { return nil }
                    end = close + 1
                } else if let stop = next?.first {
                    end = i
                    let quoted = i > 0 && line[i - 1] == UInt8(ascii: "\"") && stop == UInt8(ascii: "\"")
                    while end < line.count {
                        let b = line[end]
                        if quoted, b == UInt8(ascii: "\\") { end += 2; continue }
                        if b == stop { break }
                        end += 1
                    }
                    end = min(end, line.count)
                } else {
                    end = line.count
                }
                apply(field, line, i, end, &record, lastYear: lastYear)
                i = end
            }
            index += 1
        }
        return record.status > 0 ? record : nil
    }

    private func apply(_ field: Field, _ line: ByteLine, _ start: Int, _ end: Int, _ record: inout AccessRecord,
                       lastYear: Int) {
        switch field {
        case .status:
            if end - start == 3, let status = line.digits(at: start, count: 3) { record.status = status }
        case .client:
            record.client = line.string(start, end)
        case .vhost:
            record.vhost = line.host(start, end)
        case .host:
            record.host = line.host(start, end)
        case .sni:
            record.sni = line.string(start, end)
        case .time:
            record.minute = LogTime.clf(line, from: start, to: end)
        case .isoTime:
            record.minute = LogTime.iso(line, at: start)
        case .request:
            let (method, host) = LogFields.request(line, start, end)
            record.method = method
            if record.host == nil, let host { record.host = host }
        case .port, .other:
            break
        }
    }
}

extension String {
    /// `\"` → `"`, as a LogFormat string in a config file is written.
    fileprivate func replacingBackslashQuotes() -> String {
        var out = ""
        var escape = false
        for c in self {
            if escape {
                if c != "\"" { out.append("\\") }
                out.append(c)
                escape = false
            } else if c == "\\" {
                escape = true
            } else {
                out.append(c)
            }
        }
        if escape { out.append("\\") }
        return out
    }
}

/// Small field readers shared by the line parsers.
enum LogFields {
    static func stripPort(_ s: String) -> String {
        if s.hasPrefix("[") { return s }
        guard let colon = s.lastIndex(of: ":") else { return s }
        let port = s[s.index(after: colon)...]
        guard !port.isEmpty, port.utf8.allSatisfy(ByteLine.isDigit), !s[..<colon].contains(":") else { return s }
        return String(s[..<colon])
    }

    /// The method and, for an absolute-form target (`GET https://host/ HTTP/1.1`), the host.
    static func request(_ line: ByteLine, _ start: Int, _ end: Int) -> (String?, String?) {
        guard let space = line.index(of: UInt8(ascii: " "), from: start), space < end else {
            return (end > start ? line.string(start, min(end, start + 16)) : nil, nil)
        }
        let method = line.string(start, min(space, start + 16))
        var i = space + 1
        var scheme = 0
        if line.hasPrefix(Array("http://".utf8), at: i) { scheme = 7 }
        if line.hasPrefix(Array("https://".utf8), at: i) { scheme = 8 }
        guard scheme > 0 else { return (method, nil) }
        i += scheme
        let (host, _) = line.token(from: i) { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "?") }
        return (method, host.isEmpty ? nil : stripPort(host))
    }
}
