import Foundation
import Testing
@testable import Engine

/// Tickets as support staff receive them, shared by the Engine and plugin tests as files in
/// Tests/Fixtures/tickets; every name is invented (documentation ranges, .test domains).
enum Tickets {
    static func named(_ name: String) -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tickets/\(name).txt")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? "missing ticket fixture Tests/Fixtures/tickets/\(name).txt"
    }
}

@Suite("case roles")
struct CaseRolesTests {
    let extractor = SymptomExtractor()

    func roles(_ text: String) -> CaseRoles {
        extractor.extract([InputText(name: "ticket", text: text)]).roles
    }

    @Test func gmailUnauthenticatedNamesSenderAndReceiverApart() {
        let r = roles(Tickets.named("gmail4726"))
        #expect(r.values(.senderDomain) == ["billing.acme-shop.test"])
        #expect(r.values(.senderIP) == ["203.0.113.45"])
        #expect(r.values(.recipientDomain) == ["gmail.com"])
        #expect(r.values(.receivingMX) == ["gmail-smtp-in.l.google.com"])
        #expect(r.first(.recipientProvider) == "gmail")
        let mechanisms = r.values(.mechanism)
        #expect(mechanisms.contains("spf") && mechanisms.contains("dkim"), "\(mechanisms)")
        // "rate limited because it is unauthenticated" is about authentication
        #expect(!mechanisms.contains("rate") && !mechanisms.contains("ptr"), "\(mechanisms)")
        #expect(r.first(.requestedHost) == nil)
    }

    /// Gmail's 4.7.27 names the SPF domain on a continuation line of its own: only the joined reply shows it.
    @Test func aWrappedReplyStillNamesTheSPFDomain() {
        let r = roles("""
            <j.doe@gmail.com>: host gmail-smtp-in.l.google.com[142.250.153.27] said:
                421-4.7.27 Your email has been rate limited because SPF authentication didn't
                421-4.7.27 pass for this message. Authentication results: SPF domain:
                421-4.7.27 shop.lindenhof-weine.test SPF result: none - gsmtp
                (in reply to end of DATA command)
            """)
        #expect(r.values(.senderDomain) == ["shop.lindenhof-weine.test"])
        #expect(!r.values(.senderDomain).contains("gmail.com"))
        #expect(r.values(.mechanism) == ["spf"])
    }

