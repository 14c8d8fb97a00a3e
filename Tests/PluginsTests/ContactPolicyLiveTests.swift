import Engine
import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import Plugins

/// Counts what reaches it, from any event loop.
final class ContactCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func hit() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// The place a leaky check aims at, never named on the command line: TCP and UDP on one port of 127.0.0.2.
/// It only counts connections and datagrams, so a test can say that nothing was sent.
final class Sentinel: Sendable {
    let tcp: any Channel
    let udp: any Channel
    let counter: ContactCounter
    let port: Int
    var address: String { "127.0.0.2:\(port)" }
    var contacts: Int { counter.value }

    private init(tcp: any Channel, udp: any Channel, counter: ContactCounter, port: Int) {
        self.tcp = tcp
        self.udp = udp
        self.counter = counter
        self.port = port
    }

    static func start() async throws -> Sentinel {
        let counter = ContactCounter()
        let tcp = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counter.hit()
                return channel.close()
            }
            .bind(host: "127.0.0.2", port: 0).get()
        let port = tcp.localAddress?.port ?? 0
        let udp = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CountingDatagrams(counter: counter))
                }
            }
            .bind(host: "127.0.0.2", port: port).get()
        return Sentinel(tcp: tcp, udp: udp, counter: counter, port: port)
    }

    func stop() async {
        try? await tcp.close()
        try? await udp.close()
    }
}

final class CountingDatagrams: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let counter: ContactCounter
    init(counter: ContactCounter) { self.counter = counter }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { counter.hit() }
}

/// Answers every request with a redirect to `location`.
final class RedirectResponder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let location: String
    init(location: String) { self.location = location }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let response = "HTTP/1.1 302 Found\r\nLocation: \(location)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: response)), promise: nil)
    }
}

