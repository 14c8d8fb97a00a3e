/// The outcome of one of a playbook's own test cases.
public struct PlaybookTestResult: Sendable {
    public var playbook: String
    public var test: String
    public var expect: PlaybookTest.Expect
    public var location: SourceLocation
    public var passed: Bool
    /// Rank (1-based) among reported diagnoses, nil when not reported.
    public var rank: Int?
    public var score: Double
    /// The playbook that came first, for the failure message.
    public var top: String?
}

extension Engine {
    /// Runs the test cases of `playbooks` (default: all) against every loaded playbook.
    public func runTests(only ids: Set<String>? = nil, environment: RunEnvironment = RunEnvironment()) async -> [PlaybookTestResult] {
        var out: [PlaybookTestResult] = []
        for playbook in catalog.playbooks where ids == nil || ids!.contains(playbook.id) {
            for test in playbook.tests {
                let facts = await self.facts([InputText(name: "test", text: test.input)], statements: test.statements,
                                             environment: environment)
                let (candidates, _) = await evaluate(facts, environment: environment)
                let reported = candidates.filter(\.reported)
                let rank = reported.firstIndex { $0.playbook.id == playbook.id }.map { $0 + 1 }
                let score = candidates.first { $0.playbook.id == playbook.id }?.score ?? 0
                let passed: Bool
                switch test.expect {
                case .top: passed = rank == 1
                case .top3: passed = rank.map { $0 <= 3 } ?? false
                case .match: passed = rank != nil
                case .noMatch: passed = rank == nil
                }
                out.append(PlaybookTestResult(playbook: playbook.id, test: test.name, expect: test.expect,
                                              location: test.location, passed: passed, rank: rank, score: score,
                                              top: reported.first?.playbook.id))
            }
        }
        return out
    }
}
