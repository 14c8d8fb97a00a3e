import Foundation
import Testing
@testable import Engine

/// An organisation directory in a temporary place: a base playbook, then overlays and causes written per test.
private struct OrgDirectory {
    let dir: TemporaryDirectory

    init(_ files: [String: String]) throws {
        dir = try TemporaryDirectory()
        _ = try dir.file("base/http.test.yaml", validPlaybook)
        for (name, text) in files { _ = try dir.file("org/" + name, text) }
    }

    /// Loads the base layer, then the organisation layer, as kb layers built-in and --playbooks.
    func load() throws(KBErrors) -> PlaybookCatalog {
        try PlaybookLoader(context: testContext).load([PlaybookSource(path: dir.path + "/base", builtin: true),
                                                       PlaybookSource(path: dir.path + "/org", builtin: false)])
    }

    func errors() -> [String] {
        do {
            _ = try load()
            return []
        } catch {
            return error.errors.map { e in
                guard let l = e.location else { return e.message }
                return "\((l.file as NSString).lastPathComponent):\(l.line):\(l.column): \(e.message)"
            }
        }
    }
}

@Suite("overlays")
struct OverlayTests {
    @Test func addsAStepAfterANamedOneAndReportsItsOrigin() throws {
        let org = try OrgDirectory(["overlay.yaml": """
            kb: overlay/1
            extends: http.test
            remediation:
              add:
                - id: our-ticket
                  before: step-1
                  step: Open a ticket
                  detail: With the host name.
            """])
        defer { org.dir.remove() }
        let catalog = try org.load()
        let p = try #require(catalog.playbook("http.test"))
        #expect(p.remediation.map(\.id) == ["our-ticket", "step-1"])
        #expect(p.overlays.count == 1 && p.overlays[0].hasSuffix("org/overlay.yaml"))
        #expect(p.origins["remediation our-ticket"]?.line == 5)
        // Everything else is the base playbook's, untouched.
        #expect(p.signals.map(\.id) == ["ah02032", "nginx"] && p.checks.count == 2 && p.tests.count == 2)
        #expect(catalog.notes.contains { $0.contains("changed by overlay") })
    }

    @Test func replacesRemovesReweightsAndChangesTheThreshold() throws {
        let org = try OrgDirectory(["o.yaml": """
            kb: overlay/1
            extends: http.test
            threshold: 7
            stacks: [haproxy]
            signals:
              weights: {ah02032: 9}
              remove: [nginx]
              add:
                - id: our-waf
                  weight: 3
                  text: 'acme waf'
            checks:
              replace:
                - id: second
                  title: by hand, our way
                  manual: look at our panel
            tests:
              - name: our waf alone is not enough
                input: 'acme waf said no'
                expect: no-match
            """])
        defer { org.dir.remove() }
        let p = try #require(try org.load().playbook("http.test"))
        #expect(p.threshold == 7)
        #expect(p.stacks == ["nginx", "apache", "haproxy"])
        #expect(p.signals.map(\.id) == ["ah02032", "our-waf"])
        #expect(p.signals[0].weight == 9)
        #expect(p.checks.map(\.title) == ["the log line", "by hand, our way"])
        #expect(p.tests.map(\.name).last == "our waf alone is not enough")
    }

    /// Guided-mode questions are one more list by id: added, replaced and removed like steps.
    @Test func questionsAreAddedReplacedAndRemovedByID() throws {
        let org = try OrgDirectory(["q.yaml": """
            kb: overlay/1
            extends: http.test
            questions:
              add:
                - id: our-waf
                  kind: yes-no
                  text: Is the site behind our WAF?
                  why: Our WAF answers 421 for expired plans.
                  if-yes:
                    weight: 2
            """])
        defer { org.dir.remove() }
        let p = try #require(try org.load().playbook("http.test"))
        #expect(p.questions.map(\.id) == ["our-waf"])
        #expect(p.origins["questions our-waf"]?.line == 5)

        let bad = try OrgDirectory(["q.yaml": """
            kb: overlay/1
            extends: http.test
            questions:
              add:
                - id: our-waf
                  kind: yes-maybe
                  text: Is the site behind our WAF?
                  why: Our WAF answers 421 for expired plans.
                  if-yes:
                    signals: [ah0203]
              remove: [our-waf]
            """])
        defer { bad.dir.remove() }
        let errors = bad.errors()
        #expect(errors.contains { $0.hasPrefix("q.yaml:6:13:") && $0.contains("yes-maybe") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("q.yaml:10:19:") && $0.contains("ah0203") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("q.yaml:11:12: 'http.test' has no question 'our-waf'; it has no questions") }, "\(errors)")
    }

