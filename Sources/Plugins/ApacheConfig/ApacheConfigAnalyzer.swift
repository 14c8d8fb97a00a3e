import Engine

/// Reads Apache httpd configuration and `apachectl -S` output and reports the conditions behind
/// Apache's 421 (AH02032): which vhost a client without SNI gets on each address, vhosts on one address
/// whose TLS setups differ, certificate names no vhost serves, and the SNI policy directives in force.
public struct ApacheConfigAnalyzer: InputAnalyzer {
    public let id = "apache.config"
    public let kinds = ["apache-config", "apachectl-s"]

    public static let findingIDs = [
        "apache.default-vhost", "apache.default-vhost-differs", "apache.incompatible-tls-vhosts",
        "apache.cert-name-unserved", "apache.strict-sni-on", "apache.sni-policy",
        "apache.syntax-error", "apache.include-unresolved", "apache.include-cycle", "apache.include-too-deep",
        "apache.include-outside", "apache.include-too-large",
    ]

    /// At most this many `apache.incompatible-tls-vhosts` findings per address.
    static let maxPairFindings = 10

    public init() {}

    public func detect(_ input: InputText) -> String? {
        if Self.looksLikeListing(input.text) { return "apachectl-s" }
        return Self.looksLikeConfig(input.text) ? "apache-config" : nil
    }

    public func analyze(_ input: InputText, context: ProbeContext) async -> [Finding] {
        let related = NginxConfigAnalyzer.related(input, among: context.facts.inputs, kinds: kinds)
        return findings(for: related, files: context.files, byteLimit: context.byteLimit)
            .filter { $0.owner == input.name }
            .map(\.finding)
    }

    /// Findings for inputs read together, whichever input they belong to.
    public func findings(inputs: [InputText], files: (any FileAccess)? = nil, byteLimit: Int = 1 << 20) -> [Finding] {
        findings(for: inputs, files: files, byteLimit: byteLimit).map(\.finding)
    }

    func findings(for inputs: [InputText], files: (any FileAccess)?, byteLimit: Int) -> [ConfigOwnedFinding] {
        var loader = ApacheLoader(files: files, byteLimit: byteLimit)
        loader.load(inputs)
        var rules = ApacheRules(model: ApacheModel(roots: loader.roots), loader: loader)
        rules.run()
        var seen: Set<String> = []
        var out: [ConfigOwnedFinding] = []
        for item in loader.findings + rules.findings {
            let key = "\(item.finding.id)|\(item.finding.location?.description ?? "")"
            if seen.insert(key).inserted { out.append(item) }
        }
        return out.sorted { a, b in
            let la = a.finding.location, lb = b.finding.location
            if la?.file != lb?.file { return (la?.file ?? "") < (lb?.file ?? "") }
            if la?.line != lb?.line { return (la?.line ?? 0) < (lb?.line ?? 0) }
            return a.finding.id < b.finding.id
        }
    }

    static func looksLikeListing(_ text: String) -> Bool {
        text.contains("is a NameVirtualHost") || text.contains("VirtualHost configuration:")
            || (text.contains(" namevhost ") && text.contains("port "))
    }

    static func looksLikeConfig(_ text: String) -> Bool {
        let directives: Set<String> = [
            "servername", "serveralias", "documentroot", "sslengine", "sslcertificatefile", "sslcertificatekeyfile",
            "listen", "loadmodule", "include", "includeoptional", "proxypass", "proxypassreverse", "rewriteengine",
            "rewriterule", "errorlog", "customlog", "serveradmin", "protocols", "sslprotocol", "sslciphersuite",
            "sslstrictsnivhostcheck", "sslvhostsnipolicy", "serverroot", "options", "allowoverride", "require",
            "sslproxyengine", "header", "requestheader",
        ]
        var score = 0
        var examined = 0
        for raw in ConfigText.lines(ConfigText.withoutBOM(text)) where !raw.isEmpty {
            examined += 1
            if examined > 400 { break }
            let line = ConfigText.trimmed(String(raw))
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasSuffix(";") || line.hasSuffix("{") { score -= 1; continue }
            let lower = line.lowercased()
            if lower.hasPrefix("<virtualhost") || lower.hasPrefix("</virtualhost") {
                score += 3
            } else if lower.hasPrefix("<ifmodule") || lower.hasPrefix("<directory") || lower.hasPrefix("</ifmodule") {
                score += 2
            } else {
                let word = lower.prefix { $0 != " " && $0 != "\t" }
                if directives.contains(String(word)), word.count < line.count { score += 1 }
            }
            if score >= 3 { return true }
        }
        return false
    }
}

struct ApacheRules {
    let model: ApacheModel
    let loader: ApacheLoader
    var findings: [ConfigOwnedFinding] = []

    init(model: ApacheModel, loader: ApacheLoader) {
        self.model = model
        self.loader = loader
    }

    /// One address with its vhosts in Apache's order; `listed` is the `apachectl -S` entry when there is one.
    struct Member {
        var vhost: Int?
        var listed: ApacheVHostListing.VHost?
        var listingOwner: String?

        var name: String {
            listed?.name ?? "?"
        }
    }

