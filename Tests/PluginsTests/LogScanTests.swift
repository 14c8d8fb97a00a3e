import Engine
import Foundation
import Testing
@testable import Plugins

private func scan(_ fixture: String, options: LogScanOptions = LogScanOptions()) throws -> (LogReport, String) {
    let text = try Fixtures.text("logs/\(fixture)")
    return (try LogScanner(options: options).scan(text: text, name: fixture), text)
}

private func line(_ needle: String, _ text: String) throws -> Int {
    try #require(Fixtures.line(of: needle, in: text), "no line with '\(needle)'")
}

@Suite("log scanner: error logs")
struct ErrorLogTests {
    @Test func apacheAH0203xInAllWordings() throws {
        let (r, _) = try scan("apache-error.log")
        #expect(r.lines == 12)
        #expect(r.linesByKind["apache-error"] == 12)
        #expect(r.apache.ah02032NoSNI == 3)
        #expect(r.apache.ah02032SNIMismatch == 2)
        #expect(r.apache.ah02032Different == 1)
        #expect(r.apache.ah02031 == 1)
        #expect(r.apache.ah02033 == 1)
        #expect(r.apache.noSNIHosts.entries.first == CountEntry(key: "www.example.com -> shop.example.com", count: 2))
        #expect(r.apache.sniHostPairs.entries.map(\.key).contains("nsy.fr. -> nsy.fr"))
        #expect(r.apache.policies.entries == [CountEntry(key: "secure", count: 1)])
        #expect(r.apache.clients.entries.first == CountEntry(key: "127.0.0.1", count: 3))
        // Only the 421-producing AH02032 lines count in the timeline.
        #expect(r.timeline.buckets.map(\.time) == ["2025-07-17 09:14", "2025-07-17 09:15", "2025-07-17 09:16"])
        #expect(r.timeline.buckets.map(\.apache) == [3, 1, 1])
        #expect(r.access.status421 == 0 && r.mail.replies421 == 0 && r.ftp.replies421 == 0)
    }

    @Test func apacheFindingsPointAtFirstLines() throws {
        let (r, text) = try scan("apache-error.log")
        let findings = LogScanAnalyzer.findings(from: r)
        #expect(findings.findingKeys() == [
            "log.ah02031@apache-error.log:\(try line("AH02031", text))",
            "log.ah02032-no-sni@apache-error.log:\(try line("default host as no SNI", text))",
            "log.ah02032-sni-mismatch@apache-error.log:\(try line("for policy 'secure'", text))",
            "log.ah02033@apache-error.log:\(try line("AH02033", text))",
        ].sorted())
        let noSNI = try #require(findings.first { $0.id == "log.ah02032-no-sni" })
        #expect(noSNI.excerpt?.contains("AH02032: Hostname www.example.com (default host as no SNI was provided)") == true)
        #expect(noSNI.message.contains("3 time(s)"))
    }

    @Test func nginxMismatchAndProtocolDisabled() throws {
        let (r, text) = try scan("nginx-error.log")
        #expect(r.nginx.sniMismatch == 2)
        #expect(r.nginx.protocolDisabled == 1)
        #expect(r.nginx.serverHostPairs.entries.first == CountEntry(key: "secure.example.com -> www.example.com", count: 2))
        #expect(r.nginx.clients.entries.first == CountEntry(key: "203.0.113.7", count: 2))
        let findings = LogScanAnalyzer.findings(from: r)
        #expect(findings.findingKeys() == [
            "log.nginx-protocol-disabled@nginx-error.log:\(try line("negotiated protocol is disabled", text))",
            "log.nginx-sni-mismatch@nginx-error.log:\(try line("different from the one", text))",
        ])
    }
}

@Suite("log scanner: access logs")
struct AccessLogTests {
    @Test func vhostCombinedByHostClientAndMinute() throws {
        let (r, text) = try scan("access-vhost.log")
        #expect(r.access.requests == 8)
        // A 421 in a path, a size or a user agent is not a 421 status.
        #expect(r.access.status421 == 4)
        #expect(r.access.byHost.entries == [CountEntry(key: "shop.example.com", count: 3), CountEntry(key: "api.example.com", count: 1)])
        #expect(r.access.byVhost.entries.map(\.key) == ["shop.example.com", "api.example.com"])
        #expect(r.access.byClient.entries.first == CountEntry(key: "203.0.113.11", count: 2))
        #expect(r.access.peaks.first == HostPeak(host: "shop.example.com", count: 3, peakMinute: "2025-07-17 09:30", peakCount: 2))
        #expect(r.timeline.buckets.map(\.access) == [2, 2])
        let findings = LogScanAnalyzer.findings(from: r)
        #expect(findings.findingKeys() == ["log.access-421@access-vhost.log:\(try line("GET /cart HTTP/2.0\" 421", text))"])
    }