    @Test func unknownIDsAreErrorsWithPositionsAndSuggestions() throws {
        let org = try OrgDirectory(["o.yaml": """
            kb: overlay/1
            extends: http.test
            signals:
              remove: [ah0203]
            remediation:
              replace:
                - id: step-9
                  step: x
                  detail: y
              add:
                - id: new
                  after: nowhere
                  step: x
                  detail: y
                  colour: red
            """])
        defer { org.dir.remove() }
        let errors = org.errors()
        #expect(errors.contains("o.yaml:4:12: 'http.test' has no signal 'ah0203'; did you mean 'ah02032'?"), "\(errors)")
        #expect(errors.contains { $0.hasPrefix("o.yaml:7:11: 'http.test' has no remediation step 'step-9'") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("o.yaml:12:14: 'http.test' has no remediation step 'nowhere'") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("o.yaml:15:7: unknown key 'colour' in remediation step") }, "\(errors)")
    }

    @Test func anOverlayOfAnUnknownPlaybookSuggestsTheId() throws {
        let org = try OrgDirectory(["o.yaml": "kb: overlay/1\nextends: http.tset\nthreshold: 5\n"])
        defer { org.dir.remove() }
        #expect(org.errors() == ["o.yaml:2:10: overlay extends unknown playbook 'http.tset'; did you mean 'http.test'?"])
    }

    @Test func removingWhatAnotherPartUsesIsAnError() throws {
        let org = try OrgDirectory(["o.yaml": "kb: overlay/1\nextends: http.test\nchecks:\n  remove: [first]\n"])
        defer { org.dir.remove() }
        #expect(org.errors() == ["o.yaml:4:12: check 'first' is still used by check 'second'; remove or replace that too"])
        let none = try OrgDirectory(["o.yaml": "kb: overlay/1\nextends: http.test\nsignals:\n  remove: [ah02032, nginx]\n"])
        defer { none.dir.remove() }
        #expect(none.errors().contains { $0.contains("has no signal with a positive weight left") })
    }

    @Test func twoOverlaysApplyInFileOrderAndAConflictIsAWarningWithBothPositions() throws {
        let step = { (name: String) in
            "kb: overlay/1\nextends: http.test\nremediation:\n  replace:\n    - id: step-1\n      step: \(name)\n      detail: d\n"
        }
        let org = try OrgDirectory(["b.yaml": step("from b"), "a.yaml": step("from a")])
        defer { org.dir.remove() }
        let catalog = try org.load()
        let p = try #require(catalog.playbook("http.test"))
        #expect(p.remediation[0].step == "from b")
        #expect(p.overlays.map { ($0 as NSString).lastPathComponent } == ["a.yaml", "b.yaml"])
        let warning = try #require(catalog.notes.first { $0.contains("warning") })
        #expect(warning.contains("b.yaml:5:11: warning:") && warning.contains("a.yaml:5:11"), "\(warning)")
    }