/// Issue 7, part 3: an organisation playbook must not make kb contact what the user did not name. Each leak of the
/// issue is a check aimed at a sentinel on 127.0.0.2, run against a target on 127.0.0.1; each must end in an error
/// that names the destination, and the sentinel must see nothing at all.
@Suite("live checks contact only what the user named", .serialized)
struct ContactPolicyLiveTests {
    /// The issue's playbooks with legal values, so they load; `patch` then puts the leaky values back, as a
    /// playbook that got past validation (an older kb, a loader bug) would have them.
    static let twin = """
        kb: playbook/1
        id: org.leaks
        title: Checks that want to go where the user did not point
        protocol: http
        cause: sni-host-mismatch
        article: sni-host-mismatch
        summary: The leaks of issue 7.
        signals:
          - id: leak
            weight: 8
            text: 'leak test'
        checks:
          - id: reach-target
            title: The target itself may be asked
            probe: http.request
            with:
              connect: '{{connect}}'
              host: '{{host}}'
            expect:
              status: {not: 421}
          - id: leak-connect
            title: Connects to an address the user never named
            probe: http.request
            with:
              connect: '{{connect}}'
              host: '{{host}}'
            expect:
              status: {not: 421}
          - id: leak-sni
            title: Sends the target's name as SNI to an address the user never named
            probe: tls.handshake
            with:
              connect: '{{connect}}'
              sni: 'leak-{{host}}'
            expect:
              covers: true
          - id: leak-dns
            title: Puts the target's name into a query of its own at a server of its own
            probe: dns.lookup
            with:
              name: '{{host}}'
            expect:
              rcode: NOERROR
          - id: leak-dns-server
            title: Asks a DNS server the user never named
            probe: dns.lookup
            with:
              name: '{{host}}'
            expect:
              rcode: NOERROR
          - id: leak-nodes
            title: Asks nodes the user never named
            probe: http.nodes
            with:
              addresses: ['{{addresses}}']
              host: '{{host}}'
            expect:
              differs: false
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

    static func engine(_ text: String = twin, patches: [String: [String: [String]]], only: Set<String>? = nil) throws -> Engine {
        let knowledge = try KnowledgeBase.load([Shipped.root + "/knowledge"])
        let causes = try Shipped.causes()
        let loader = PlaybookLoader(context: PlaybookContext(probes: BuiltinProbes.registry, articles: knowledge.ids,
                                                             causes: causes))
        var playbook = try loader.decode(text, path: "org-leaks.yaml")
        for index in playbook.checks.indices {
            for (name, values) in patches[playbook.checks[index].id] ?? [:] {
                let templates = try values.map { try Template($0) }
                let value: ParameterTemplate = name == "addresses" ? .list(templates) : .template(templates[0])
                playbook.checks[index].parameters.removeAll { $0.name == name }
                playbook.checks[index].parameters.append((name, value))
            }
        }
        if let only { playbook.checks.removeAll { !only.contains($0.id) } }
        return Engine(catalog: PlaybookCatalog(playbooks: [playbook]), knowledge: knowledge, registry: BuiltinProbes.registry)
    }

    /// The checks' results for a run against `target`, with the policy the CLI builds for it.
    static func run(_ engine: Engine, target: Target, dnsServers: [ContactPolicy.Destination] = []) async -> [String: CheckResult] {
        let named = RunEnvironment(timeouts: Timeouts(connect: .seconds(2), read: .seconds(2), total: .seconds(6)),
                                   contacts: .named(by: target, dnsServers: dnsServers))
        let (prepared, environment) = await LiveSurvey.prepare(target, environment: named)
        let facts = await engine.facts([InputText(name: "ticket", text: "leak test: HTTP/2 421 Misdirected Request")],
                                       target: prepared, environment: environment)
        let (_, checks) = await engine.evaluate(facts, environment: environment)
        return Dictionary(uniqueKeysWithValues: (checks["org.leaks"] ?? []).map { ($0.id, $0) })
    }

    static func target(_ server: TestServer, scheme: String = "https") -> Target {
        Target(url: "\(scheme)://a.test:\(server.port)/", scheme: scheme, host: "a.test", port: server.port,
               resolve: ["a.test:\(server.port):127.0.0.1"])
    }

    @Test func eachLeakOfTheIssueIsAnErrorThatNamesItAndSendsNothing() async throws {
        let sentinel = try await Sentinel.start()
        let server = try await TestServers.https()
        defer { Task { await server.stop(); await sentinel.stop() } }
        let engine = try Self.engine(patches: [
            "leak-connect": ["connect": [sentinel.address]],
            "leak-sni": ["connect": [sentinel.address]],
            "leak-dns": ["name": ["{{host}}.exfil.invalid"], "server": [sentinel.address]],
            "leak-dns-server": ["server": [sentinel.address]],
            "leak-nodes": ["addresses": [sentinel.address, "{{addresses}}"]],
        ])
        let results = await Self.run(engine, target: Self.target(server))

        // The target itself was reached: the run was live.
        #expect(results["reach-target"]?.status == .pass, "\(results["reach-target"]?.reason ?? "not run")")
        let unnamed = "'\(sentinel.address)', which was not named on the command line"
        for id in ["leak-connect", "leak-sni", "leak-nodes"] {
            #expect(results[id]?.status == .error)
            #expect(results[id]?.reason == "check '\(id)' wants to contact \(unnamed)", "\(results[id]?.reason ?? "not run")")
        }
        #expect(results["leak-dns"]?.status == .error)
        #expect(results["leak-dns"]?.reason == "check 'leak-dns' wants to look up 'a.test.exfil.invalid', which was not "
                + "named on the command line and is not under a name that was", "\(results["leak-dns"]?.reason ?? "")")
        #expect(results["leak-dns-server"]?.status == .error)
        #expect(results["leak-dns-server"]?.reason?.hasPrefix("check 'leak-dns-server' wants to contact the DNS server \(unnamed)")
                == true, "\(results["leak-dns-server"]?.reason ?? "")")
        try await Task.sleep(for: .milliseconds(200))
        #expect(sentinel.contacts == 0)
    }

    @Test func aNamedDNSServerStillGetsNoQueryForANameUnderNoNamedName() async throws {
        let sentinel = try await Sentinel.start()
        let server = try await TestServers.https()
        defer { Task { await server.stop(); await sentinel.stop() } }
        let engine = try Self.engine(patches: ["leak-dns": ["name": ["{{host}}.exfil.invalid"]]], only: ["leak-dns"])
        let results = await Self.run(engine, target: Self.target(server),
                                     dnsServers: [ContactPolicy.Destination("127.0.0.2", port: sentinel.port)])
        #expect(results["leak-dns"]?.status == .error)
        #expect(results["leak-dns"]?.reason?.contains("wants to look up 'a.test.exfil.invalid'") == true,
                "\(results["leak-dns"]?.reason ?? "")")
        try await Task.sleep(for: .milliseconds(200))
        #expect(sentinel.contacts == 0)
    }

    /// A redirect is a destination the server chose: it passes validation, and the connection layer refuses it.
    @Test func aRedirectElsewhereIsRefusedWhereConnectionsAreOpened() async throws {
        let sentinel = try await Sentinel.start()
        let location = "http://\(sentinel.address)/"
        let server = try await TestServers.tcp { RedirectResponder(location: location) }
        defer { Task { await server.stop(); await sentinel.stop() } }
        let parts = Self.twin.components(separatedBy: "\n  - id: leak-connect")
        let playbook = (parts[0] + "\nremediation:" + parts[1].components(separatedBy: "\nremediation:")[1])
            .replacingOccurrences(of: "id: reach-target", with: "id: follow-redirect")
            .replacingOccurrences(of: "      host: '{{host}}'", with: "      host: '{{host}}'\n      scheme: http\n      follow: true")
        let engine = try Self.engine(playbook, patches: [:])
        let results = await Self.run(engine, target: Self.target(server, scheme: "http"))
        #expect(results["follow-redirect"]?.status == .error)
        #expect(results["follow-redirect"]?.reason == "check 'follow-redirect' wants to contact '\(sentinel.address)', "
                + "which was not named on the command line", "\(results["follow-redirect"]?.reason ?? "not run")")
        try await Task.sleep(for: .milliseconds(200))
        #expect(sentinel.contacts == 0)
    }

    /// Every live probe, run by hand past the engine's check, still meets the policy where it opens a socket.
    @Test("no probe gets past the connection layer", arguments: [
        "http.request", "tls.handshake", "http.coalesce", "smtp.session", "http.nodes", "dns.lookup",
    ])
    func noProbeGetsPastTheConnectionLayer(id: String) async throws {
        let sentinel = try await Sentinel.start()
        defer { Task { await sentinel.stop() } }
        let parameters: [String: ProbeValue] = switch id {
        case "http.coalesce": ["connect": .string(sentinel.address), "first": .string("a.test"), "second": .string("b.test")]
        case "http.nodes": ["addresses": .list([sentinel.address]), "host": .string("a.test")]
        case "dns.lookup": ["name": .string("a.test"), "server": .string(sentinel.address)]
        default: ["connect": .string(sentinel.address), "host": .string("a.test")]
        }
        let target = Target(url: "https://a.test/", scheme: "https", host: "a.test", port: 443,
                            resolve: ["a.test:443:127.0.0.1"])
        let context = ProbeContext(facts: Facts(), files: NoFiles(), timeouts: Timeouts(connect: .seconds(2), read: .seconds(2)),
                                   contacts: .named(by: target), requester: "probe '\(id)'")
        let probe = try #require(BuiltinProbes.registry.probe(id))
        let outcome = await probe.init().run(parameters, context: context)
        let reason = (outcome.error ?? "") + outcome.evidence.map(\.text).joined(separator: " ")
        #expect(reason.contains("probe '\(id)' wants to contact ") && reason.contains("'\(sentinel.address)'"), "\(reason)")
        try await Task.sleep(for: .milliseconds(100))
        #expect(sentinel.contacts == 0)
    }

    /// `smtp://domain`: the domain's MX hosts and their addresses become named, on the target's port only.
    @Test func aMailDomainNamesItsMXHostsAndTheirAddresses() async throws {
        let dns = try await TestDNSServer { id, question, type in
            switch type {
            case 15: DNSBuilder.response(id: id, question: question, answers: [(15, 300, [0, 10] + DNSBuilder.name("mx1.kb.mail"))])
            case 1: DNSBuilder.response(id: id, question: question, answers: [(1, 300, [127, 0, 0, 3])])
            default: DNSBuilder.response(id: id, question: question, answers: [])
            }
        }
        defer { Task { await dns.stop() } }
        let port = try #require(Int(dns.server.split(separator: ":").last ?? ""))
        let target = Target(url: "smtp://kb.mail", scheme: "smtp", host: "kb.mail", port: 25)
        let named = RunEnvironment(timeouts: Timeouts(connect: .seconds(1), read: .seconds(1), total: .seconds(3)),
                                   contacts: .named(by: target, dnsServers: [ContactPolicy.Destination("127.0.0.1", port: port)]))
        let (_, environment) = await LiveSurvey.prepare(target, environment: named)
        #expect(named.contacts.refusal(.connect(host: "127.0.0.3", port: 25), by: "x") != nil)
        #expect(environment.contacts.refusal(.connect(host: "mx1.kb.mail", port: 25), by: "x") == nil)
        #expect(environment.contacts.refusal(.connect(host: "127.0.0.3", port: 25), by: "x") == nil)
        #expect(environment.contacts.refusal(.connect(host: "127.0.0.3", port: 587), by: "x") != nil)
        #expect(environment.contacts.refusal(.lookup("mx1.kb.mail"), by: "x") == nil)
    }

    /// The control for the tests above: once named, the sentinel does see a connection and a query, so its
    /// zero counts mean nothing was sent, not that it could not hear.
    @Test func theSentinelSeesWhatIsNamed() async throws {
        let sentinel = try await Sentinel.start()
        defer { Task { await sentinel.stop() } }
        var policy = ContactPolicy()
        policy.allow("127.0.0.2", port: sentinel.port)
        policy.allowLookups(under: "a.test")
        policy.useDNSServers([ContactPolicy.Destination("127.0.0.2", port: sentinel.port)])
        let context = ProbeContext(facts: Facts(), files: NoFiles(),
                                   timeouts: Timeouts(connect: .seconds(1), read: .milliseconds(300), total: .seconds(2)),
                                   contacts: policy)
        let http = await HTTPRequestProbe().run(["connect": .string(sentinel.address), "host": .string("a.test"),
                                                 "scheme": .string("http")], context: context)
        #expect(http.error?.contains("wants to contact") == false, "\(http.error ?? "")")
        let dns = await DNSLookupProbe().run(["name": .string("a.test"), "type": .string("A")], context: context)
        #expect(dns.error?.contains("wants to") == false, "\(dns.error ?? "")")
        try await Task.sleep(for: .milliseconds(100))
        #expect(sentinel.contacts >= 2)
    }

    /// The policy is only as good as the single place that opens sockets: no other Plugins file may open one.
    @Test func onlyLiveIOOpensSockets() throws {
        let sources = URL(fileURLWithPath: Shipped.root + "/Sources/Plugins")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        #expect(files.count > 10)
        let openers = ["ClientBootstrap", "DatagramBootstrap", "ServerBootstrap", "NIOPipeBootstrap", "RawSocketBootstrap",
                       "URLSession", "getaddrinfo", "socket(", "connect(to:", "NIOTSConnectionBootstrap"]
        for file in files where file != "Net/LiveIO.swift" {
            // Code only: a comment may mention what it does not do.
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
                .joined(separator: "\n")
            for opener in openers { #expect(!text.contains(opener), "\(file) uses \(opener)") }
        }
    }
}

/// The issue's playbooks as written: each is refused when it loads, at the value that fixes a destination.
@Suite("leaky organisation playbooks do not load")
struct LeakFixtureTests {
    @Test func eachIsRejectedWithItsPosition() throws {
        let dir = Fixtures.path("leaks")
        let knowledge = try KnowledgeBase.load([Shipped.root + "/knowledge"])
        let causes = try Shipped.causes()
        let loader = PlaybookLoader(context: PlaybookContext(probes: BuiltinProbes.registry, articles: knowledge.ids,
                                                             causes: causes))
        var messages: [String] = []
        do {
            _ = try loader.load([PlaybookSource(path: dir, builtin: false)])
        } catch {
            messages = error.errors.map { $0.description.replacingOccurrences(of: dir + "/", with: "") }
        }
        let connect = "a playbook cannot choose where a probe connects: use '{{connect}}', '{{origin}}' or '{{addresses}}'"
        let expected = [
            "leak-connect.yaml:17:16: error: parameter 'connect' of probe 'http.request' is '127.0.0.1:9099'; " + connect,
            "leak-dns.yaml:17:13: error: parameter 'name' of probe 'dns.lookup' is '{{host}}.exfil.invalid'; a name to "
                + "look up must be '{{host}}' or end in '.{{host}}' so it stays under the name the user gave",
            "leak-dns.yaml:18:15: error: parameter 'server' of probe 'dns.lookup' is '127.0.0.1:9099'; a playbook cannot "
                + "choose the DNS server: leave it out and kb asks the system resolver or the --dns-server the user names",
            "leak-nodes.yaml:17:19: error: parameter 'addresses' of probe 'http.nodes' is '127.0.0.1:9099'; " + connect,
            "leak-sni.yaml:17:16: error: parameter 'connect' of probe 'tls.handshake' is '127.0.0.1:9099'; " + connect,
        ]
        for message in expected {
            #expect(messages.contains { $0.hasPrefix(message) }, "missing: \(message)\nin: \(messages)")
        }
        #expect(messages.count == expected.count, "\(messages)")
    }

    /// Editors see the same rule: the JSON Schema restricts every destination parameter of every probe.
    @Test func theSchemaSaysTheSame() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Shipped.root + "/schema/playbook.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let defs = try #require(schema["$defs"] as? [String: Any])
        let allowed = (defs["destination"] as? [String: Any])?["enum"] as? [String] ?? []
        #expect(Set(allowed) == Set(Template.destinationVariables.map { "{{\($0)}}" }))
        let blocks = (defs["probeCheck"] as? [String: Any])?["allOf"] as? [[String: Any]] ?? []
        func restricted(_ probe: String) -> Set<String> {
            var names: Set<String> = []
            for block in blocks {
                let condition = ((block["if"] as? [String: Any])?["properties"] as? [String: Any])?["probe"] as? [String: Any]
                guard condition?["const"] as? String == probe else { continue }
                let with = ((block["then"] as? [String: Any])?["properties"] as? [String: Any])?["with"] as? [String: Any]
                names.formUnion(((with?["properties"] as? [String: Any]) ?? [:]).keys)
            }
            return names
        }
        for probe in BuiltinProbes.registry.probes {
            for parameter in probe.description.parameters where parameter.contact != nil {
                #expect(restricted(probe.description.id).contains(parameter.name),
                        "schema does not restrict '\(parameter.name)' of '\(probe.description.id)'")
            }
        }
    }

    /// Every shipped playbook keeps to the rule, so the rule costs built-in checks nothing.
    @Test func shippedPlaybooksLoad() throws {
        let engine = try Shipped.engine()
        #expect(engine.catalog.playbooks.count > 20)
    }
}
