import Foundation
import Testing
@testable import Engine

/// The contact policy alone: what a `kb diagnose --target` names, and what it refuses.
@Suite("contact policy")
struct ContactPolicyTests {
    /// `https://b.example.com:8443/ --resolve b.example.com:8443:127.0.0.1 --origin 127.0.0.9:443`, resolved to two addresses.
    static func pinned() -> ContactPolicy {
        let target = Target(url: "https://b.example.com:8443/", scheme: "https", host: "b.example.com", port: 8443,
                            resolve: ["b.example.com:8443:127.0.0.1", "c.example.com:443:[::1]"], origin: "127.0.0.9:443")
        return .named(by: target)
    }

    static func refused(_ policy: ContactPolicy, _ contact: ContactPolicy.Contact) -> String? {
        policy.refusal(contact, by: "check 'x'")
    }

    @Test("named endpoints are allowed, in any spelling", arguments: [
        ("127.0.0.1", 8443), ("::1", 443), ("[0:0:0:0:0:0:0:1]", 443), ("127.0.0.9", 443),
    ])
    func namedEndpoints(host: String, port: Int) {
        #expect(Self.refused(Self.pinned(), .connect(host: host, port: port)) == nil)
    }

    @Test("anything else is refused, other ports of named addresses included", arguments: [
        ("127.0.0.2", 9099, "127.0.0.2:9099"), ("127.0.0.1", 9099, "127.0.0.1:9099"), ("127.0.0.9", 80, "127.0.0.9:80"),
        ("::2", 443, "[::2]:443"), ("evil.example.net", 443, "evil.example.net:443"),
        // A pinned name is reached at its pin, never through DNS.
        ("b.example.com", 8443, "b.example.com:8443"),
    ])
    func otherEndpoints(host: String, port: Int, shown: String) {
        #expect(Self.refused(Self.pinned(), .connect(host: host, port: port))
                == "check 'x' wants to contact '\(shown)', which was not named on the command line")
    }

    @Test func anUnpinnedTargetIsReachedByNameAndAtItsResolvedAddresses() {
        let target = Target(url: "smtp://Mail.Example.com", scheme: "smtp", host: "mail.example.com", port: 25)
        var policy = ContactPolicy.named(by: target)
        #expect(Self.refused(policy, .connect(host: "MAIL.example.com.", port: 25)) == nil)
        #expect(Self.refused(policy, .connect(host: "mail.example.com", port: 587)) != nil)
        #expect(Self.refused(policy, .connect(host: "127.0.0.1", port: 25)) != nil)
        policy.allow("127.0.0.1", port: 25)
        #expect(Self.refused(policy, .connect(host: "127.0.0.1", port: 25)) == nil)
        policy.allowMailHost("mx1.example.net", addresses: ["127.0.0.3"], port: 25)
        #expect(Self.refused(policy, .connect(host: "mx1.example.net", port: 25)) == nil)
        #expect(Self.refused(policy, .connect(host: "127.0.0.3", port: 25)) == nil)
        #expect(Self.refused(policy, .lookup("mx1.example.net")) == nil)
    }

    @Test("names at or under a named name may be looked up", arguments: [
        "b.example.com", "B.Example.COM.", "_dmarc.b.example.com", "c.example.com", "www.c.example.com", "127.0.0.2", "::1",
    ])
    func allowedLookups(name: String) {
        #expect(Self.refused(Self.pinned(), .lookup(name)) == nil)
    }

    @Test("other names, parents included, may not", arguments: [
        "b.example.com.exfil.invalid", "example.com", "xb.example.com", "exfil.invalid", "com",
    ])
    func refusedLookups(name: String) {
        let message = Self.refused(Self.pinned(), .lookup(name))
        #expect(message == "check 'x' wants to look up '\(name)', which was not named on the command line "
                + "and is not under a name that was")
    }

    @Test func theSystemResolverUnlessTheUserNamedADNSServer() {
        let target = Target(url: "https://a.test/", scheme: "https", host: "a.test", port: 443)
        let system = ContactPolicy.named(by: target)
        #expect(Self.refused(system, .systemResolver(host: "127.0.0.53", port: 53)) == nil)
        #expect(Self.refused(system, .dnsServer(host: "127.0.0.2", port: 9099))?
                    .hasPrefix("check 'x' wants to contact the DNS server '127.0.0.2:9099', which was not named") == true)

        let named = ContactPolicy.named(by: target, dnsServers: [.init("127.0.0.5", port: 5353)])
        #expect(Self.refused(named, .dnsServer(host: "127.0.0.5", port: 5353)) == nil)
        #expect(Self.refused(named, .dnsServer(host: "127.0.0.5", port: 53)) != nil)
        #expect(Self.refused(named, .systemResolver(host: "127.0.0.53", port: 53)) != nil)
    }

    @Test func aPolicyOfNothingRefusesEverything() {
        let nothing = ContactPolicy()
        #expect(Self.refused(nothing, .connect(host: "127.0.0.1", port: 443)) != nil)
        #expect(Self.refused(nothing, .systemResolver(host: "127.0.0.53", port: 53)) != nil)
        #expect(Self.refused(nothing, .lookup("example.com")) != nil)
        #expect(Self.refused(RunEnvironment().contacts, .connect(host: "127.0.0.1", port: 443)) != nil)
    }

    @Test func loopbackIsForTestsAndKeepsEverythingOnTheMachine() {
        let loopback = ContactPolicy.loopback
        #expect(Self.refused(loopback, .connect(host: "127.0.0.7", port: 1)) == nil)
        #expect(Self.refused(loopback, .connect(host: "::1", port: 1)) == nil)
        #expect(Self.refused(loopback, .dnsServer(host: "127.0.0.1", port: 5353)) == nil)
        #expect(Self.refused(loopback, .connect(host: "192.0.2.1", port: 443)) != nil)
        #expect(Self.refused(loopback, .connect(host: "127.example.com", port: 443)) != nil)
        // The system resolver may forward off the machine.
        #expect(Self.refused(loopback, .systemResolver(host: "127.0.0.53", port: 53)) != nil)
    }

    @Test func refusedValuesAreNeutralised() {
        let message = Self.refused(ContactPolicy(), .lookup("a\u{1B}[2J.example.com")) ?? ""
        #expect(!message.contains("\u{1B}"))
    }

    @Test("destinations are parsed as the probes read them", arguments: [
        ("127.0.0.1:8443", "127.0.0.1:8443"), ("[::1]:25", "[::1]:25"), ("::1", "[::1]:53"), ("a.test", "a.test:53"),
    ])
    func parse(text: String, shown: String) {
        #expect(ContactPolicy.parse(text, defaultPort: 53)?.description == shown)
    }
}