    @Test func commonFormatWithAbsoluteTargetsAndEscapedQuotes() throws {
        let (r, _) = try scan("access-common.log")
        #expect(r.access.status421 == 2)
        #expect(r.access.byHost.entries.map(\.key).sorted() == ["-", "origin.example.com"])
        #expect(r.access.byClient.entries.map(\.key).sorted() == ["192.0.2.1", "192.0.2.3"])
    }

    struct FormatCase: Sendable, CustomTestStringConvertible {
        var format: String
        var line: String
        var host: String?
        var client: String?
        var sni: String?
        var testDescription: String { format }
    }

    @Test(arguments: [
        FormatCase(format: "common", line: #"198.51.100.1 - - [17/Jul/2025:10:00:00 +0000] "GET / HTTP/1.1" 421 12"#,
                   host: "-", client: "198.51.100.1"),
        FormatCase(format: "combined", line: #"198.51.100.1 - bob [17/Jul/2025:10:00:00 +0000] "GET / HTTP/1.1" 421 12 "-" "curl/8""#,
                   host: "-", client: "198.51.100.1"),
        FormatCase(format: "vhost_combined",
                   line: #"a.example.com:443 198.51.100.1 - - [17/Jul/2025:10:00:00 +0000] "GET / HTTP/1.1" 421 12 "-" "curl/8""#,
                   host: "a.example.com", client: "198.51.100.1"),
        FormatCase(format: #"%{Host}i %a %l %u %t \"%r\" %>s %b \"%{SSL_TLS_SNI}x\""#,
                   line: #"b.example.com 198.51.100.2 - - [17/Jul/2025:10:00:00 +0000] "GET / HTTP/2.0" 421 12 "a.example.com""#,
                   host: "b.example.com", client: "198.51.100.2", sni: "a.example.com"),
        FormatCase(format: #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent host=$host sni=$ssl_server_name"#,
                   line: #"198.51.100.3 - - [17/Jul/2025:10:00:00 +0000] "GET / HTTP/2.0" 421 0 host=c.example.com sni=a.example.com"#,
                   host: "c.example.com", client: "198.51.100.3", sni: "a.example.com"),
        FormatCase(format: #"$time_iso8601 $host $status"#, line: "2025-07-17T10:00:00+00:00 d.example.com 421",
                   host: "d.example.com", client: nil),
    ])
    func configurableFormats(_ c: FormatCase) throws {
        let report = try LogScanner(options: LogScanOptions(accessFormat: c.format)).scan(text: c.line + "\n", name: "a.log")
        #expect(report.access.status421 == 1)
        #expect(report.access.byHost.entries.first?.key == c.host)
        #expect(report.access.byClient.entries.first?.key == c.client)
        #expect(report.access.bySNIHost.entries.first?.key == c.sni.map { "\($0) -> \(c.host ?? "-")" })
        #expect(report.timeline.buckets.first?.time == "2025-07-17 10:00")
    }

    @Test func sniAndHostFromAConfiguredFormat() throws {
        let options = LogScanOptions(accessFormat: #"%V %h %l %u %t \"%r\" %>s %b sni=%{SSL_TLS_SNI}x"#)
        let (r, _) = try scan("access-sni.log", options: options)
        #expect(r.access.status421 == 2)
        #expect(r.access.bySNIHost.entries.map(\.key).sorted() == ["- -> shop.example.com", "www.example.com -> blog.example.com"])
    }

    @Test func aFormatWithoutStatusIsAnError() {
        #expect(throws: KBError.self) {
            _ = try LogScanner(options: LogScanOptions(accessFormat: "%h %t %r")).scan(text: "x", name: "a.log")
        }
    }
}

