import Engine
import Foundation
import Testing
@testable import Plugins

/// The probes against real nginx and Apache 2.4 on loopback.
@Suite("nginx in front of Apache", .serialized)
struct WebStackTests {
    func probe<P: Probe>(_ probe: P.Type, _ parameters: [String: ProbeValue]) async -> ProbeOutcome {
        let outcome = await probe.init().run(parameters, context: Harness.context())
        return outcome
    }

    @Test func proxyWithoutSNIGets421ThenTheFixGives200() async throws {
        let stack = try WebStack()
        defer { stack.remove() }
        try await stack.start()
        let viaProxy: [String: ProbeValue] = ["connect": .string("127.0.0.1:\(stack.proxyPort)"), "host": .string("b.kb.test")]

        // Through nginx: Apache's 421 page, because nginx sent no SNI to the origin.
        let broken = await probe(HTTPRequestProbe.self, viaProxy)
        #expect(broken.error == nil, "\(broken.error ?? "")")
        #expect(broken.observations["status"]?.description == "421")
        #expect(broken.observations["version"]?.description == "2")
        #expect(broken.observations["server"]?.description.hasPrefix("nginx") == true)
        // The page is Apache's, passed through nginx (its text is wrapped over several lines in 2.4.71).
        #expect(broken.observations["signature"]?.description == "apache-421-page")
        #expect(broken.evidence.contains { $0.kind == "status-line" && $0.text.contains("421") })
        let log = stack.apacheErrorLog
        #expect(log.contains("AH02032: Hostname a.kb.test (default host as no SNI was provided) and hostname b.kb.test provided via HTTP have no compatible SSL setup"),
                "Apache's error log: \(log.suffix(1500))")

        // The origin itself: without SNI and Host b.kb.test it is 421 (what nginx did); with SNI b.kb.test it is 200.
        let originNoSNI = await probe(HTTPRequestProbe.self, ["connect": .string("127.0.0.1:\(stack.originPort)"),
                                                              "host": .string("b.kb.test"), "sni": .string("none")])
        #expect(originNoSNI.observations["status"]?.description == "421")
        #expect(originNoSNI.observations["server"]?.description.hasPrefix("Apache/2.4") == true)
        #expect(originNoSNI.observations["signature"]?.description == "apache-421-page")
        #expect(originNoSNI.command == "curl -sv --http2 -k -H 'Host: b.kb.test' https://127.0.0.1:\(stack.originPort)/ -o /dev/null")
        let originSNI = await probe(HTTPRequestProbe.self, ["connect": .string("127.0.0.1:\(stack.originPort)"),
                                                            "host": .string("b.kb.test")])
        #expect(originSNI.observations["status"]?.description == "200")

        // The SNI matrix of the origin: without SNI a client gets a.kb.test's certificate, which does not cover b.
        let matrix = await probe(TLSHandshakeProbe.self, ["connect": .string("127.0.0.1:\(stack.originPort)"),
                                                          "name": .string("b.kb.test"),
                                                          "matrix": .list(["a.kb.test", "b.kb.test"])])
        #expect(matrix.error == nil, "\(matrix.error ?? "")")
        #expect(matrix.observations["covers"]?.description == "true")
        #expect(matrix.observations["default_cert_covers"]?.description == "false")
        #expect(matrix.observations["matrix"]?.description.contains("b.kb.test: sni CN=b.kb.test covers; no-sni CN=a.kb.test does-not-cover") == true,
                "\(matrix.observations["matrix"]?.description ?? "")")

        // The fix: proxy_ssl_server_name on; proxy_ssl_name $host;
        try await stack.fixProxy()
        let fixed = await probe(HTTPRequestProbe.self, viaProxy)
        #expect(fixed.error == nil, "\(fixed.error ?? "")")
        #expect(fixed.observations["status"]?.description == "200")
    }

    @Test func hostDifferentFromSNIGets421FromApache() async throws {
        let stack = try WebStack()
        defer { stack.remove() }
        try await stack.start()
        let outcome = await probe(HTTPRequestProbe.self, ["connect": .string("127.0.0.1:\(stack.originPort)"),
                                                          "sni": .string("a.kb.test"), "host": .string("b.kb.test"),
                                                          "version": .string("1.1")])
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.observations["status"]?.description == "421")
        #expect(outcome.observations["sni_matches_host"]?.description == "false")
        #expect(outcome.observations["version"]?.description == "1.1")
        #expect(stack.apacheErrorLog.contains("AH02032: Hostname a.kb.test provided via SNI and hostname b.kb.test provided via HTTP have no compatible SSL setup"))
        #expect(outcome.command == "curl -sv --http1.1 -k --connect-to a.kb.test:443:127.0.0.1:\(stack.originPort) -H 'Host: b.kb.test' https://a.kb.test/ -o /dev/null")
    }

    @Test func coalescingOnASharedWildcardCertificate() async throws {
        let stack = try WebStack()
        defer { stack.remove() }
        try await stack.start()
        let outcome = await probe(HTTPCoalesceProbe.self, ["connect": .string("127.0.0.1:\(stack.coalescePort)"),
                                                           "first": .string("a.kb.test"), "second": .string("b.kb.test")])
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.observations["alpn"]?.description == "h2")
        #expect(outcome.observations["first_status"]?.description == "200")
        #expect(outcome.observations["shared_status"]?.description == "421")
        #expect(outcome.observations["shared_signature"]?.description == "apache-421-page")
        #expect(outcome.observations["fresh_status"]?.description == "200")
        #expect(outcome.observations["reproduced"]?.description == "true")
        #expect(outcome.observations["cert_covers_second"]?.description == "true")
        // On the proxy, where b.kb.test is the only name, nothing coalesces: a.kb.test is not covered.
        let tls = await probe(TLSHandshakeProbe.self, ["connect": .string("127.0.0.1:\(stack.coalescePort)"),
                                                       "sni": .string("a.kb.test"), "name": .string("b.kb.test")])
        #expect(tls.observations["sans"]?.description == "*.kb.test")
        #expect(tls.observations["covers"]?.description == "true")
    }
}
