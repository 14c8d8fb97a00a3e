/// What a log line is, judged from its first bytes only (cheap enough for every line).
enum LineKind: Int, CaseIterable {
    case empty, access, apacheError, nginxError, postfix, exim, exchange, sendmail, vsftpd, proftpd, pureftpd
    case syslog, header, transcript, other

    var name: String {
        switch self {
        case .empty: return "empty"
        case .access: return "access"
        case .apacheError: return "apache-error"
        case .nginxError: return "nginx-error"
        case .postfix: return "postfix"
        case .exim: return "exim"
        case .exchange: return "exchange"
        case .sendmail: return "sendmail"
        case .vsftpd, .proftpd, .pureftpd: return "ftp"
        case .syslog: return "syslog"
        case .header: return "header"
        case .transcript: return "transcript"
        case .other: return "other"
        }
    }

    /// The input kind (`InputText.kind`) this line suggests.
    var inputKind: String? {
        switch self {
        case .access: return "access-log"
        case .apacheError, .nginxError: return "error-log"
        case .postfix, .exim, .exchange, .sendmail: return "mail-log"
        case .vsftpd, .proftpd, .pureftpd: return "ftp-log"
        default: return nil
        }
    }

    var isMail: Bool { self == .postfix || self == .exim || self == .exchange || self == .sendmail }
    var isFTP: Bool { self == .vsftpd || self == .proftpd || self == .pureftpd }

    var ftpServer: String {
        switch self {
        case .vsftpd: return "vsftpd"
        case .proftpd: return "proftpd"
        case .pureftpd: return "pure-ftpd"
        default: return "other"
        }
    }
}

enum LineClassifier {
    private static let space = UInt8(ascii: " ")

    static func classify(_ l: ByteLine) -> LineKind {
        guard l.count > 0 else { return .empty }
        let b0 = l[0]
        if b0 == UInt8(ascii: "[") {
            // `[01/Dec/2026:10:00:00 +0000] …`: an access log that starts with its time (Nginx Proxy Manager).
            if ByteLine.isDigit(l.byte(1)), l.byte(3) == UInt8(ascii: "/"), l.month(at: 4) != nil { return .access }
            return .apacheError
        }
        if b0 == UInt8(ascii: "{") { return AccessAuto.parse(l) != nil ? .access : .other }
        if b0 == UInt8(ascii: "#") { return .header }
        if ByteLine.isDigit(b0) {
            if l.count > 19, ByteLine.isDigit(l[1]), ByteLine.isDigit(l[2]), ByteLine.isDigit(l[3]) {
                let b4 = l[4]
                if b4 == UInt8(ascii: "/") { return .nginxError }
                if b4 == UInt8(ascii: "-") {
                    let b10 = l[10]
                    if b10 == UInt8(ascii: "T") {
                        let sp = l.index(of: space) ?? l.count
                        let comma = l.index(of: UInt8(ascii: ","), from: 0) ?? l.count
                        if comma < sp { return .exchange }
                        let program = syslogProgram(l, from: sp + 1)
                        // `2026-12-01T10:00:00+00:00 … "GET / HTTP/1.1" 421`: an access log with an ISO time.
                        return program == .syslog && AccessAuto.parse(l) != nil ? .access : program
                    }
                    if b10 == space {
                        // proftpd: `2025-07-04 12:00:00,123 host proftpd[…]`; Exim: `2025-07-04 12:00:00 1uAbCd-…`
                        if l.byte(19) == UInt8(ascii: ",") { return .proftpd }
                        return AccessAuto.parse(l) != nil ? .access : .exim
                    }
                }
            }
            if l.count >= 4, b0 == UInt8(ascii: "4"), l[1] == UInt8(ascii: "2"), l[2] == UInt8(ascii: "1"),
               l[3] == space || l[3] == UInt8(ascii: "-") {
                return .transcript
            }
            return looksLikeAccess(l) ? .access : .other
        }
        if l.byte(3) == space {
            if l.month(at: 0) != nil, l.count > 16 { return syslogProgram(l, from: 16) }
            if l.isWeekday(at: 0), l.month(at: 4) != nil { return .vsftpd }
        }
        return looksLikeAccess(l) ? .access : .other
    }

    /// `host program[pid]: …` after a syslog timestamp.
    private static func syslogProgram(_ l: ByteLine, from start: Int) -> LineKind {
        var i = start
        while i < l.count, l[i] == space { i += 1 }
        guard let hostEnd = l.index(of: space, from: i) else { return .syslog }
        let p = hostEnd + 1
        guard p + 4 < l.count else { return .syslog }
        switch l[p] {
        case UInt8(ascii: "p"):
            if l.hasPrefix(postfix, at: p) { return .postfix }
            if l.hasPrefix(proftpd, at: p) { return .proftpd }
            if l.hasPrefix(pureftpd, at: p) { return .pureftpd }
        case UInt8(ascii: "e"):
            if l.hasPrefix(exim, at: p) { return .exim }
        case UInt8(ascii: "s"):
            if l.hasPrefix(sendmail, at: p) || l.hasPrefix(smMTA, at: p) { return .sendmail }
        case UInt8(ascii: "v"):
            if l.hasPrefix(vsftpd, at: p) { return .vsftpd }
        case UInt8(ascii: "n"):
            if l.hasPrefix(nginx, at: p) { return .nginxError }
        case UInt8(ascii: "a"), UInt8(ascii: "h"):
            if l.hasPrefix(apache2, at: p) || l.hasPrefix(httpd, at: p) { return .apacheError }
        case UInt8(ascii: "M"):
            if l.hasPrefix(msexchange, at: p) { return .exchange }
        default:
            break
        }
        return .syslog
    }