@Suite("log scanner: mail and FTP logs")
struct MailLogTests {
    @Test func postfixByDomainProviderCodePhaseOutcome() throws {
        let (r, _) = try scan("postfix.log")
        let m = r.mail
        // `size=421` and `OK id 421 queued` are not replies.
        #expect(m.replies421 == 6)
        #expect(m.deferred == 5 && m.bounced == 0 && m.rejected == 1)
        #expect(m.byDomain.entries.first == CountEntry(key: "gmail.com", count: 2))
        #expect(Set(m.byDomain.entries.map(\.key)) == ["gmail.com", "yahoo.com", "icloud.com", "example.net", "example.org"])
        #expect(m.byProvider.entries.map(\.key).prefix(1) == ["gmail"])
        #expect(Set(m.byProvider.entries.map(\.key)) == ["gmail", "yahoo", "icloud", "other"])
        #expect(m.byEnhancedCode.entries == [CountEntry(key: "4.7.0", count: 3), CountEntry(key: "4.7.28", count: 2),
                                              CountEntry(key: "4.7.1", count: 1)])
        #expect(Dictionary(uniqueKeysWithValues: m.byPhase.entries.map { ($0.key, $0.count) })
                == ["end-of-data": 2, "rcpt": 2, "mail": 1, "connect": 1])
        #expect(m.byRelay.entries.first == CountEntry(key: "gmail-smtp-in.l.google.com", count: 2))
        // The year-less syslog time.
        #expect(r.timeline.buckets.map(\.time) == ["07-17 10:00", "07-17 10:01"])
    }

    @Test func multiLineRepliesAreJoinedAndQuotedInFindings() throws {
        let (r, text) = try scan("postfix.log")
        let gmail = try #require(r.mail.topReplies.first)
        #expect(gmail.count == 2)
        #expect(gmail.provider == "gmail" && gmail.outcome == "deferred")
        #expect(gmail.reply.hasPrefix("421 4.7.28 [203.0.113.5 15] Our system has detected an unusual rate of unsolicited mail"))
        #expect(!gmail.reply.contains("421-4.7.28"))
        #expect(gmail.reply.hasSuffix("- gsmtp"))
        let findings = LogScanAnalyzer.findings(from: r).filter { $0.id == "log.smtp-421" }
        #expect(findings.count == 5)
        #expect(findings.first?.location?.line == (try line("to=<alice@gmail.com>", text)))
        #expect(findings.first?.message.contains("421 4.7.28") == true)
        let yahoo = try #require(findings.first { $0.message.contains("[TSS04]") })
        #expect(yahoo.location?.line == (try line("[TSS04]", text)))
        let reject = try #require(r.mail.topReplies.first { $0.outcome == "rejected" })
        #expect(reject.reply == "421 4.7.0 mx1.example.org Service unavailable - try again later")
    }

    @Test func eximDeferAndBounce() throws {
        let (r, text) = try scan("exim_mainlog")
        #expect(r.mail.replies421 == 2)
        #expect(r.mail.deferred == 1 && r.mail.bounced == 1)
        #expect(Set(r.mail.byDomain.entries.map(\.key)) == ["gmail.com", "example.com"])
        #expect(Set(r.mail.byPhase.entries.map(\.key)) == ["rcpt", "connect"])
        #expect(r.mail.byProvider.entries.map(\.key).contains("gmail"))
        let findings = LogScanAnalyzer.findings(from: r)
        #expect(findings.findingKeys() == [
            "log.smtp-421@exim_mainlog:\(try line(" == henry@gmail.com", text))",
            "log.smtp-421@exim_mainlog:\(try line(" ** ivan@example.com", text))",
        ].sorted())
    }

    @Test func exchangeMessageTracking() throws {
        let (r, _) = try scan("exchange-tracking.log")
        #expect(r.mail.replies421 == 1)
        #expect(r.mail.deferred == 1)
        #expect(r.mail.byDomain.entries.map(\.key) == ["contoso.com"])
        #expect(r.mail.byProvider.entries.map(\.key) == ["microsoft"])
        #expect(r.mail.byEnhancedCode.entries.map(\.key) == ["4.3.2"])
        #expect(r.mail.topReplies.first?.reply == "421 4.3.2 Service not available")
    }

    @Test func vsftpdAndProftpd() throws {
        let (v, text) = try scan("vsftpd.log")
        #expect(v.ftp.replies421 == 2)
        #expect(v.ftp.byServer.entries == [CountEntry(key: "vsftpd", count: 2)])
        #expect(Set(v.ftp.byClient.entries.map(\.key)) == ["::ffff:198.51.100.21", "::ffff:198.51.100.20"])
        #expect(v.ftp.byReply.entries.map(\.key).contains("421 There are too many connected users, please try later."))
        #expect(LogScanAnalyzer.findings(from: v).findingKeys() == ["log.ftp-421@vsftpd.log:\(try line("too many connected users", text))"])
        let (p, _) = try scan("proftpd-extended.log")
        #expect(p.ftp.replies421 == 1)
        #expect(p.access.status421 == 0)
        #expect(p.ftp.byClient.entries.map(\.key) == ["198.51.100.31"])
    }

    @Test(arguments: [
        ("AH02032 line", "[Thu Jul 17 09:14:22.100112 2025] [ssl:error] [pid 1:tid 2] [client 127.0.0.1:5] AH02032: Hostname a (default host as no SNI was provided) and hostname b provided via HTTP have no compatible SSL setup\n", "error-log"),
        ("bare AH02032", "AH02032: Hostname a provided via SNI and hostname b provided via HTTP have no compatible SSL setup\n", "error-log"),
        ("nginx", "2025/07/17 09:20:11 [info] 815#815: *1 client attempted to request the server name different from the one that was negotiated\n", "error-log"),
        ("access", #"1.2.3.4 - - [17/Jul/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 1"# + "\n", "access-log"),
        ("postfix", "Jul 17 10:00:03 mx1 postfix/smtp[2102]: 5B7E2C0419: to=<bob@yahoo.com>, status=deferred\n", "mail-log"),
        ("exim", "2025-07-17 10:05:01 1uBcDe-000Abc-12 == henry@gmail.com R=dnslookup defer (-44)\n", "mail-log"),
        ("vsftpd", "Thu Jul 17 11:00:00 2025 [pid 3101] CONNECT: Client \"::ffff:198.51.100.20\"\n", "ftp-log"),
        ("pure-ftpd", "Jul 17 11:00:00 ftp pure-ftpd: (?@198.51.100.9) [INFO] New connection from 198.51.100.9\n", "ftp-log"),
        ("prose", "My site shows 421 Misdirected Request since the update.\n", nil),
        ("nginx config", "server {\n    listen 443 ssl;\n}\n", nil),
    ] as [(String, String, String?)])
    func detection(name: String, text: String, kind: String?) {
        #expect(LogScanAnalyzer().detect(InputText(name: name, text: text)) == kind)
    }
}