    struct Group {
        var address: String
        var members: [Member]
    }

    mutating func run() {
        let groups = makeGroups()
        var defaults: [Int: String] = [:]
        for group in groups {
            guard let first = group.members.first else { continue }
            if let vhost = first.vhost { defaults[vhost] = group.address }
            checkDefault(group, first)
            checkCompatibility(group)
            checkCertificateNames(group)
        }
        checkSNIDirectives(defaults: defaults)
    }

    private func makeGroups() -> [Group] {
        var groups: [Group] = []
        var listedVHosts: Set<Int> = []
        for (owner, listing) in loader.listings {
            for listedGroup in listing.groups {
                var members: [Member] = []
                var ordered = listedGroup.vhosts
                if let def = listedGroup.defaultHost,
                   let index = ordered.firstIndex(where: { $0.configFile == def.configFile && $0.configLine == def.configLine }) {
                    ordered.insert(ordered.remove(at: index), at: 0)
                    ordered[0].location = def.location
                }
                for entry in ordered {
                    let match = model.vhosts.firstIndex {
                        $0.section.location.file == entry.configFile && $0.section.location.line == entry.configLine
                    } ?? model.vhosts.firstIndex { $0.serverName?.lowercased() == entry.name.lowercased() }
                    if let match { listedVHosts.insert(match) }
                    members.append(Member(vhost: match, listed: entry, listingOwner: owner))
                }
                groups.append(Group(address: listedGroup.address, members: members))
            }
        }
        // Vhosts the listing did not cover, grouped by the addresses in their <VirtualHost> line.
        var order: [String] = []
        var byAddress: [String: [Member]] = [:]
        for (index, vhost) in model.vhosts.enumerated() where !listedVHosts.contains(index) && model.isTLS(vhost) {
            for address in vhost.addresses {
                if byAddress[address] == nil { order.append(address) }
                byAddress[address, default: []].append(Member(vhost: index, listed: nil, listingOwner: nil))
            }
        }
        groups += order.map { Group(address: $0, members: byAddress[$0] ?? []) }
        return groups
    }

    // MARK: helpers

    private func label(_ member: Member) -> String {
        if let index = member.vhost { return model.vhosts[index].displayName }
        return member.name
    }

    private func place(_ member: Member) -> String {
        if let index = member.vhost {
            let loc = model.vhosts[index].section.location
            return "\(loc.file):\(loc.line)"
        }
        if let listed = member.listed { return "\(listed.configFile):\(listed.configLine)" }
        return "?"
    }

    private mutating func add(_ id: String, _ message: String, at location: SourceLocation, owner fallback: String? = nil) {
        let owner = loader.owners[location.file] ?? fallback ?? location.file
        findings.append(ConfigOwnedFinding(owner: owner, finding: Finding(
            id: id, message: message, location: location, excerpt: loader.sources[location.file]?.excerpt(location.line))))
    }

    private mutating func add(_ id: String, _ message: String, for member: Member) {
        if let index = member.vhost {
            add(id, message, at: model.vhosts[index].section.location)
        } else if let listed = member.listed {
            add(id, message, at: listed.location, owner: member.listingOwner)
        }
    }

    // MARK: rules

    private mutating func checkDefault(_ group: Group, _ first: Member) {
        // Only TLS addresses: without TLS there is no SNI to miss.
        let known = group.members.compactMap(\.vhost)
        if known.isEmpty {
            guard !group.address.hasSuffix(":80") else { return }
        } else if !known.contains(where: { model.isTLS(model.vhosts[$0]) }) {
            return
        }
        let others = group.members.count - 1
        let shared = others > 0 ? " (\(others) other vhost(s) share the address)" : ""
        add("apache.default-vhost",
            "'\(label(first))' (\(place(first))) is the default virtual host for \(group.address)\(shared): a client "
            + "without SNI, such as a proxy with SNI off, or one asking for a name no vhost here serves, gets this vhost "
            + "and its certificate",
            for: first)
    }

