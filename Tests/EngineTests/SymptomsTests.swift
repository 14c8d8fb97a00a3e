import Foundation
import Testing
@testable import Engine

@Suite("Symptoms")
struct SymptomsTests {
    let extractor = SymptomExtractor()

    func facts(_ text: String, kind: String = "text", statements: Statements = Statements()) -> Facts {
        extractor.extract([InputText(name: "paste", text: text, kind: kind)], statements: statements)
    }

    // MARK: protocol verdict

    struct ProtocolCase: CustomTestStringConvertible, Sendable {
        let text: String
        let expected: WireProtocol
        let note: String
        var testDescription: String { "\(expected.rawValue): \(note)" }
    }

    static let protocolCases: [ProtocolCase] = [
        // HTTP, with and without the literal 421
        .init(text: "HTTP/1.1 421 Misdirected Request\nServer: nginx\nContent-Type: text/html", expected: .http,
              note: "status line"),
        .init(text: "< HTTP/2 421 \n< content-length: 0\n< date: Mon, 01 Jan 2024 00:00:00 GMT", expected: .http,
              note: "curl -v HTTP/2 status"),
        .init(text: "The browser only shows the words Misdirected Request, and a reload makes it go away.",
              expected: .http, note: "reason phrase without 421"),
        .init(text: "[Tue Jul 15 10:00:00.123 2025] [ssl:error] [pid 77] [client 192.0.2.4:51234] AH02032: Hostname a.example.org provided via SNI and hostname b.example.org provided via HTTP have no compatible SSL setup",
              expected: .http, note: "Apache AH02032 without 421"),
        .init(text: "Hostname shop.example provided via SNI and hostname admin.example provided via HTTP are different\n198.51.100.2 - - [01/Feb/2015:10:00:00 +0100] \"GET /login HTTP/1.1\" 400 226 \"-\" \"curl/7.30\"",
              expected: .http, note: "old Apache 400 for an SNI mismatch"),
        .init(text: "203.0.113.9 - - [01/Jan/2025:00:00:01 +0000] \"GET /api/items HTTP/2.0\" 421 162 \"-\" \"okhttp/4.12\"",
              expected: .http, note: "access log line"),
        .init(text: #"{"level":"error","logger":"http.log.access","request":{"proto":"HTTP/2.0","host":"api.example.net"},"status":421}"#,
              expected: .http, note: "JSON access log"),
        .init(text: "Our local dev server answers 421 Invalid Host header when the app is opened through the tunnel.",
              expected: .http, note: "host allow-list"),
        .init(text: "request_handle:respond({[\":status\"] = \"421\"}, \"nope\")", expected: .http,
              note: ":status pseudo-header"),
        .init(text: "浏览器打开网站时返回 421 Misdirected Request，刷新后正常", expected: .http, note: "Chinese"),
        .init(text: "curl -sv https://shop.example.com/ returns 421 when I pass -H 'Host: admin.example.com'",
              expected: .http, note: "curl with Host override"),
        .init(text: "after adding proxy_pass https://backend; and proxy_ssl_server_name on; the upstream still refuses us",
              expected: .http, note: "nginx config, no code"),
        .init(text: "java.io.IOException: Server returned HTTP response code: 421 for URL", expected: .http,
              note: "Java HTTP client"),
        .init(text: "AxiosError: Request failed with status code 421", expected: .http, note: "axios"),
        // SMTP, with and without the literal 421
        .init(text: "421 4.7.0 mx.example.net Error: too many connections from 198.51.100.7", expected: .smtp,
              note: "Postfix connection limit"),
        .init(text: "Mar  3 10:00:00 mail postfix/smtp[123]: 4AB: to=<bob@example.org>, relay=mx.example.org[192.0.2.5]:25, delay=2, dsn=4.0.0, status=deferred (host mx.example.org[192.0.2.5] refused to talk to me: 421 Service temporarily unavailable)",
              expected: .smtp, note: "Postfix deferred"),
        .init(text: "421 Service not available, closing transmission channel", expected: .smtp,
              note: "RFC 5321 wording"),
        .init(text: "SMTP error from remote mail server after RCPT TO:<ann@example.com>: 421 Too many concurrent SMTP connections from this IP address; please try again later.",
              expected: .smtp, note: "Exim per-host limit"),
        .init(text: "Every message to that recipient stays in the queue: the receiving mail server keeps deferring us.",
              expected: .smtp, note: "mail wording without 421"),
        .init(text: "Mar 3 10:00:00 mx postfix/smtp[9]: Trusted TLS connection established to mx.example.com[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\nMar 3 10:00:01 mx postfix/smtp[9]: 5CD: host mx.example.com[192.0.2.1] said: 421 4.3.2 System not accepting network messages (in reply to MAIL FROM command)",
              expected: .smtp, note: "mail log that mentions TLS"),
        .init(text: "Error: Message failed: 421 4.7.0 Try again later, closing connection. (EHLO) - gsmtp", expected: .smtp,
              note: "Gmail through a client library"),
        .init(text: "Our newsletter to Yahoo users is deferred with [TSS04]; SPF and DKIM pass.", expected: .smtp,
              note: "Yahoo tag without 421"),
        // FTP, with and without the literal 421
        .init(text: "421 Service not available, closing control connection.", expected: .ftp, note: "RFC 959 wording"),
        .init(text: "421 Too many connections (8) from this IP", expected: .ftp, note: "Pure-FTPd per-IP limit"),
        .init(text: "Response:\t421 There are too many connections from your internet address.", expected: .ftp,
              note: "vsftpd per-IP limit"),
        .init(text: "FTPError: 421-Sorry, cleartext sessions and weak ciphers are not accepted on this server.\n421 Please reconnect using TLS security mechanisms.",
              expected: .ftp, note: "TLS words in an FTP error"),
        .init(text: #"{"message":"There are too many connected users, please try later.","name":"Error","code":421}"#,
              expected: .ftp, note: "JSON error from an FTP module"),
        .init(text: "The nightly upload job dies with: No transfer timeout (600 seconds): closing control connection",
              expected: .ftp, note: "ProFTPD timeout without 421"),
        .init(text: "vsftpd keeps dropping my FileZilla session after a few minutes idle", expected: .ftp,
              note: "FTP products without a code"),
        .init(text: "ftp> put backup.tar\n421 Service not available, remote server has closed connection", expected: .ftp,
              note: "ftp client message"),
        // not enough to tell
        .init(text: "I get error 421, what does it mean?", expected: .unknown, note: "bare code"),
        .init(text: "", expected: .unknown, note: "empty"),
        .init(text: "hello world", expected: .unknown, note: "no evidence"),
        .init(text: "421 Too many connections, try again later", expected: .unknown, note: "shared wording only"),
    ]

