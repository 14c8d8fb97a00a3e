import Engine

extension NginxConfigAnalyzer {
    public func prose(_ input: InputText) -> String { ConfigProse.nginx(input.text) }

    /// Findings plus what was checked, so a config with no finding still says what kb looked at.
    public func examine(_ input: InputText, context: ProbeContext) async -> Analysis {
        let related = Self.related(input, among: context.facts.inputs, kinds: kinds)
        let owned = findings(for: related, files: context.files, byteLimit: context.byteLimit)
            .filter { $0.owner == input.name }.map(\.finding)
        var loader = NginxLoader(files: context.files, byteLimit: context.byteLimit)
        loader.load(related)
        let model = NginxModel(roots: loader.roots)
        let summary = Self.summary(model, loader: loader, owner: input.name)
        return ConfigSummary.analysis(owned, input: input, analyzer: id, checked: summary.checked, hosts: summary.hosts)
    }

    /// Counts of what the rules examined in the files `owner` brought in, and the names its directives serve.
    static func summary(_ model: NginxModel, loader: NginxLoader,
                        owner: String) -> (checked: [String], hosts: [String]) {
        func mine(_ directive: NginxDirective) -> Bool {
            (loader.owners[directive.location.file] ?? directive.location.file) == owner
        }
        let servers = model.servers.filter { mine($0.directive) }
        let files = Set(loader.sources.keys.filter { (loader.owners[$0] ?? $0) == owner }).count
        var checked: [String] = []
        if files > 1 { checked.append(ConfigSummary.count(files, "file")) }
        let tls = servers.filter { server in server.listens.contains { server.isTLS($0) } }.count
        checked.append(ConfigSummary.count(servers.count, "server block") + (tls > 0 ? " (\(tls) with TLS)" : ""))
        let proxies = model.proxies.filter { mine($0.directive) }
        // The target as the rules read it: `set` and `map` variables resolved where they can be.
        let https = proxies.filter { $0.target?.isHTTPS == true }
        if !proxies.isEmpty {
            var phrase = ConfigSummary.count(proxies.count, "proxy_pass", plural: "proxy_pass")
            if !https.isEmpty {
                let sni = https.filter { NginxModel.flag($0.scope, "proxy_ssl_server_name") == true }.count
                phrase += ", " + (https.count == 1 ? "1 to an HTTPS upstream" : "\(https.count) to HTTPS upstreams")
                    + ", SNI sent on " + ConfigSummary.share(sni, of: https.count)
            }
            checked.append(phrase)
        }
        let upstreams = model.upstreams.values.filter { mine($0.directive) }
        if !upstreams.isEmpty { checked.append(ConfigSummary.count(upstreams.count, "upstream block")) }
        var hosts: [String] = []
        for server in servers {
            for name in server.names { ConfigSummary.addHost(name, to: &hosts) }
        }
        for proxy in https {
            guard let target = proxy.target, !target.hasVariable, model.upstreams[target.host] == nil
            else { continue }
            ConfigSummary.addHost(target.host, to: &hosts)
        }
        return (checked, hosts)
    }
}

/// Wording and host-name rules the config summaries share.
enum ConfigSummary {
    /// One config's findings and what was checked in it, the same way for nginx and Apache.
    static func analysis(_ owned: [Finding], input: InputText, analyzer: String, checked: [String],
                         hosts: [String]) -> Analysis {
        let incomplete = incomplete(owned), notFollowed = notFollowed(owned)
        return Analysis(
            findings: owned,
            checked: CheckedInput(input: input.name, kind: input.kind, analyzer: analyzer,
                                  checked: phrases(checked, owned),
                                  findings: owned.count - incomplete.count - notFollowed.count,
                                  incomplete: incomplete, notFollowed: notFollowed),
            hosts: hosts)
    }

    static func count(_ n: Int, _ singular: String, plural: String? = nil) -> String {
        "\(n) " + (n == 1 ? singular : plural ?? singular + "s")
    }

    /// "both", "all 3", "none", "2 of 3".
    static func share(_ part: Int, of whole: Int) -> String {
        if part == whole { return whole == 1 ? "it" : whole == 2 ? "both" : "all \(whole)" }
        if part == 0 { return whole == 1 ? "none" : "none of them" }
        return "\(part) of \(whole)"
    }

    /// Findings that mean the input itself was not read whole: a clean result would say nothing.
    static func incomplete(_ findings: [Finding]) -> [String] {
        findings.filter { ["syntax-error", "input-error", "include-too-large"].contains(name($0)) }.map(\.message)
    }

    /// Includes that were not followed; what was read is still checked, and the count is part of the summary.
    static func notFollowed(_ findings: [Finding]) -> [String] {
        findings.filter { ["include-unresolved", "include-outside", "include-cycle", "include-too-deep"].contains(name($0)) }
            .map(\.message)
    }

    /// The checked phrases plus "2 includes not followed" when there were any.
    static func phrases(_ checked: [String], _ findings: [Finding]) -> [String] {
        let skipped = notFollowed(findings).count
        return skipped == 0 ? checked : checked + [count(skipped, "include") + " not followed"]
    }

    private static func name(_ finding: Finding) -> String {
        finding.id.split(separator: ".").last.map(String.init) ?? finding.id
    }

    /// A name a directive serves or connects to: a DNS name, not `_`, a wildcard, a regex or an address.
    static func addHost(_ raw: String, to hosts: inout [String]) {
        var name = raw.lowercased()
        name.removeAll { $0 == "\"" || $0 == "'" }
        guard name.contains("."), !name.hasPrefix("~"), !ConfigHostNames.isWildcard(name),
              !ConfigHostNames.isIPLiteral(name), !name.contains("$"), !name.contains("*"),
              name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }),
              !hosts.contains(name) else { return }
        hosts.append(name)
    }
}