@Suite("log scanner: robustness and bounds")
struct LogRobustnessTests {
    @Test(arguments: [4096, 4099, 65_536, 1 << 20])
    func chunkBoundariesDoNotChangeResults(chunk: Int) throws {
        var all = ""
        for f in ["apache-error.log", "nginx-error.log", "access-vhost.log", "postfix.log", "exim_mainlog", "vsftpd.log"] {
            all += try Fixtures.text("logs/\(f)")
        }
        // Repeat so every line crosses chunk boundaries at many offsets.
        let text = String(repeating: all, count: 20)
        let reference = try LogScanner(options: LogScanOptions(chunkSize: 1 << 22)).scan(text: text, name: "x")
        let chunked = try LogScanner(options: LogScanOptions(chunkSize: chunk, maxLineLength: 2048)).scan(text: text, name: "x")
        #expect(chunked == reference)
        #expect(reference.apache.ah02032NoSNI == 60)
        #expect(reference.mail.replies421 == 160)
    }

    @Test func fileDescriptorAndPathAgreeWithText() throws {
        let path = Fixtures.path("logs/postfix.log")
        let fromPath = try LogScanner(options: LogScanOptions(chunkSize: 4096, name: "postfix.log")).scan(path: path)
        let fromText = try LogScanner().scan(text: try Fixtures.text("logs/postfix.log"), name: "postfix.log")
        #expect(fromPath == fromText)
    }

