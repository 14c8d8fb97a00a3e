import ArgumentParser
import Engine
import Foundation

extension KB.Playbooks {
    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new playbook, its article, its test cases and (for a new slug) its cause entry.",
            discussion: """
                Writes DIR/playbooks/ID.yaml and DIR/knowledge/SLUG.md (refusing to overwrite either) and, when \
                the cause is new, adds it to DIR/causes.yaml. The result validates and its tests pass as written: \
                'kb playbooks validate DIR' and 'kb playbooks test DIR'. Then replace the placeholder signal, \
                steps and tests with your own.
                """
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "The new playbook's id, such as 'acme.waf-plan-expired'.") var id: String
        @Option(name: .long, help: ArgumentHelp("Your playbook directory.", valueName: "dir")) var dir: String
        @Option(name: .long, help: ArgumentHelp(
            "The cause: a built-in slug, or a new one with your prefix ('acme.waf-plan-expired'); default: the id.",
            valueName: "slug"))
        var cause: String?
        @Option(name: .customLong("protocol"), help: ArgumentHelp("http, smtp or ftp (default: the cause's, else http).",
                                                                   valueName: "protocol"))
        var protocolValue: InputOptions.StatedProtocol?

        func validate() throws {
            guard Cause.isOrganisationSlug(id) || Cause.isBuiltinSlug(id) else {
                throw ValidationError("the id '\(id)' may use only lowercase letters, digits and '-', with one '.' "
                    + "after your prefix, such as 'acme.waf-plan-expired'")
            }
        }

        func run() async throws {
            let engine = try data.loadEngine(adding: FileManager.default.fileExists(atPath: dir) ? [dir] : [])
            if engine.catalog.playbook(id) != nil {
                throw failUsage("a playbook '\(id)' already exists; to change it, write an overlay: "
                    + "'kb playbooks overlay \(id) --dir \(Sanitizer.neutralize(dir))'")
            }
            let slug = cause ?? id
            let known = engine.catalog.causes.cause(slug)
            if known == nil, !Cause.isOrganisationSlug(slug) {
                var message = "unknown cause '\(slug)'"
                if let near = Suggest.closest(to: slug, in: engine.catalog.causes.slugs) {
                    message += "; did you mean '\(near)'?"
                }
                throw failUsage(message + "; a new cause needs a prefix of your own, such as 'acme.\(slug)'")
            }
            let causeProtocol = known.flatMap { $0.protocolValue == .unknown ? nil : $0.protocolValue.rawValue }
            let proto = protocolValue?.rawValue ?? causeProtocol ?? "http"
            if let causeProtocol, causeProtocol != proto {
                throw failUsage("cause '\(slug)' is an \(causeProtocol) cause; leave out --protocol or give '\(causeProtocol)'")
            }
            let name = String(slug.split(separator: ".").last ?? Substring(slug))
            let words = name.split(separator: "-").map(String.init)
            let playbookPath = "\(dir)/playbooks/\(id).yaml"
            let article = engine.knowledge.article(forCause: slug)?.id ?? slug
            let articlePath = "\(dir)/knowledge/\(article).md"
            var written: [String] = []
            for path in [playbookPath] + (engine.knowledge.article(article) == nil ? [articlePath] : [])
            where FileManager.default.fileExists(atPath: path) {
                throw failUsage("'\(Sanitizer.neutralize(path))' exists; kb does not overwrite it")
            }
            let causesPath = "\(dir)/causes.yaml"
            var causesText: String?
            if known == nil {
                let entry = Scaffold.causeEntry(slug: slug, protocolValue: proto, words: words)
                if FileManager.default.fileExists(atPath: causesPath) {
                    let existing = try String(contentsOfFile: causesPath, encoding: .utf8)
                    let appended = existing + (existing.hasSuffix("\n") ? "" : "\n") + entry
                    let decoded = try? CauseCatalog.decode(appended, path: causesPath, builtin: false)
                    guard decoded?.contains(where: { $0.slug == slug }) == true else {
                        throw failUsage("cannot add cause '\(slug)' to '\(Sanitizer.neutralize(causesPath))' safely; "
                            + "add this entry under its 'causes:' list yourself, then run this again:\n" + entry)
                    }
                    causesText = appended
                } else {
                    causesText = Scaffold.causesHeader + entry
                }
            }
            try FileManager.default.createDirectory(atPath: "\(dir)/playbooks", withIntermediateDirectories: true)
            try Scaffold.playbook(id: id, cause: slug, protocolValue: proto, article: article, words: words)
                .write(toFile: playbookPath, atomically: false, encoding: .utf8)
            written.append(playbookPath)
            if engine.knowledge.article(article) == nil {
                try FileManager.default.createDirectory(atPath: "\(dir)/knowledge", withIntermediateDirectories: true)
                try Scaffold.article(id: article, cause: slug, protocolValue: proto, words: words)
                    .write(toFile: articlePath, atomically: false, encoding: .utf8)
                written.append(articlePath)
            }
            if let causesText {
                try causesText.write(toFile: causesPath, atomically: true, encoding: .utf8)
                written.append(causesPath + " (cause '\(slug)')")
            }
            for path in written { printText("wrote \(path)") }
            printText("next: edit them, then 'kb playbooks validate \(dir)' and 'kb playbooks test \(dir)'")
        }
    }
}

