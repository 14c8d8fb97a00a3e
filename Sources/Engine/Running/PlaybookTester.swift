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

/// JUnit XML for `kb playbooks test --junit FILE`, so an organisation's playbook repository runs its tests in any CI.
/// One `testsuite` per playbook, one `testcase` per test; a failed case carries a `failure` with what happened.
public enum JUnitReport {
    public static func xml(_ results: [PlaybookTestResult], name: String = "kb playbooks test") -> String {
        let failed = results.filter { !$0.passed }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(escape(name))\" tests=\"\(results.count)\" failures=\"\(failed)\">\n"
        var order: [String] = []
        var byPlaybook: [String: [PlaybookTestResult]] = [:]
        for r in results {
            if byPlaybook[r.playbook] == nil { order.append(r.playbook) }
            byPlaybook[r.playbook, default: []].append(r)
        }
        for playbook in order {
            let cases = byPlaybook[playbook]!
            out += "  <testsuite name=\"\(escape(playbook))\" tests=\"\(cases.count)\" "
                + "failures=\"\(cases.filter { !$0.passed }.count)\" errors=\"0\" skipped=\"0\">\n"
            for r in cases {
                out += "    <testcase classname=\"\(escape(playbook))\" name=\"\(escape(r.test))\" "
                    + "file=\"\(escape(r.location.file))\" line=\"\(r.location.line)\""
                if r.passed {
                    out += "/>\n"
                    continue
                }
                let got = r.rank.map { "ranked \($0)" } ?? "not reported"
                let message = "expected \(r.expect.rawValue), \(got) (score \(r.score)"
                    + (r.top.map { ", top \($0)" } ?? "") + ")"
                out += ">\n      <failure message=\"\(escape(message))\" type=\"\(escape(r.expect.rawValue))\">"
                    + escape("\(r.location.file):\(r.location.line):\(r.location.column): \(message)")
                    + "</failure>\n    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    /// Escapes markup and makes every character one XML 1.0 allows: control characters (which XML cannot
    /// carry at all, even as references) and bidi overrides become visible escapes first.
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in Sanitizer.neutralize(text).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                let v = scalar.value
                // What XML 1.0 allows: tab, newline, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000 and above.
                let allowed = v == 0x9 || v == 0xA || v == 0xD || (0x20...0xD7FF).contains(v)
                    || (0xE000...0xFFFD).contains(v) || v >= 0x10000
                out += allowed ? String(scalar) : "\\u{\(String(v, radix: 16))}"
            }
        }
        return out
    }
}
