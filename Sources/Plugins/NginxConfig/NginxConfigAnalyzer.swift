import Engine

/// Reads nginx configuration (files, `include` globs, `nginx -T` dumps) and reports what makes a 421
/// likely: a proxy to an HTTPS origin without SNI, pooled upstream TLS connections shared across host
/// names, TLS listens without a default server, overlapping certificates, mixed HTTP/2 and client
/// certificate verification.
public struct NginxConfigAnalyzer: InputAnalyzer {
    public let id = "nginx.config"
    public let kinds = ["nginx-config"]

    /// Every finding id this analyzer reports.
    public static let findingIDs = [
        "nginx.proxy-ssl-server-name-off", "nginx.proxy-ssl-name-missing", "nginx.upstream-keepalive-tls",
        "nginx.no-default-server", "nginx.cert-overlap", "nginx.http2-mixed", "nginx.ssl-verify-client",
        "nginx.syntax-error", "nginx.include-unresolved", "nginx.include-cycle", "nginx.include-too-deep",
        "nginx.include-outside", "nginx.include-too-large",
    ]

    public init() {}

    public func detect(_ input: InputText) -> String? {
        Self.looksLikeNginx(input.text) ? "nginx-config" : nil
    }

    public func analyze(_ input: InputText, context: ProbeContext) async -> [Finding] {
        let related = Self.related(input, among: context.facts.inputs, kinds: kinds)
        return findings(for: related, files: context.files, byteLimit: context.byteLimit)
            .filter { $0.owner == input.name }
            .map(\.finding)
    }

    /// All findings for a set of inputs read together (a dump, or nginx.conf plus the files it includes),
    /// each with the input it belongs to.
    func findings(for inputs: [InputText], files: (any FileAccess)?, byteLimit: Int = 1 << 20) -> [ConfigOwnedFinding] {
        var loader = NginxLoader(files: files, byteLimit: byteLimit)
        loader.load(inputs)
        let model = NginxModel(roots: loader.roots)
        var rules = NginxRules(model: model, loader: loader)
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
            if la?.column != lb?.column { return (la?.column ?? 0) < (lb?.column ?? 0) }
            return a.finding.id < b.finding.id
        }
    }

    /// Findings for the given inputs regardless of which input they belong to; for tests and `kb` tools
    /// that read a set of files at once.
    public func findings(inputs: [InputText], files: (any FileAccess)? = nil, byteLimit: Int = 1 << 20) -> [Finding] {
        findings(for: inputs, files: files, byteLimit: byteLimit).map(\.finding)
    }

    static func related(_ input: InputText, among inputs: [InputText], kinds: [String]) -> [InputText] {
        var out: [InputText] = []
        var names: Set<String> = []
        for other in inputs where other.name == input.name || kinds.contains(other.kind) {
            let chosen = other.name == input.name ? input : other
            if names.insert(chosen.name).inserted { out.append(chosen) }
        }
        if !names.contains(input.name) { out.insert(input, at: 0) }
        return out
    }

    static func looksLikeNginx(_ text: String) -> Bool {
        if text.contains("# configuration file "), text.contains("nginx") || text.contains(".conf:") {
            return true
        }
        var score = 0
        var examined = 0
        let blockOpeners = ["server", "http", "events", "upstream", "location", "stream", "map", "types", "if"]
        let directives: Set<String> = [
            "listen", "server_name", "proxy_pass", "ssl_certificate", "ssl_certificate_key", "root",
            "worker_processes", "include", "proxy_set_header", "proxy_ssl_server_name", "proxy_ssl_name",
            "proxy_http_version", "keepalive", "ssl_protocols", "return", "error_log", "access_log",
            "index", "try_files", "fastcgi_pass", "http2", "ssl_verify_client", "add_header", "client_max_body_size",
        ]
        for rawLine in ConfigText.lines(ConfigText.withoutBOM(text)) where !rawLine.isEmpty {
            examined += 1
            if examined > 400 { break }
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("#") || line.isEmpty { continue }
            if line.hasPrefix("<") || line.hasPrefix("[") { score -= 1; continue }
            let word = line.prefix { $0 != " " && $0 != "\t" && $0 != "{" && $0 != ";" }
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if blockOpeners.contains(String(word)), trimmed.hasSuffix("{") {
                score += 2
            } else if directives.contains(String(word)), trimmed.hasSuffix(";") {
                score += (word == "proxy_pass" || word == "server_name" || word == "listen") ? 3 : 1
            }
            if score >= 3 { return true }
        }
        return false
    }
}

