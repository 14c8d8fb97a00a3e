import Engine

/// What the nginx rules look at: server blocks with their listens and names, upstream blocks, and every
/// `proxy_pass` with the directives in effect where it is written (nginx's inheritance applied).
struct NginxModel {
    /// The directives in effect at one level: for each name, those written at the nearest level that has it.
    typealias Scope = [String: [NginxDirective]]

    struct Listen {
        var directive: NginxDirective
        /// `*:443`, `192.0.2.1:443`, `[::]:443`.
        var address: String
        var ssl: Bool
        var http2: Bool
        var defaultServer: Bool
    }

    struct Server {
        var directive: NginxDirective
        var listens: [Listen]
        var names: [String]
        var nameDirective: NginxDirective?
        var scope: Scope
        /// `ssl on;` (before nginx 1.25.1) makes every listen of the server TLS.
        var legacySSL: Bool

        var displayName: String {
            names.first(where: { $0 != "_" && !$0.isEmpty })
                ?? "server block at \(ConfigPath.lastComponent(directive.location.file)):\(directive.location.line)"
        }

        func isTLS(_ listen: Listen) -> Bool { listen.ssl || legacySSL }

        /// The host a server block sends every request to (`return 301 https://example.com$request_uri;`
        /// at server level or in `location /`), nil when it serves content.
        var redirectHost: String? {
            let block = directive.block ?? []
            let root = block.first { $0.name == "location" && $0.args == ["/"] }?.block ?? []
            for candidate in block + root where candidate.name == "return" && candidate.args.count == 2 {
                guard ["301", "302", "303", "307", "308"].contains(candidate.args[0]),
                      let target = NginxProxyTarget(candidate.args[1]) else { continue }
                // `https://example.com$request_uri`: the host ends where the variable starts.
                let host = target.host.prefix { $0 != "$" }
                guard !host.isEmpty else { continue }
                return host.lowercased()
            }
            return nil
        }

        /// `ssl_reject_handshake on` (a catch-all that refuses every TLS handshake) never completes a
        /// connection, so nothing can be negotiated on it or reused from it.
        var rejectsHandshake: Bool { NginxModel.flag(scope, "ssl_reject_handshake") == true }
    }

    struct Upstream {
        var directive: NginxDirective
        var name: String
        var keepalive: NginxDirective?
    }

    struct ProxyPass {
        var directive: NginxDirective
        var url: String
        var scope: Scope
        /// Index into `servers`, nil when the proxy_pass is outside any server block (a snippet).
        var server: Int?
        /// The URL with variables from `set` and `map` substituted, when every value they can take gives
        /// the same scheme; the URL as written otherwise.
        var resolvedURL: String
        /// The `set` values in effect where the proxy_pass is written.
        var sets: [String: String]

        var target: NginxProxyTarget? { NginxProxyTarget(resolvedURL) }
    }

    var servers: [Server] = []
    var upstreams: [String: Upstream] = [:]
    var proxies: [ProxyPass] = []

    /// Directives whose value is inherited from outer levels, as nginx merges them.
    static let inherited: Set<String> = [
        "proxy_ssl_server_name", "proxy_ssl_name", "proxy_http_version", "proxy_set_header",
        "proxy_ssl_session_reuse", "ssl_certificate", "ssl_certificate_key", "ssl_verify_client",
        "ssl_client_certificate", "ssl_trusted_certificate", "http2", "http3", "ssl_protocols",
        "ssl_reject_handshake",
    ]

    /// Every value each variable is given by `set` or `map`, anywhere in the configuration.
    var variables: [String: [String]] = [:]

    init(roots: [NginxLoader.Root]) {
        for root in roots {
            collectVariables(root.directives)
        }
        for root in roots {
            walk(root.directives, scope: [:], sets: [:], context: .top, server: nil)
        }
        for index in proxies.indices {
            let resolver = NginxVariables(values: variables, local: proxies[index].sets)
            proxies[index].resolvedURL = resolver.resolveScheme(proxies[index].url)
        }
    }

    private mutating func collectVariables(_ directives: [NginxDirective]) {
        for directive in directives {
            if directive.name == "set", directive.block == nil, directive.args.count == 2,
               let name = NginxVariables.name(directive.args[0]) {
                variables[name, default: []].append(directive.args[1])
            } else if directive.name == "map", directive.args.count == 2, let block = directive.block,
                      let name = NginxVariables.name(directive.args[1]) {
                for entry in block where !["hostnames", "volatile", "include"].contains(entry.name) {
                    // A map without `default` yields an empty string, which no proxy_pass can use; skip it.
                    if let value = entry.args.last, entry.args.count == 1, !value.isEmpty {
                        variables[name, default: []].append(value)
                    }
                }
            } else if let block = directive.block {
                collectVariables(block)
            }
        }
    }

