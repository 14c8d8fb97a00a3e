import Engine

/// How `LogScanner` reads a log.
public struct LogScanOptions: Sendable {
    /// An access-log format: `common`, `combined`, `vhost_combined`, an Apache `LogFormat` string
    /// (`%v %h %l %u %t \"%r\" %>s %b`) or an nginx `log_format` string (`$host $remote_addr … $status`).
    /// nil: recognise common, combined and vhost_combined lines by their shape.
    public var accessFormat: String?
    /// Bytes read per `read(2)`.
    public var chunkSize: Int
    /// Longer lines are cut here and counted as truncated.
    public var maxLineLength: Int
    /// Distinct keys kept per table (hosts, clients, domains …); rarer keys fold into "other".
    public var maxKeys: Int
    /// Entries per table in the report.
    public var top: Int
    /// Example lines kept per category.
    public var examples: Int
    /// Distinct minutes kept in the timeline before it switches to hours (10,080: one week).
    public var maxTimeBuckets: Int
    /// The name used in the report and in locations (defaults to the path).
    public var name: String?

    public init(accessFormat: String? = nil, chunkSize: Int = 1 << 20, maxLineLength: Int = 64 << 10,
                maxKeys: Int = 1000, top: Int = 20, examples: Int = 3, maxTimeBuckets: Int = 10_080,
                name: String? = nil) {
        self.accessFormat = accessFormat
        self.chunkSize = max(4096, chunkSize)
        self.maxLineLength = max(256, maxLineLength)
        self.maxKeys = max(16, maxKeys)
        self.top = max(1, top)
        self.examples = max(0, examples)
        self.maxTimeBuckets = max(16, maxTimeBuckets)
        self.name = name
    }
}

/// One row of a table: a key (host, domain, code …) and how often it was seen.
public struct CountEntry: Sendable, Codable, Hashable {
    public var key: String
    public var count: Int
}

/// The top rows of a bounded table, with what did not fit.
public struct CountTable: Sendable, Codable, Hashable {
    public var entries: [CountEntry]
    /// The count of all rows not listed.
    public var other: Int
    /// Distinct keys seen (a lower bound once keys were evicted).
    public var distinct: Int
    /// True when the table had to evict keys, so counts of listed keys may be low.
    public var approximate: Bool

    public static let empty = CountTable(entries: [], other: 0, distinct: 0, approximate: false)
}

/// A log line kept as an example, sanitised for a terminal.
public struct LogExample: Sendable, Codable, Hashable {
    /// What it illustrates: `access-421`, `ah02032-no-sni`, `smtp-421` …
    public var category: String
    public var line: Int
    public var text: String
}

/// Per-host 421 totals with the busiest minute.
public struct HostPeak: Sendable, Codable, Hashable {
    public var host: String
    public var count: Int
    public var peakMinute: String
    public var peakCount: Int
}

public struct AccessSummary: Sendable, Codable, Hashable {
    /// Lines that looked like access-log requests.
    public var requests: Int
    public var status421: Int
    public var byHost: CountTable
    public var byVhost: CountTable
    public var byClient: CountTable
    /// `SNI -> Host` for 421s when the format logs both (`%{SSL_TLS_SNI}x`, `$ssl_server_name`).
    public var bySNIHost: CountTable
    public var peaks: [HostPeak]
    /// The layouts recognised in the first access lines (`combined`, `vhost_combined +1 after`, `json` …),
    /// or `--access-format` when one was given.
    public var layouts: CountTable
}

/// Lines no reader could take apart. A 421 can hide only in those that hold the bytes `421`.
public struct UnreadLines: Sendable, Codable, Hashable {
    public var lines: Int
    public var with421: Int
    /// The first unread line, preferring one with `421` in it.
    public var example: LogExample?
}

public struct ApacheErrorSummary: Sendable, Codable, Hashable {
    /// AH02032 "(default host as no SNI was provided)": the client or proxy sent no SNI (2.4.64+).
    public var ah02032NoSNI: Int
    /// AH02032 "provided via SNI and hostname … provided via HTTP have no compatible SSL setup".
    public var ah02032SNIMismatch: Int
    /// AH02032 "… are different" (before 2.4.18, answered with 400).
    public var ah02032Different: Int
    public var ah02031: Int
    public var ah02033: Int
    /// `default vhost -> Host` for AH02032 without SNI.
    public var noSNIHosts: CountTable
    /// `SNI -> Host` for AH02032 with SNI.
    public var sniHostPairs: CountTable
    /// `for policy '…'` (SSLVHostSNIPolicy), when the line says.
    public var policies: CountTable
    public var clients: CountTable
}