    @Test func aSenderHeaderLineNamesTheSenderAndAProseMentionDoesNot() {
        #expect(roles("Absender: info@malerbetrieb-schulz.test\n421 4.7.0 try again later").values(.senderDomain)
                == ["malerbetrieb-schulz.test"])
        #expect(roles("we sent it from: info@malerbetrieb-schulz.test yesterday\n421 4.7.0 try again later")
                .values(.senderDomain).isEmpty)
    }

    /// Apache's own 421 page says "a new connection for this request": 'this' is no host name.
    @Test func apachesPageWordsAreNoHostAndTheURLIs() {
        let r = roles("""
            When I open https://portal.northwind-travel.test/login in Chrome I sometimes get "421 Misdirected Request - \
            The client needs a new connection for this request as the requested host name does not match the Server \
            Name Indication (SNI) in use for this connection."
            """)
        #expect(r.values(.requestedHost) == ["portal.northwind-travel.test"])
    }

    @Test func aSiteURLChangedFromOneToAnotherIsTheNewOne() {
        let r = roles("""
            I changed the WordPress Address and Site Address from http://oldname.test to https://blog.gardenfriends.test \
            and now I only get a 421 Misdirected Request page.
            """)
        #expect(r.first(.siteURL) == "https://blog.gardenfriends.test")
        #expect(r.first(.requestedHost) == "blog.gardenfriends.test")
    }

    @Test func theReceiversMXNeverStandsInForTheSender() {
        let r = roles(Tickets.named("gmailNoSender"))
        #expect(r.values(.senderDomain).isEmpty, "\(r.values(.senderDomain))")
        #expect(r.values(.senderIP).isEmpty, "\(r.values(.senderIP))")
        #expect(r.first(.receivingMX) == "gmail-smtp-in.l.google.com")
    }

    @Test func microsoftRP001InAnEximLog() {
        let r = roles(Tickets.named("microsoftRP001"))
        #expect(r.values(.senderIP) == ["198.51.100.23"])
        #expect(r.values(.senderDomain) == ["shop-example.test"])
        #expect(r.values(.recipientDomain) == ["outlook.com"])
        #expect(r.values(.receivingMX) == ["outlook-com.olc.protection.outlook.com"])
        #expect(r.first(.recipientProvider) == "microsoft")
        #expect(r.values(.mechanism).contains("rate"), "\(r.values(.mechanism))")
    }

    @Test func yahooTSS04KeepsTheRelayAddressOutOfTheSendersIP() {
        let r = roles(Tickets.named("yahooTSS04"))
        #expect(r.values(.senderIP) == ["198.51.100.61"])
        #expect(r.values(.senderDomain) == ["garden-club.test"])
        #expect(r.values(.recipientDomain) == ["yahoo.com"])
        #expect(r.first(.receivingMX) == "mta7.am0.yahoodns.net")
        #expect(r.first(.recipientProvider) == "yahoo")
        #expect(Set(r.values(.mechanism)).isSuperset(of: ["volume", "complaints"]), "\(r.values(.mechanism))")
    }

    @Test func aReceivingPostfixNamesTheClientAsTheSender() {
        let r = roles(Tickets.named("postfixReceiver"))
        #expect(r.values(.senderIP) == ["192.0.2.77"])
        #expect(r.values(.senderDomain) == ["sender-corp.test"])
        #expect(r.values(.recipientDomain) == ["example.net"])
        #expect(r.values(.mechanism).contains("ptr"), "\(r.values(.mechanism))")
    }

    @Test func eximSidesFollowTheLineMarker() {
        let r = roles(Tickets.named("eximComcast"))
        #expect(r.values(.senderDomain) == ["acme-shop.test"])
        // the web application's loopback submission is not the sending IP a receiver judged
        #expect(r.values(.senderIP).isEmpty, "\(r.values(.senderIP))")
        #expect(r.values(.receivingMX) == ["mx2.comcast.net"])
        #expect(r.values(.recipientDomain) == ["comcast.net"])
        #expect(r.first(.recipientProvider) == "comcast")
        #expect(r.values(.mechanism).contains("ptr"))
    }

    @Test func germanGMXBounce() {
        let r = roles(Tickets.named("gmxGerman"))
        #expect(r.values(.recipientDomain) == ["gmx.de"])
        #expect(r.first(.recipientProvider) == "gmx")
        #expect(r.values(.receivingMX) == ["mx00.emig.gmx.net"])
        #expect(r.values(.senderIP) == ["203.0.113.9"])
        #expect(r.values(.mechanism).contains("policy"), "\(r.values(.mechanism))")
        // the sender's own host in the bounce's first line is not its From domain
        #expect(r.values(.senderDomain).isEmpty, "\(r.values(.senderDomain))")
    }

    @Test func apacheAH02032NamesSNIAndHost() {
        let r = roles(Tickets.named("apacheAH02032"))
        #expect(r.values(.sni) == ["shop.example-store.test"])
        #expect(r.values(.hostHeader) == ["www.example-store.test"])
        #expect(r.first(.requestedHost) == "www.example-store.test")
        #expect(r.values(.mechanism) == ["sni"])
        // the client address is neither origin nor sender
        #expect(r.values(.originIP).isEmpty && r.values(.senderIP).isEmpty)
    }

    @Test func wordpressSiteURLAndTheServersVersion() {
        let r = roles(Tickets.named("wordpress"))
        #expect(r.values(.siteURL) == ["https://www.bakery-example.test"])
        #expect(r.first(.product) == "apache")
        #expect(r.first(.version) == "2.4.65")
    }

    @Test func wordpressWithoutAQuotedURLUsesTheRequestedSite() {
        let r = roles("Our WordPress shop https://cakes-example.test shows 421 Misdirected Request since this morning.")
        #expect(r.first(.siteURL) == "https://cakes-example.test")
        #expect(r.entries[.siteURL]?.first?.evidence.detail?.contains("requested host") == true)
    }

    @Test func cloudflareApexNamesProxyAndOrigin() {
        let r = roles(Tickets.named("cloudflareApex"))
        #expect(r.first(.proxy) == "cloudflare")
        #expect(r.values(.originIP) == ["203.0.113.80"])
    }

    @Test func nginxErrorLogNamesUpstreamAndHost() {
        let r = roles(Tickets.named("nginxUpstream"))
        #expect(r.values(.originIP) == ["10.0.0.5"])
        #expect(r.values(.hostHeader) == ["shop.example-store.test"])
        #expect(!r.values(.originIP).contains("198.51.100.7"))
    }

    @Test func namesInProseAndCommentsHaveNoRole() {
        let r = roles(Tickets.named("proseOnly"))
        #expect(r.values(.senderDomain).isEmpty, "\(r.values(.senderDomain))")
        #expect(r.values(.senderIP).isEmpty, "\(r.values(.senderIP))")
        #expect(r.values(.mechanism).isEmpty, "\(r.values(.mechanism))")
        #expect(r.values(.originIP).isEmpty, "\(r.values(.originIP))")
        #expect(r.values(.receivingMX).isEmpty)
    }

    @Test func versionAfterAnUpgradeIsTheNewOne() {
        let r = roles("Since we upgraded Apache 2.4.62 to 2.4.64 the vhosts behind nginx answer 421 Misdirected Request.")
        #expect(r.first(.product) == "apache")
        #expect(r.first(.version) == "2.4.64")
    }

    @Test func certificateNamesFromAClientError() {
        let r = roles("x509: certificate is valid for www.shop-example.test, shop-example.test, not api.shop-example.test")
        #expect(r.values(.certNames) == ["www.shop-example.test", "shop-example.test"])
    }

    @Test func authenticationResultsPutTheFromDomainFirst() {
        let r = roles("""
            Authentication-Results: mx.google.com; spf=fail (google.com: domain of bounce@news.acme.test does not \
            designate 203.0.113.9 as permitted sender) smtp.mailfrom=bounce@news.acme.test; dmarc=fail (p=REJECT) header.from=acme.test
            """)
        #expect(r.values(.senderDomain) == ["acme.test", "news.acme.test"])
        #expect(r.values(.senderIP) == ["203.0.113.9"])
        #expect(Set(r.values(.mechanism)) == ["spf", "dmarc"])
    }

    @Test(arguments: [
        ("421-4.7.0 [2a01:4f8:c17:1::5] The IP address sending this message does not have a PTR record setup. - gsmtp",
         "2a01:4f8:c17:1::5"),
        ("421-4.7.28 [198.51.100.7      15] Gmail has detected an unusual rate of unsolicited mail. - gsmtp", "198.51.100.7"),
        ("451 4.7.650 The mail server [203.0.113.9] has been temporarily rate limited due to IP reputation.", "203.0.113.9"),
        ("421 Connection refused, too many sessions from 203.0.113.4. Please lower the number of concurrent sessions. IB007",
         "203.0.113.4"),
        ("421 Temporarily rejected. Reverse DNS for 203.0.113.5 failed. IB108", "203.0.113.5"),
    ])
    func providersNameTheSendingIPTheirWay(_ reply: String, _ ip: String) {
        #expect(roles(reply).values(.senderIP) == [ip])
    }

    @Test func theJSONSummaryUsesTheRoleNames() {
        let summary = roles(Tickets.named("gmail4726")).summary
        #expect(summary["sender-domain"] == ["billing.acme-shop.test"])
        #expect(summary["receiving-mx"] == ["gmail-smtp-in.l.google.com"])
        #expect(summary["origin-ip"] == nil)
    }

    @Test func everyTemplateRoleIsARole() {
        for name in Template.roles { #expect(CaseRoles.Role(rawValue: name) != nil, "\(name)") }
        #expect(CaseRoleScanner().invalidPatterns.isEmpty, "\(CaseRoleScanner().invalidPatterns)")
    }
}

