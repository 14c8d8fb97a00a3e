import Foundation
import Testing

/// The judged scenario, end to end, as a new user does it from docs/playbooks.md: an organisation directory with
/// a cause of its own, its playbook, article and tests, and an overlay of a few lines that adds a step to a
/// built-in playbook; then validate, test and diagnose with it.
@Suite("an organisation extends kb", .serialized)
struct OrganisationCLITests {
    /// A fresh directory under the system's temporary directory.
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kb-org-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ dir: String, _ files: [String: String]) throws {
        for (name, text) in files {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    static let acme: [String: String] = [
        "causes.yaml": """
            kb: causes/1
            causes:
              - slug: acme.waf-plan-expired
                protocol: http
                title: The WAF plan of the site has expired
                summary: the edge WAF answers 421 for every host of a customer whose plan ran out
                evidence:
                  - '"plan expired" on the 421 page'

            """,
        "playbooks/acme.waf-plan-expired.yaml": """
            kb: playbook/1
            id: acme.waf-plan-expired
            title: The Acme WAF plan of the site has expired
            protocol: http
            cause: acme.waf-plan-expired
            article: acme.waf-plan-expired
            summary: >
              The edge WAF stops forwarding for a customer whose plan ran out and answers 421 with its own page.
            signals:
              - id: waf-plan-page
                weight: 10
                text: 'acme waf: plan expired'
            remediation:
              - id: renew
                step: Renew the WAF plan in the Acme panel
                detail: Billing > WAF > Renew; traffic flows again within a minute.
                audience: customer
            tests:
              - name: the WAF page
                input: 'HTTP/1.1 421 Misdirected Request - Acme WAF: plan expired for www.example.com'
                expect: top
              - name: a mail deferral is not this
                input: '421 4.7.0 mx.example.net Error: too many connections from 192.0.2.1'
                expect: no-match

            """,
        "knowledge/acme.waf-plan-expired.md": """
            ---
            id: acme.waf-plan-expired
            title: The Acme WAF plan of the site has expired
            protocol: http
            causes: [acme.waf-plan-expired]
            ---
            # The Acme WAF plan of the site has expired

            ## What it means

            The plan ran out, so the WAF stops forwarding.

            ## How to fix it

            Renew it.

            """,
        "overlays/http.upstream-sni-missing.yaml": """
            kb: overlay/1
            extends: http.upstream-sni-missing
            remediation:
              add:
                - id: acme-panel-toggle
                  after: make-nginx-send
                  step: In the Acme panel, switch on "Send host name to origin"
                  detail: Sites > the site > Proxy > TLS to origin.

            """,
    ]

    static let sniText = "AH02032: Hostname www.example.com (default host as no SNI was provided) and hostname "
        + "www.example.com provided via HTTP have no compatible SSL setup"

    @Test func theWorkedExampleValidatesTestsAndDiagnoses() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write(dir, Self.acme)

        let validate = try CLI.run(["playbooks", "validate", dir])
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("1 playbook, 1 overlay, 1 cause and 1 article valid"), "\(validate.stdout)")

        let junit = dir + "/results.xml"
        let test = try CLI.run(["playbooks", "test", dir, "--junit", junit])
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"acme.waf-plan-expired\" tests=\"2\" failures=\"0\""), "\(xml)")
        #expect(xml.contains("<testsuite name=\"http.upstream-sni-missing\""), "the overlaid playbook's tests run too")

        let waf = try CLI.run(["diagnose", "--playbooks", dir, "--format", "json",
                               "HTTP/1.1 421 Misdirected Request - Acme WAF: plan expired for shop.example.com"])
        let wafReport = try #require(try JSONSerialization.jsonObject(with: Data(waf.stdout.utf8)) as? [String: Any])
        let first = try #require((wafReport["diagnoses"] as? [[String: Any]])?.first)
        #expect(first["cause"] as? String == "acme.waf-plan-expired")
        #expect(first["article"] as? String == "acme.waf-plan-expired")
        #expect((first["remediation"] as? [[String: Any]])?.first?["id"] as? String == "renew")

        let sni = try CLI.run(["diagnose", "--playbooks", dir, "--stack", "nginx", "--format", "json", Self.sniText])
        let sniReport = try #require(try JSONSerialization.jsonObject(with: Data(sni.stdout.utf8)) as? [String: Any])
        let top = try #require((sniReport["diagnoses"] as? [[String: Any]])?.first)
        #expect(top["playbook"] as? String == "http.upstream-sni-missing")
        #expect((top["overlays"] as? [String])?.first?.hasSuffix("overlays/http.upstream-sni-missing.yaml") == true)
        let steps = (top["remediation"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        let sent = try #require(steps.firstIndex(of: "make-nginx-send"))
        #expect(steps.firstIndex(of: "acme-panel-toggle") == sent + 1, "\(steps)")
        let text = try CLI.run(["diagnose", "--playbooks", dir, "--stack", "nginx", "--no-color", Self.sniText])
        #expect(text.stdout.contains("(changed by ") && text.stdout.contains("Send host name to origin"), "\(text.stdout)")
        let markdown = try CLI.run(["diagnose", "--playbooks", dir, "--stack", "nginx", "--format", "markdown", Self.sniText])
        #expect(markdown.stdout.contains("as changed by `") && markdown.stdout.contains("overlays/http.upstream-sni-missing.yaml`"),
                "\(markdown.stdout)")
        let customer = try CLI.run(["diagnose", "--playbooks", dir, "--stack", "nginx", "--format", "markdown",
                                    "--audience", "customer", Self.sniText])
        #expect(!customer.stdout.contains("overlays/"), "an organisation's files are not the customer's business")

        // Without the directory, the built-in playbook is as shipped.
        let plain = try CLI.run(["diagnose", "--stack", "nginx", "--format", "json", Self.sniText])
        #expect(!plain.stdout.contains("acme-panel-toggle") && !plain.stdout.contains("\"overlays\""))
    }

    /// In a checkout, naming the shipped directories is validating the built-in data, whose slugs have no prefix.
    @Test func theShippedDirectoriesNamedAsPathsAreTheBuiltInData() throws {
        let root = CLI.repoRoot.path
        for path in [root + "/playbooks", root, root + "/knowledge"] {
            let result = try CLI.run(["playbooks", "validate", path])
            #expect(result.status == 0, "\(path): \(result.stderr)")
            #expect(!result.stderr.contains("needs a prefix"), "\(result.stderr)")
        }
        #expect(try CLI.run(["playbooks", "test", root + "/playbooks"]).status == 0)
    }

    @Test func listShowAndExplainShowWhereThingsComeFrom() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write(dir, Self.acme)
        let list = try CLI.run(["playbooks", "list"], environment: ["KB_PLAYBOOK_PATH": dir])
        let line = try #require(list.stdout.split(separator: "\n").first { $0.hasPrefix("http.upstream-sni-missing ") })
        #expect(line.contains("[built-in]") && line.contains("+ overlay ") && line.contains("overlays/http.upstream-sni-missing.yaml"))
        let own = try #require(list.stdout.split(separator: "\n").first { $0.hasPrefix("acme.waf-plan-expired ") })
        #expect(own.contains("[\(dir)/playbooks/acme.waf-plan-expired.yaml]"), "\(own)")

        let show = try CLI.run(["playbooks", "show", "http.upstream-sni-missing", "--effective", "--playbooks", dir])
        #expect(show.status == 0, "\(show.stderr)")
        let added = try #require(show.stdout.split(separator: "\n").first { $0.contains("acme-panel-toggle") })
        #expect(added.hasSuffix("<- \(dir)/overlays/http.upstream-sni-missing.yaml:5"), "\(added)")
        let shipped = try #require(show.stdout.split(separator: "\n").first { $0.contains("make-nginx-send:") })
        #expect(shipped.contains("playbooks/http/upstream-sni-missing.yaml"), "\(shipped)")

        let causes = try CLI.run(["explain", "--causes", "--playbooks", dir])
        #expect(causes.stdout.contains("acme.waf-plan-expired (http, from \(dir)/causes.yaml): The WAF plan of the site has expired"))
        let markdown = try CLI.run(["explain", "--causes", "--format", "markdown"])
        let page = try String(contentsOf: CLI.repoRoot.appendingPathComponent("docs/causes.md"), encoding: .utf8)
        #expect(markdown.stdout == page, "docs/causes.md differs from 'kb explain --causes --format markdown'")
    }

    @Test func scaffoldsValidateAndPassAsWrittenAndNeverOverwrite() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for proto in ["http", "smtp", "ftp"] {
            let new = try CLI.run(["playbooks", "new", "acme.\(proto)-relay-quota", "--dir", dir, "--protocol", proto])
            #expect(new.status == 0, "\(new.stderr)")
        }
        let builtinCause = try CLI.run(["playbooks", "new", "acme.sni-panel", "--dir", dir, "--cause", "upstream-sni-missing"])
        #expect(builtinCause.status == 0, "\(builtinCause.stderr)")
        #expect(!builtinCause.stdout.contains("knowledge/"), "a built-in cause keeps its built-in article")
        let overlay = try CLI.run(["playbooks", "overlay", "smtp.concurrency", "--dir", dir])
        #expect(overlay.status == 0, "\(overlay.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/overlays/smtp.concurrency.yaml"))
        let causes = try String(contentsOfFile: dir + "/causes.yaml", encoding: .utf8)
        #expect(causes.components(separatedBy: "- slug: ").count == 4, "\(causes)")

        let validate = try CLI.run(["playbooks", "validate", dir])
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("4 playbooks, 1 overlay, 3 causes and 3 articles valid"), "\(validate.stdout)")
        let test = try CLI.run(["playbooks", "test", dir, "-v"])
        #expect(test.status == 0, "\(test.stdout)")
        #expect(test.stdout.contains("pass acme.ftp-relay-quota: the error text names it"), "\(test.stdout)")

        let again = try CLI.run(["playbooks", "new", "acme.http-relay-quota", "--dir", dir])
        #expect(again.status == 64 && again.stderr.contains("already exists"), "\(again.stderr)")
        let overlayAgain = try CLI.run(["playbooks", "overlay", "smtp.concurrency", "--dir", dir])
        #expect(overlayAgain.status == 64 && overlayAgain.stderr.contains("kb does not overwrite it"), "\(overlayAgain.stderr)")
        let noPrefix = try CLI.run(["playbooks", "new", "acme.x", "--dir", dir, "--cause", "waf-expired"])
        #expect(noPrefix.status == 64 && noPrefix.stderr.contains("needs a prefix of your own, such as 'acme.waf-expired'"))
    }

    @Test func directoryCommandsSayWhatToDo() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let empty = try CLI.run(["playbooks", "test", dir])
        #expect(empty.status == 64 && empty.stderr.contains("no playbook or overlay in '\(dir)'"), "\(empty.stderr)")
        var files = Self.acme
        files["knowledge/acme.waf-plan-expired.md"] = nil
        files["overlays/http.upstream-sni-missing.yaml"] = files["overlays/http.upstream-sni-missing.yaml"]!
            .replacingOccurrences(of: "after: make-nginx-send", with: "after: make-nginx-sned")
        try Self.write(dir, files)
        let invalid = try CLI.run(["playbooks", "validate", dir])
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains("acme.waf-plan-expired.yaml:6:10: error: unknown article 'acme.waf-plan-expired'"),
                "\(invalid.stderr)")
        #expect(invalid.stderr.contains("http.upstream-sni-missing.yaml:6:14: error: 'http.upstream-sni-missing' has no "
            + "remediation step 'make-nginx-sned'; did you mean 'make-nginx-send'?"), "\(invalid.stderr)")
    }

    @Test func laterDirectoriesWinAndOverlaysApplyInPrecedenceOrder() throws {
        let first = try Self.directory(), second = try Self.directory()
        defer {
            try? FileManager.default.removeItem(atPath: first)
            try? FileManager.default.removeItem(atPath: second)
        }
        let playbook = Self.acme["playbooks/acme.waf-plan-expired.yaml"]!
            .replacingOccurrences(of: "cause: acme.waf-plan-expired", with: "cause: nonstandard-421")
            .replacingOccurrences(of: "article: acme.waf-plan-expired", with: "article: nonstandard-421")
        let overlay = { (name: String) in
            "kb: overlay/1\nextends: http.upstream-sni-missing\nremediation:\n  replace:\n    - id: confirm-origin-sni\n"
                + "      step: \(name)\n      detail: d\n"
        }
        try Self.write(first, ["p.yaml": playbook.replacingOccurrences(of: "title: The Acme", with: "title: First"),
                               "o.yaml": overlay("from the first")])
        try Self.write(second, ["p.yaml": playbook.replacingOccurrences(of: "title: The Acme", with: "title: Second"),
                                "o.yaml": overlay("from the second")])
        let list = try CLI.run(["playbooks", "list", "--playbooks", second], environment: ["KB_PLAYBOOK_PATH": first])
        #expect(list.status == 0, "\(list.stderr)")
        let own = try #require(list.stdout.split(separator: "\n").first { $0.hasPrefix("acme.waf-plan-expired ") })
        #expect(own.contains("Second") && own.contains("[\(second)/p.yaml] (replaces \(first)/p.yaml)"), "\(own)")
        let sni = try #require(list.stdout.split(separator: "\n").first { $0.hasPrefix("http.upstream-sni-missing ") })
        #expect(sni.hasSuffix("+ overlays \(first)/o.yaml, \(second)/o.yaml"), "\(sni)")
        #expect(list.stdout.contains("\(second)/o.yaml:5:11: warning: overlay changes remediation confirm-origin-sni of "
            + "'http.upstream-sni-missing', which \(first)/o.yaml:5:11 changes too"), "\(list.stdout)")
        let show = try CLI.run(["playbooks", "show", "http.upstream-sni-missing", "--effective", "--playbooks", second],
                               environment: ["KB_PLAYBOOK_PATH": first])
        #expect(show.stdout.contains("confirm-origin-sni: from the second  <- \(second)/o.yaml:5"), "\(show.stdout)")
        let validate = try CLI.run(["playbooks", "validate", second], environment: ["KB_PLAYBOOK_PATH": first])
        #expect(validate.status == 0 && validate.stderr.contains("warning: overlay changes remediation confirm-origin-sni"))
    }

    @Test func aFailingTestIsExitOneAndAJUnitFailure() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var files = Self.acme
        files["playbooks/acme.waf-plan-expired.yaml"] = files["playbooks/acme.waf-plan-expired.yaml"]!
            .replacingOccurrences(of: "name: the WAF page", with: "name: the WAF page <&>")
            .replacingOccurrences(of: "Acme WAF: plan expired", with: "Acme WAF: plan renewed")
        try Self.write(dir, files)
        let junit = dir + "/out.xml"
        let test = try CLI.run(["playbooks", "test", dir, "--junit", junit])
        #expect(test.status == 1, "\(test.stdout)\(test.stderr)")
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("name=\"the WAF page &lt;&amp;&gt;\""), "\(xml)")
        #expect(xml.contains("<failure message=\"expected top, not reported"), "\(xml)")
    }
}