/// The checks, over a loaded model; each finding points at a directive.
struct NginxRules {
    let model: NginxModel
    let loader: NginxLoader
    var findings: [ConfigOwnedFinding] = []

    init(model: NginxModel, loader: NginxLoader) {
        self.model = model
        self.loader = loader
    }

    mutating func run() {
        checkProxies()
        checkUpstreamKeepalive()
        let groups = tlsGroups()
        for (address, members) in groups {
            checkDefaultServer(address, members)
            checkCertificateOverlap(address, members)
            checkHTTP2(address, members)
        }
        checkVerifyClient(groups)
    }

    private mutating func add(_ id: String, _ message: String, at directive: NginxDirective) {
        let location = directive.location
        let owner = loader.owners[location.file] ?? location.file
        findings.append(ConfigOwnedFinding(owner: owner, finding: Finding(
            id: id, message: message, location: location,
            excerpt: loader.sources[location.file]?.excerpt(location.line))))
    }

    private func serverLabel(_ index: Int?) -> String {
        guard let index else { return "" }
        let server = model.servers[index]
        return " in server '\(server.displayName)'"
    }

    // MARK: proxy_pass to HTTPS

    private mutating func checkProxies() {
        for proxy in model.proxies {
            guard let target = proxy.target, target.isHTTPS else { continue }
            let sniSetting = NginxModel.value(proxy.scope, "proxy_ssl_server_name")
            if NginxModel.flag(proxy.scope, "proxy_ssl_server_name") != true {
                let why: String
                if let sniSetting {
                    why = "proxy_ssl_server_name is off (\(ConfigPath.lastComponent(sniSetting.location.file)):\(sniSetting.location.line))"
                } else {
                    why = "proxy_ssl_server_name is not set and nginx's default is off"
                }
                add("nginx.proxy-ssl-server-name-off",
                    "proxy_pass to '\(proxy.url)'\(serverLabel(proxy.server)) opens TLS without SNI: \(why); "
                    + "Apache 2.4.64 and later answers such requests with 421 (AH02032) unless the Host is its default vhost; "
                    + "add 'proxy_ssl_server_name on;' and 'proxy_ssl_name $host;'",
                    at: proxy.directive)
            }
            guard !target.hasVariable, NginxModel.value(proxy.scope, "proxy_ssl_name") == nil else { continue }
            let hostHeader = NginxModel.header(proxy.scope, "Host")?.args[1]
            var reason: String?
            if ConfigHostNames.isIPLiteral(target.host) {
                reason = "the upstream '\(target.host)' is an IP address, and nginx never sends an IP address as SNI"
            } else if model.upstreams[target.host] != nil {
                reason = "the SNI would be the upstream block's name '\(target.host)', not the requested host"
            } else if let hostHeader, hostHeader == "$host" || hostHeader == "$http_host" {
                reason = "the SNI would be '\(target.host)' while the Host header is '\(hostHeader)', so SNI and Host differ"
            }
            if let reason {
                add("nginx.proxy-ssl-name-missing",
                    "proxy_pass to '\(proxy.url)'\(serverLabel(proxy.server)) has no proxy_ssl_name: \(reason); "
                    + "even with proxy_ssl_server_name on, the origin cannot pick the right vhost; add 'proxy_ssl_name $host;'",
                    at: proxy.directive)
            }
        }
    }

    // MARK: upstream keepalive over TLS