@Suite("step texts")
struct StepTextTests {
    @Test func codeSpansGetFillInsAndSentencesGetWords() {
        let text = "Publish SPF for {{sender-domain}}: run `dig +short TXT {{sender-domain}}`.\n    dig +short -x {{sender-ip}}"
        let filled = Template.fillText(text, [:])
        #expect(filled == "Publish SPF for your sending domain: run `dig +short TXT YOUR-DOMAIN`.\n    dig +short -x YOUR-SENDING-IP")
        let known = Template.fillText(text, ["sender-domain": "acme.test", "sender-ip": "192.0.2.1"])
        #expect(known == "Publish SPF for acme.test: run `dig +short TXT acme.test`.\n    dig +short -x 192.0.2.1")
    }

    @Test func fillInsAreShellWords() {
        for name in Template.variables {
            let fill = Template.fillIn(name)
            #expect(!fill.contains("<") && !fill.contains(">") && !fill.contains(" ") && !fill.contains("&"), "\(name): \(fill)")
        }
    }

    @Test func missingListsEachUnsetVariableOnce() throws {
        let t = try Template("dig +short TXT {{sender-domain}}; dig +short TXT _dmarc.{{sender-domain}} @{{host}}")
        #expect(t.missing(["host": "ns.test"]) == ["sender-domain"])
    }
}