/// A live probe double whose parameters say where it would send packets.
struct ReachProbe: Probe {
    static let description = ProbeDescription(
        id: "test.reach", summary: "would contact what its parameters say", live: true,
        parameters: [ProbeParameter("connect", .string, contact: .endpoint, summary: "c"),
                     ProbeParameter("addresses", .list, contact: .endpoint, summary: "a"),
                     ProbeParameter("server", .string, contact: .dnsServer, summary: "s"),
                     ProbeParameter("name", .string, contact: .lookupName, summary: "n"),
                     ProbeParameter("sni", .string, summary: "any value: it goes only where connect goes")],
        observations: ["ok": "o"])
    init() {}
    func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        ProbeOutcome(observations: ["ok": .bool(true)])
    }
}

@Suite("playbooks cannot choose where a probe connects")
struct DestinationDecodingTests {
    static let context = PlaybookContext(probes: ProbeRegistry([ReachProbe.self]), articles: ["sni-host-mismatch"],
                                         causes: shippedCauses)

    static func playbook(_ with: String, probe: String = "test.reach") -> String {
        """
        kb: playbook/1
        id: org.reach
        title: Reach
        protocol: http
        cause: sni-host-mismatch
        article: sni-host-mismatch
        summary: Test.
        signals:
          - id: s
            weight: 5
            text: 'x'
        checks:
          - id: reach
            title: Reach
            probe: \(probe)
            with:
        \(with)
            expect:
              ok: true
        remediation:
          - step: Remove the check
            detail: A playbook uses only the destinations the user named.
        tests:
          - name: positive
            input: 'leak test'
            expect: top
          - name: negative
            input: 'nothing'
            expect: no-match
        """
    }

    static func errors(_ with: String) -> [String] {
        do {
            _ = try PlaybookLoader(context: context).decode(playbook(with), path: "org.yaml")
            return []
        } catch {
            return error.errors.map { String($0.description.split(separator: "\n")[0]) }
        }
    }

    @Test("named values pass", arguments: [
        "      connect: '{{connect}}'", "      connect: '{{origin}}'", "      addresses: ['{{addresses}}']",
        "      name: '{{host}}'", "      name: '_dmarc.{{host}}'", "      connect: '{{connect}}'\n      sni: 'leak-{{host}}'",
    ])
    func namedValuesPass(with: String) {
        #expect(Self.errors(with).isEmpty, "\(Self.errors(with))")
    }