    private enum Context { case top, http, server, location, other }

    private mutating func walk(_ directives: [NginxDirective], scope parent: Scope, sets parentSets: [String: String],
                               context: Context, server: Int?) {
        var scope = parent
        // `set` runs in the rewrite phase: the server's, then the location's, the last one winning.
        var sets = parentSets
        for directive in directives where directive.name == "set" && directive.args.count == 2 {
            if let name = NginxVariables.name(directive.args[0]) { sets[name] = directive.args[1] }
        }
        var level: Scope = [:]
        for directive in directives where Self.inherited.contains(directive.name) {
            level[directive.name, default: []].append(directive)
        }
        for (name, list) in level { scope[name] = list }

        for directive in directives {
            switch directive.name {
            case "http":
                if context == .top, let block = directive.block {
                    walk(block, scope: scope, sets: sets, context: .http, server: nil)
                }
            case "server":
                guard context == .top || context == .http, let block = directive.block else { continue }
                let index = servers.count
                servers.append(Self.makeServer(directive, block: block, scope: Self.levelScope(block, parent: scope)))
                walk(block, scope: scope, sets: sets, context: .server, server: index)
            case "location", "if", "limit_except":
                if let block = directive.block {
                    walk(block, scope: scope, sets: sets, context: .location, server: server)
                }
            case "upstream":
                guard context == .top || context == .http, let block = directive.block,
                      let name = directive.args.first else { continue }
                upstreams[name] = Upstream(directive: directive, name: name,
                                           keepalive: block.last(where: { $0.name == "keepalive" }))
            case "proxy_pass":
                guard let url = directive.args.first else { continue }
                proxies.append(ProxyPass(directive: directive, url: url, scope: scope, server: server, resolvedURL: url,
                                         sets: sets))
            default:
                // stream {}, mail {}, events {}, types {}, map {} … hold nothing the HTTP rules read.
                continue
            }
        }
    }

    private static func levelScope(_ block: [NginxDirective], parent: Scope) -> Scope {
        var scope = parent
        var level: Scope = [:]
        for directive in block where inherited.contains(directive.name) {
            level[directive.name, default: []].append(directive)
        }
        for (name, list) in level { scope[name] = list }
        return scope
    }

    private static func makeServer(_ directive: NginxDirective, block: [NginxDirective], scope: Scope) -> Server {
        var listens: [Listen] = []
        var names: [String] = []
        var nameDirective: NginxDirective?
        var legacySSL = false
        for child in block {
            switch child.name {
            case "listen":
                if let listen = parseListen(child) { listens.append(listen) }
            case "server_name":
                names.append(contentsOf: child.args)
                if nameDirective == nil { nameDirective = child }
            case "ssl":
                legacySSL = child.args.first?.lowercased() == "on"
            default:
                break
            }
        }
        return Server(directive: directive, listens: listens, names: names, nameDirective: nameDirective,
                      scope: scope, legacySSL: legacySSL)
    }

    static func parseListen(_ directive: NginxDirective) -> Listen? {
        guard let spec = directive.args.first, !spec.hasPrefix("unix:") else { return nil }
        var address = "*"
        var port = "80"
        if spec.hasPrefix("[") {
            if let close = spec.firstIndex(of: "]") {
                address = String(spec[...close])
                let rest = spec[spec.index(after: close)...]
                if rest.hasPrefix(":") { port = String(rest.dropFirst()) }
            }
        } else if let colon = spec.lastIndex(of: ":") {
            address = String(spec[..<colon])
            port = String(spec[spec.index(after: colon)...])
        } else if ConfigText.isDigits(Substring(spec)) {
            port = spec
        } else {
            address = spec
        }
        // `listen 443`, `*:443` and `0.0.0.0:443` are one IPv4 wildcard socket; `[::]:443` is a separate one.
        if address.isEmpty || address == "0.0.0.0" { address = "*" }
        // listen parameters are compared case-sensitively by nginx (`DEFAULT_SERVER` is an error there).
        let options = Set(directive.args.dropFirst())
        return Listen(directive: directive, address: "\(address):\(port)",
                      ssl: options.contains("ssl"), http2: options.contains("http2"),
                      defaultServer: options.contains("default_server") || options.contains("default"))
    }