    @Test func anItemRemovedByOneOverlayCannotBeReplacedByAnother() throws {
        let org = try OrgDirectory([
            "a.yaml": "kb: overlay/1\nextends: http.test\nsignals:\n  remove: [nginx]\n",
            "b.yaml": "kb: overlay/1\nextends: http.test\nsignals:\n  weights: {nginx: 1}\n",
        ])
        defer { org.dir.remove() }
        let errors = org.errors()
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("b.yaml:4:13: 'http.test' has no signal 'nginx' (") == true, "\(errors)")
        #expect(errors.first?.contains("a.yaml:4:12 removed it") == true, "\(errors)")
    }

    @Test func addedItemsAreCheckedLikeAPlaybooksAtTheOverlaysPositions() throws {
        let org = try OrgDirectory(["o.yaml": """
            kb: overlay/1
            extends: http.test
            signals:
              add:
                - id: look-ahead
                  weight: 2
                  text: 'a(?=b)'
            checks:
              add:
                - id: third
                  title: after the first
                  needs: [first, secnd]
                  manual: look again
            """])
        defer { org.dir.remove() }
        let errors = org.errors()
        #expect(errors.contains { $0.hasPrefix("o.yaml:7:15: invalid regular expression 'a(?=b)'") }, "\(errors)")
        #expect(errors.contains("o.yaml:12:22: check 'third' needs unknown check 'secnd'; did you mean 'second'?"), "\(errors)")
        #expect(errors.count == 2, "\(errors)")
    }

    @Test func anAddedCheckMayNeedTheBasePlaybooksChecks() throws {
        let org = try OrgDirectory(["o.yaml": """
            kb: overlay/1
            extends: http.test
            checks:
              add:
                - id: third
                  after: first
                  title: after the first
                  needs: [first]
                  when: {signal: [nginx]}
                  manual: look again
            """])
        defer { org.dir.remove() }
        let p = try #require(try org.load().playbook("http.test"))
        #expect(p.checks.map(\.id) == ["first", "third", "second"])
        #expect(p.checks[1].needs == ["first"] && p.checks[1].when.signals == ["nginx"])
    }

    @Test func anOverlayAloneIsNotDecodedAsAPlaybook() {
        let errors = decodeErrors("kb: overlay/1\nextends: http.test\n")
        #expect(errors.count == 1 && errors[0].contains("this is an overlay, not a playbook"), "\(errors)")
    }
}

@Suite("causes are data")
struct CauseCatalogTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theShippedTaxonomyLoadsWithEveryProtocol() {
        let causes = shippedCauses.causes
        #expect(causes.count >= 26)
        #expect(causes.allSatisfy { $0.builtin && Cause.isBuiltinSlug($0.slug) && !$0.title.isEmpty && !$0.summary.isEmpty })
        #expect(Set(causes.map(\.protocolValue)) == [.http, .smtp, .ftp, .unknown])
        #expect(shippedCauses.cause("upstream-sni-missing")?.evidence.isEmpty == false)
    }

    @Test func docsCausesIsGeneratedFromTheData() throws {
        let page = try String(contentsOfFile: Self.root + "/docs/causes.md", encoding: .utf8)
        #expect(page == shippedCauses.markdown(), "docs/causes.md is stale: run kb explain --causes --format markdown > docs/causes.md")
    }

    @Test(arguments: [
        ("kb: causes/1\ncauses:\n  - slug: waf-plan-expired\n    protocol: http\n    title: t\n    summary: s\n",
         "c.yaml:3:11: error: cause 'waf-plan-expired' needs a prefix of your own, such as 'yourorg.waf-plan-expired'"),
        ("kb: causes/1\ncauses:\n  - slug: acme.waf\n    protocol: htp\n    title: t\n    summary: s\n",
         "c.yaml:4:15: error: unknown protocol 'htp'; expected one of http, smtp, ftp; did you mean 'http'?"),
        ("kb: causes/1\ncauses:\n  - slug: acme.a.b\n    protocol: http\n    title: t\n    summary: s\n",
         "c.yaml:3:11: error: cause 'acme.a.b' needs a prefix of your own"),
        ("kb: causes/1\ncauses:\n  - slug: acme.x\n    protocol: http\n    title: t\n", "c.yaml:3:5: error: cause is missing required key 'summary'"),
    ])
    func organisationCausesAreCheckedWithPositions(_ text: String, _ expected: String) {
        do {
            _ = try CauseCatalog.decode(text, path: "c.yaml", builtin: false)
            Issue.record("decoded")
        } catch {
            #expect(error.errors.contains { $0.description.hasPrefix(expected) }, "\(error)")
        }
    }

    @Test func anOrganisationCauseIsUsableAndCannotShadowABuiltinOne() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.file("causes.yaml", "kb: causes/1\ncauses:\n  - slug: acme.waf\n    protocol: http\n    title: t\n    summary: s\n")
        _ = try dir.file("p.yaml", validPlaybook.replacingOccurrences(of: "cause: upstream-sni-missing", with: "cause: acme.waf"))
        let catalog = try PlaybookLoader(context: testContext).load([PlaybookSource(path: dir.path, builtin: false)])
        #expect(catalog.playbook("http.test")?.cause == "acme.waf")
        #expect(catalog.causes.cause("acme.waf")?.builtin == false)
        // The same slug twice across sources is an error that names the first.
        var twice = catalog.causes
        #expect(throws: KBErrors.self) {
            try twice.add([Cause(slug: "acme.waf", protocolValue: .http, title: "t", summary: "s", builtin: false,
                                 location: SourceLocation(file: "other.yaml", line: 3))])
        }
    }

    @Test func anUnknownOrganisationCauseSaysWhereToDeclareIt() {
        let errors = decodeErrors(validPlaybook.replacingOccurrences(of: "cause: upstream-sni-missing", with: "cause: acme.zzzzzz"))
        #expect(errors.first?.contains("declare it in 'causes.yaml' in your playbook directory") == true, "\(errors)")
    }
}

