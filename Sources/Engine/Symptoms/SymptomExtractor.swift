import Foundation

/// Reads pasted text, logs and configs into typed facts: which 421 it is (HTTP, SMTP or FTP) with the
/// evidence for it, the status and reply codes, enhanced codes, SMTP phases, HTTP versions, host names,
/// stacks, providers, server signatures and intermittency.
///
/// It never fails: any text gives facts, at worst an unknown verdict that says what is missing.
/// Work is linear in the input: phrases are found with `memchr`/`memcmp` on lowercased bytes,
/// regular expressions run once per input (and only when a literal they need occurs), and every
/// list is capped, so a 1 MB paste takes a fraction of a second.
public struct SymptomExtractor: Sendable {
    /// Everything compiled once per process: the patterns are constants.
    private static let compiled = Compiled()

    struct Compiled: Sendable {
        let table = SymptomCueTable()
        let replies = ReplyParser()
        let web = WebFactsParser()
        let hosts = HostExtractor()
        let classifier = ProtocolClassifier()
        let roles = CaseRoleScanner()
        let nginxPage = SymptomRegex.compile(
            #"421 misdirected request\s{0,3}</title>[\s\S]{0,800}?<center>\s{0,3}nginx"#)
        let plainMisdirected = SymptomRegex.compile(#"^[ \t>]*[`"']?misdirected request[`"'.!]?[ \t\r]*$"#)

        /// Patterns RE2 rejects (tests assert there are none); compiles every pattern.
        var invalidPatterns: [String] {
            table.invalidPatterns + hosts.invalidPatterns + replies.invalidPatterns + web.invalidPatterns + roles.invalidPatterns
                + [nginxPage, plainMisdirected].filter { $0.check() != nil }.map(\.source)
        }
    }

    static var invalidPatterns: [String] { compiled.invalidPatterns }

    public init() {}

    /// Reads every input into typed facts. Statements (from --protocol/--stack/--intermittent) outrank the text.
    public func extract(_ inputs: [InputText], statements: Statements = Statements()) -> Facts {
        let c = Self.compiled
        let texts = inputs.map { SymptomText(name: $0.name, string: $0.text) }

        // 1. cues: each found once, at its first occurrence across the inputs
        let hits = firstHits(of: c.table.protocolCues, in: texts)

        // 2. structured facts
        var replies: [ReplyParser.Found] = []
        var enhanced: [(code: String, order: (Int, Int))] = []
        var textPhases: [(phase: SMTPPhase, order: (Int, Int))] = []
        var statuses: [(code: Int, order: (Int, Int))] = []
        var looseStatuses: [(code: Int, order: (Int, Int))] = []
        var versions: [(version: String, order: (Int, Int))] = []
        var hostsFound: [HostExtractor.Found] = []
        for (index, text) in texts.enumerated() {
            let parsed = c.replies.parse(text, index: index)
            replies += parsed.replies
            enhanced += parsed.enhanced
            textPhases += parsed.textPhases
            let web = c.web.parse(text, index: index)
            statuses += web.statuses
            looseStatuses += web.looseStatuses
            versions += web.versions
            hostsFound += c.hosts.hosts(in: text, index: index)
        }
        replies.sort { $0.order < $1.order }

        // 3. the verdict
        var weighed = weigh(hits)
        weighed += fileKindEvidence(inputs)
        weighed += statedStackEvidence(statements)
        let mentions421 = texts.contains { $0.contains(Array("421".utf8)) }
        let verdict = c.classifier.verdict(
            weighed: weighed, statements: statements,
            sawReplyOrStatus: !replies.isEmpty || !statuses.isEmpty, mentions421: mentions421)

        // 4. facts that depend on the verdict
        var facts = Facts()
        facts.inputs = inputs
        facts.text = inputs.map(\.text).joined(separator: "\n")
        facts.protocolVerdict = verdict
        facts.fileKinds = Self.unique(inputs.map(\.kind))

        var keptReplies = replies.map(\.reply)
        switch verdict.value {
        case .http:
            keptReplies = keptReplies.filter { $0.enhanced != nil }
        case .ftp:
            keptReplies = keptReplies.map { var r = $0; r.phase = nil; return r }
        case .smtp, .unknown:
            break
        }
        facts.replies = keptReplies
        facts.enhancedCodes = Self.unique(enhanced.sorted { $0.order < $1.order }.map(\.code))
        if verdict.value == .smtp || verdict.value == .unknown {
            let fromReplies = keptReplies.compactMap(\.phase)
            let fromText = textPhases.sorted { $0.order < $1.order }.map(\.phase)
            facts.phases = Self.unique(fromReplies + fromText)
        }
        var httpCodes = statuses
        if verdict.value == .http { httpCodes += looseStatuses }
        facts.httpStatuses = Self.unique(httpCodes.sorted { $0.order < $1.order }.map(\.code))
        facts.httpVersions = Self.unique(versions.sorted { $0.order < $1.order }.map(\.version))
        facts.hosts = HostExtractor.rank(hostsFound)

        // 5. stacks, providers, signatures
        facts.stacks = firstEvidence(hits, kind: "stack", key: \.stack)
        facts.providers = firstEvidence(hits, kind: "provider", key: \.provider)
        facts.signatures = firstEvidence(hits, kind: "signature", key: \.signature)
        addPageSignatures(&facts, texts: texts, hits: hits)
        for slug in statements.stacks {
            let key = slug.trimmingCharacters(in: .whitespaces).lowercased()
            guard !key.isEmpty else { continue }
            facts.stacks[key] = Evidence(kind: "stated", text: key, detail: "stated with --stack")
        }

        // 6. intermittency
        let (intermittent, intermittentEvidence) = intermittency(texts: texts, statements: statements)
        facts.intermittent = intermittent
        facts.intermittentEvidence = intermittentEvidence

        // 7. which name is which
        facts.roles = c.roles.scan(texts, facts: facts)
        return facts
    }

    /// Adds the roles that config directives (never their comments) and the command line show, once the
    /// analyzers and the target are known: an `--origin` outranks an address read from the text.
    public func completeRoles(_ facts: inout Facts, configs: [InputText]) {
        let scanner = Self.compiled.roles
        var roles = facts.roles
        for config in configs {
            let text = SymptomText(name: config.name, string: config.text)
            for c in scanner.scan(text, index: 1_000) where c.role == .originIP {
                roles.add(c.role, c.value, evidence: c.evidence)
            }
        }
        if let target = facts.target {
            if let origin = target.origin, let value = CaseRoleScanner.normalize(origin, .hostOrIP)?.first {
                roles.prepend(.originIP, value, evidence: Evidence(kind: "stated", text: origin, detail: "origin-ip: stated with --origin"))
            }
            roles.prepend(.requestedHost, target.host, evidence: Evidence(kind: "stated", text: target.url,
                                                                          detail: "requested-host: the --target"))
        }
        CaseRoleScanner.derive(&roles, facts: facts)
        facts.roles = roles
    }

    /// The protocol verdict alone, for `kb classify`.
    public func classify(_ text: String, statements: Statements = Statements()) -> ProtocolVerdict {
        extract([InputText(name: "<text>", text: text)], statements: statements).protocolVerdict
    }

    // MARK: evidence

    private func firstHits(of cues: [SymptomCue], in texts: [SymptomText]) -> [SymptomCueHit] {
        var hits: [SymptomCueHit] = []
        for cue in cues {
            for (index, text) in texts.enumerated() {
                if var hit = text.firstHit(of: cue) {
                    hit.input = index
                    hits.append(hit)
                    break
                }
            }
        }
        return hits
    }

    private func weigh(_ hits: [SymptomCueHit]) -> [ProtocolClassifier.Weighed] {
        var out: [ProtocolClassifier.Weighed] = []
        for hit in hits where hit.cue.weighsProtocol {
            for wire in ProtocolClassifier.contenders {
                let weight = hit.cue.weight(for: wire)
                guard weight > 0 else { continue }
                let evidence = Evidence(kind: hit.cue.kind, text: hit.text, detail: hit.cue.detail, weight: weight,
                                        location: hit.location)
                out.append(.init(wire: wire, weight: weight, evidence: evidence, corroborating: hit.cue.corroborating))
            }
        }
        return out
    }

    private func fileKindEvidence(_ inputs: [InputText]) -> [ProtocolClassifier.Weighed] {
        var out: [ProtocolClassifier.Weighed] = []
        var seen: Set<String> = []
        for input in inputs where !seen.contains(input.kind) {
            seen.insert(input.kind)
            guard let (wire, weight) = Vocabulary.impliedProtocol(ofFileKind: input.kind) else { continue }
            let evidence = Evidence(
                kind: "file-kind", text: input.kind, detail: "\(wire.rawValue.uppercased()): the input is a \(input.kind)",
                weight: weight, location: SourceLocation(file: input.name, line: 1))
            out.append(.init(wire: wire, weight: weight, evidence: evidence, corroborating: false))
        }
        return out
    }

    private func statedStackEvidence(_ statements: Statements) -> [ProtocolClassifier.Weighed] {
        var out: [ProtocolClassifier.Weighed] = []
        for slug in Self.unique(statements.stacks.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let wire = Vocabulary.impliedProtocol(ofStack: slug) else { continue }
            let evidence = Evidence(
                kind: "stated", text: slug, detail: "\(wire.rawValue.uppercased()): stack \(slug) stated with --stack",
                weight: 4)
            out.append(.init(wire: wire, weight: 4, evidence: evidence, corroborating: false))
        }
        return out
    }

    /// For each slug, the evidence found earliest in the text.
    private func firstEvidence(
        _ hits: [SymptomCueHit], kind: String, key: KeyPath<SymptomCue, String?>
    ) -> [String: Evidence] {
        var best: [String: SymptomCueHit] = [:]
        for hit in hits {
            guard let slug = hit.cue[keyPath: key] else { continue }
            if let current = best[slug], !Self.isEarlier(hit, than: current) { continue }
            best[slug] = hit
        }
        return best.mapValues { Evidence(kind: kind, text: $0.text, detail: $0.cue.detail, location: $0.location) }
    }

    private static func isEarlier(_ a: SymptomCueHit, than b: SymptomCueHit) -> Bool {
        (a.input, a.location.line, a.location.column) < (b.input, b.location.line, b.location.column)
    }

    /// Fingerprints that need more than one phrase: nginx's default 421 page, Traefik's plain body.
    private func addPageSignatures(_ facts: inout Facts, texts: [SymptomText], hits: [SymptomCueHit]) {
        let c = Self.compiled
        if facts.signatures["nginx-421-page"] == nil {
            let regex = c.nginxPage
            for text in texts where text.contains(Array("<center>".utf8)) {
                guard let m = text.firstMatch(regex) else { continue }
                let evidence = Evidence(kind: "signature", text: "421 Misdirected Request … <center>nginx",
                                        detail: "HTTP: nginx default 421 error page",
                                        location: text.location(ofByte: m.range.lowerBound))
                facts.signatures["nginx-421-page"] = evidence
                if facts.stacks["nginx"] == nil { facts.stacks["nginx"] = Evidence(kind: "stack", text: evidence.text,
                    detail: evidence.detail, location: evidence.location) }
                break
            }
        }
        guard facts.signatures["traefik-421"] == nil else { return }
        let pages = ["apache-421-page", "nginx-421-page", "haproxy-421-page", "cloudfront"]
        let regex = c.plainMisdirected
        if !pages.contains(where: { facts.signatures[$0] != nil }) {
            for text in texts where text.contains(Array("misdirected request".utf8)) {
                guard let m = text.firstMatch(regex) else { continue }
                facts.signatures["traefik-421"] = Evidence(
                    kind: "signature", text: text.text(m.range).trimmingCharacters(in: .whitespacesAndNewlines),
                    detail: "HTTP: plain-text 'Misdirected Request' body (Traefik)",
                    location: text.location(ofByte: m.range.lowerBound))
                return
            }
            if facts.stacks["traefik"] != nil,
               let hit = hits.first(where: { $0.cue.kind == "reason-phrase" }) {
                facts.signatures["traefik-421"] = Evidence(
                    kind: "signature", text: hit.text, detail: "HTTP: 'Misdirected Request' from Traefik",
                    location: hit.location)
            }
        }
    }

    // MARK: intermittency

    private func intermittency(texts: [SymptomText], statements: Statements) -> (Bool?, [Evidence]) {
        let hits = firstHits(of: Self.compiled.table.intermittencyCues, in: texts)
        var evidence = hits.map { hit in
            let side = hit.cue.intermittent == true ? "intermittent: " : "steady: "
            return Evidence(kind: "intermittency", text: hit.text, detail: side + hit.cue.detail, location: hit.location)
        }
        let yes = hits.filter { $0.cue.intermittent == true }.count
        let no = hits.filter { $0.cue.intermittent == false }.count
        var value: Bool? = yes > no ? true : no > yes ? false : nil
        if let stated = statements.intermittent {
            value = stated
            evidence.insert(Evidence(kind: "stated", text: String(stated), detail: "stated with --intermittent"), at: 0)
        }
        return (value, evidence)
    }

    // MARK: helpers

    static func unique<T: Hashable>(_ items: [T]) -> [T] {
        var seen: Set<T> = []
        return items.filter { seen.insert($0).inserted }
    }
}