/// Every relative link in README.md and docs/ leads to a file that exists and, with a #fragment, to a heading in it.
@Suite("documentation links")
struct DocumentationLinkTests {
    static func anchors(_ markdown: String) -> Set<String> {
        var out: Set<String> = []
        for line in markdown.split(separator: "\n") where line.hasPrefix("#") {
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
            let slug = title.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == " " || $0 == "-" || $0 == "_" }
            out.insert(String(String.UnicodeScalarView(slug)).replacingOccurrences(of: " ", with: "-"))
        }
        return out
    }

    @Test func everyRelativeLinkResolves() throws {
        let root = CLI.repoRoot
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        #expect(docs.contains("docs/causes.md") && docs.contains("docs/playbooks.md"))
        let link = try Regex(#"\]\(([^)\s]+)\)"#)
        var checked = 0
        for page in ["README.md"] + docs {
            let text = try String(contentsOf: root.appendingPathComponent(page), encoding: .utf8)
            // Code blocks hold examples, not links.
            let prose = text.components(separatedBy: "```").enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                .joined(separator: "\n")
            for match in prose.matches(of: link) {
                let target = String(match.output[1].substring ?? "")
                if target.hasPrefix("http://") || target.hasPrefix("https://") || target.hasPrefix("mailto:") { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let base = (page as NSString).deletingLastPathComponent
                let file = parts[0].isEmpty ? page : (base.isEmpty ? parts[0] : base + "/" + parts[0])
                let url = root.appendingPathComponent(file).standardizedFileURL
                #expect(FileManager.default.fileExists(atPath: url.path), "\(page): link '\(target)' leads nowhere")
                if parts.count == 2, url.pathExtension == "md", let linked = try? String(contentsOf: url, encoding: .utf8) {
                    #expect(Self.anchors(linked).contains(parts[1]), "\(page): no heading for '#\(parts[1])' in \(file)")
                }
                checked += 1
            }
        }
        #expect(checked > 10)
    }
}