    @Test func missingFileAndDirectoryAreClearErrors() {
        do {
            _ = try LogScanner().scan(path: "/nonexistent/kb/mail.log")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .inputUnreadable)
            #expect(error.message.contains("/nonexistent/kb/mail.log"))
        }
        do {
            _ = try LogScanner().scan(path: Fixtures.path("logs"))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .inputUnreadable)
            #expect(error.message.contains("directory"))
        }
    }

    @Test func invalidUTF8IsCountedAndSanitised() throws {
        var bytes = Array("[Thu Jul 17 09:14:22.100112 2025] [ssl:error] [pid 1:tid 2] [client 10.0.0.1:5] AH02032: Hostname www.example.com (default host as no SNI was provided) and hostname sh".utf8)
        bytes += [0xFF, 0xFE, 0xC3]
        bytes += Array("op.example.com provided via HTTP have no compatible SSL setup \u{1B}[31mred\n".utf8)
        let report = try LogScanner().scan(bytes: bytes, name: "bad.log")
        #expect(report.apache.ah02032NoSNI == 1)
        let example = try #require(report.examples.first)
        #expect(example.text.contains("\u{FFFD}"))
        #expect(!example.text.contains("\u{1B}"))
        #expect(example.text.contains("\\x1b"))
    }

    @Test func aOneMegabyteLineIsCutNotFatal() throws {
        let long = "Jul 17 10:00:01 mx1 postfix/smtp[1]: A: to=<a@gmail.com>, relay=gmail-smtp-in.l.google.com[1.2.3.4]:25, "
            + "dsn=4.7.0, status=deferred (host x said: 421 4.7.0 Try again later " + String(repeating: "x", count: 1 << 20) + ")\n"
        let after = "Jul 17 10:00:02 mx1 postfix/smtp[1]: B: to=<b@yahoo.com>, relay=mta5.am0.yahoodns.net[1.2.3.5]:25, "
            + "dsn=4.7.0, status=deferred (host y said: 421 4.7.0 [TSS04] deferred (in reply to MAIL FROM command))\n"
        let report = try LogScanner().scan(text: long + after + long, name: "long.log")
        #expect(report.lines == 3)
        #expect(report.truncatedLines == 2)
        #expect(report.mail.replies421 == 3)
        #expect(report.examples.allSatisfy { $0.text.utf8.count < 2000 })
        #expect(report.mail.topReplies.map(\.line).sorted() == [1, 2])
    }

    @Test func binaryAndCompressedInputAreRefused() async throws {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(throws: KBError.self) { try LogScanner().scan(bytes: random, name: "random.bin") }
        let gzip: [UInt8] = [0x1F, 0x8B, 0x08, 0x00] + Array(repeating: 0, count: 100)
        do {
            _ = try LogScanner().scan(bytes: gzip, name: "mail.log.1.gz")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .inputFormat)
            #expect(error.message.contains("gzip"))
        }
        let findings = await LogScanAnalyzer().analyze(InputText(name: "random.bin", text: String(decoding: random, as: UTF8.self)),
                                                       context: analyzerContext())
        #expect(findings.map(\.id) == ["log.input-error"])
    }

    @Test func embeddedNULBytesDoNotHideLaterMatches() throws {
        var bytes = Array("noise\0more noise\n".utf8)
        bytes += Array("Jul 17 10:00:01 mx1 postfix/smtp[1]: A: to=<a@gmail.com>, status=deferred (host x said: 421 4.7.0 later)\n".utf8)
        let report = try LogScanner().scan(bytes: bytes, name: "nul.log")
        #expect(report.mail.replies421 == 1)
    }

    @Test func crlfAndEmptyInput() throws {
        let crlf = try Fixtures.text("logs/nginx-error.log").replacingOccurrences(of: "\n", with: "\r\n")
        let report = try LogScanner().scan(text: crlf, name: "crlf.log")
        #expect(report.nginx.sniMismatch == 2)
        #expect(report.nginx.serverHostPairs.entries.first?.key == "secure.example.com -> www.example.com")
        let empty = try LogScanner().scan(text: "", name: "empty.log")
        #expect(empty.lines == 0 && empty.bytes == 0)
        #expect(LogScanAnalyzer.findings(from: empty).isEmpty)
    }

    @Test func distinctHostsStayBounded() throws {
        // 100,000 distinct hosts with one 421 each, plus one host with many.
        var text = ""
        text.reserveCapacity(12_000_000)
        for i in 0..<100_000 {
            text += "h\(i).example.com:443 10.0.\(i % 250).\(i % 200) - - [17/Jul/2025:10:\(i % 60 < 10 ? "0" : "")\(i % 60):00 +0000] \"GET / HTTP/1.1\" 421 0 \"-\" \"x\"\n"
            if i % 10 == 0 {
                text += "hot.example.com:443 10.9.9.9 - - [17/Jul/2025:10:00:00 +0000] \"GET / HTTP/1.1\" 421 0 \"-\" \"x\"\n"
            }
        }
        let options = LogScanOptions(maxKeys: 1000, top: 10)
        let report = try LogScanner(options: options).scan(text: text, name: "many.log")
        #expect(report.access.status421 == 110_000)
        let hosts = report.access.byHost
        #expect(hosts.entries.count == 10)
        #expect(hosts.approximate)
        #expect(hosts.entries.first == CountEntry(key: "hot.example.com", count: 10_000))
        #expect(hosts.entries.reduce(0) { $0 + $1.count } + hosts.other == 110_000)
        #expect(report.access.peaks.first?.host == "hot.example.com")
    }

    @Test func boundedCounterNeverHoldsMoreThanItsCapacity() {
        var counter = BoundedCounter(capacity: 64)
        for i in 0..<10_000 {
            counter.add("k\(i)")
            if i % 3 == 0 { counter.add("heavy") }
            #expect(counter.counts.count <= 64)
        }
        let table = counter.table(top: 3)
        #expect(table.entries.first?.key == "heavy")
        #expect(table.entries.reduce(0) { $0 + $1.count } + table.other == 10_000 + 3334)
    }

    @Test func timelineSwitchesToHoursWhenFull() {
        var timeline = TimelineCounter(capacity: 16)
        for minute in 0..<60 { timeline.add(MinuteKey.make(year: 2025, month: 7, day: 17, hour: 10, minute: minute), source: 0) }
        timeline.add(MinuteKey.make(year: 2025, month: 7, day: 17, hour: 11, minute: 5), source: 3)
        let t = timeline.timeline
        #expect(t.resolution == "hour")
        #expect(t.buckets.map(\.time) == ["2025-07-17 10:00", "2025-07-17 11:00"])
        #expect(t.buckets.map(\.total) == [60, 1])
    }
}

