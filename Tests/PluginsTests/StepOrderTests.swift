import Foundation
import Plugins
import Testing
@testable import Engine

/// Replies about this case (issue 9): commands use the ticket's names, steps come in the order the evidence
/// calls for, and an inconclusive report asks the customer for things they have.
@Suite("steps chosen and ordered by the evidence")
struct StepOrderTests {
    func diagnose(_ text: String, name: String = "ticket") async throws -> Report {
        try await Shipped.engine().diagnose([InputText(name: name, text: text)])
    }

    func steps(_ report: Report, _ playbook: String) throws -> [RemediationItem] {
        try #require(report.diagnoses.first { $0.playbook == playbook }, "\(report.diagnoses.map(\.playbook))").remediation
    }

    @Test func gmailUnauthenticatedPutsSPFAndDKIMFirstAndDropsPTR() async throws {
        let report = try await diagnose(Tickets.named("gmail4726"))
        #expect(report.diagnoses.first?.playbook == "smtp.policy", "\(report.diagnoses.map(\.playbook))")
        let items = try steps(report, "smtp.policy")
        #expect(items.first?.id == "make-spf-dkim", "\(items.map(\.id))")
        #expect(!items.contains { $0.id == "publish-ptr-record" }, "\(items.map(\.id))")
        let spf = try #require(items.first)
        #expect(spf.step.contains("billing.acme-shop.test"))
        #expect(spf.verify == "dig +short TXT billing.acme-shop.test; dig +short TXT _dmarc.billing.acme-shop.test")
        #expect(spf.detail.contains("203.0.113.45"))
        // the receiver's MX appears in no command that is about the sender
        for item in items {
            #expect(!(item.verify ?? "").contains("_dmarc.gmail") && !(item.verify ?? "").contains("example.com"))
        }
        #expect(report.facts.roles["sender-domain"] == ["billing.acme-shop.test"])
    }

    @Test func withoutASenderTheCommandShowsAFillInAndSaysWhereToFindIt() async throws {
        let report = try await diagnose(Tickets.named("gmailNoSender"))
        let spf = try #require(try steps(report, "smtp.policy").first { $0.id == "make-spf-dkim" })
        #expect(spf.verify == "dig +short TXT YOUR-DOMAIN; dig +short TXT _dmarc.YOUR-DOMAIN")
        #expect(spf.detail.contains("Replace YOUR-DOMAIN with the domain of the address you send from"), "\(spf.detail)")
        #expect(spf.step.contains("your sending domain"))
    }

    @Test func reverseDNSRefusalPutsThePTRStepFirst() async throws {
        let report = try await diagnose(Tickets.named("eximComcast"))
        let items = try steps(report, "smtp.policy")
        #expect(items.first?.id == "publish-ptr-record", "\(items.map(\.id))")
        #expect(!items.contains { $0.id == "make-spf-dkim" }, "\(items.map(\.id))")
        let helo = try #require(items.first { $0.id == "set-helo-ehlo" })
        #expect(helo.verify == "swaks --server mx2.comcast.net --quit-after HELO")
    }

    @Test func yahooTSS04PutsTheYahooStepFirstAndDropsDelisting() async throws {
        let report = try await diagnose(Tickets.named("yahooTSS04"))
        let items = try steps(report, "smtp.reputation")
        #expect(items.first?.id == "yahoo-aol-reduce", "\(items.map(\.id))")
        #expect(!items.contains { $0.id == "get-delisted-after" }, "\(items.map(\.id))")
    }

    @Test func microsoftRateLimitNamesTheSendersIP() async throws {
        let report = try await diagnose(Tickets.named("microsoftRP001"))
        let items = try steps(report, "smtp.rate-limit")
        #expect(items.first?.id == "microsoft-rp-codes", "\(items.map(\.id))")
        #expect(items.first?.detail.contains("198.51.100.23") == true)
        for item in items { #expect(!(item.verify ?? "").contains("{{")) }
    }

    @Test func wordpressCommandUsesTheSiteURL() async throws {
        let report = try await diagnose(Tickets.named("wordpress"))
        let items = try steps(report, "http.redirect-host-drift")
        let wp = try #require(items.first { $0.id == "set-wordpress" })
        #expect(wp.detail.contains("wp option update home 'https://www.bakery-example.test'"), "\(wp.detail)")
        #expect(!wp.detail.contains("example.com"))
    }

    @Test func noShippedCommandHoldsEntitiesOrAnglePlaceholders() throws {
        let engine = try Shipped.engine()
        let placeholder = try #require(try? Pattern(#"<[A-Za-z][A-Za-z _-]{0,30}>"#))
        for playbook in engine.catalog.playbooks {
            for step in playbook.remediation {
                for text in [step.verify?.source ?? "", step.detail, step.step] {
                    #expect(!text.contains("&lt;") && !text.contains("&gt;") && !text.contains("&amp;"),
                            "\(playbook.id)/\(step.id)")
                }
                if let verify = step.verify?.source {
                    #expect(placeholder.firstMatch(in: verify) == nil, "\(playbook.id)/\(step.id): \(verify)")
                }
            }
        }
    }

