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
    }

    var servers: [Server] = []
    var upstreams: [String: Upstream] = [:]
    var proxies: [ProxyPass] = []

    /// Directives whose value is inherited from outer levels, as nginx merges them.
    static let inherited: Set<String> = [
        "proxy_ssl_server_name", "proxy_ssl_name", "proxy_http_version", "proxy_set_header",
        "proxy_ssl_session_reuse", "ssl_certificate", "ssl_certificate_key", "ssl_verify_client",
        "ssl_client_certificate", "ssl_trusted_certificate", "http2", "http3", "ssl_protocols",
    ]

    init(roots: [NginxLoader.Root]) {
        for root in roots {
            walk(root.directives, scope: [:], context: .top, server: nil)
        }
    }

    private enum Context { case top, http, server, location, other }

    private mutating func walk(_ directives: [NginxDirective], scope parent: Scope, context: Context, server: Int?) {
        var scope = parent
        var level: Scope = [:]
        for directive in directives where Self.inherited.contains(directive.name) {
            level[directive.name, default: []].append(directive)
        }
        for (name, list) in level { scope[name] = list }

        for directive in directives {
            switch directive.name {
            case "http":
                if context == .top, let block = directive.block {
                    walk(block, scope: scope, context: .http, server: nil)
                }
            case "server":
                guard context == .top || context == .http, let block = directive.block else { continue }
                let index = servers.count
                servers.append(Self.makeServer(directive, block: block, scope: Self.levelScope(block, parent: scope)))
                walk(block, scope: scope, context: .server, server: index)
            case "location", "if", "limit_except":
                if let block = directive.block {
                    walk(block, scope: scope, context: .location, server: server)
                }
            case "upstream":
                guard context == .top || context == .http, let block = directive.block,
                      let name = directive.args.first else { continue }
                upstreams[name] = Upstream(directive: directive, name: name,
                                           keepalive: block.last(where: { $0.name == "keepalive" }))
            case "proxy_pass":
                guard let url = directive.args.first else { continue }
                proxies.append(ProxyPass(directive: directive, url: url, scope: scope, server: server))
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
                legacySSL = child.args.first == "on"
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
        if address.isEmpty { address = "*" }
        let options = Set(directive.args.dropFirst())
        return Listen(directive: directive, address: "\(address):\(port)",
                      ssl: options.contains("ssl"), http2: options.contains("http2"),
                      defaultServer: options.contains("default_server") || options.contains("default"))
    }

    // MARK: - values in effect

    static func value(_ scope: Scope, _ name: String) -> NginxDirective? { scope[name]?.last }

    static func flag(_ scope: Scope, _ name: String) -> Bool? {
        guard let directive = value(scope, name), let arg = directive.args.first else { return nil }
        return arg == "on"
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
