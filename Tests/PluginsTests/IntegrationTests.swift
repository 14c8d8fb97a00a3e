import Engine
import Foundation
import Testing
@testable import Plugins

/// The three analyzers together, as `kb diagnose --file …` runs them: each input's kind detected from its
/// content, then every analyzer reading the inputs of its kinds.
struct AnalyzerSet {
    let nginx = NginxConfigAnalyzer()
    let apache = ApacheConfigAnalyzer()
    let logs = LogScanAnalyzer()

    var all: [any InputAnalyzer] { [nginx, apache, logs] }

    func detect(_ input: InputText) -> InputText {
        var copy = input
        copy.kind = all.lazy.compactMap { $0.detect(input) }.first ?? "text"
        return copy
    }

    func analyze(_ raw: [InputText], files: any FileAccess = FixtureFiles(files: [:])) async -> [(InputText, [Finding])] {
        let inputs = raw.map(detect)
        let ctx = ProbeContext(facts: Facts(inputs: inputs, fileKinds: inputs.map(\.kind)), files: files)
        var out: [(InputText, [Finding])] = []
        for input in inputs {
            var findings: [Finding] = []
            for analyzer in all where analyzer.kinds.contains(input.kind) {
                findings += await analyzer.analyze(input, context: ctx)
            }
            out.append((input, findings))
        }
        return out
    }
}

enum Golden {
    static func render(_ results: [(InputText, [Finding])]) -> String {
        var out = ""
        for (input, findings) in results {
            out += "== \(input.name) [\(input.kind)]: \(findings.count) finding(s)\n"
            for finding in findings {
                out += "\(finding.location?.description ?? "-") \(finding.id)\n"
                out += "    \(Sanitizer.neutralize(finding.message))\n"
                if let excerpt = finding.excerpt { out += "    > \(Sanitizer.neutralize(excerpt))\n" }
            }
        }
        return out
    }

    /// Compares with the golden file; `KB_RECORD=1` rewrites it instead.
    static func check(_ actual: String, against relative: String) throws {
        let path = Fixtures.path(relative)
        if ProcessInfo.processInfo.environment["KB_RECORD"] == "1" {
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(actual == expected, "golden file \(relative) differs; re-record with KB_RECORD=1 if the change is intended")
    }
}

@Suite("analyzers together")
struct IntegrationTests {
    let set = AnalyzerSet()

    private func goldenInputs() throws -> [InputText] {
        var inputs = [
            InputText(name: "nginx-T.txt", text: try Fixtures.text("golden/nginx-T.txt")),
            InputText(name: "apachectl-S.txt", text: try Fixtures.text("golden/apachectl-S.txt")),
        ]
        for file in ["000-default.conf", "example.com.conf", "shop.example.com.conf", "static.example.com.conf"] {
            inputs.append(InputText(name: "/etc/apache2/sites-enabled/\(file)", text: try Fixtures.text("golden/apache/\(file)")))
        }
        inputs.append(InputText(name: "error.log", text: try Fixtures.text("golden/error.log")))
        return inputs
    }