@Suite("step conditions in playbooks")
struct StepConditionDecodingTests {
    func remediation(_ steps: String) -> String {
        replacing("""
            remediation:
              - step: Fix it
                detail: Like this.
                verify: curl -sv https://{{host}}/

            """, with: "remediation:\n" + steps)
    }

    @Test func factUnlessAndFirstWhenDecode() throws {
        let text = remediation("""
              - id: spf
                step: Fix SPF for {{sender-domain}}
                detail: Run `dig +short TXT {{sender-domain}}`.
                when:
                  fact: {mechanism: [spf, dkim, unknown], sender-domain: known}
                unless:
                  signal: [nginx]
                first-when:
                  fact: {recipient-provider: gmail}

            """)
        let playbook = try PlaybookLoader(context: testContext).decode(text, path: "t.yaml")
        let step = try #require(playbook.remediation.first)
        #expect(step.when.facts == [FactCondition(role: .mechanism, values: ["spf", "dkim", "unknown"]),
                                    FactCondition(role: .senderDomain, values: ["known"])])
        #expect(step.unless?.signals == ["nginx"])
        #expect(step.firstWhen?.facts == [FactCondition(role: .recipientProvider, values: ["gmail"])])
    }

    @Test(arguments: [
        ("      when:\n        fact: {mechanizm: [spf]}\n",
         "t.yaml:33:16: error: unknown role 'mechanizm' in 'fact'; did you mean 'mechanism'?"),
        ("      when:\n        fact: {mechanism: [spff]}\n",
         "t.yaml:33:28: error: unknown mechanism value 'spff'; did you mean 'spf'?"),
        ("      unles:\n        signal: [nginx]\n",
         "t.yaml:32:5: error: unknown key 'unles' in remediation step; did you mean 'unless'?"),
        ("      first-when:\n        fact: {recipient-provider: [gmial]}\n",
         "t.yaml:33:37: error: unknown recipient-provider value 'gmial'; did you mean 'gmail'?"),
        ("      when:\n        fact: [mechanism]\n",
         "t.yaml:33:15: error: 'fact' must be a mapping of role names to values, such as {mechanism: [spf, dkim]}"),
        ("      verify: dig +short TXT {{sender-domian}}\n",
         "t.yaml:32:28: error: unknown template variable 'sender-domian'; did you mean 'sender-domain'?"),
    ])
    func mistakesAreReportedWhereTheyAre(_ yaml: String, _ expected: String) {
        let text = remediation("  - id: s\n    step: Fix it\n    detail: Like this.\n" + yaml.replacingOccurrences(of: "      ", with: "    ", options: .anchored))
        let errors = decodeErrors(text)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.split(separator: "\n").first.map(String.init) == expected)
    }

    @Test func aHoleInTheDetailIsChecked() {
        let text = remediation("  - id: s\n    step: Fix it for {{hots}}\n    detail: Like this.\n")
        let errors = decodeErrors(text)
        #expect(errors.count == 1 && errors[0].contains("unknown template variable 'hots'; did you mean 'host'?"), "\(errors)")
    }
}