    @Test func originFromTheCommandLineOutranksTheText() async throws {
        let engine = try Shipped.engine()
        let target = try Target.parse("https://shop.example-store.test", origin: "192.0.2.50").get()
        let facts = await engine.facts([InputText(name: "t", text: Tickets.named("nginxUpstream"))], target: target)
        #expect(facts.roles.values(.originIP) == ["192.0.2.50", "10.0.0.5"])
        #expect(facts.roles.first(.requestedHost) == "shop.example-store.test")
    }

    @Test func aConfigCommentIsNoOrigin() async throws {
        let config = """
            server {
                listen 443 ssl;
                server_name shop.example-store.test;
                # proxy_pass https://10.9.9.9;
                location / {
                    proxy_pass https://10.0.0.5;
                }
            }
            """
        let engine = try Shipped.engine()
        let facts = await engine.facts([InputText(name: "nginx.conf", text: config)])
        #expect(facts.roles.values(.originIP) == ["10.0.0.5"], "\(facts.roles.values(.originIP))")
    }
}

@Suite("questions in the customer's words")
struct AskTests {
    @Test func aVagueWebTicketAsksForTheAddressBar() async throws {
        let report = try await Shipped.engine().diagnose([InputText(name: "t", text: "our site shows 421 sometimes")])
        #expect(report.status == .inconclusive)
        #expect(!report.next.isEmpty)
        #expect(report.ask.contains { $0.contains("address in the browser bar") || $0.contains("private window") },
                "\(report.ask)")
    }

    @Test func aBareMailErrorAsksForTheWholeBounce() async throws {
        let report = try await Shipped.engine().diagnose([InputText(name: "t", text: "my emails bounce with error 421, please help")])
        if report.status == .inconclusive, report.protocol.value == "smtp" {
            #expect(report.ask.contains { $0.contains("whole bounce message") }, "\(report.ask)")
            #expect(report.ask.contains { $0.contains("address you sent from") }, "\(report.ask)")
        } else {
            #expect(report.protocol.value == "unknown", "\(report.protocol.value) \(report.status)")
            #expect(report.ask.contains { $0.contains("whole error message") }, "\(report.ask)")
        }
    }

    @Test func aDiagnosedCaseAsksNothing() async throws {
        let report = try await Shipped.engine().diagnose([InputText(name: "t", text: Tickets.named("gmail4726"))])
        #expect(report.status == .problem)
        #expect(report.ask.isEmpty)
    }

    @Test func questionsAreInPlainWords() async throws {
        let texts = ["our site shows 421 sometimes", "421", "FileZilla says 421 sometimes", "mail to a customer fails with 421"]
        for text in texts {
            let report = try await Shipped.engine().diagnose([InputText(name: "t", text: text)])
            for question in report.ask {
                for jargon in ["enhanced status", "smtp command", "SNI", "vhost", "MX"] {
                    #expect(!question.contains(jargon), "\(text): \(question)")
                }
            }
        }
    }
}

@Suite("roles in the playbook JSON Schema")
struct RoleSchemaTests {
    @Test func factConditionsListEveryRoleAndMechanism() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Shipped.root + "/schema/playbook.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let defs = try #require(schema["$defs"] as? [String: Any])
        let fact = try #require(defs["factCondition"] as? [String: Any])
        let roles = Set((fact["properties"] as? [String: Any] ?? [:]).keys)
        #expect(roles == Set(CaseRoles.Role.allCases.map(\.rawValue)))
        let mechanisms = (defs["mechanism"] as? [String: Any])?["enum"] as? [String] ?? []
        #expect(Set(mechanisms) == Set(CaseRoles.mechanisms + ["known", "unknown"]))
        let step = try #require(defs["step"] as? [String: Any])
        let keys = Set((step["properties"] as? [String: Any] ?? [:]).keys)
        #expect(keys.isSuperset(of: ["when", "unless", "first-when"]), "\(keys)")
    }
}
