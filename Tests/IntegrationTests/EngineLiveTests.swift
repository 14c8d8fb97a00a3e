import Engine
import Foundation
import Testing
@testable import Plugins

/// The whole path: facts from the text, a playbook's live checks through the probes against real nginx and
/// Apache, and the verdict. The playbook is a fixture with live checks, as built-in playbooks will have them.
@Suite("live diagnosis through the engine")
struct EngineLiveTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    func engine() throws -> Engine {
        let knowledge = try KnowledgeBase.load([Self.root + "/knowledge"])
        let causes = try CauseCatalog.load([PlaybookSource(path: Self.root + "/playbooks/causes.yaml", builtin: true)])
        let loader = PlaybookLoader(context: PlaybookContext(probes: BuiltinProbes.registry, articles: knowledge.ids,
                                                             causes: causes))
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
        let catalog = try loader.load([PlaybookSource(path: fixtures, builtin: false)])
        return Engine(catalog: catalog, knowledge: knowledge, registry: BuiltinProbes.registry)
    }

    @Test func upstreamSNIMissingThenHealthyAfterTheFix() async throws {
        let stack = try WebStack()
        defer { stack.remove() }
        try await stack.start()
        let engine = try engine()
        let target = Target(url: "https://b.kb.test:\(stack.proxyPort)/", scheme: "https", host: "b.kb.test",
                            port: stack.proxyPort, resolve: ["b.kb.test:\(stack.proxyPort):127.0.0.1"],
                            origin: "127.0.0.1:\(stack.originPort)")
        // The policy the CLI builds for these options: the shipped checks reach only what the user named.
        let environment = RunEnvironment(timeouts: Timeouts(connect: .seconds(3), read: .seconds(5), total: .seconds(15)),
                                         contacts: .named(by: target))
        let input = [InputText(name: "argument", text: "customers get 421 behind nginx since the update")]

        let broken = await engine.diagnose(input, target: target, environment: environment)
        #expect(broken.status == .problem, "\(broken.verdict)")
        let top = try #require(broken.diagnoses.first)
        #expect(top.cause == "upstream-sni-missing")
        let checks = Dictionary(uniqueKeysWithValues: top.checks.map { ($0.id, $0) })
        #expect(checks["through-proxy"]?.status == .fail, "\(checks["through-proxy"]?.reason ?? "")")
        #expect(checks["through-proxy"]?.evidence.contains { $0.text.contains("421") } == true)
        #expect(checks["origin-without-sni"]?.status == .fail)
        #expect(checks["origin-default-certificate"]?.status == .fail)
        #expect(checks["through-proxy"]?.command?.contains("--connect-to b.kb.test:443:127.0.0.1:\(stack.proxyPort) https://b.kb.test/") == true,
                "\(checks["through-proxy"]?.command ?? "")")

        try await stack.fixProxy()
        let fixed = await engine.diagnose(input, target: target, environment: environment)
        #expect(fixed.status == .healthy, "\(fixed.verdict) \(fixed.diagnoses.map { $0.checks.map { "\($0.id)=\($0.status)" } })")
    }
}
