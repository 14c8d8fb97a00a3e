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

    private let statusLine: RegexPattern
    private let pseudoStatus: RegexPattern
    private let accessLog: RegexPattern
    private let jsonStatus: RegexPattern
    private let reasonPhrase: RegexPattern
    private let loose: RegexPattern
    private let looseAfter: RegexPattern
    private let versionWord: RegexPattern
    private let jsonProto: RegexPattern
    private let alpn: RegexPattern
    private let curlFlag: RegexPattern

    init() {
        statusLine = SymptomRegex.compile(#"\bHTTP/(1\.[01]|2(?:\.0)?|3(?:\.0)?)\s+([1-5]\d\d)\b"#)
        pseudoStatus = SymptomRegex.compile(#":status["'\]\s:=,]{0,8}([1-5]\d\d)\b"#)
        accessLog = SymptomRegex.compile(
            #""(?:"# + Self.methods + #")\s+\S+\s+HTTP/([0-9.]{1,3})"\s+([1-5]\d\d)\b"#, caseSensitive: true)
        jsonStatus = SymptomRegex.compile(#""status"\s{0,3}:\s{0,3}"?([1-5]\d\d)\b"#)
        reasonPhrase = SymptomRegex.compile(#"misdirected request"#)
        loose = SymptomRegex.compile(
            #"(?:\b(?:error|status(?:\s+code)?|code|returned|returns|returning|got|gets)|返回|报错|错误)\s{0,3}[:=]?\s{0,3}["'(]?([1-5]\d\d)(?:[^\pL\pM\p{Nd}\p{Pc}.]|\z)"#)
        looseAfter = SymptomRegex.compile(#"\b([1-5]\d\d)\s{0,3}(?:errors?\b|错误|status\b|response\b)"#)
        // `(?![\d.])` after the version is checked in `parse`
        versionWord = SymptomRegex.compile(#"\bHTTP/(1\.[01]|2(?:\.0)?|3(?:\.0)?)|\bhttp([23])\b"#)
        jsonProto = SymptomRegex.compile(#""(?:proto|protocol)"\s{0,3}:\s{0,3}"(?:HTTP/(\d(?:\.\d)?)|(h2|h3))""#)
        // the id stands alone: after a character other than a word one, '/', '.' or '-', and before none of those
        alpn = SymptomRegex.compile(
            #"\balpn\b[^\n]{0,59}?[^\pL\pM\p{Nd}\p{Pc}/.\n-](h2|h3|http/1\.1)(?:[^\pL\pM\p{Nd}\p{Pc}.-]|$)|\((h2|h3)\)"#)
        curlFlag = SymptomRegex.compile(#"--http(1\.1|1\.0|2|3)\b"#)
    }

    /// Patterns RE2 rejects (tests assert there are none); compiles them all.
    var invalidPatterns: [String] {
        [statusLine, pseudoStatus, accessLog, jsonStatus, reasonPhrase, loose, looseAfter, versionWord, jsonProto, alpn, curlFlag]
            .filter { $0.check() != nil }.map(\.source)
    }

    func parse(_ text: SymptomText, index: Int) -> Output {
        var out = Output()
        let hasHTTP = text.contains(Array("http".utf8))
        if hasHTTP {
            for m in text.matches(statusLine) {
                add(text.group(m, 2), to: &out.statuses, at: (index, m.range.lowerBound))
                addVersion(text.group(m, 1), to: &out, at: (index, m.range.lowerBound))
            }
        }
        if text.contains(Array(":status".utf8)) {
            for m in text.matches(pseudoStatus) {
                add(text.group(m, 1), to: &out.statuses, at: (index, m.range.lowerBound))
            }
        }
        if hasHTTP {
            for m in text.matches(accessLog) {
                add(text.group(m, 2), to: &out.statuses, at: (index, m.range.lowerBound))
                addVersion(text.group(m, 1), to: &out, at: (index, m.range.lowerBound))
            }
        }
        if text.contains(Array("\"status\"".utf8)) {
            for m in text.matches(jsonStatus) {
                add(text.group(m, 1), to: &out.statuses, at: (index, m.range.lowerBound))
            }
        }
        if text.contains(Array("misdirected request".utf8)), let m = text.firstMatch(reasonPhrase) {
            out.statuses.append((421, (index, m.range.lowerBound)))
        }
        let looseWords = ["error", "status", "code", "return", "got", "gets", "返回", "报错", "错误"]
        if looseWords.contains(where: { text.contains(Array($0.utf8)) }) {
            for m in text.matches(loose, limit: 200) {
                add(text.group(m, 1), to: &out.looseStatuses, at: (index, m.range.lowerBound))
            }
        }
        let afterWords = ["error", "错误", "status", "response"]
        if afterWords.contains(where: { text.contains(Array($0.utf8)) }) {
            for m in text.matches(looseAfter, limit: 200) {
                add(text.group(m, 1), to: &out.looseStatuses, at: (index, m.range.lowerBound))
            }
        }
        if hasHTTP {
            let ends: (RegexMatch) -> Bool = { m in
                guard let version = m[1] else { return true }
                let next = text.byte(at: version.upperBound)
                return next != 0x2E && !(next.map(SymptomCueTable.isDigit) ?? false)
            }
            for m in text.matches(versionWord, limit: 200, accept: ends) {
                addVersion(text.group(m, 1) ?? text.group(m, 2), to: &out, at: (index, m.range.lowerBound))
            }
        }
        if text.contains(Array("proto".utf8)) {
            for m in text.matches(jsonProto, limit: 200) {
                addVersion(text.group(m, 1) ?? text.group(m, 2), to: &out, at: (index, m.range.lowerBound))
            }
        }
        if text.contains(Array("h2".utf8)) || text.contains(Array("h3".utf8)) || hasHTTP {
            for m in text.matches(alpn, limit: 200) {
                addVersion(text.group(m, 1) ?? text.group(m, 2), to: &out, at: (index, m.range.lowerBound))
            }
        }
        if text.contains(Array("--http".utf8)) {
            for m in text.matches(curlFlag, limit: 200) {
                addVersion(text.group(m, 1), to: &out, at: (index, m.range.lowerBound))
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
