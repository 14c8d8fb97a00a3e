import Foundation

/// HTTP status codes and versions in pasted responses, curl output and web server logs.
struct WebFactsParser: Sendable {
    struct Output {
        /// Statuses the text states as HTTP (status lines, `:status`, access logs, JSON logs, the reason phrase).
        var statuses: [(code: Int, order: (Int, Int))] = []
        /// Statuses only worded loosely ("error 421", "400 错误"); HTTP only when the verdict is HTTP.
        var looseStatuses: [(code: Int, order: (Int, Int))] = []
        var versions: [(version: String, order: (Int, Int))] = []
    }

    private static let methods = "GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT|PROPFIND"

    private let statusLine: NSRegularExpression?
    private let pseudoStatus: NSRegularExpression?
    private let accessLog: NSRegularExpression?
    private let jsonStatus: NSRegularExpression?
    private let reasonPhrase: NSRegularExpression?
    private let loose: NSRegularExpression?
    private let looseAfter: NSRegularExpression?
    private let versionWord: NSRegularExpression?
    private let jsonProto: NSRegularExpression?
    private let alpn: NSRegularExpression?
    private let curlFlag: NSRegularExpression?

    init() {
        statusLine = SymptomRegex.compile(#"\bHTTP/(1\.[01]|2(?:\.0)?|3(?:\.0)?)\s+([1-5]\d\d)\b"#)
        pseudoStatus = SymptomRegex.compile(#":status["'\]\s:=,]{0,8}([1-5]\d\d)\b"#)
        accessLog = SymptomRegex.compile(
            #""(?:"# + Self.methods + #")\s+\S{1,2048}\s+HTTP/([0-9.]{1,3})"\s+([1-5]\d\d)\b"#, caseSensitive: true)
        jsonStatus = SymptomRegex.compile(#""status"\s{0,3}:\s{0,3}"?([1-5]\d\d)\b"#)
        reasonPhrase = SymptomRegex.compile(#"misdirected request"#)
        loose = SymptomRegex.compile(
            #"\b(?:error|status(?:\s+code)?|code|returned|returns|returning|got|gets|返回|报错|错误)\s{0,3}[:=]?\s{0,3}["'(]?([1-5]\d\d)\b(?![.\d])"#)
        looseAfter = SymptomRegex.compile(#"\b([1-5]\d\d)\s{0,3}(?:errors?\b|错误|status\b|response\b)"#)
        versionWord = SymptomRegex.compile(#"\bHTTP/(1\.[01]|2(?:\.0)?|3(?:\.0)?)(?![\d.])|\bhttp([23])\b"#)
        jsonProto = SymptomRegex.compile(#""(?:proto|protocol)"\s{0,3}:\s{0,3}"(?:HTTP/(\d(?:\.\d)?)|(h2|h3))""#)
        alpn = SymptomRegex.compile(#"\balpn\b[^\n]{0,60}?(?<![\w/.-])(h2|h3|http/1\.1)(?![\w.-])|\((h2|h3)\)"#)
        curlFlag = SymptomRegex.compile(#"--http(1\.1|1\.0|2|3)\b"#)
    }

    var isComplete: Bool {
        [statusLine, pseudoStatus, accessLog, jsonStatus, reasonPhrase, loose, looseAfter, versionWord, jsonProto, alpn, curlFlag]
            .allSatisfy { $0 != nil }
    }

    func parse(_ text: SymptomText, index: Int) -> Output {
        var out = Output()
        let hasHTTP = text.contains(Array("http".utf8))
        if hasHTTP, let statusLine {
            for m in text.matches(statusLine) {
                add(text.group(m, 2), to: &out.statuses, at: (index, m.range.location))
                addVersion(text.group(m, 1), to: &out, at: (index, m.range.location))
            }
        }
        if text.contains(Array(":status".utf8)), let pseudoStatus {
            for m in text.matches(pseudoStatus) {
                add(text.group(m, 1), to: &out.statuses, at: (index, m.range.location))
            }
        }
        if hasHTTP, let accessLog {
            for m in text.matches(accessLog) {
                add(text.group(m, 2), to: &out.statuses, at: (index, m.range.location))
                addVersion(text.group(m, 1), to: &out, at: (index, m.range.location))
            }
        }
        if text.contains(Array("\"status\"".utf8)), let jsonStatus {
            for m in text.matches(jsonStatus) {
                add(text.group(m, 1), to: &out.statuses, at: (index, m.range.location))
            }
        }
        if text.contains(Array("misdirected request".utf8)), let reasonPhrase, let m = text.firstMatch(reasonPhrase) {
            out.statuses.append((421, (index, m.range.location)))
        }
        let looseWords = ["error", "status", "code", "return", "got", "gets", "返回", "报错", "错误"]
        if let loose, looseWords.contains(where: { text.contains(Array($0.utf8)) }) {
            for m in text.matches(loose, limit: 200) {
                add(text.group(m, 1), to: &out.looseStatuses, at: (index, m.range.location))
            }
        }
        let afterWords = ["error", "错误", "status", "response"]
        if let looseAfter, afterWords.contains(where: { text.contains(Array($0.utf8)) }) {
            for m in text.matches(looseAfter, limit: 200) {
                add(text.group(m, 1), to: &out.looseStatuses, at: (index, m.range.location))
            }
        }
        if hasHTTP, let versionWord {
            for m in text.matches(versionWord, limit: 200) {
                addVersion(text.group(m, 1) ?? text.group(m, 2), to: &out, at: (index, m.range.location))
            }
        }
        if text.contains(Array("proto".utf8)), let jsonProto {
            for m in text.matches(jsonProto, limit: 200) {
                addVersion(text.group(m, 1) ?? text.group(m, 2), to: &out, at: (index, m.range.location))
            }
        }
        if let alpn, text.contains(Array("h2".utf8)) || text.contains(Array("h3".utf8)) || hasHTTP {
            for m in text.matches(alpn, limit: 200) {
                addVersion(text.group(m, 1) ?? text.group(m, 2), to: &out, at: (index, m.range.location))
            }
        }
        if text.contains(Array("--http".utf8)), let curlFlag {
            for m in text.matches(curlFlag, limit: 200) {
                addVersion(text.group(m, 1), to: &out, at: (index, m.range.location))
            }
        }
        return out
    }

    private func add(_ code: String?, to list: inout [(code: Int, order: (Int, Int))], at order: (Int, Int)) {
        guard let code, !code.isEmpty, let value = Int(code) else { return }
        list.append((value, order))
    }

    private func addVersion(_ raw: String?, to out: inout Output, at order: (Int, Int)) {
        guard let raw, !raw.isEmpty else { return }
        let version: String
        switch raw.lowercased() {
        case "1.0", "http/1.0": version = "1.0"
        case "1.1", "http/1.1": version = "1.1"
        case "2", "2.0", "h2": version = "2"
        case "3", "3.0", "h3": version = "3"
        default: return
        }
        out.versions.append((version, order))
    }
}