@Suite("log scanner: rendering")
struct LogRenderTests {
    @Test func jsonRoundTripsWithSortedKeys() throws {
        let (r, _) = try scan("postfix.log")
        let json = LogScanner().render(r, format: .json)
        let decoded = try JSONDecoder().decode(LogReport.self, from: Data(json.utf8))
        #expect(decoded == r)
        let top = json.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(top == top.sorted())
        #expect(json.contains("\"schema\" : \"kb.logs/1\""))
    }

    @Test func textShowsTheSectionsAskedFor() throws {
        let (r, _) = try scan("access-vhost.log")
        let full = LogScanner().render(r, format: .text)
        #expect(full.contains("HTTP 421 in access logs: 4 of 8 requests"))
        #expect(full.contains("shop.example.com"))
        #expect(full.contains("Examples:"))
        let byHost = LogScanner().render(r, format: .text, by: [.host])
        #expect(byHost.contains("busiest minute"))
        #expect(!byHost.contains("by client"))
        #expect(!byHost.contains("Examples:"))
        let (m, _) = try scan("postfix.log")
        let mail = LogScanner().render(m, format: .text, by: [.provider, .code])
        #expect(mail.contains("provider: gmail 2"))
        #expect(mail.contains("enhanced code: 4.7.0 3"))
        #expect(!mail.contains("recipient domain"))
    }

    @Test func controlCharactersNeverReachTheTerminal() throws {
        let line = "shop.example.com:443 1.2.3.4 - - [17/Jul/2025:10:00:00 +0000] \"GET /\u{1B}]0;pwned\u{07} HTTP/1.1\" 421 0 \"-\" \"x\"\n"
        let r = try LogScanner().scan(text: line, name: "evil\u{1B}[2J.log")
        let text = LogScanner().render(r, format: .text)
        #expect(!text.contains("\u{1B}"))
        #expect(!text.contains("\u{07}"))
    }
}

/// Access-log layouts read from the lines themselves, and lines that cannot be read counted, never called clean.
@Suite("log scanner: access-log layouts")
struct AccessLayoutTests {
    struct Layout: Sendable, CustomTestStringConvertible {
        var name: String
        var line: String
        var host: String?
        var testDescription: String { name }
    }

    private static let time = "[01/Dec/2026:10:00:00 +0000]"