    // MARK: - values in effect

    static func value(_ scope: Scope, _ name: String) -> NginxDirective? { scope[name]?.last }

    static func flag(_ scope: Scope, _ name: String) -> Bool? {
        guard let directive = value(scope, name), let arg = directive.args.first else { return nil }
        // ngx_conf_set_flag_slot compares case-insensitively: `On` and `ON` are on.
        return arg.lowercased() == "on"
    }

    /// The value of `proxy_set_header NAME …` in effect, nil when nginx's default applies.
    static func header(_ scope: Scope, _ header: String) -> NginxDirective? {
        scope["proxy_set_header"]?.last { $0.args.first?.lowercased() == header.lowercased() && $0.args.count >= 2 }
    }
}

/// The parts of a `proxy_pass` URL the rules need.
struct NginxProxyTarget {
    var scheme: String
    /// The host as written, without port (`127.0.0.1`, `[::1]`, `backend`, `$upstream`).
    var host: String
    var hasVariable: Bool

    init?(_ url: String) {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        hasVariable = url.contains("$")
        if authority.hasPrefix("[") {
            host = String(authority.prefix { $0 != "]" }) + "]"
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
        } else {
            host = String(authority)
        }
    }

    var isHTTPS: Bool { scheme == "https" }
}

/// Substitutes `set` and `map` values into the scheme part of a `proxy_pass` URL, as SWAG
/// (`$upstream_proto://$upstream_app:$upstream_port`) and Nginx Proxy Manager (`$forward_scheme://…`) write it.
struct NginxVariables {
    /// Every value each variable takes anywhere (`map` entries, all `set`s).
    var values: [String: [String]]
    /// The `set` values in effect at the proxy_pass, which win over the rest.
    var local: [String: String] = [:]
    /// Enough for a value that names another variable; guards against `set $a $b; set $b $a;`.
    static let maxDepth = 4
    static let maxCandidates = 32

    /// `$name` or `${name}` as a whole word, without the sigil; nil for anything else.
    static func name(_ word: String) -> String? {
        var body = Substring(word)
        guard body.hasPrefix("$") else { return nil }
        body = body.dropFirst()
        if body.hasPrefix("{"), body.hasSuffix("}") { body = body.dropFirst().dropLast() }
        guard !body.isEmpty, body.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        return String(body)
    }

    /// The URL with the variables before `://` (or the whole URL, when it is one variable) replaced by their
    /// values, when all the values agree on the part up to the host; the URL unchanged otherwise.
    func resolveScheme(_ url: String) -> String {
        var candidates = [url]
        for _ in 0..<Self.maxDepth {
            var next: [String] = []
            var changed = false
            for candidate in candidates {
                guard let (range, name) = Self.leadingVariable(candidate) else {
                    next.append(candidate)
                    continue
                }
                guard let options = local[name].map({ [$0] }) ?? values[name], !options.isEmpty else { return url }
                let distinct = Set(options)
                guard distinct.count <= Self.maxCandidates else { return url }
                changed = true
                for option in distinct.sorted() {
                    next.append(candidate.replacingCharacters(in: range, with: option))
                }
                if next.count > Self.maxCandidates { return url }
            }
            candidates = next
            if !changed { break }
        }
        let schemes = Set(candidates.map { NginxProxyTarget($0)?.scheme })
        guard schemes.count == 1, let only = schemes.first, let scheme = only else { return url }
        let hosts = Set(candidates.map { NginxProxyTarget($0)?.host })
        // Same scheme but different hosts: keep the scheme and leave the host a variable the rules skip.
        return hosts.count == 1 ? candidates[0] : scheme + "://$upstream_host"
    }

    /// The first variable that stands before `://`, or anywhere when the URL has no `://` yet.
    private static func leadingVariable(_ url: String) -> (Range<String.Index>, String)? {
        let limit = url.firstRange(of: "://")?.lowerBound ?? url.endIndex
        guard let dollar = url[..<limit].firstIndex(of: "$") else { return nil }
        var end = url.index(after: dollar)
        if end < url.endIndex, url[end] == "{" {
            guard let close = url[end...].firstIndex(of: "}") else { return nil }
            let name = String(url[url.index(after: end)..<close])
            return (dollar..<url.index(after: close), name)
        }
        while end < url.endIndex, url[end].isLetter || url[end].isNumber || url[end] == "_" {
            end = url.index(after: end)
        }
        let name = String(url[url.index(after: dollar)..<end])
        return name.isEmpty ? nil : (dollar..<end, name)
    }
}