@Suite("step selection")
struct StepSelectionTests {
    /// A playbook whose steps exercise each rule: a `when` on a fact, `unless`, `first-when`, plain steps.
    static let playbook = """
        kb: playbook/1
        id: smtp.steps
        title: Steps
        protocol: smtp
        cause: smtp-concurrency
        article: smtp-concurrency
        summary: Used by the tests.
        signals:
          - id: later
            weight: 6
            text: 'try again later'
          - id: greylist
            weight: 1
            text: 'greylist'
        remediation:
          - id: plain
            step: A step for every case
            detail: Always.
          - id: ptr
            step: Publish a PTR for {{sender-ip}}
            detail: Only when PTR is named or nothing is.
            when:
              fact: {mechanism: [ptr, unknown]}
            verify: dig +short -x {{sender-ip}}
          - id: not-greylisted
            step: Not for greylisting
            detail: Left out when the greylist signal matched.
            unless:
              signal: [greylist]
          - id: provider
            step: For the provider
            detail: First when the recipient is at Gmail.
            first-when:
              fact: {recipient-provider: [gmail]}
        tests:
          - name: positive
            input: '421 4.7.0 try again later'
            expect: top
          - name: negative
            input: 'nothing here'
            expect: no-match
        """

    func steps(_ text: String) async throws -> [RemediationItem] {
        let playbook = try PlaybookLoader(context: testContext).decode(Self.playbook, path: "steps.yaml")
        let engine = Engine(catalog: PlaybookCatalog(playbooks: [playbook]), knowledge: KnowledgeBase(articles: []),
                            registry: ProbeRegistry([EchoProbe.self]))
        let report = await engine.diagnose([InputText(name: "t", text: text)])
        return try #require(report.diagnoses.first).remediation
    }

    @Test func unconditionedStepsKeepTheirOrder() async throws {
        let items = try await steps("421 4.3.2 mx.example.net try again later")
        #expect(items.map(\.id) == ["plain", "ptr", "not-greylisted", "provider"])
        // nothing names the sender's IP: a fill-in, and the detail says where to find it
        let ptr = try #require(items.first { $0.id == "ptr" })
        #expect(ptr.verify == "dig +short -x YOUR-SENDING-IP")
        #expect(ptr.step == "Publish a PTR for your sending IP address")
        #expect(ptr.detail.hasSuffix("Replace YOUR-SENDING-IP with the public IP address your mail server sends from: "
            + "a bounce shows it after 'with ip:' or 'Messages from', and the hosting provider's panel lists it."))
    }

    @Test func evidenceMovesStepsFirstAndRulesStepsOut() async throws {
        let text = """
            <kim@gmail.com>: host gmail-smtp-in.l.google.com[142.250.1.26] said: 421 4.7.0 try again later, \
            greylisted; reverse DNS for [203.0.113.7] failed
            """
        let items = try await steps(text)
        // ptr held on a value the reply names, provider's first-when held: both first, in playbook order;
        // the greylist signal rules 'not-greylisted' out
        #expect(items.map(\.id) == ["ptr", "provider", "plain"], "\(items.map(\.id))")
        #expect(items.first?.verify == "dig +short -x 203.0.113.7")
    }

    @Test func whenTheRolesRuleOutEveryStepTheOtherConditionsDecide() async throws {
        let only = Self.playbook.replacingOccurrences(of: """
              - id: plain
                step: A step for every case
                detail: Always.

            """, with: "")
            .replacingOccurrences(of: "    unless:\n      signal: [greylist]\n", with: "    when:\n      fact: {mechanism: [ptr]}\n")
            .replacingOccurrences(of: "    first-when:\n", with: "    when:\n")
            .replacingOccurrences(of: "recipient-provider: [gmail]", with: "recipient-provider: [yahoo]")
        let playbook = try PlaybookLoader(context: testContext).decode(only, path: "steps.yaml")
        let engine = Engine(catalog: PlaybookCatalog(playbooks: [playbook]), knowledge: KnowledgeBase(articles: []),
                            registry: ProbeRegistry([EchoProbe.self]))
        let report = await engine.diagnose([InputText(name: "t", text: "421 4.7.0 try again later; TLS 1.0 is not supported")])
        // every step's fact condition is unmet: rather than no steps, the ones whose other conditions hold
        #expect(report.diagnoses.first?.remediation.map(\.id) == ["ptr", "not-greylisted", "provider"])
    }

    @Test func aMechanismNoStepIsAboutDropsOnlyThoseSteps() async throws {
        let items = try await steps("421 4.7.0 try again later; TLS 1.0 is not supported")
        #expect(!items.contains { $0.id == "ptr" }, "\(items.map(\.id))")
        #expect(items.contains { $0.id == "plain" })
    }
}