    @Test(arguments: [
        Layout(name: "common", line: #"203.0.113.9 - - \#(time) "GET / HTTP/1.1" 421 0"#),
        Layout(name: "combined", line: #"203.0.113.9 - - \#(time) "GET / HTTP/2.0" 421 0 "-" "curl/8.5""#),
        Layout(name: "vhost_combined",
               line: #"shop.example.com:443 203.0.113.9 - - \#(time) "GET / HTTP/1.1" 421 0 "-" "curl/8.5""#,
               host: "shop.example.com"),
        Layout(name: "combined +2 after", line: #"203.0.113.9 - - \#(time) "GET / HTTP/1.1" 421 0 "-" "curl/8.5" 0.001 "shop.example.com""#),
        Layout(name: "vhost_combined +1 before",
               line: #"www.example.com shop.example.com 203.0.113.9 - - \#(time) "GET / HTTP/1.1" 421 0 "-" "-""#,
               host: "www.example.com"),
        Layout(name: "request-anchored",
               line: #"\#(time) 203.0.113.9 shop.example.com "GET https://shop.example.com/ HTTP/1.1" 421 0 sni=www.example.com"#,
               host: "shop.example.com"),
        Layout(name: "request-anchored",
               line: #"2026-12-01T10:00:00+00:00 203.0.113.9 "GET https://shop.example.com/ HTTP/2.0" 421 0 0.002"#,
               host: "shop.example.com"),
        Layout(name: "npm-proxy",
               line: #"\#(time) - 421 421 - GET https shop.example.com "/" [Client 203.0.113.9] [Length 0] [Gzip -] [Sent-to 10.0.0.5] "curl/8.5" "-""#,
               host: "shop.example.com"),
        Layout(name: "json",
               line: #"{"time_iso8601":"2026-12-01T10:00:00+00:00","remote_addr":"203.0.113.9","host":"shop.example.com","request_method":"GET","status":421}"#,
               host: "shop.example.com"),
    ])
    func layoutsAreRecognisedFromTheLines(_ layout: Layout) throws {
        let ok = layout.line.replacingOccurrences(of: "- 421 421 -", with: "- 200 200 -")
            .replacingOccurrences(of: " 421 ", with: " 200 ")
            .replacingOccurrences(of: "\"status\":421", with: "\"status\":200")
        let text = [ok, layout.line, ok].joined(separator: "\n") + "\n"
        let r = try LogScanner(options: LogScanOptions()).scan(text: text, name: "access.log")
        #expect(r.access.status421 == 1, "\(r.linesByKind)")
        #expect(r.access.requests == 3)
        #expect(r.unread.lines == 0)
        #expect(r.access.layouts.entries.first?.key == layout.name)
        if let host = layout.host {
            #expect(r.access.byHost.entries.first?.key == host)
        }
    }

    @Test func unreadLinesAreCountedAndNeverCalledClean() throws {
        // Status before the request and no brackets: no layout kb knows.
        let text = """
        203.0.113.9 shop.example.com 421 GET / 0.001
        203.0.113.9 shop.example.com 200 GET /a 0.001
        203.0.113.9 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12
        """
        let r = try LogScanner(options: LogScanOptions()).scan(text: text, name: "odd.log")
        #expect(r.access.status421 == 0)
        #expect(r.unread == UnreadLines(lines: 2, with421: 1, example: r.unread.example))
        #expect(r.unread.example?.line == 1)
        let rendered = LogReportRenderer().render(r, format: .text)
        #expect(!rendered.contains("no 421 found"))
        #expect(rendered.contains("--access-format"))
        #expect(rendered.contains("2 line(s) in a layout kb does not recognise were not read (1 contain '421')"))
        #expect(LogScanAnalyzer.findings(from: r).findingKeys() == ["log.unread-lines@odd.log:1"])

        // With the format the same lines are read.
        let format = LogScanOptions(accessFormat: "$remote_addr $host $status $request_method $uri $request_time")
        let read = try LogScanner(options: format).scan(text: text, name: "odd.log")
        #expect(read.access.status421 == 1)
        #expect(read.unread.lines == 0)
        #expect(read.access.byHost.entries.first?.key == "shop.example.com")
    }

    @Test func unreadLinesWithoutA421AreNamedButDoNotHideOne() throws {
        let text = "some application line\nanother one\n203.0.113.9 - - [01/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n"
        let r = try LogScanner(options: LogScanOptions()).scan(text: text, name: "mixed.log")
        #expect(r.unread.lines == 2 && r.unread.with421 == 0)
        let rendered = LogReportRenderer().render(r, format: .text)
        #expect(rendered.contains("no 421 in the 1 lines read; the other 2 could not be read, and none of them contains '421'"))
        #expect(!rendered.contains("no 421 found"))
        #expect(LogScanAnalyzer.findings(from: r).isEmpty)
    }
}