    @Test func nginxToApacheGoldenReport() async throws {
        let results = await set.analyze(try goldenInputs())
        #expect(results.map(\.0.kind) == ["nginx-config", "apachectl-s", "apache-config", "apache-config", "apache-config",
                                           "apache-config", "error-log"])
        try Golden.check(Golden.render(results), against: "golden/nginx-apache.report.txt")
    }

    @Test func goldenFindingsMatchTheMarkers() async throws {
        let results = await set.analyze(try goldenInputs())
        let nginx = results[0].1
        #expect(nginx.findingKeys() == Fixtures.dumpMarkers(in: try Fixtures.text("golden/nginx-T.txt")))
        var apacheExpected: [String] = []
        for file in ["000-default.conf", "example.com.conf", "shop.example.com.conf", "static.example.com.conf"] {
            apacheExpected += Fixtures.markers(in: try Fixtures.text("golden/apache/\(file)"),
                                               file: "/etc/apache2/sites-enabled/\(file)")
        }
        let apache = results[1...5].flatMap(\.1)
        #expect(apache.findingKeys() == apacheExpected.sorted())
        // The listing itself adds nothing once the config files are there.
        #expect(results[1].1.isEmpty)
    }

    /// upstream-sni-missing: an nginx config and an Apache error log are enough to show the proxy sends no SNI.
    @Test func upstreamSNIMissingFromNginxConfigAndApacheLog() async throws {
        let config = InputText(name: "/etc/nginx/sites-enabled/shop.example.com",
                               text: try Fixtures.text("nginx/tree/sites-enabled/shop.example.com"))
        let log = InputText(name: "error.log", text: try Fixtures.text("logs/apache-error.log"))
        let results = await set.analyze([config, log])
        #expect(results.map(\.0.kind) == ["nginx-config", "error-log"])
        let ids = Set(results.flatMap(\.1).map(\.id))
        #expect(ids.isSuperset(of: ["nginx.proxy-ssl-server-name-off", "nginx.proxy-ssl-name-missing", "log.ah02032-no-sni"]))
        let noSNI = try #require(results[1].1.first { $0.id == "log.ah02032-no-sni" })
        #expect(noSNI.location == SourceLocation(file: "error.log", line: 3))
    }

    /// The SMTP playbooks: a Postfix log alone gives replies with code, enhanced code, provider and phase.
    @Test func smtpFromAPostfixLogAlone() async throws {
        let log = InputText(name: "/var/log/mail.log", text: try Fixtures.text("logs/postfix.log"))
        let results = await set.analyze([log])
        #expect(results[0].0.kind == "mail-log")
        let smtp = results[0].1.filter { $0.id == "log.smtp-421" }
        #expect(smtp.count == 5)
        #expect(smtp.allSatisfy { $0.location?.file == "/var/log/mail.log" && $0.excerpt?.contains("421") == true })
        let messages = smtp.map(\.message).joined(separator: "\n")
        for phrase in ["421 4.7.28", "provider gmail", "[TSS04]", "provider yahoo", "too many connections from", "421 4.7.1"] {
            #expect(messages.contains(phrase), "missing '\(phrase)'")
        }
    }

    @Test func malformedInputsNeverCrashAnyAnalyzer() async throws {
        var generator = SystemRandomNumberGenerator()
        let random = String(decoding: (0..<50_000).map { _ in UInt8.random(in: 0...255, using: &generator) }, as: UTF8.self)
        let bigLine = "server { listen 443 ssl; server_name " + String(repeating: "a", count: 1 << 20) + "; }\n"
        let inputs: [InputText] = [
            InputText(name: "random.bin", text: random),
            InputText(name: "big.conf", text: bigLine),
            InputText(name: "braces.conf", text: String(repeating: "{", count: 10_000)),
            InputText(name: "apache.conf", text: String(repeating: "<VirtualHost *:443>\n", count: 10_000)),
            InputText(name: "quotes.conf", text: "server { return 200 \"" + String(repeating: "\\", count: 1001)),
            InputText(name: "empty.log", text: ""),
        ]
        for input in inputs {
            let ctx = analyzerContext(inputs: [input])
            for analyzer in set.all {
                for kind in analyzer.kinds {
                    var stated = input
                    stated.kind = kind
                    let findings = await analyzer.analyze(stated, context: ctx)
                    for finding in findings {
                        #expect(finding.location == nil || finding.location?.line ?? 0 >= 1)
                    }
                }
            }
        }
        let braces = await set.nginx.analyze(InputText(name: "braces.conf", text: String(repeating: "{", count: 100), kind: "nginx-config"),
                                             context: analyzerContext())
        #expect(braces.map(\.id) == ["nginx.syntax-error"])
        let vhosts = await set.apache.analyze(InputText(name: "apache.conf", text: "<VirtualHost *:443>\n", kind: "apache-config"),
                                              context: analyzerContext())
        #expect(vhosts.map(\.id) == ["apache.syntax-error"])
        #expect(vhosts.first?.location == SourceLocation(file: "apache.conf", line: 1, column: 1))
    }
}