public struct NginxErrorSummary: Sendable, Codable, Hashable {
    /// "client attempted to request the server name different from the one that was negotiated".
    public var sniMismatch: Int
    /// "… the server name for which the negotiated protocol is disabled" (http2/http3 off).
    public var protocolDisabled: Int
    /// `server -> host` from the line's `server:` and `host:` fields.
    public var serverHostPairs: CountTable
    public var clients: CountTable
}

public struct MailSummary: Sendable, Codable, Hashable {
    public var replies421: Int
    public var deferred: Int
    public var bounced: Int
    /// Replies the local server sent (Postfix smtpd `reject:`).
    public var rejected: Int
    public var byDomain: CountTable
    public var byProvider: CountTable
    public var byEnhancedCode: CountTable
    public var byPhase: CountTable
    public var byRelay: CountTable
    /// Reply texts with addresses and numbers masked.
    public var byReply: CountTable
    /// The first line of each of the most frequent replies, with the reply as written.
    public var topReplies: [ReplyExample]
}

/// A reply kind (`key`, masked) with the first reply of that kind as written and where it was.
public struct ReplyExample: Sendable, Codable, Hashable {
    public var key: String
    public var reply: String
    public var count: Int
    public var provider: String
    public var outcome: String
    public var line: Int
    public var text: String
}

public struct FTPSummary: Sendable, Codable, Hashable {
    public var replies421: Int
    public var byServer: CountTable
    public var byReply: CountTable
    public var byClient: CountTable
}

/// 421-related events in one minute (or hour), by where they came from.
public struct TimeBucket: Sendable, Codable, Hashable {
    /// `2025-07-01 14:05`, or `07-01 14:05` when the log does not give the year.
    public var time: String
    public var total: Int
    public var access: Int
    public var apache: Int
    public var nginx: Int
    public var mail: Int
    public var ftp: Int
}

public struct Timeline: Sendable, Codable, Hashable {
    /// `minute`, or `hour` once more distinct minutes were seen than the scanner keeps.
    public var resolution: String
    public var buckets: [TimeBucket]
    /// Events whose time could not be read or did not fit.
    public var untimed: Int
}

/// What a scan of one log found: aggregates and a few example lines, never the whole log.
public struct LogReport: Sendable, Codable, Hashable {
    public var schema: String
    public var source: String
    public var bytes: Int
    public var lines: Int
    /// Lines longer than the limit, cut for analysis.
    public var truncatedLines: Int
    /// Lines by the kind their start suggests: access, apache-error, nginx-error, postfix, exim, exchange,
    /// sendmail, ftp, syslog, other.
    public var linesByKind: [String: Int]
    public var access: AccessSummary
    public var apache: ApacheErrorSummary
    public var nginx: NginxErrorSummary
    public var mail: MailSummary
    public var ftp: FTPSummary
    public var timeline: Timeline
    public var examples: [LogExample]
    public var unread: UnreadLines
}

// MARK: - bounded tables

/// A counter with at most `capacity` keys. When full, it keeps the heavier half and folds the rest into
/// `evicted`, so memory stays bounded whatever the log holds, and frequent keys survive.
struct BoundedCounter {
    let capacity: Int
    private(set) var counts: [String: Int] = [:]
    private(set) var evicted = 0
    private(set) var total = 0
    private(set) var seen = 0
    private(set) var compacted = false

    init(capacity: Int) {
        self.capacity = capacity
        counts.reserveCapacity(min(capacity, 1024))
    }

    mutating func add(_ key: String, _ n: Int = 1) {
        total += n
        if let index = counts.index(forKey: key) {
            counts.values[index] += n
            return
        }
        if counts.count >= capacity { compact() }
        counts[key] = n
        seen += 1
    }

    /// Keeps at most half the capacity: keys seen more than once, heaviest first (ties by key, so the result
    /// does not depend on dictionary order); keys seen once are dropped together.
    private mutating func compact() {
        let keep = capacity / 2
        var heavy: [(key: String, value: Int)] = []
        heavy.reserveCapacity(counts.count)
        for entry in counts {
            if entry.value > 1 { heavy.append(entry) } else { evicted += entry.value }
        }
        if heavy.count > keep {
            heavy.sort { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            for entry in heavy[keep...] { evicted += entry.value }
            heavy.removeSubrange(keep...)
        }
        var kept: [String: Int] = [:]
        kept.reserveCapacity(capacity)
        for entry in heavy { kept[entry.key] = entry.value }
        counts = kept
        compacted = true
    }

    func table(top: Int) -> CountTable {
        let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let shown = sorted.prefix(top).map { CountEntry(key: $0.key, count: $0.value) }
        let listed = shown.reduce(0) { $0 + $1.count }
        return CountTable(entries: shown, other: total - listed, distinct: seen, approximate: compacted)
    }
}

/// Per-host 421 counts with the busiest minute, bounded like `BoundedCounter`.
struct PeakTracker {
    struct Entry {
        var count: Int
        var minute: Int
        var minuteCount: Int
        var peakMinute: Int
        var peakCount: Int
    }

