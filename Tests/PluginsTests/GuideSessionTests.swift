import Engine
import Foundation
import Plugins
import Testing

/// The guided session as a state machine, without a terminal: which question comes next, what an answer
/// changes, undo, live consent, records and transcripts.
@Suite("guided session")
struct GuideSessionTests {
    func session(_ text: String, target: Target? = nil, observer: GuideSession.LiveObserver? = nil) throws -> GuideSession {
        let engine = try Shipped.engine()
        let builtin = try BuiltinQuestions.load(PlaybookLoader(context: PlaybookContext(probes: engine.registry,
                                                                                       articles: engine.knowledge.ids)))
        return GuideSession(engine: engine, inputs: text.isEmpty ? [] : [InputText(name: "<text>", text: text)],
                            target: target, builtin: builtin, observer: observer)
    }

    func question(_ step: GuideSession.Step) -> Question? {
        if case .ask(let q, _) = step { return q }
        return nil
    }

    func standing(_ step: GuideSession.Step) -> GuideSession.Standing {
        switch step {
        case .ask(_, let s), .conclude(let s): return s
        }
    }

    @Test func builtinQuestionsDecodeAndEveryPlaybookHasItsOwn() throws {
        let engine = try Shipped.engine()
        let builtin = try BuiltinQuestions.load(PlaybookLoader(context: PlaybookContext(probes: engine.registry,
                                                                                       articles: engine.knowledge.ids)))
        #expect(Set(builtin.map(\.id)).isSuperset(of: ["protocol", "full-text", "probe", "intermittent"]))
        for playbook in engine.catalog.playbooks {
            #expect(!playbook.questions.isEmpty, "\(playbook.id) has no questions")
            #expect(Set(playbook.questions.map(\.id)).count == playbook.questions.count)
            for q in playbook.questions where q.kind == .yesNo {
                #expect(q.yes != nil || q.no != nil, "\(q.key)")
                for signal in (q.yes?.signals ?? []) + (q.no?.signals ?? []) {
                    #expect(playbook.signals.contains { $0.id == signal }, "\(q.key) names '\(signal)'")
                }
            }
        }
    }

    @Test func anUnknownProtocolIsSettledFirst() async throws {
        var s = try session("421 error")
        let first = try #require(question(await s.next()))
        #expect(first.key == "guide/protocol")
        await s.answer(.choice(1), to: first)
        let after = await s.next()
        #expect(standing(after).protocolValue == .smtp)
        #expect(question(after)?.key != "guide/protocol")
    }