/// The text `kb playbooks new` writes: placeholders that load, validate and pass their own tests.
enum Scaffold {
    static let causesHeader = """
        # Causes of this organisation. Slugs carry your prefix ('acme.'); built-in slugs never have a dot.
        # See docs/playbooks.md#causes. kb explain --causes lists every cause in force.
        kb: causes/1
        causes:

        """

    static func causeEntry(slug: String, protocolValue: String, words: [String]) -> String {
        """
          - slug: \(slug)
            protocol: \(protocolValue)
            title: \(sentence(words))
            summary: describe in one line what goes wrong when '\(words.joined(separator: " "))' is the cause
            evidence:
              - the words '\(words.joined(separator: " "))' in the error text

        """
    }

    static func sentence(_ words: [String]) -> String {
        let text = words.joined(separator: " ")
        return text.prefix(1).uppercased() + text.dropFirst()
    }

    /// A sample line of the protocol that shows the cause's words, and one of another protocol that must not match.
    static func samples(_ protocolValue: String, phrase: String) -> (positive: String, negative: String) {
        switch protocolValue {
        case "smtp": ("421 4.7.0 mx.example.net \(phrase), try again later",
                      "HTTP/2 421 Misdirected Request from nginx in front of Apache")
        case "ftp": ("421 \(phrase), closing control connection",
                     "421 4.7.0 mx.example.net Error: too many connections from 192.0.2.1")
        default: ("HTTP/1.1 421 Misdirected Request: \(phrase) (www.example.com)",
                  "421 4.7.0 mx.example.net Error: too many connections from 192.0.2.1")
        }
    }

    static func playbook(id: String, cause: String, protocolValue: String, article: String, words: [String]) -> String {
        let phrase = words.joined(separator: " ")
        let (positive, negative) = samples(protocolValue, phrase: phrase)
        let pattern = words.joined(separator: "[ _-]")
        let verify = switch protocolValue {
        case "smtp": "swaks --to postmaster@{{host}} --quit-after RCPT"
        case "ftp": "curl -sv ftp://{{host}}/ 2>&1 | grep '^< 421'"
        default: "curl -sv https://{{host}}/ -o /dev/null 2>&1 | grep '^< HTTP'"
        }
        return """
            # Written by 'kb playbooks new'; docs/playbooks.md describes every key.
            kb: playbook/1
            id: \(id)
            title: \(sentence(words))
            protocol: \(protocolValue)
            cause: \(cause)
            article: \(article)
            summary: >
              Say in two or three sentences what happens and why the server answers 421.
            threshold: 4
            signals:
              # Replace with what your error text really shows; weights from -100 to 100.
              - id: says-\(words.joined(separator: "-"))
                weight: 10
                text: '\(pattern)'
                note: the error text names it
            remediation:
              - id: fix-\(words.joined(separator: "-"))
                step: Describe the first thing to do
                detail: |
                  How to do it, step by step, in your own words.
                verify: \(verify)
            tests:
              - name: the error text names it
                input: '\(positive)'
                expect: top
              - name: another protocol's 421 is not this
                input: '\(negative)'
                expect: no-match

            """
    }

    static func article(id: String, cause: String, protocolValue: String, words: [String]) -> String {
        """
        ---
        id: \(id)
        title: \(sentence(words))
        protocol: \(protocolValue)
        causes: [\(cause)]
        references: []
        ---
        # \(sentence(words))

        ## What it means

        What goes wrong, and why the server answers 421.

        ## How to recognise it

        What the error text, the logs or the configuration show.

        ## How to verify

        A command that shows the problem, and what it prints.

        ## How to fix it

        The fix, step by step.

        ## Sources

        Where this comes from (your runbook, a vendor page).

        """
    }
}
