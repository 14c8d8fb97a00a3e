import Foundation
import Testing
@testable import Engine

/// A probe double with a known description, so decoding tests do not depend on the plugins.
struct EchoProbe: Probe {
    static let description = ProbeDescription(
        id: "test.echo", summary: "reports its parameters",
        parameters: [ProbeParameter("pattern", .string, required: true, summary: "p"),
                     ProbeParameter("count", .int, summary: "c")],
        observations: ["found": "f", "count": "c"])
    init() {}
    func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        ProbeOutcome(observations: ["found": .bool(context.facts.text.contains(parameters["pattern"]?.description ?? "\u{0}")),
                                    "count": parameters["count"] ?? .int(0)])
    }
}

/// The shipped cause taxonomy, read from the repository's playbooks/causes.yaml as kb reads it.
let shippedCauses: CauseCatalog = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    return (try? CauseCatalog.load([PlaybookSource(path: root + "/playbooks/causes.yaml", builtin: true)])) ?? CauseCatalog()
}()

let testContext = PlaybookContext(probes: ProbeRegistry([EchoProbe.self]), articles: ["upstream-sni-missing", "smtp-concurrency"],
                                  causes: shippedCauses)

let validPlaybook = """
kb: playbook/1
id: http.test
title: A test playbook
protocol: http
cause: upstream-sni-missing
stacks: [nginx, apache]
article: upstream-sni-missing
summary: Used by the tests.
signals:
  - id: ah02032
    weight: 6
    text: 'AH02032'
  - id: nginx
    weight: 2
    stack: [nginx]
checks:
  - id: first
    title: the log line
    probe: test.echo
    with:
      pattern: 'AH02032 {{host}}'
    expect:
      found: false
  - id: second
    title: by hand
    needs: [first]
    manual: look at the config
remediation:
  - step: Fix it
    detail: Like this.
    verify: curl -sv https://{{host}}/
tests:
  - name: positive
    input: 'AH02032 seen'
    expect: top
  - name: negative
    input: 'nothing here'
    expect: no-match
"""