    @Test("fixed values fail with their position", arguments: [
        ("      connect: 127.0.0.1:9099", "org.yaml:17:16: error: parameter 'connect' of probe 'test.reach' is "
            + "'127.0.0.1:9099'; a playbook cannot choose where a probe connects: use '{{connect}}', '{{origin}}' or '{{addresses}}'"),
        ("      connect: '{{address}}:9099'", "org.yaml:17:16: error: parameter 'connect' of probe 'test.reach' is "
            + "'{{address}}:9099'; a playbook cannot choose where a probe connects: use '{{connect}}', '{{origin}}' or '{{addresses}}'"),
        ("      addresses: ['{{addresses}}', '127.0.0.1:9099']", "org.yaml:17:36: error: parameter 'addresses' of probe "
            + "'test.reach' is '127.0.0.1:9099'; a playbook cannot choose where a probe connects: use '{{connect}}', "
            + "'{{origin}}' or '{{addresses}}'"),
        ("      server: 127.0.0.1:9099", "org.yaml:17:15: error: parameter 'server' of probe 'test.reach' is "
            + "'127.0.0.1:9099'; a playbook cannot choose the DNS server: leave it out and kb asks the system resolver "
            + "or the --dns-server the user names"),
        ("      name: '{{host}}.exfil.invalid'", "org.yaml:17:13: error: parameter 'name' of probe 'test.reach' is "
            + "'{{host}}.exfil.invalid'; a name to look up must be '{{host}}' or end in '.{{host}}' so it stays under "
            + "the name the user gave"),
        ("      name: 'x{{host}}'", "org.yaml:17:13: error: parameter 'name' of probe 'test.reach' is 'x{{host}}'; a name "
            + "to look up must be '{{host}}' or end in '.{{host}}' so it stays under the name the user gave"),
    ])
    func fixedValuesFail(with: String, message: String) {
        #expect(Self.errors(with) == [message])
    }

    @Test func theEngineRefusesBeforeTheProbeRuns() {
        let policy = ContactPolicyTests.pinned()
        let refusal = Engine.refusal(["connect": .string("127.0.0.1:8443"), "sni": .string("leak-b.example.com"),
                                      "addresses": .list(["127.0.0.1:8443", "127.0.0.2:9099"])],
                                     probe: ReachProbe.description, policy: policy, requester: "check 'reach'")
        #expect(refusal == "check 'reach' wants to contact '127.0.0.2:9099', which was not named on the command line")
        #expect(Engine.refusal(["connect": .string("127.0.0.1:8443"), "name": .string("_dmarc.b.example.com")],
                               probe: ReachProbe.description, policy: policy, requester: "check 'reach'") == nil)
    }
}

/// Counts its runs in a counter the environment carries: a live probe double for the session cache.
struct CountingProbe: Probe {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func add() { lock.lock(); value += 1; lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return value }
    }

    static let description = ProbeDescription(
        id: "test.count", summary: "counts its runs", live: true,
        parameters: [ProbeParameter("label", .string, summary: "names the request; it goes nowhere")],
        observations: ["ok": "o"])
    init() {}
    func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        (context.services["counter"] as? Counter)?.add()
        return ProbeOutcome(observations: ["ok": .bool(true)])
    }
}

@Suite("live outcomes within a guided session")
struct LiveCacheTests {

    /// Two runs ask the same live question: with a shared cache the server hears it once, without it twice.
    @Test func aSharedCacheAsksTheTargetOncePerDistinctRequest() async throws {
        let context = PlaybookContext(probes: ProbeRegistry([CountingProbe.self]), articles: ["sni-host-mismatch"],
                                      causes: shippedCauses)
        let playbook = try PlaybookLoader(context: context)
            .decode(DestinationDecodingTests.playbook("      label: same", probe: "test.count"), path: "count.yaml")
        let engine = Engine(catalog: PlaybookCatalog(playbooks: [playbook]), knowledge: KnowledgeBase(articles: []),
                            registry: ProbeRegistry([CountingProbe.self]))
        for shared in [false, true] {
            let counter = CountingProbe.Counter()
            var environment = RunEnvironment(services: ["counter": counter])
            if shared { environment.liveCache = ProbeCache() }
            // A live probe runs only with a target the user named; this one goes nowhere.
            let target = Target(url: "https://a.test/", scheme: "https", host: "a.test", port: 443)
            _ = await engine.diagnose([InputText(name: "t", text: "x 421")], target: target, environment: environment)
            _ = await engine.diagnose([InputText(name: "t", text: "x 421 again")], target: target, environment: environment)
            #expect(counter.count == (shared ? 1 : 2), "shared: \(shared)")
        }
    }
}