    @Test func theLogQuestionIsChosenForAnAmbiguousSMTPLimitAndSeparatesTheCauses() async throws {
        let text = "postfix log: host mx.example.net[198.51.100.7] said: 421 4.7.0 Try again later, closing connection"
        var s = try session(text)
        var asked: [String] = []
        var ended: GuideSession.Standing?
        for _ in 0..<12 {
            let step = await s.next()
            guard let q = question(step) else { ended = standing(step); break }
            asked.append(q.key)
            let isConcurrency = q.key == "smtp.concurrency/parallel-in-log"
            await s.answer(isConcurrency ? .yes : (q.key == "smtp.rate-limit/volume-in-log" ? .no : .skip), to: q)
        }
        #expect(asked.contains("smtp.concurrency/parallel-in-log") || asked.contains("smtp.rate-limit/volume-in-log"),
                "\(asked)")
        #expect(ended?.cause == "smtp-concurrency", "\(asked) \(ended?.ranking ?? "")")
    }

    @Test func anAnswerMovesTheRankingAndUndoPutsItBack() async throws {
        var s = try session("customers see 421 on static.example.com sometimes", target: nil)
        var step = await s.next()
        if let q = question(step), q.key == "guide/protocol" {
            await s.answer(.choice(0), to: q)
            step = await s.next()
        }
        let before = standing(step).ranking
        let q = try #require(s.questions.first { $0.key == "http.h2-coalescing/http1" })
        await s.answer(.no, to: q)
        let after = standing(await s.next())
        #expect(after.ranking != before)
        #expect(after.leaders.first?.cause == "h2-coalescing", "\(after.ranking)")
        #expect(after.report.facts.findings.contains { $0.id.hasSuffix(".http1") })
        s.undo()
        #expect(standing(await s.next()).ranking == before)
    }

    /// A question's `when` keeps it back while its premise is not in evidence; the same question without it is asked.
    @Test func aQuestionWhosePremiseDoesNotHoldIsNotAsked() async throws {
        func asked(conditioned: Bool) async throws -> [String] {
            var engine = try Shipped.engine()
            if conditioned {
                let p = try #require(engine.catalog.playbooks.firstIndex { $0.id == "http.lb-node-drift" })
                let q = try #require(engine.catalog.playbooks[p].questions.firstIndex { $0.id == "some-nodes" })
                engine.catalog.playbooks[p].questions[q].when.signals = ["pool-words"]
            }
            let builtin = try BuiltinQuestions.load(PlaybookLoader(context: PlaybookContext(probes: engine.registry,
                                                                                           articles: engine.knowledge.ids)))
            var s = GuideSession(engine: engine, inputs: [InputText(name: "<text>", text: "customers see 421 on static.example.com sometimes")],
                                 target: nil, builtin: builtin, observer: nil)
            var keys: [String] = []
            for _ in 0..<12 {
                guard let q = question(await s.next()) else { break }
                keys.append(q.key)
                await s.answer(q.key == "guide/protocol" ? .choice(0) : .skip, to: q)
            }
            return keys
        }
        let plain = try await asked(conditioned: false)
        #expect(plain.contains("http.lb-node-drift/some-nodes"), "\(plain)")
        let conditioned = try await asked(conditioned: true)
        #expect(!conditioned.contains("http.lb-node-drift/some-nodes"), "\(conditioned)")
    }

    @Test func aPastedAnswerGoesThroughTheAnalyzers() async throws {
        var s = try session("customers get 421 since the update")
        let q = try #require(s.questions.first { $0.key == "http.upstream-sni-missing/nginx-config" })
        let dump = """
            http {
              server {
                listen 443 ssl;
                server_name b.example.com;
                location / {
                  proxy_pass https://10.0.0.5:8443;
                  proxy_set_header Host $host;
                }
              }
            }
            """
        await s.answer(.paste(dump), to: q)
        let now = standing(await s.next())
        #expect(now.report.facts.findings.contains { $0.id == "nginx.proxy-ssl-server-name-off" })
        #expect(now.leaders.first?.cause == "upstream-sni-missing", "\(now.ranking)")
    }

    @Test func liveChecksRunOnlyAfterAYes() async throws {
        let calls = Counter()
        let target = try Target.parse("https://shop.example.com/").get()
        let observer: GuideSession.LiveObserver = { t, e in
            calls.add()
            return (t, e, InputText(name: "live", text: "HTTP/2 421 Misdirected Request"))
        }
        var s = try session("customers get 421", target: target, observer: observer)
        let probe = try #require(s.questions.first { $0.key == "guide/probe" })
        await s.answer(.no, to: probe)
        _ = await s.next()
        #expect(calls.value == 0)
        s.undo()
        await s.answer(.yes, to: probe)
        #expect(calls.value == 1)
        #expect(s.liveChecked)
        let text = s.render(probe, standing: standing(await s.next())).text
        #expect(text == "May I probe https://shop.example.com/ now?")
    }

    @Test func aRecordRoundTripsEveryAnswer() throws {
        let engine = try Shipped.engine()
        let builtin = try BuiltinQuestions.load(PlaybookLoader(context: PlaybookContext(probes: engine.registry,
                                                                                       articles: engine.knowledge.ids)))
        let proto = try #require(builtin.first { $0.id == "protocol" })
        let full = try #require(builtin.first { $0.id == "full-text" })
        let yn = try #require(builtin.first { $0.id == "intermittent" })
        let paste = "line one: \"quoted\" \\ back\nzweite Zeile — ünïcode\n  indented: {not: yaml}"
        let turns = [GuideSession.Turn(question: proto, answer: .choice(2)),
                     GuideSession.Turn(question: full, answer: .paste(paste)),
                     GuideSession.Turn(question: yn, answer: .no)]
        var parsed = try GuideRecord.parse(GuideRecord(turns: turns).yaml(), path: "r.yaml")
        #expect(parsed.take(for: yn) == .no)
        #expect(parsed.take(for: full) == .paste(paste))
        #expect(parsed.take(for: proto) == .choice(2))
        #expect(parsed.take(for: proto) == .skip)
    }

    @Test func theTranscriptEndsWithTheConclusion() async throws {
        var s = try session("421 4.7.0 Too many concurrent SMTP connections from this IP address; please try again later")
        var script = GuideTranscript(given: s.inputs, target: nil)
        var last: GuideSession.Standing?
        for _ in 0..<12 {
            let step = await s.next()
            guard let q = question(step) else { last = standing(step); break }
            script.exchanges.append(.init(question: q.id, command: nil, answer: .skip, described: "skipped"))
            await s.answer(.skip, to: q)
        }
        let markdown = script.markdown(conclusion: try #require(last))
        let conclusion = try #require(markdown.range(of: "## Conclusion"))
        #expect(!markdown[conclusion.upperBound...].contains("\n## "))
        #expect(markdown[conclusion.upperBound...].contains("Cause: `smtp-concurrency`"), "\(markdown)")
    }

    @Test func questionProblemsAreReportedWithTheirPositions() throws {
        let engine = try Shipped.engine()
        let loader = PlaybookLoader(context: PlaybookContext(probes: engine.registry, articles: engine.knowledge.ids))
        let text = """
            kb: guide-questions/1
            questions:
              - id: one
                kind: choise
                text: Which?
                why: because
              - id: one
                kind: command-output
                text: Paste
                why: because
            """
        #expect {
            try loader.decodeQuestions(text, path: "q.yaml")
        } throws: { error in
            let message = "\(error)"
            return message.contains("q.yaml:4:11") && message.contains("did you mean 'choice'")
                && message.contains("duplicate question id 'one'") && message.contains("needs a 'command'")
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