    private mutating func checkUpstreamKeepalive() {
        let newDefaults: Bool = {
            guard let v = loader.versionHint else { return false }
            return (v.major, v.minor, v.patch) >= (1, 29, 7)
        }()
        for upstream in model.upstreams.values.sorted(by: { $0.directive.location.description < $1.directive.location.description }) {
            guard upstream.keepalive != nil || newDefaults else { continue }
            var names: [String] = []
            var reusing: [NginxModel.ProxyPass] = []
            for proxy in model.proxies {
                guard let target = proxy.target, target.isHTTPS, target.host == upstream.name else { continue }
                let version = NginxModel.value(proxy.scope, "proxy_http_version")?.args.first
                let http11 = version == "1.1" || (version == nil && newDefaults)
                guard http11 else { continue }
                let connection = NginxModel.header(proxy.scope, "Connection")?.args[1].lowercased()
                let closes: Bool
                if let connection {
                    closes = connection == "close" || connection.contains("upgrade")
                } else {
                    closes = !newDefaults
                }
                guard !closes else { continue }
                reusing.append(proxy)
                if let index = proxy.server {
                    for name in model.servers[index].names where name != "_" && !name.isEmpty && !names.contains(name) {
                        names.append(name)
                    }
                }
            }
            // A proxy_pass outside any server block is a snippet: every server block that includes it shares the pool.
            let snippet = reusing.contains { $0.server == nil }
            let many = names.count >= 2 || snippet
                || names.contains { ConfigHostNames.isWildcard($0) || $0.hasPrefix("~") }
            guard many, let first = reusing.first else { continue }
            let sites = names.count >= 2 || !snippet ? ConfigText.quotedList(names)
                : "every server block that includes it" + (names.isEmpty ? "" : " (\(ConfigText.quotedList(names)))")
            let how = upstream.keepalive.map { "keepalive \($0.args.first ?? "")" } ?? "nginx 1.29.7's default keepalive"
            let at = ConfigPath.lastComponent(first.directive.location.file) + ":\(first.directive.location.line)"
            add("nginx.upstream-keepalive-tls",
                "upstream '\(upstream.name)' keeps TLS connections open (\(how)) and HTTP/1.1 proxying (\(at)) "
                + "sends requests for \(sites) through it: nginx reuses a connection opened with one "
                + "SNI for another Host (its pool matches only the peer address), so Apache may answer 421; "
                + "use 'proxy_http_version 1.0' or drop keepalive for this upstream",
                at: upstream.keepalive ?? upstream.directive)
        }
    }

    // MARK: TLS listen groups

    struct Member {
        var server: Int
        var listen: NginxModel.Listen
    }