    @Test("protocol verdict", arguments: protocolCases)
    func protocolVerdict(_ c: ProtocolCase) {
        let verdict = extractor.classify(c.text)
        #expect(verdict.value == c.expected, "scores \(verdict.scores), evidence \(verdict.evidence.map(\.text))")
        #expect((0...1).contains(verdict.confidence))
        #expect(Set(verdict.scores.keys) == ["http", "smtp", "ftp"])
        if verdict.value == .unknown {
            #expect(verdict.confidence == 0)
            #expect(!verdict.missing.isEmpty)
            #expect(verdict.missing.allSatisfy { $0 == $0.lowercased() })
        } else {
            #expect(verdict.evidence.first?.location != nil)
        }
    }

    @Test func strongEvidenceGivesHighConfidence() {
        let verdict = extractor.classify("HTTP/1.1 421 Misdirected Request")
        #expect(verdict.value == .http)
        #expect(verdict.confidence >= 0.9)
        #expect(verdict.missing.isEmpty)
        #expect(verdict.evidence.first?.kind == "status-line" || verdict.evidence.first?.kind == "reason-phrase")
    }

    @Test func weakEvidenceSaysWhatIsMissing() {
        let verdict = extractor.classify("it happens behind nginx")
        #expect(verdict.confidence < 0.6)
        #expect(verdict.missing.contains("the full status line or reply line containing 421")
            || verdict.missing.contains("the exact error text with the status or reply code"))
    }

    @Test func evidenceHasLocations() {
        let text = "first line\nsecond line\n\nHTTP/1.1 421 Misdirected Request"
        let verdict = facts(text).protocolVerdict
        let statusLine = verdict.evidence.first { $0.kind == "status-line" }
        #expect(statusLine?.location == SourceLocation(file: "paste", line: 4, column: 1))
        #expect(statusLine?.weight ?? 0 > 0)
        #expect(statusLine?.detail?.isEmpty == false)
    }

    // MARK: statements

    @Test func statedProtocolOutranksText() {
        let verdict = extractor.classify("HTTP/1.1 421 Misdirected Request", statements: Statements(protocolValue: .smtp))
        #expect(verdict.value == .smtp)
        #expect(verdict.confidence == 1.0)
        #expect(verdict.evidence.first?.kind == "stated")
    }

    @Test func statedStacksAndIntermittency() {
        let f = facts("it fails sometimes behind nginx",
                      statements: Statements(stacks: ["apache", "my-own-proxy"], intermittent: false))
        #expect(f.stacks["apache"]?.kind == "stated")
        #expect(f.stacks["my-own-proxy"]?.kind == "stated")
        #expect(f.stacks["nginx"]?.kind == "stack")
        #expect(f.intermittent == false)
        #expect(f.intermittentEvidence.first?.kind == "stated")
        #expect(f.intermittentEvidence.contains { $0.kind == "intermittency" })
    }

    @Test func statedMailStackLeansSMTP() {
        let verdict = extractor.classify("421 try again later", statements: Statements(stacks: ["postfix"]))
        #expect(verdict.value == .smtp)
    }

    // MARK: replies, enhanced codes and phases

    @Test func gmailFlattenedMultiLineReply() {
        let text = "Jan 11 02:21:49 mx postfix/smtp[2755]: 7F1: host gmail-smtp-in.l.google.com[192.0.2.27] said: 421-4.7.0 [192.0.2.10] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. 421 4.7.0 Try again later. x1y2z3 - gsmtp (in reply to end of DATA command)"
        let f = facts(text)
        #expect(f.protocolVerdict.value == .smtp)
        #expect(f.replies.count == 1)
        let reply = f.replies.first
        #expect(reply?.code == 421)
        #expect(reply?.enhanced == "4.7.0")
        #expect(reply?.phase == .endOfData)
        #expect(reply?.text.contains("unusual rate of unsolicited mail") == true)
        #expect(reply?.text.contains("421") == false)
        #expect(reply?.text.hasSuffix("gsmtp") == true)
        #expect(f.enhancedCodes == ["4.7.0"])
        #expect(f.phases.first == .endOfData)
        #expect(f.providers["gmail"] != nil)
        #expect(f.hosts.first == "gmail-smtp-in.l.google.com")
    }

    @Test func multiLineReplyOnSeparateLines() {
        let text = "S: 421-4.7.0 [192.0.2.10] Our system has detected\nS: 421-4.7.0 an unusual rate of mail.\nS: 421 4.7.0 Try again later. - gsmtp"
        let f = facts(text)
        #expect(f.replies.count == 1)
        #expect(f.replies.first?.text == "[192.0.2.10] Our system has detected an unusual rate of mail. Try again later. - gsmtp")
        #expect(f.replies.first?.location?.line == 1)
    }

    @Test func postfixRefusedToTalkIsConnectPhase() {
        let text = "postfix/smtp[46829]: 4Jf: to=<ann@example.fr>, relay=mx1.example.fr[192.0.2.58]:25, dsn=4.0.0, status=deferred (host mx1.example.fr[192.0.2.58] refused to talk to me: 421 Refused. Your reverse DNS entry does not resolve to an IP.)"
        let f = facts(text)
        #expect(f.protocolVerdict.value == .smtp)
        #expect(f.replies.first?.phase == .connect)
        #expect(f.replies.first?.text == "Refused. Your reverse DNS entry does not resolve to an IP.")
        #expect(f.phases == [.connect])
        #expect(f.enhancedCodes == ["4.0.0"])
        #expect(f.stacks["postfix"] != nil)
        #expect(f.hosts.first == "mx1.example.fr")
    }

    @Test func eximAfterRcptTo() {
        let text = "2025-01-01 10:00:00 1tX-000 == bob@example.net R=dnslookup T=remote_smtp defer (-44) H=mx.example.net [192.0.2.9]: SMTP error from remote mail server after RCPT TO:<bob@example.net>: 421 Too many concurrent SMTP connections from this IP address; please try again later."
        let f = facts(text)
        #expect(f.protocolVerdict.value == .smtp)
        #expect(f.replies.first?.phase == .rcpt)
        #expect(f.replies.first?.code == 421)
        #expect(f.stacks["exim"] != nil)
    }

    @Test func transcriptBannerIsConnect() {
        let f = facts("=== reading banner ... ===\nS: 421 4.3.2 All server ports are busy")
        #expect(f.replies.first?.phase == .connect)
        #expect(f.replies.first?.enhanced == "4.3.2")
    }

    @Test func pythonSMTPLibTuple() {
        let f = facts("smtplib.SMTPRecipientsRefused: {'ann@example.com': (421, b'4.7.0 [TS02] Messages from 192.0.2.8 temporarily deferred\\n4.7.0 see postmaster page')}")
        #expect(f.protocolVerdict.value == .smtp)
        #expect(f.replies.first?.code == 421)
        #expect(f.replies.first?.enhanced == "4.7.0")
        #expect(f.replies.first?.text == "[TS02] Messages from 192.0.2.8 temporarily deferred see postmaster page")
        #expect(f.replies.first?.phase == .rcpt)
        #expect(f.providers["yahoo"] != nil)
        #expect(f.stacks["python"] != nil)
    }

    @Test func clientTranscriptGivesThePhase() {
        let text = "2025-01-01 10:00:00 CLIENT -> SERVER: MAIL FROM:<news@example.com>\n2025-01-01 10:00:00 SERVER -> CLIENT: 421 4.7.0 Too many messages, closing connection"
        let f = facts(text)
        #expect(f.replies.count == 1)
        #expect(f.replies.first?.phase == .mail)
    }

    @Test func nodemailerCommandField() {
        let f = facts("{ code: 'EENVELOPE', response: '421 4.7.0 Try again later', responseCode: 421, command: 'RCPT TO' }")
        #expect(f.protocolVerdict.value == .smtp)
        #expect(f.replies.first?.text == "Try again later")
        #expect(f.phases.contains(.rcpt))
    }

    @Test func yahooTagMeansYahoo() {
        let f = facts("421 4.7.0 [TSS04] Messages from 192.0.2.44 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1")
        #expect(f.protocolVerdict.value == .smtp)
        #expect(f.providers["yahoo"] != nil)
        #expect(f.enhancedCodes == ["4.7.0"])
    }

    @Test func providersFromTellTales() {
        #expect(facts("host example-com.mail.protection.outlook.com said: 421 4.7.500 Server busy").providers["microsoft"] != nil)
        #expect(facts("550 5.7.1 blocked - gsmtp").providers["gmail"] != nil)
        #expect(facts("relay=mx.free.fr[192.0.2.1]:25 said: 421 try later").providers["free"] != nil)
    }

    @Test func enhancedCodesNeedAnSMTPContext() {
        let f = facts("After the update to Apache 2.4.64 every site answers 421 Misdirected Request")
        #expect(f.enhancedCodes.isEmpty)
        #expect(f.replies.isEmpty)
        #expect(f.phases.isEmpty)
    }

    @Test func ftpRepliesHaveNoPhase() {
        let f = facts("Command:\tSTOR site.zip\nResponse:\t421 No transfer timeout (300 seconds): closing control connection")
        #expect(f.protocolVerdict.value == .ftp)
        #expect(f.replies.first?.code == 421)
        #expect(f.replies.first?.phase == nil)
        #expect(f.phases.isEmpty)
        #expect(f.stacks["proftpd"] != nil)
    }

    @Test func jsonErrorCodeBecomesAReply() {
        let f = facts(#"{"message":"There are too many connections from your internet address.","name":"Error","code":421}"#)
        #expect(f.protocolVerdict.value == .ftp)
        #expect(f.replies.first?.code == 421)
        #expect(f.replies.first?.text == "There are too many connections from your internet address.")
        #expect(f.stacks["vsftpd"] != nil)
    }

    // MARK: HTTP facts

    @Test func httpStatusesAndVersions() {
        let text = "* ALPN: server accepted h2\n> GET / HTTP/2\n> Host: www.example.com\n< HTTP/2 421\n< server: cloudflare\n< cf-ray: 8a1b2c3d4e5f-AMS"
        let f = facts(text)
        #expect(f.protocolVerdict.value == .http)
        #expect(f.httpStatuses == [421])
        #expect(f.httpVersions == ["2"])
        #expect(f.hosts.first == "www.example.com")
        #expect(f.stacks["cloudflare"] != nil)
        #expect(f.signatures["cf-ray"] != nil)
        #expect(f.replies.isEmpty)
    }

    @Test func httpStatusesFromLogsAndWords() {
        #expect(facts(#"{"proto":"HTTP/2.0","status": 421}"#).httpVersions == ["2"])
        #expect(facts(#"{"proto":"HTTP/2.0","status": 421}"#).httpStatuses == [421])
        #expect(facts("\"GET / HTTP/1.0\" 400 4691 \"-\" \"Mozilla/4.5\"").httpStatuses == [400])
        #expect(facts("\"GET / HTTP/1.0\" 400 4691 \"-\" \"Mozilla/4.5\"").httpVersions == ["1.0"])
        #expect(facts("Safari shows error 421 on our website").httpStatuses == [421])
        #expect(facts("Traefik answers Misdirected Request").httpStatuses == [421])
        #expect(facts("curl --http1.1 https://a.example.com works").httpVersions == ["1.1"])
    }

    @Test func hostsAreCleanAndRanked() {
        let text = """
            at Object.<anonymous> (/srv/app/index.js:12:5) while loading nginx.conf
            curl https://Shop.Example.com:8443/cart
            AH02032: Hostname a.example.org provided via SNI and hostname b.example.org provided via HTTP
            client 192.0.2.7 x.x.x.x version 2.4.64 e.g. contact admin@example.net
            """
        let f = facts(text)
        #expect(Array(f.hosts.prefix(3)) == ["a.example.org", "b.example.org", "shop.example.com"])
        #expect(!f.hosts.contains("index.js"))
        #expect(!f.hosts.contains("nginx.conf"))
        #expect(!f.hosts.contains("192.0.2.7"))
        #expect(!f.hosts.contains("x.x.x.x"))
        #expect(f.hosts.contains("example.net"))
        #expect(f.hosts.allSatisfy { $0 == $0.lowercased() })
    }

    // MARK: signatures and stacks

    struct SignatureCase: CustomTestStringConvertible, Sendable {
        let text: String
        let signature: String
        let stack: String?
        var testDescription: String { signature }
    }

    static let signatureCases: [SignatureCase] = [
        .init(text: "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>421 Misdirected Request</title>\n</head><body>\n<h1>Misdirected Request</h1>\n<p>The client needs a new connection for this request as the requested host name does not match the Server Name Indication (SNI) in use for this connection.</p>\n</body></html>",
              signature: "apache-421-page", stack: "apache"),
        .init(text: "<html>\n<head><title>421 Misdirected Request</title></head>\n<body>\n<center><h1>421 Misdirected Request</h1></center>\n<hr><center>nginx/1.25.3</center>\n</body>\n</html>",
              signature: "nginx-421-page", stack: "nginx"),
        .init(text: "<html><body><h1>421 Misdirected Request</h1>\nRequest sent to a non-authoritative server.\n</body></html>",
              signature: "haproxy-421-page", stack: "haproxy"),
        .init(text: "$ curl -sk https://app.example.com/\nMisdirected Request", signature: "traefik-421", stack: nil),
        .init(text: "http.log.error strict host matching: TLS ServerName (a.example.com) and HTTP Host (b.example.com) values differ",
              signature: "caddy-strict-sni", stack: "caddy"),
        .init(text: "<html>\n<head><title>421 Misdirected Request</title></head>\n<body bgcolor=\"white\">\n<center><h1>421 Misdirected Request</h1></center>\n<hr><center>CloudFront</center>\n</body>\n</html>",
              signature: "cloudfront", stack: "cloudfront"),
        .init(text: "< HTTP/2 421\n< x-amz-cf-id: abcDEF123==", signature: "cloudfront", stack: "cloudfront"),
        .init(text: "HTTP/1.1 421 Misdirected Request\ncf-ray: 1234abcd-LHR", signature: "cf-ray", stack: "cloudflare"),
        .init(text: "HTTP/1.1 421 Misdirected Request\n\nInvalid Host header", signature: "invalid-host-header", stack: nil),
    ]

    @Test("signatures", arguments: signatureCases)
    func signatures(_ c: SignatureCase) {
        let f = facts(c.text)
        #expect(f.protocolVerdict.value == .http)
        #expect(f.signatures[c.signature] != nil, "signatures \(f.signatures.keys.sorted())")
        if let stack = c.stack { #expect(f.stacks[stack] != nil, "stacks \(f.stacks.keys.sorted())") }
        #expect(Vocabulary.signatures.contains(c.signature))
    }

    @Test func apachePageIsNotNginxPage() {
        let f = facts(Self.signatureCases[0].text)
        #expect(f.signatures["nginx-421-page"] == nil)
        #expect(f.signatures["traefik-421"] == nil)
    }

    struct StackCase: CustomTestStringConvertible, Sendable {
        let text: String
        let slug: String
        var testDescription: String { slug }
    }

    static let stackCases: [StackCase] = [
        .init(text: "AH01276: Cannot serve directory", slug: "apache"),
        .init(text: "Mar 1 postfix/smtpd[1]: connect from unknown", slug: "postfix"),
        .init(text: "NGINX Proxy Manager shows 421", slug: "nginx-proxy-manager"),
        .init(text: "works in Firefox, fails in Safari", slug: "safari"),
        .init(text: "works in Firefox, fails in Safari", slug: "firefox"),
        .init(text: "Error: Data command failed: 421 at SMTPConnection._actionDATA (node_modules/nodemailer/lib/smtp-connection/index.js:1)",
              slug: "nodemailer"),
        .init(text: "curl -v https://x.example.com", slug: "curl"),
        .init(text: "after the cPanel EasyApache update", slug: "cpanel"),
        .init(text: "421 Too many connections (8) from this IP", slug: "pure-ftpd"),
        .init(text: "Hong Kong users get 421 from Kong", slug: "kong"),
    ]

    @Test("stacks", arguments: stackCases)
    func stacks(_ c: StackCase) {
        let f = facts(c.text)
        #expect(f.stacks[c.slug] != nil, "stacks \(f.stacks.keys.sorted())")
        #expect(f.stacks[c.slug]?.location?.file == "paste")
    }

    @Test func commonWordsAreNotStacks() {
        let f = facts("Apache Commons Net FTPClient got 421; we are in Hong Kong; monochrome terminal")
        #expect(f.stacks["apache"] == nil)
        #expect(f.stacks["chrome"] == nil)
        #expect(f.protocolVerdict.value == .ftp)
    }

    // MARK: intermittency

    struct IntermittencyCase: CustomTestStringConvertible, Sendable {
        let text: String
        let expected: Bool?
        var testDescription: String { text }
    }

    static let intermittencyCases: [IntermittencyCase] = [
        .init(text: "It happens sometimes, not on every page load", expected: true),
        .init(text: "The site randomly shows 421", expected: true),
        .init(text: "Users periodically get a 421", expected: true),
        .init(text: "A refresh fixes it", expected: true),
        .init(text: "If I wait, after a while it works again", expected: true),
        .init(text: "Only some users are affected", expected: true),
        .init(text: "I can't reproduce it on my machine", expected: true),
        .init(text: "The server occasionally defers mail", expected: true),
        .init(text: "On occasion the upload fails", expected: true),
        .init(text: "It rejects a small number of connections", expected: true),
        .init(text: "Visiting the page later, it works later", expected: true),
        .init(text: "All requests fail with 421", expected: false),
        .init(text: "It fails every time", expected: false),
        .init(text: "The proxy always answers 421", expected: false),
        .init(text: "It consistently fails", expected: false),
        .init(text: "The delivery never works", expected: false),
        .init(text: "The API returns 421 for this host", expected: nil),
    ]

    @Test("intermittency", arguments: intermittencyCases)
    func intermittency(_ c: IntermittencyCase) {
        let f = facts(c.text)
        #expect(f.intermittent == c.expected)
        if c.expected != nil { #expect(!f.intermittentEvidence.isEmpty) }
    }

    // MARK: inputs and facts plumbing

    @Test func severalInputsKeepTheirNamesAndLines() {
        let inputs = [
            InputText(name: "error.log", text: "line one\n[ssl:error] AH02032: Hostname a.example.com provided via SNI", kind: "error-log"),
            InputText(name: "mail.log", text: "nothing", kind: "error-log"),
        ]
        let f = extractor.extract(inputs)
        #expect(f.text == inputs[0].text + "\n" + inputs[1].text)
        #expect(f.fileKinds == ["error-log"])
        #expect(f.inputs == inputs)
        let ah = f.protocolVerdict.evidence.first { $0.text.hasPrefix("AH0203") }
        #expect(ah?.location?.file == "error.log")
        #expect(ah?.location?.line == 2)
        #expect(f.findings.isEmpty)
        #expect(f.target == nil)
    }

    @Test func fileKindLeansTheVerdict() {
        let verdict = extractor.extract([InputText(name: "maillog", text: "421 try again later", kind: "mail-log")])
            .protocolVerdict
        #expect(verdict.value == .smtp)
        #expect(verdict.evidence.contains { $0.kind == "file-kind" })
    }

    @Test func vocabularyCoversEveryCue() {
        let table = SymptomCueTable()
        for cue in table.protocolCues {
            if let s = cue.stack { #expect(Vocabulary.stacks.contains(s), "\(s)") }
            if let p = cue.provider { #expect(Vocabulary.providers.contains(p), "\(p)") }
            if let s = cue.signature { #expect(Vocabulary.signatures.contains(s), "\(s)") }
        }
        #expect(SymptomExtractor.invalidPatterns.isEmpty, "\(SymptomExtractor.invalidPatterns)")
        for slug in ["nginx", "apache", "postfix", "exim", "vsftpd", "pure-ftpd", "mcp", "nginx-proxy-manager"] {
            #expect(Vocabulary.stacks.contains(slug))
        }
        #expect(Vocabulary.fileKinds == ["text", "nginx-config", "apache-config", "apachectl-s", "error-log",
                                         "access-log", "mail-log", "ftp-log"])
        #expect(Set(Vocabulary.stacks).count == Vocabulary.stacks.count)
    }

    // MARK: robustness

    @Test func oneMegabyteOfRandomTextIsQuick() {
        var generator = SeededGenerator(seed: 421)
        let words = ["alpha", "server", "error", "the", "connection", "421x", "host", "mail", "a.b", "foo.example.com",
                     "中文", "HTTP", "smtp", "ftp", "12:34:56", "GET", "said:", "refused", "@", "curl", "h2", "\"status\"",
                     "421", "4.7.0", "ok", "—", "🙂"]
        var text = ""
        text.reserveCapacity(1_100_000)
        while text.utf8.count < 1_000_000 {
            text += words[Int(generator.next() % UInt64(words.count))]
            text += generator.next() % 12 == 0 ? "\n" : " "
        }
        let start = Date()
        let f = facts(text)
        let elapsed = Date().timeIntervalSince(start)
        // A hang detector, not a speed test: speed is measured in bench/ on a release build.
        #expect(elapsed < 30, "1 MB took \(elapsed) s")
        #expect(f.hosts.count <= 50)
        #expect(f.replies.count <= 4_000)

        let oneLine = String(repeating: "curl 421 said: x ", count: 60_000)
        let start2 = Date()
        _ = facts(oneLine)
        let elapsed2 = Date().timeIntervalSince(start2)
        #expect(elapsed2 < 30, "one 1 MB line took \(elapsed2) s")
    }

    @Test(arguments: [
        "\u{0}\u{1}\u{2}421\u{7}\u{8}\u{1B}[31mHTTP/1.1 421\u{1B}[0m\u{7F}",
        "\r\n\r\n421 4.7.0\r\nS: 421-\r\nS: 421 ",
        "\u{85}\u{2028}\u{2029}421 Misdirected Request\u{202E}txt.exe\u{FEFF}",
        "🙂🙂 421-4.7.0 👍🏽 said: 421 🇫🇷 (in reply to",
        "错误 421 邮件服务器 拒绝连接 ，浏览器 返回",
        "421-", "421 ", ":status", "HTTP/", "\"code\":421", "said: 421-4.7.0", "Hostname  provided via SNI",
        String(repeating: "(", count: 5_000) + "421 " + String(repeating: ")", count: 5_000),
        String(repeating: "a.", count: 20_000) + "com",
    ])
    func oddInputsDoNotCrash(_ text: String) {
        let f = facts(text)
        #expect((0...1).contains(f.protocolVerdict.confidence))
        for e in f.protocolVerdict.evidence { #expect((e.location?.line ?? 1) >= 1) }
    }

    // MARK: public cases

    /// Measures protocol accuracy on the labelled public cases, when the shared folder is there.
    /// Only the overall rate is asserted; individual cases are printed for whoever tunes weights.
    @Test func publicCasesAccuracy() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let url = root.deletingLastPathComponent().appendingPathComponent("shared/cases/public.yaml")
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let cases = PublicCaseReader.read(try String(contentsOf: url, encoding: .utf8))
        guard !cases.isEmpty else { return }
        var right = 0
        var intermittentRight = 0
        var intermittentLabelled = 0
        for c in cases {
            let f = facts(c.text)
            let got = f.protocolVerdict.value.rawValue
            if got == c.protocolValue { right += 1 } else {
                print("public case \(c.id): expected \(c.protocolValue), got \(got) scores \(f.protocolVerdict.scores)")
            }
            if let label = c.intermittent {
                intermittentLabelled += 1
                if f.intermittent == label { intermittentRight += 1 } else {
                    print("public case \(c.id): intermittent expected \(label), got \(String(describing: f.intermittent))")
                }
            }
        }
        let accuracy = Double(right) / Double(cases.count)
        print("public cases: protocol accuracy \(right)/\(cases.count) = \(accuracy); intermittency \(intermittentRight)/\(intermittentLabelled)")
        #expect(accuracy >= 0.9, "protocol accuracy on public cases")
    }
}

/// Deterministic numbers for the performance test.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Reads the `- id:` / `text: |` / `protocol:` layout of the shared case file, nothing more.
/// The engine's YAML layer is the real parser; this keeps the test independent of it.
enum PublicCaseReader {
    struct Case {
        var id = ""
        var text = ""
        var protocolValue = ""
        var intermittent: Bool?
    }

    static func read(_ source: String) -> [Case] {
        var cases: [Case] = []
        var current: Case?
        var blockIndent: Int?
        var inText = false
        for rawLine in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let indent = line.prefix { $0 == " " }.count
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if inText {
                if trimmed.isEmpty { current?.text += "\n"; continue }
                if blockIndent == nil { blockIndent = indent }
                if indent >= (blockIndent ?? 0), indent > 2 {
                    current?.text += String(line.dropFirst(blockIndent ?? 0)) + "\n"
                    continue
                }
                inText = false
            }
            if line.hasPrefix("- id:") {
                if let c = current { cases.append(c) }
                current = Case(id: value(line.dropFirst(5)))
            } else if trimmed == "text: |" {
                inText = true
                blockIndent = nil
            } else if trimmed.hasPrefix("protocol:") {
                current?.protocolValue = value(trimmed.dropFirst(9))
            } else if trimmed.hasPrefix("intermittent:") {
                switch value(trimmed.dropFirst(13)) {
                case "yes": current?.intermittent = true
                case "no": current?.intermittent = false
                default: break
                }
            }
        }
        if let c = current { cases.append(c) }
        return cases.filter { !$0.id.isEmpty && !$0.protocolValue.isEmpty }
    }

    private static func value(_ s: Substring) -> String {
        s.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
    }
}