    let capacity: Int
    private(set) var entries: [String: Entry] = [:]

    init(capacity: Int) { self.capacity = capacity }

    mutating func add(_ key: String, minute: Int) {
        if var entry = entries[key] {
            entry.count += 1
            if entry.minute == minute {
                entry.minuteCount += 1
            } else {
                entry.minute = minute
                entry.minuteCount = 1
            }
            if entry.minuteCount > entry.peakCount {
                entry.peakCount = entry.minuteCount
                entry.peakMinute = minute
            }
            entries[key] = entry
            return
        }
        if entries.count >= capacity {
            let keep = entries.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
                .prefix(capacity / 2)
            entries = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
        entries[key] = Entry(count: 1, minute: minute, minuteCount: 1, peakMinute: minute, peakCount: 1)
    }

    func peaks(top: Int) -> [HostPeak] {
        entries.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
            .prefix(top)
            .map { HostPeak(host: $0.key, count: $0.value.count, peakMinute: MinuteKey.format($0.value.peakMinute),
                            peakCount: $0.value.peakCount) }
    }
}

/// Minutes packed into an Int as YYYYMMDDHHMM (year 0 when the log does not say), so the hot path never
/// builds a String for a time.
enum MinuteKey {
    static let none = -1

    static func make(year: Int, month: Int, day: Int, hour: Int, minute: Int) -> Int {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
              (0...9999).contains(year) else { return none }
        return (((year * 100 + month) * 100 + day) * 100 + hour) * 100 + minute
    }

    static func format(_ key: Int) -> String {
        guard key >= 0 else { return "?" }
        let minute = key % 100, hour = key / 100 % 100, day = key / 10_000 % 100
        let month = key / 1_000_000 % 100, year = key / 100_000_000
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let date = year > 0 ? "\(year)-\(two(month))-\(two(day))" : "\(two(month))-\(two(day))"
        return "\(date) \(two(hour)):\(two(minute))"
    }
}

/// 421 events over time, per minute until there are too many minutes, then per hour.
struct TimelineCounter {
    /// Events per source in one bucket: access, apache, nginx, mail, ftp.
    struct Counts {
        var values: (Int32, Int32, Int32, Int32, Int32) = (0, 0, 0, 0, 0)

        mutating func add(_ source: Int, _ n: Int32 = 1) {
            switch source {
            case 0: values.0 += n
            case 1: values.1 += n
            case 2: values.2 += n
            case 3: values.3 += n
            default: values.4 += n
            }
        }

        mutating func merge(_ other: Counts) {
            values.0 += other.values.0
            values.1 += other.values.1
            values.2 += other.values.2
            values.3 += other.values.3
            values.4 += other.values.4
        }

        var total: Int { Int(values.0) + Int(values.1) + Int(values.2) + Int(values.3) + Int(values.4) }
    }

    let capacity: Int
    private(set) var hourly = false
    private(set) var buckets: [Int: Counts] = [:]
    private(set) var untimed = 0

    init(capacity: Int) { self.capacity = capacity }

    /// `source`: 0 access, 1 apache, 2 nginx, 3 mail, 4 ftp.
    mutating func add(_ minute: Int, source: Int) {
        guard minute >= 0 else { untimed += 1; return }
        var key = hourly ? minute / 100 * 100 : minute
        if buckets[key] == nil, buckets.count >= capacity {
            if !hourly { toHours() }
            key = minute / 100 * 100
            if buckets[key] == nil, buckets.count >= capacity { untimed += 1; return }
        }
        buckets[key, default: Counts()].add(source)
    }

    private mutating func toHours() {
        hourly = true
        var merged: [Int: Counts] = [:]
        for (key, counts) in buckets { merged[key / 100 * 100, default: Counts()].merge(counts) }
        buckets = merged
    }

    var timeline: Timeline {
        let sorted = buckets.sorted { $0.key < $1.key }.map { key, c in
            TimeBucket(time: MinuteKey.format(key), total: c.total, access: Int(c.values.0), apache: Int(c.values.1),
                       nginx: Int(c.values.2), mail: Int(c.values.3), ftp: Int(c.values.4))
        }
        return Timeline(resolution: hourly ? "hour" : "minute", buckets: sorted, untimed: untimed)
    }
}