/// Decodes `text` and returns the rendered errors, or [] when it decoded.
func decodeErrors(_ text: String, path: String = "t.yaml") -> [String] {
    do {
        _ = try PlaybookLoader(context: testContext).decode(text, path: path)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

func replacing(_ old: String, with new: String) -> String {
    precondition(validPlaybook.contains(old), "fixture lacks '\(old)'")
    return validPlaybook.replacingOccurrences(of: old, with: new)
}

@Suite("playbook decoding")
struct PlaybookDecodingTests {
    @Test func validPlaybookDecodes() throws {
        let p = try PlaybookLoader(context: testContext).decode(validPlaybook, path: "t.yaml")
        #expect(p.id == "http.test")
        #expect(p.signals.map(\.id) == ["ah02032", "nginx"])
        #expect(p.checks.map(\.id) == ["first", "second"])
        #expect(p.checks[1].manual == "look at the config")
        #expect(p.threshold == 4)
        #expect(p.tests.map(\.expect) == [.top, .noMatch])
        #expect(p.source == SourceLocation(file: "t.yaml", line: 1, column: 1))
    }

    @Test("each kind of error, pinned with its location", arguments: [
        (replacing("stacks: [nginx, apache]", with: "stakcs: [nginx, apache]"),
         "t.yaml:6:1: error: unknown key 'stakcs' in playbook; did you mean 'stacks'?"),
        (replacing("    weight: 6\n", with: "    weight: six\n"),
         "t.yaml:11:13: error: signal 'weight' must be a number"),
        (replacing("summary: Used by the tests.\n", with: ""),
         "t.yaml:1:1: error: playbook is missing required key 'summary'"),
        (replacing("probe: test.echo", with: "probe: test.ecko"),
         "t.yaml:19:12: error: unknown probe 'test.ecko'; did you mean 'test.echo'?"),
        (replacing("      pattern: 'AH02032 {{host}}'", with: "      pattern: 'AH02032 {{host}}'\n      cuont: 3"),
         "t.yaml:22:7: error: probe 'test.echo' has no parameter 'cuont'; did you mean 'count'?"),
        (replacing("cause: upstream-sni-missing", with: "cause: upstream-sni-mising"),
         "t.yaml:5:8: error: unknown cause 'upstream-sni-mising'; did you mean 'upstream-sni-missing'?"),
        (replacing("cause: upstream-sni-missing", with: "cause: smtp-concurrency"),
         "t.yaml:5:8: error: cause 'smtp-concurrency' is an smtp cause, but the playbook's protocol is 'http'"),
        (replacing("article: upstream-sni-missing", with: "article: upstream-sni"),
         "t.yaml:7:10: error: unknown article 'upstream-sni'; add 'upstream-sni.md' (Markdown with front matter) to your "
            + "playbook directory, or name a built-in one ('kb explain' lists them)"),
        (replacing("  - id: second", with: "  - id: first"),
         "t.yaml:24:9: error: duplicate check id 'first' (first at 17:9)"),
        (replacing("  - id: nginx", with: "  - id: ah02032"),
         "t.yaml:13:9: error: duplicate signal id 'ah02032' (first at 10:9)"),
        (replacing("    needs: [first]", with: "    needs: [frist]"),
         "t.yaml:26:13: error: check 'second' needs unknown check 'frist'; did you mean 'first'?"),
        (replacing("    text: 'AH02032'", with: "    text: 'AH0(2032'"),
         "t.yaml:12:12: error: invalid regular expression 'AH0(2032': missing ) at 'AH0(2032'; kb expects RE2 syntax, which has no look-around and no back-references"),
        (replacing("    text: 'AH02032'", with: #"    text: '(.*)*(.*)*(.*)*\1\2\3x'"#),
         #"t.yaml:12:27: error: invalid regular expression '(.*)*(.*)*(.*)*\1\2\3x': invalid escape sequence at '\1'; kb expects RE2 syntax, which has no look-around and no back-references"#),
        (replacing("    text: 'AH02032'", with: #"    text: 'AH02032(?<!x)'"#),
         "t.yaml:12:19: error: invalid regular expression 'AH02032(?<!x)': invalid perl operator at '(?<'; kb expects RE2 syntax, which has no look-around and no back-references"),
        (replacing("https://{{host}}/", with: "https://{{hots}}/"),
         "t.yaml:31:30: error: unknown template variable 'hots'; did you mean 'host'?"),
        (replacing("stack: [nginx]", with: "stack: [ngnix]"),
         "t.yaml:15:13: error: unknown stack 'ngnix'; did you mean 'nginx'?"),
        (replacing("kb: playbook/1", with: "kb: playbook/2"),
         "t.yaml:1:5: error: unsupported format 'playbook/2'; this kb reads 'playbook/1'"),
        (replacing("    stack: [nginx]", with: "    stack: [nginx]\n    any: [x]"),
         "t.yaml:15:5: error: signal has 2 matchers (any, stack); use one per signal"),
        (replacing("    weight: 2\n", with: "    weight: 0\n"),
         "t.yaml:14:13: error: signal weight must not be 0"),
        (replacing("      found: false", with: "      fund: false"),
         "t.yaml:23:7: error: probe 'test.echo' reports no observation 'fund'; did you mean 'found'?"),
        (replacing("    expect: no-match", with: "    expect: top"),
         "t.yaml:33:3: error: tests need at least one positive case and one 'no-match' case"),
        (replacing("protocol: http", with: "protocol: htp"),
         "t.yaml:4:11: error: unknown protocol 'htp'; expected one of http, smtp, ftp; did you mean 'http'?"),
        (replacing("    expect:\n      found: false\n", with: ""),
         "t.yaml:17:5: error: check 'first' runs a probe and needs 'expect' (the healthy state)"),
    ])
    func pinnedError(_ text: String, _ expected: String) {
        let errors = decodeErrors(text)
        #expect(errors.count == 1, "got \(errors)")
        #expect(errors.first?.split(separator: "\n").first.map(String.init) == expected)
    }

    @Test func errorShowsSourceLineAndCaret() {
        let errors = decodeErrors(replacing("probe: test.echo", with: "probe: test.ecko"))
        #expect(errors == ["""
            t.yaml:19:12: error: unknown probe 'test.ecko'; did you mean 'test.echo'?
                probe: test.ecko
                       ^
            """])
    }

    @Test func everyProblemIsReportedInOneRun() {
        var text = replacing("stacks: [nginx, apache]", with: "stakcs: [nginx]")
        text = text.replacingOccurrences(of: "probe: test.echo", with: "probe: nope")
        text = text.replacingOccurrences(of: "cause: upstream-sni-missing", with: "cause: nope")
        let errors = decodeErrors(text)
        #expect(errors.count == 3, "got \(errors)")  // unknown key, unknown probe, unknown cause
    }

    @Test func checkCycleIsAnError() {
        let text = replacing("""
              - id: second
                title: by hand
                needs: [first]
                manual: look at the config
            """, with: """
              - id: second
                title: by hand
                needs: [third]
              - id: third
                title: loop
                needs: [second]
                manual: x
            """)
        let errors = decodeErrors(text)
        #expect(errors.contains { $0.contains("error: checks depend on each other in a cycle: second -> third -> second") },
                "got \(errors)")
    }

    @Test func yamlErrorsComeThroughWithLocation() {
        let errors = decodeErrors("kb: playbook/1\nid: [unclosed\n")
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("t.yaml:3:1: error:") == true, "got \(errors)")
    }

    @Test func emptyFileIsAnError() {
        #expect(decodeErrors("# only a comment\n") == ["t.yaml:1:1: error: the file holds no playbook"])
    }
}

@Suite("templates")
struct TemplateTests {
    @Test func rendersAndPlaceholds() throws {
        let t = try Template("curl https://{{host}}:{{port}}/")
        #expect(t.render(["host": "a.example", "port": "443"]) == "curl https://a.example:443/")
        #expect(t.render(["host": "a.example"]) == "curl https://a.example:YOUR-PORT/")
        #expect(t.render(["host": "a.example"], placeholder: { _ in nil }) == nil)
        #expect(t.variablesUsed == ["host", "port"])
    }

    @Test func unclosedHoleIsAnError() {
        #expect(throws: TemplateError.self) { try Template("a {{host") }
    }
}

/// Organisation patterns are RE2: validate refuses what RE2 cannot run, at its place in the pattern,
/// and the conditions that stand in for look-around and back-references work (issue 7).
@Suite("playbook patterns (RE2)")
struct PlaybookPatternTests {
    /// The test playbook with its first signal (id 'ah02032') replaced by `yaml`.
    func signal(_ yaml: String) throws -> Playbook {
        let text = replacing("    text: 'AH02032'\n", with: yaml)
        return try PlaybookLoader(context: testContext).decode(text, path: "t.yaml")
    }

    func matched(_ playbook: Playbook, _ text: String) -> String? {
        let facts = SymptomExtractor().extract([InputText(name: "paste", text: text)])
        return Matcher().score(playbook, facts: facts).matches.first { $0.signal == "ah02032" }?.matched
    }

    @Test func nestedAlternationValidatesAndRunsOnLongInput() throws {
        let s = try signal("    text: '(a|aa)+$'\n")
        #expect(matched(s, String(repeating: "a", count: 36) + "!") == nil)
        #expect(matched(s, String(repeating: "a", count: 200_000) + "!") == nil)
        #expect(matched(s, "x " + String(repeating: "a", count: 40)) != nil)
    }

    @Test func doubleQuotedPatternErrorPointsIntoThePattern() {
        let errors = decodeErrors(replacing("    text: 'AH02032'", with: #"    text: "AH(?=x)""#))
        #expect(errors.first?.hasPrefix("t.yaml:12:14: error: invalid regular expression") == true, "\(errors)")
    }

    @Test func tooBigAPatternIsRefused() {
        let errors = decodeErrors(replacing("    text: 'AH02032'", with: #"    text: '\pL{1000}'"#))
        #expect(errors.count == 1)
        #expect(errors.first?.contains("pattern too large") == true, "\(errors)")
    }

    @Test func differAndSame() throws {
        let differ = try signal(#"""
                text: 'host=(\S+) sni=(\S+)'
                differ: [1, 2]

            """#)
        #expect(matched(differ, "host=a.example sni=a.example") == nil)
        #expect(matched(differ, "host=a.example sni=A.EXAMPLE host=a.example sni=b.example") == "host=a.example sni=b.example")
        let same = try signal(#"""
                text: 'host=(\S+) sni=(\S+)'
                same: [[1, 2]]

            """#)
        #expect(matched(same, "host=a.example sni=b.example") == nil)
        #expect(matched(same, "host=a.example sni=A.example") != nil)
    }

    @Test func alsoUnlessAndAbsent() throws {
        let also = try signal("    text: 'apache'\n    also: ['proxy', 'gateway']\n")
        #expect(matched(also, "apache behind a proxy") == nil)
        #expect(matched(also, "apache behind a proxy gateway") == "apache")
        let unless = try signal("    text: '(requested )?host differs'\n    unless: '^requested '\n")
        #expect(matched(unless, "the requested host differs") == nil)
        #expect(matched(unless, "the requested host differs; the host differs") == "host differs")
        let absent = try signal("    absent: 'cpanel|plesk'\n")
        #expect(matched(absent, "a plain server") == "")
        #expect(matched(absent, "cPanel server") == nil)
    }

    @Test func conditionsAreChecked() {
        let groups = decodeErrors(replacing("    text: 'AH02032'\n", with: "    text: 'AH(0)2032'\n    differ: [1, 2]\n"))
        #expect(groups.map { $0.prefix { $0 != "\n" } }
                 == ["t.yaml:13:17: error: 'differ' group '2' is not a capture group of the pattern (1 to 1)"], "\(groups)")
        let lonely = decodeErrors(replacing("    stack: [nginx]\n", with: "    stack: [nginx]\n    unless: 'x'\n"))
        #expect(lonely.count == 1 && lonely[0].contains("'unless' goes with a 'text' signal only"), "\(lonely)")
    }
}