@Suite("JUnit XML")
struct JUnitTests {
    @Test func escapesMarkupAndNeutralisesControlCharacters() {
        let results = [
            PlaybookTestResult(playbook: "acme.x", test: "a <b> & \"c\" 'd'\u{1B}[31m\u{0}", expect: .top,
                               location: SourceLocation(file: "p.yaml", line: 3), passed: false, rank: nil, score: 1, top: "z&y"),
            PlaybookTestResult(playbook: "acme.x", test: "fine", expect: .noMatch, location: SourceLocation(file: "p.yaml", line: 9),
                               passed: true, rank: nil, score: 0, top: nil),
        ]
        let xml = JUnitReport.xml(results)
        #expect(xml.contains("<testsuites name=\"kb playbooks test\" tests=\"2\" failures=\"1\">"))
        #expect(xml.contains("name=\"a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;\\x1b[31m\\x00\""), "\(xml)")
        #expect(xml.contains("<failure message=\"expected top, not reported (score 1.0, top z&amp;y)\""), "\(xml)")
        #expect(xml.contains("<testcase classname=\"acme.x\" name=\"fine\" file=\"p.yaml\" line=\"9\"/>"))
        #expect(!xml.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }
}

/// The schemas editors use for overlays and causes files keep up with what the loader accepts.
@Suite("overlay and causes JSON Schemas")
struct OrganisationSchemaTests {
    func properties(_ name: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: CauseCatalogTests.root + "/schema/\(name).schema.json")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return try #require(schema["properties"] as? [String: Any])
    }

    @Test func overlayKeysMatchTheLoader() throws {
        let properties = try properties("overlay")
        #expect(Set(properties.keys) == Set(Overlay.topKeys))
        for list in OverlayLists.all {
            let changes = try #require((properties[list.key] as? [String: Any])?["properties"] as? [String: Any])
            #expect(Set(changes.keys) == Set(["add", "replace", "remove"] + (list.hasWeights ? ["weights"] : [])), "\(list.key)")
        }
    }

    @Test func causesKeysMatchTheLoader() throws {
        let causes = try #require((try properties("causes"))["causes"] as? [String: Any])
        let item = try #require((causes["items"] as? [String: Any])?["properties"] as? [String: Any])
        #expect(Set(item.keys) == Set(CauseCatalog.keys))
    }
}