    /// `… [10/Oct/2000:13:55:36 -0700] "GET …`: a `[` after a space, a digit after it, within the first bytes.
    private static func looksLikeAccess(_ l: ByteLine) -> Bool {
        let limit = min(l.count, 320)
        var from = 0
        while let open = l.index(of: UInt8(ascii: "["), from: from), open < limit {
            if open > 0, l[open - 1] == space, ByteLine.isDigit(l.byte(open + 1)) {
                return l.index(of: UInt8(ascii: "\""), from: open) != nil
            }
            from = open + 1
        }
        // Layouts without a bracketed time: a quoted request followed by its status.
        return l.index(of: UInt8(ascii: "\"")).map { $0 < limit } == true && AccessAuto.parse(l) != nil
    }

    private static let postfix = Array("postfix".utf8)
    private static let proftpd = Array("proftpd".utf8)
    private static let pureftpd = Array("pure-ftpd".utf8)
    private static let exim = Array("exim".utf8)
    private static let sendmail = Array("sendmail".utf8)
    private static let smMTA = Array("sm-mta".utf8)
    private static let vsftpd = Array("vsftpd".utf8)
    private static let nginx = Array("nginx".utf8)
    private static let apache2 = Array("apache".utf8)
    private static let httpd = Array("httpd".utf8)
    private static let msexchange = Array("MSExchange".utf8)
}

/// Timestamps of the log formats kb reads, to the minute.
enum LogTime {
    /// `[10/Oct/2000:13:55:36 -0700]` or `10/Oct/2000:13:55:36` somewhere in `from..<to`.
    static func clf(_ l: ByteLine, from: Int, to: Int) -> Int {
        var i = from
        if l.byte(i) == UInt8(ascii: "[") { i += 1 }
        guard i + 17 <= min(to, l.count), let day = l.digits(at: i, count: 2), l.byte(i + 2) == UInt8(ascii: "/"),
              let month = l.month(at: i + 3), let year = l.digits(at: i + 7, count: 4),
              let hour = l.digits(at: i + 12, count: 2), let minute = l.digits(at: i + 15, count: 2) else { return MinuteKey.none }
        return MinuteKey.make(year: year, month: month, day: day, hour: hour, minute: minute)
    }

    /// `2025-07-01T00:00:31…`, `2025-07-01 00:00:31…` or `2025/07/01 00:00:31`.
    static func iso(_ l: ByteLine, at i: Int) -> Int {
        guard let year = l.digits(at: i, count: 4), let month = l.digits(at: i + 5, count: 2),
              let day = l.digits(at: i + 8, count: 2), let hour = l.digits(at: i + 11, count: 2),
              let minute = l.digits(at: i + 14, count: 2) else { return MinuteKey.none }
        return MinuteKey.make(year: year, month: month, day: day, hour: hour, minute: minute)
    }

    /// A day of month written `04`, ` 4` or `4 `.
    private static func day(_ l: ByteLine, at i: Int) -> Int? {
        if let d = l.digits(at: i, count: 2) { return d }
        if l.byte(i) == UInt8(ascii: " "), let d = l.digits(at: i + 1, count: 1) { return d }
        return nil
    }

    /// The time at the start of a line of any supported kind; syslog lines borrow `year`.
    static func leading(_ l: ByteLine, kind: LineKind, year: Int) -> Int {
        guard l.count >= 15 else { return MinuteKey.none }
        if kind == .access {
            guard let open = l.index(of: UInt8(ascii: "[")) else { return MinuteKey.none }
            return clf(l, from: open, to: l.count)
        }
        if l[0] == UInt8(ascii: "[") {
            if ByteLine.isDigit(l.byte(1)) { return iso(l, at: 1) }
            // [Fri Jul 04 12:00:00.123456 2025]
            guard let month = l.month(at: 5), let d = day(l, at: 9), let hour = l.digits(at: 12, count: 2),
                  let minute = l.digits(at: 15, count: 2) else { return MinuteKey.none }
            var y = year
            if let close = l.index(of: UInt8(ascii: "]")), close >= 5, let found = l.digits(at: close - 4, count: 4) { y = found }
            return MinuteKey.make(year: y, month: month, day: d, hour: hour, minute: minute)
        }
        if ByteLine.isDigit(l[0]) { return iso(l, at: 0) }
        if l.month(at: 0) != nil, l.byte(3) == UInt8(ascii: " ") {
            // Jul  1 00:00:31
            guard let month = l.month(at: 0), let d = day(l, at: 4), let hour = l.digits(at: 7, count: 2),
                  let minute = l.digits(at: 10, count: 2) else { return MinuteKey.none }
            return MinuteKey.make(year: year, month: month, day: d, hour: hour, minute: minute)
        }
        if l.isWeekday(at: 0), let month = l.month(at: 4) {
            // Fri Jul  4 12:00:00 2025
            guard let d = day(l, at: 8), let hour = l.digits(at: 11, count: 2), let minute = l.digits(at: 14, count: 2)
            else { return MinuteKey.none }
            let y = l.digits(at: 20, count: 4) ?? year
            return MinuteKey.make(year: y, month: month, day: d, hour: hour, minute: minute)
        }
        return MinuteKey.none
    }
}