    private func tlsGroups() -> [(String, [Member])] {
        var groups: [String: [Member]] = [:]
        var order: [String] = []
        for (index, server) in model.servers.enumerated() {
            for listen in server.listens where server.isTLS(listen) {
                if groups[listen.address] == nil { order.append(listen.address) }
                if groups[listen.address]?.contains(where: { $0.server == index }) == true { continue }
                groups[listen.address, default: []].append(Member(server: index, listen: listen))
            }
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    private mutating func checkDefaultServer(_ address: String, _ members: [Member]) {
        guard members.count >= 2 else { return }
        let hasDefault = members.contains { member in
            model.servers[member.server].listens.contains { $0.address == address && $0.defaultServer }
        }
        guard !hasDefault, let first = members.first else { return }
        let names = members.map { model.servers[$0.server].displayName }
        add("nginx.no-default-server",
            "no server block on TLS listen '\(address)' is marked default_server: \(members.count) server blocks "
            + "(\(ConfigText.quotedList(names))) share it, so clients without SNI or with a name none of them serves get the "
            + "first one, '\(model.servers[first.server].displayName)', and its certificate; mark the intended one "
            + "'listen \(address) ssl default_server;'",
            at: first.listen.directive)
    }

    private func certificates(_ server: NginxModel.Server) -> (key: String, directive: NginxDirective)? {
        guard let list = server.scope["ssl_certificate"], let first = list.first else { return nil }
        let paths = list.compactMap(\.args.first).sorted()
        guard !paths.isEmpty, !paths.contains(where: { $0.contains("$") }) else { return nil }
        return (paths.joined(separator: "|"), first)
    }

    private mutating func checkCertificateOverlap(_ address: String, _ all: [Member]) {
        let members = all.filter { !model.servers[$0.server].rejectsHandshake }
        guard members.count >= 2 else { return }
        // Identical certificate files on one address.
        var byCertificate: [String: [Member]] = [:]
        var order: [String] = []
        for member in members {
            guard let cert = certificates(model.servers[member.server]) else { continue }
            if byCertificate[cert.key] == nil { order.append(cert.key) }
            byCertificate[cert.key, default: []].append(member)
        }
        for key in order {
            guard let all = byCertificate[key], all.count >= 2 else { continue }
            // `www` ⇄ apex: a block that only redirects to a name another block serves answers the same on any
            // connection, so reusing one for the other cannot give a 421.
            let group = all.filter { member in
                guard let target = model.servers[member.server].redirectHost else { return true }
                return !all.contains { other in
                    other.server != member.server
                        && model.servers[other.server].names.contains { ConfigHostNames.covers($0, target) }
                }
            }
            guard group.count >= 2 else { continue }
            let names = group.map { model.servers[$0.server].displayName }
            guard Set(names).count >= 2 else { continue }
            let directives = group.compactMap { certificates(model.servers[$0.server])?.directive }
            var distinct: [NginxDirective] = []
            for directive in directives where !distinct.contains(where: { $0.location == directive.location }) {
                distinct.append(directive)
            }
            let targets = distinct
            let file = key.split(separator: "|").first.map(String.init) ?? key
            for directive in targets {
                add("nginx.cert-overlap",
                    "server blocks \(ConfigText.quotedList(names)) on '\(address)' use the same certificate '\(file)': "
                    + "a browser may reuse an HTTP/2 connection opened for one of these names for the others "
                    + "(connection coalescing), which fails with 421 wherever the servers differ (client certificates, "
                    + "HTTP/2 settings, or an origin that checks SNI)",
                    at: directive)
            }
        }
        // A wildcard name in one server block that covers a name another block on the address serves.
        for member in members {
            let server = model.servers[member.server]
            let wildcards = server.names.filter { ConfigHostNames.isWildcard($0) }
            guard !wildcards.isEmpty, let nameDirective = server.nameDirective else { continue }
            let ownCert = certificates(server)?.key
            var covered: [String] = []
            for other in members where other.server != member.server {
                let otherServer = model.servers[other.server]
                if let ownCert, ownCert == certificates(otherServer)?.key { continue }
                for name in otherServer.names where !ConfigHostNames.isWildcard(name) && !name.hasPrefix("~") {
                    if wildcards.contains(where: { ConfigHostNames.covers($0, name) }), !covered.contains(name) {
                        covered.append(name)
                    }
                }
            }
            guard !covered.isEmpty else { continue }
            add("nginx.cert-overlap",
                "server_name \(ConfigText.quotedList(wildcards)) here covers \(ConfigText.quotedList(covered)), which another "
                + "server block on '\(address)' serves: a certificate for the wildcard lets browsers coalesce those names "
                + "onto a connection negotiated for this server block",
                at: nameDirective)
        }
    }

    private mutating func checkHTTP2(_ address: String, _ all: [Member]) {
        // A server that refuses every handshake (NPM's fallback) negotiates nothing a client could reuse.
        let members = all.filter { !model.servers[$0.server].rejectsHandshake }
        guard members.count >= 2 else { return }
        let socketLevel = members.contains { member in
            model.servers[member.server].listens.contains { $0.address == address && $0.http2 }
        }
        guard !socketLevel else { return }
        var on: [Member] = []
        var off: [Member] = []
        for member in members {
            if NginxModel.flag(model.servers[member.server].scope, "http2") == true {
                on.append(member)
            } else {
                off.append(member)
            }
        }
        guard !on.isEmpty, !off.isEmpty else { return }
        let onNames = on.map { model.servers[$0.server].displayName }
        for member in off {
            let server = model.servers[member.server]
            // Point at `http2 off;` when this server block says so itself, else at its listen.
            let own = server.directive.block?.last { $0.name == "http2" }
            let directive = own ?? member.listen.directive
            add("nginx.http2-mixed",
                "HTTP/2 is off for '\(server.displayName)' but on for \(ConfigText.quotedList(onNames)) on '\(address)': a client "
                + "that negotiated h2 for those names and reuses the connection for this one gets 421 ('the negotiated "
                + "protocol is disabled'); turn http2 on or off for all server blocks on the address",
                at: directive)
        }
    }

    private mutating func checkVerifyClient(_ groups: [(String, [Member])]) {
        var done: Set<Int> = []
        for (address, members) in groups {
            for member in members where done.insert(member.server).inserted {
                let server = model.servers[member.server]
                guard let directive = NginxModel.value(server.scope, "ssl_verify_client"),
                      let mode = directive.args.first, mode.lowercased() != "off" else { continue }
                let others = members.count - 1
                let sharing = others > 0 ? "; \(others) other server block(s) share '\(address)'" : ""
                add("nginx.ssl-verify-client",
                    "'\(server.displayName)' verifies client certificates (ssl_verify_client \(mode)): nginx answers 421 "
                    + "('client attempted to request the server name different from the one that was negotiated') when "
                    + "the Host header selects this server block on a connection negotiated for another name\(sharing)",
                    at: directive)
            }
        }
    }
}
