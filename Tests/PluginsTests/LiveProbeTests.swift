import Engine
import Foundation
import Testing
@testable import Plugins

/// Live probes against in-process peers on 127.0.0.1: sane exchanges work; hostile peers end in time with an error.
@Suite("live probes", .serialized)
struct LiveProbeTests {
    /// Runs a probe and checks it ended well within `bound` (only to catch hangs).
    func run<P: Probe>(_ probe: P.Type, _ parameters: [String: ProbeValue], context: ProbeContext = liveContext(),
                       bound: Duration = .seconds(10)) async -> ProbeOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = await probe.init().run(parameters, context: context)
        let elapsed = clock.now - start
        #expect(elapsed < bound, "\(probe.description.id) took \(elapsed)")
        return outcome
    }

    // MARK: TLS

    @Test func tlsHandshakeReadsTheCertificate() async throws {
        let server = try await TestServers.https()
        defer { Task { await server.stop() } }
        // Five handshakes in one probe (the SNI one, no SNI, three for the matrix): a budget that a loaded machine
        // running the whole suite in parallel cannot exhaust; this test is about what is read, not about speed.
        let outcome = await run(TLSHandshakeProbe.self, ["connect": .string(server.connect), "sni": .string("a.test"),
                                                         "name": .string("x.a.test"), "matrix": .list(["a.test", "b.test", "c.test"])],
                                context: liveContext(read: .seconds(5), total: .seconds(30)), bound: .seconds(40))
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.observations["subject"]?.description == "CN=a.test")
        #expect(outcome.observations["sans"]?.description == "a.test,*.a.test,b.test")
        #expect(outcome.observations["covers"]?.description == "true")
        #expect(outcome.observations["valid_now"]?.description == "true")
        #expect(outcome.observations["self_signed"]?.description == "true")
        #expect(outcome.observations["alpn"]?.description == "h2")
        #expect(outcome.observations["version"]?.description == "TLSv1.3")
        #expect(outcome.observations["default_cert_covers"]?.description == "true")
        let matrix = outcome.observations["matrix"]?.description ?? ""
        #expect(matrix.contains("c.test: sni CN=a.test does-not-cover"), "\(matrix)")
        #expect(outcome.command?.contains("-servername a.test") == true)
    }

    @Test func tlsWithoutSNIAndANameTheCertificateMisses() async throws {
        let server = try await TestServers.https()
        defer { Task { await server.stop() } }
        let outcome = await run(TLSHandshakeProbe.self, ["connect": .string(server.connect), "sni": .string("none"),
                                                         "name": .string("shop.example"), "alpn": .list(["http/1.1"])])
        #expect(outcome.error == nil)
        #expect(outcome.observations["sni"]?.description == "none")
        #expect(outcome.observations["covers"]?.description == "false")
        #expect(outcome.observations["alpn"]?.description == "http/1.1")
        #expect(outcome.command?.contains("-noservername") == true)
    }

    @Test func tlsStallingPeerTimesOut() async throws {
        let server = try await TestServers.tcp { SilentHandler() }
        defer { Task { await server.stop() } }
        let outcome = await run(TLSHandshakeProbe.self, ["connect": .string(server.connect), "sni": .string("a.test")],
                                context: liveContext(read: .seconds(1)), bound: .seconds(10))
        #expect(outcome.error?.contains("timed out after 1s waiting for the TLS handshake") == true, "\(outcome.error ?? "no error")")
    }

    @Test func tlsGarbagePeerFails() async throws {
        let server = try await TestServers.tcp { GarbageHandler() }
        defer { Task { await server.stop() } }
        let outcome = await run(TLSHandshakeProbe.self, ["connect": .string(server.connect), "sni": .string("a.test")],
                                bound: .seconds(10))
        #expect(outcome.error != nil)
        #expect(outcome.error?.contains("TLS") == true || outcome.error?.contains("closed") == true, "\(outcome.error ?? "")")
    }

    @Test func refusedConnectionIsAnError() async throws {
        let server = try await TestServers.tcp { SilentHandler() }
        let port = server.port
        await server.stop()
        // 127.0.0.2 is loopback too, but the test servers bind 127.0.0.1 only, so a server another test
        // starts meanwhile on the freed port cannot answer there: the refusal is certain.
        let outcome = await run(TLSHandshakeProbe.self, ["connect": .string("127.0.0.2:\(port)")], bound: .seconds(10))
        #expect(outcome.error == "connection refused by 127.0.0.2:\(port)")
    }

    // MARK: HTTP

    @Test(arguments: ["auto", "1.1", "2"])
    func httpRequestWorks(version: String) async throws {
        let server = try await TestServers.https()
        defer { Task { await server.stop() } }
        let outcome = await run(HTTPRequestProbe.self, ["connect": .string(server.connect), "host": .string("a.test"),
                                                        "version": .string(version)])
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.observations["status"]?.description == "200")
        #expect(outcome.observations["version"]?.description == (version == "1.1" ? "1.1" : "2"))
        #expect(outcome.observations["server"]?.description == "kb-test")
        #expect(outcome.observations["sni"]?.description == "a.test")
        #expect(outcome.observations["sni_matches_host"]?.description == "true")
    }

    @Test func httpRequestSeesA421() async throws {
        let server = try await TestServers.https()
        defer { Task { await server.stop() } }
        let outcome = await run(HTTPRequestProbe.self, ["connect": .string(server.connect), "host": .string("b.test"),
                                                        "sni": .string("a.test"), "path": .string("/421")])
        #expect(outcome.error == nil)
        #expect(outcome.observations["status"]?.description == "421")
        #expect(outcome.observations["server"]?.description == "Apache/2.4.71 (Debian)")
        #expect(outcome.observations["signature"]?.description == "apache-421-page")
        #expect(outcome.observations["sni_matches_host"]?.description == "false")
        #expect(outcome.command == "curl -sv --http2 -k --connect-to a.test:443:\(server.connect) -H 'Host: b.test' https://a.test/421 -o /dev/null")
    }

    @Test func httpMegabytesOfHeadersHitTheByteLimit() async throws {
        let server = try await TestServers.flood(prefix: "HTTP/1.1 200 OK\r\n", chunk: "X-Junk: " + String(repeating: "a", count: 90) + "\r\n",
                                                 waitForRequest: true)
        defer { Task { await server.stop() } }
        let outcome = await run(HTTPRequestProbe.self, ["connect": .string(server.connect), "host": .string("a.test"),
                                                        "scheme": .string("http")],
                                context: liveContext(byteLimit: 256 * 1024), bound: .seconds(5))
        #expect(outcome.error != nil)
        #expect(outcome.error?.contains("byte limit") == true || outcome.error?.contains("invalid HTTP") == true,
                "\(outcome.error ?? "")")
    }

    @Test func httpStallingServerTimesOut() async throws {
        let server = try await TestServers.tcp { SilentHandler() }
        defer { Task { await server.stop() } }
        let outcome = await run(HTTPRequestProbe.self, ["connect": .string(server.connect), "host": .string("a.test"),
                                                        "scheme": .string("http")],
                                context: liveContext(read: .seconds(1)), bound: .seconds(10))
        #expect(outcome.error?.hasPrefix("timed out after 1s waiting for the response") == true, "\(outcome.error ?? "")")
    }

    @Test func totalDeadlineWins() async throws {
        let server = try await TestServers.tcp { SilentHandler() }
        defer { Task { await server.stop() } }
        let outcome = await run(HTTPRequestProbe.self, ["connect": .string(server.connect), "host": .string("a.test"),
                                                        "scheme": .string("http")],
                                context: liveContext(read: .seconds(5), total: .milliseconds(700)), bound: .seconds(8))
        #expect(outcome.error?.contains("total limit of 700ms") == true, "\(outcome.error ?? "")")
    }

    @Test func coalescingIsReproduced() async throws {
        let server = try await TestServers.https()
        defer { Task { await server.stop() } }
        let outcome = await run(HTTPCoalesceProbe.self, ["connect": .string(server.connect), "first": .string("a.test"),
                                                         "second": .string("b.test")])
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.observations["first_status"]?.description == "200")
        #expect(outcome.observations["shared_status"]?.description == "421")
        #expect(outcome.observations["fresh_status"]?.description == "200")
        #expect(outcome.observations["reproduced"]?.description == "true")
        #expect(outcome.observations["alpn"]?.description == "h2")
        #expect(outcome.observations["cert_covers_second"]?.description == "true")
    }

    // MARK: SMTP

    @Test func smtpSessionWithSTARTTLS() async throws {
        let server = try await TestServers.smtp(SMTPScript())
        defer { Task { await server.stop() } }
        let outcome = await run(SMTPSessionProbe.self, ["connect": .string(server.connect), "sni": .string("mx.a.test")])
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.observations["banner_code"]?.description == "220")
        #expect(outcome.observations["code"]?.description == "221")
        #expect(outcome.observations["phase"]?.description == "quit")
        #expect(outcome.observations["starttls"]?.description == "true")
        #expect(outcome.observations["tls_version"]?.description == "TLSv1.3")
        #expect(outcome.observations["tls_subject"]?.description == "CN=a.test")
        #expect(outcome.observations["closed_early"]?.description == "false")
        #expect(outcome.observations["capabilities"]?.description.contains("ENHANCEDSTATUSCODES") == true)
    }

    @Test func smtpGreetingWith421() async throws {
        let server = try await TestServers.smtp(SMTPScript(greeting: "421 4.7.0 mx.a.test Error: too many connections from 127.0.0.1",
                                                           closeAfterGreeting: true))
        defer { Task { await server.stop() } }
        let outcome = await run(SMTPSessionProbe.self, ["connect": .string(server.connect)])
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.observations["banner_code"]?.description == "421")
        #expect(outcome.observations["code"]?.description == "421")
        #expect(outcome.observations["enhanced"]?.description == "4.7.0")
        #expect(outcome.observations["phase"]?.description == "connect")
        #expect(outcome.observations["text"]?.description.contains("too many connections") == true)
    }

    @Test func smtpServerClosingAfterEHLO() async throws {
        let server = try await TestServers.smtp(SMTPScript(closeOnEHLO: true))
        defer { Task { await server.stop() } }
        let outcome = await run(SMTPSessionProbe.self, ["connect": .string(server.connect)])
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.observations["closed_early"]?.description == "true")
        #expect(outcome.observations["phase"]?.description == "helo")
        #expect(outcome.observations["banner_code"]?.description == "220")
    }

    @Test func smtpEndlessContinuationLinesStop() async throws {
        let server = try await TestServers.flood(prefix: "", chunk: "220-still greeting you, please wait\r\n", waitForRequest: false)
        defer { Task { await server.stop() } }
        let outcome = await run(SMTPSessionProbe.self, ["connect": .string(server.connect)], bound: .seconds(5))
        #expect(outcome.error?.contains("continuation lines") == true || outcome.error?.contains("byte limit") == true,
                "\(outcome.error ?? "no error")")
    }

    @Test func smtpControlCharactersAreNeutralised() async throws {
        let server = try await TestServers.smtp(SMTPScript(greeting: "421 4.3.2 \u{1B}[31mred\u{1B}[0m down", closeAfterGreeting: true))
        defer { Task { await server.stop() } }
        let outcome = await run(SMTPSessionProbe.self, ["connect": .string(server.connect)])
        let text = outcome.observations["text"]?.description ?? ""
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("\\x1b[31mred"))
    }

    // MARK: DNS

    @Test func dnsAnswersWithCompressionAndTTLs() async throws {
        let server = try await TestDNSServer { id, question, type in
            switch type {
            case 1: return DNSBuilder.response(id: id, question: question, answers: [(1, 300, [192, 0, 2, 7]), (1, 60, [192, 0, 2, 8])])
            case 28: return DNSBuilder.response(id: id, question: question,
                                                answers: [(28, 120, [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])])
            case 15: return DNSBuilder.response(id: id, question: question, answers: [(15, 300, [0, 10] + DNSBuilder.name("mx") + [])])
            case 16: return DNSBuilder.response(id: id, question: question, answers: [(16, 300, [5] + Array("v=kb1".utf8))])
            default: return DNSBuilder.response(id: id, question: question, rcode: 0, answers: [])
            }
        }
        defer { Task { await server.stop() } }
        let outcome = await run(DNSLookupProbe.self, ["name": .string("shop.test"), "type": .list(["A", "AAAA", "MX", "TXT"]),
                                                      "server": .string(server.server)])
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.observations["a"]?.description == "192.0.2.7,192.0.2.8")
        #expect(outcome.observations["aaaa"]?.description == "2001:db8::1")
        #expect(outcome.observations["mx"]?.description == "10 mx.")
        #expect(outcome.observations["txt"]?.description == "v=kb1")
        #expect(outcome.observations["ttl"]?.description == "60")
        #expect(outcome.observations["rcode"]?.description == "NOERROR")
        #expect(outcome.observations["dual_stack"]?.description == "true")
        #expect(outcome.command == "dig @127.0.0.1 -p \(server.server.split(separator: ":").last!) shop.test A AAAA MX TXT +noall +answer +comments")
    }

    @Test func dnsNXDOMAINAndDifferingServers() async throws {
        let first = try await TestDNSServer { id, q, type in
            DNSBuilder.response(id: id, question: q, answers: type == 1 ? [(1, 30, [192, 0, 2, 1])] : [])
        }
        let second = try await TestDNSServer { id, q, type in
            DNSBuilder.response(id: id, question: q, answers: type == 1 ? [(1, 30, [198, 51, 100, 1])] : [])
        }
        let missing = try await TestDNSServer { id, q, _ in DNSBuilder.response(id: id, question: q, rcode: 3, answers: []) }
        defer { Task { await first.stop(); await second.stop(); await missing.stop() } }
        let differs = await run(DNSLookupProbe.self, ["name": .string("shop.test"), "server": .list([first.server, second.server])])
        #expect(differs.observations["differs"]?.description == "true")
        #expect(differs.observations["a"]?.description == "192.0.2.1")
        let nx = await run(DNSLookupProbe.self, ["name": .string("gone.test"), "server": .string(missing.server)])
        #expect(nx.observations["rcode"]?.description == "NXDOMAIN")
        #expect(nx.observations["addresses"]?.description == "")
    }

    @Test func dnsTruncatedSilentAndLoopingAnswersAreErrors() async throws {
        let truncated = try await TestDNSServer { id, q, _ in DNSBuilder.response(id: id, question: q, truncated: true, answers: []) }
        let silent = try await TestDNSServer { _, _, _ in nil }
        let looping = try await TestDNSServer { id, q, _ in
            // An answer whose name is a pointer to itself.
            var bytes = DNSBuilder.response(id: id, question: q, answers: [(1, 30, [192, 0, 2, 1])])
            let at = 12 + q.count
            bytes[at] = 0xC0
            bytes[at + 1] = UInt8(at)
            return bytes
        }
        defer { Task { await truncated.stop(); await silent.stop(); await looping.stop() } }
        let tc = await run(DNSLookupProbe.self, ["name": .string("big.test"), "type": .string("TXT"), "server": .string(truncated.server)])
        #expect(tc.error?.contains("TC set") == true, "\(tc.error ?? "")")
        let quiet = await run(DNSLookupProbe.self, ["name": .string("a.test"), "server": .string(silent.server)],
                              context: liveContext(read: .seconds(1)), bound: .seconds(10))
        #expect(quiet.error?.contains("timed out after 1s") == true, "\(quiet.error ?? "")")
        let loop = await run(DNSLookupProbe.self, ["name": .string("a.test"), "type": .string("A"), "server": .string(looping.server)])
        #expect(loop.error?.contains("pointer loop") == true, "\(loop.error ?? "")")
    }

    @Test func dnsWireNames() throws {
        #expect(DNSWire.ipv6Text([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]) == "2001:db8::1:0:0:1")
        #expect(DNSWire.ipv6Text([UInt8](repeating: 0, count: 15) + [1]) == "::1")
        #expect(DNSWire.ipv6Text([0x20, 0x01, 0x0d, 0xb8, 0, 1] + [UInt8](repeating: 0, count: 10)) == "2001:db8:1::")
        #expect(throws: DNSWireError.self) { try DNSWire.validate(String(repeating: "a", count: 64) + ".test") }
        #expect(try DNSWire.validate("_dmarc.Example.COM.") == "_dmarc.example.com")
    }

    // MARK: offline checks of the helpers

    @Test func certificateCoverage() throws {
        let cert = CertificateSummary.covering(["*.example.com", "example.com", "192.0.2.7"])
        #expect(cert.covers("a.example.com"))
        #expect(cert.covers("Example.com."))
        #expect(!cert.covers("a.b.example.com"))
        #expect(!cert.covers("example.org"))
        #expect(cert.covers("192.0.2.7"))
        #expect(!CertificateSummary.matches(pattern: "*.com", name: "example.com"))
    }

    @Test func endpoints() throws {
        #expect(try Endpoint.parse("[::1]:8443").description == "[::1]:8443")
        #expect(try Endpoint.parse("mx.example.com", defaultPort: 25).port == 25)
        #expect(throws: ProbeFailure.self) { try Endpoint.parse("127.0.0.1:0") }
        #expect(throws: ProbeFailure.self) { try Endpoint.parse("a b:1") }
    }
}

extension CertificateSummary {
    static func covering(_ sans: [String]) -> CertificateSummary {
        let cert = try! TestServers.certificate()
        let pem = try! String(contentsOfFile: cert.certPath, encoding: .utf8)
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        var summary = CertificateSummary(der: Array(Data(base64Encoded: base64)!))!
        summary.sans = sans
        return summary
    }
}