    private mutating func checkCompatibility(_ group: Group) {
        let tls: [(Member, ApacheModel.TLSSetup)] = group.members.compactMap { member in
            guard let index = member.vhost, model.isTLS(model.vhosts[index]) else { return nil }
            return (member, model.tlsSetup(model.vhosts[index]))
        }
        guard tls.count >= 2 else { return }
        // Default vhost versus the others: what a request without SNI meets since 2.4.64.
        if let first = group.members.first, let defaultIndex = tls.firstIndex(where: { $0.0.vhost == first.vhost }) {
            let base = tls[defaultIndex].1
            let differing = tls.filter { $0.0.vhost != first.vhost && $0.1 != base }
            if !differing.isEmpty {
                let what = Set(differing.flatMap { $0.1.differences(from: base) })
                let settings = ApacheModel.compared.map(\.label).filter { what.contains($0) }.joined(separator: ", ")
                let names = differing.map { label($0.0) }
                add("apache.default-vhost-differs",
                    "the default vhost for \(group.address), '\(label(first))', has a different TLS setup (\(settings)) "
                    + "from \(differing.count) other vhost(s): \(ConfigText.quotedList(names)); since Apache 2.4.64 a request "
                    + "without SNI whose Host names one of them gets 421 (AH02032 'default host as no SNI was provided')",
                    for: first)
            }
        }
        // Classes of identical setups; each class after the first is incompatible with the earlier ones.
        var classes: [(setup: ApacheModel.TLSSetup, members: [Member])] = []
        var classIndex: [ApacheModel.TLSSetup: Int] = [:]
        for (member, setup) in tls {
            if let index = classIndex[setup] {
                classes[index].members.append(member)
            } else {
                classIndex[setup] = classes.count
                classes.append((setup, [member]))
            }
        }
        guard classes.count >= 2 else { return }
        var reported = 0
        for j in 1..<classes.count {
            guard reported < ApacheConfigAnalyzer.maxPairFindings else { break }
            let member = classes[j].members[0]
            let partners = (0..<j).map { i -> String in
                let diff = classes[j].setup.differences(from: classes[i].setup).joined(separator: ", ")
                return "'\(label(classes[i].members[0]))' (\(diff))"
            }
            let shown = partners.prefix(4).joined(separator: ", ") + (partners.count > 4 ? " and \(partners.count - 4) more" : "")
            let remaining = classes.count - 1 - j
            let more = reported == ApacheConfigAnalyzer.maxPairFindings - 1 && remaining > 0
                ? "; \(remaining) more vhost(s) on the address differ as well" : ""
            add("apache.incompatible-tls-vhosts",
                "'\(label(member))' on \(group.address) has a TLS setup incompatible with \(shown): a request whose SNI "
                + "selects one of these vhosts and whose Host header selects the other gets 421 (AH02032 'no compatible "
                + "SSL setup')\(more)",
                for: member)
            reported += 1
        }
    }

    private mutating func checkCertificateNames(_ group: Group) {
        var served: [String] = []
        for member in group.members {
            if let index = member.vhost { served += model.vhosts[index].names }
            if let listed = member.listed { served += [listed.name] + listed.aliases }
        }
        let servedLower = Set(served.map { $0.lowercased() })
        for member in group.members {
            guard let index = member.vhost, model.isTLS(model.vhosts[index]) else { continue }
            for directive in model.certificateDirectives(model.vhosts[index]) {
                // Names come from the certificate itself; when it cannot be read they are unknown, not guessed.
                guard let path = directive.args.first, let names = loader.certificateNames(path) else { continue }
                let servedList = ConfigText.quotedList(Array(Set(served)).sorted())
                let related = names.contains { name in
                    servedLower.contains { ConfigHostNames.covers(name, $0) || ConfigHostNames.covers($0, name) }
                }
                if !related {
                    add("apache.cert-name-unserved",
                        "the certificate '\(path)' is for \(ConfigText.quotedList(names)), but no vhost on \(group.address) "
                        + "serves those names (served: \(servedList))",
                        at: directive.location)
                    continue
                }
                for name in names where name.hasPrefix("*.") && !servedLower.contains(name) {
                    add("apache.cert-name-unserved",
                        "the certificate '\(path)' is for '\(name)', but no vhost on \(group.address) has 'ServerAlias \(name)'; "
                        + "a browser may reuse a connection for another name the certificate covers and get the default "
                        + "vhost, or 421 (served: \(servedList))",
                        at: directive.location)
                }
            }
        }
    }

    private mutating func checkSNIDirectives(defaults: [Int: String]) {
        for (directive, vhost) in model.sniDirectives {
            let value = directive.args.first?.lowercased() ?? ""
            if directive.key == "sslstrictsnivhostcheck" {
                guard value == "on" else { continue }
                let scope: String
                if let vhost {
                    if let address = defaults[vhost] {
                        scope = "in the default vhost for \(address): clients without SNI cannot reach any name-based vhost on \(address)"
                    } else {
                        scope = "in '\(model.vhosts[vhost].displayName)': clients without SNI cannot reach this vhost"
                    }
                } else {
                    scope = "for the whole server: clients without SNI cannot reach name-based vhosts"
                }
                add("apache.strict-sni-on",
                    "SSLStrictSNIVHostCheck on \(scope); they get 403 with AH02033, not 421 (the 421 comes from the separate "
                    + "AH02032 compatibility check)",
                    at: directive.location)
            } else {
                let meaning: String
                switch value {
                case "strict": meaning = "any TLS difference between the vhost chosen by SNI (or the default) and the one chosen by Host gives 421"
                case "secure": meaning = "the default: a difference in certificate/key, protocol/cipher or client-certificate settings gives 421"
                case "authonly": meaning = "only differing client-certificate settings (verify mode, CA) give 421"
                case "insecure": meaning = "the check never gives 421, but client-certificate access control can be bypassed (CVE-2025-23048)"
                default: meaning = "an unknown value; Apache accepts strict, secure, authonly or insecure"
                }
                add("apache.sni-policy",
                    "SSLVHostSNIPolicy \(directive.args.first ?? ""): \(meaning) (Apache 2.4.66 and distribution backports)",
                    at: directive.location)
            }
        }
    }
}
