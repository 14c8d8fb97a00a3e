import Engine

/// Virtual hosts with their addresses, names and TLS setup, as mod_ssl compares them.
struct ApacheModel {
    struct VHost {
        var section: ApacheDirective
        var addresses: [String]
        var serverName: String?
        var aliases: [String]
        /// Directives written in the vhost (outside per-directory sections), by lowercased name.
        var settings: [String: [ApacheDirective]]

        var names: [String] { (serverName.map { [$0] } ?? []) + aliases }
        var displayName: String { serverName ?? aliases.first ?? "vhost at \(section.location)" }
    }

    var main: [String: [ApacheDirective]] = [:]
    var vhosts: [VHost] = []
    /// Every SSLStrictSNIVHostCheck and SSLVHostSNIPolicy, with the vhost index when inside one.
    var sniDirectives: [(directive: ApacheDirective, vhost: Int?)] = []

    /// The modules named by `LoadModule` (both `ssl_module` and `mod_ssl.c` spellings); nil when the
    /// configuration loads none, as a site file read on its own does.
    var loadedModules: Set<String>?

    init(roots: [ApacheLoader.Root]) {
        var modules: Set<String> = []
        for root in roots { Self.collectModules(root.directives, into: &modules) }
        loadedModules = modules.isEmpty ? nil : modules.union(Self.builtIn)
        for root in roots { walk(root.directives, vhost: nil) }
    }

    /// Modules compiled into Debian's and Red Hat's httpd, which no LoadModule line names.
    private static let builtIn: Set<String> = [
        "core_module", "core.c", "so_module", "mod_so.c", "http_module", "http_core.c", "watchdog_module",
        "mod_watchdog.c", "log_config_module", "mod_log_config.c", "logio_module", "mod_logio.c",
        "version_module", "mod_version.c", "unixd_module", "mod_unixd.c",
    ]

    private static func collectModules(_ directives: [ApacheDirective], into modules: inout Set<String>) {
        for directive in directives {
            if let children = directive.children {
                collectModules(children, into: &modules)
            } else if directive.key == "loadmodule", directive.args.count >= 2 {
                modules.insert(directive.args[0].lowercased())
                // `modules/mod_ssl.so` is the module whose source file is `mod_ssl.c`.
                var file = Substring(directive.args[1].split(separator: "/").last ?? "")
                if file.hasSuffix(".so") { file = file.dropLast(3) }
                if file.hasPrefix("lib") { file = file.dropFirst(3) }
                modules.insert(file.lowercased() + ".c")
            }
        }
    }

    /// Sections whose contents apply per request path, not to the vhost's TLS setup.
    private static let perDirectory: Set<String> = [
        "directory", "directorymatch", "location", "locationmatch", "files", "filesmatch", "proxy", "proxymatch",
        "if", "elseif", "else", "limit", "limitexcept", "macro", "requireall", "requireany", "requirenone",
    ]

    func isActive(_ section: ApacheDirective) -> Bool {
        guard let arg = section.args.first else { return true }
        let negated = arg.hasPrefix("!")
        let name = (negated ? String(arg.dropFirst()) : arg).lowercased()
        // `<IfModule>` follows the LoadModule lines when the configuration has them.
        if section.key == "ifmodule", let loaded = loadedModules {
            return loaded.contains(name) != negated
        }
        // Otherwise assume the modules and defines a TLS site needs are present; a negated test is false.
        return !negated
    }

    private mutating func walk(_ directives: [ApacheDirective], vhost: Int?) {
        for directive in directives {
            let key = directive.key
            if let children = directive.children {
                if key == "virtualhost" {
                    guard vhost == nil else { continue }
                    let index = vhosts.count
                    vhosts.append(VHost(section: directive, addresses: directive.args.map(Self.normalizeAddress),
                                        serverName: nil, aliases: [], settings: [:]))
                    walk(children, vhost: index)
                } else if ["ifmodule", "ifdefine", "ifversion", "iffile", "ifdirective", "ifsection"].contains(key) {
                    if isActive(directive) { walk(children, vhost: vhost) }
                } else if Self.perDirectory.contains(key) {
                    continue
                }
                continue
            }
            if key == "sslstrictsnivhostcheck" || key == "sslvhostsnipolicy" {
                sniDirectives.append((directive, vhost))
            }
            if let vhost {
                switch key {
                case "servername":
                    if let name = directive.args.first { vhosts[vhost].serverName = Self.stripScheme(name) }
                case "serveralias":
                    vhosts[vhost].aliases.append(contentsOf: directive.args)
                default:
                    break
                }
                vhosts[vhost].settings[key, default: []].append(directive)
            } else {
                main[key, default: []].append(directive)
            }
        }
    }

    /// `ServerName https://www.example.com:443` names `www.example.com`.
    static func stripScheme(_ name: String) -> String {
        var n = Substring(name)
        if let range = n.firstRange(of: "://") { n = n[range.upperBound...] }
        if !n.hasPrefix("["), let colon = n.lastIndex(of: ":") { n = n[..<colon] }
        return String(n)
    }

    static func normalizeAddress(_ raw: String) -> String {
        var address = raw
        if address.hasPrefix("_default_") { address = "*" + address.dropFirst("_default_".count) }
        if address.hasPrefix("[") {
            if !address.contains("]:") { address += ":*" }
        } else if !address.contains(":") {
            address += ":*"
        }
        return address
    }

    // MARK: TLS setup

    /// The settings `ssl_server_compatible()` compares (httpd 2.4.64 and later), in report order.
    static let compared: [(key: String, label: String)] = [
        ("sslcertificatefile", "SSLCertificateFile"),
        ("sslcertificatekeyfile", "SSLCertificateKeyFile"),
        ("sslprotocol", "SSLProtocol"),
        ("sslciphersuite", "SSLCipherSuite"),
        ("sslciphersuite tlsv1.3", "SSLCipherSuite TLSv1.3"),
        ("sslverifyclient", "SSLVerifyClient"),
        ("sslverifydepth", "SSLVerifyDepth"),
        ("sslcacertificatefile", "SSLCACertificateFile"),
        ("sslcacertificatepath", "SSLCACertificatePath"),
        ("sslcadnrequestfile", "SSLCADNRequestFile"),
        ("sslcadnrequestpath", "SSLCADNRequestPath"),
    ]

    struct TLSSetup: Hashable {
        var values: [String: String]

        func differences(from other: TLSSetup) -> [String] {
            ApacheModel.compared.filter { values[$0.key] != other.values[$0.key] }.map(\.label)
        }
    }

    func setting(_ vhost: VHost, _ key: String) -> [ApacheDirective]? {
        if let own = vhost.settings[key], !own.isEmpty { return own }
        if let inherited = main[key], !inherited.isEmpty { return inherited }
        return nil
    }

    func isTLS(_ vhost: VHost) -> Bool {
        guard let engine = setting(vhost, "sslengine")?.last?.args.first?.lowercased() else { return false }
        return engine == "on" || engine == "optional"
    }

    func tlsSetup(_ vhost: VHost) -> TLSSetup {
        var values: [String: String] = [:]
        for (key, _) in Self.compared where !key.hasPrefix("sslciphersuite") {
            guard let list = setting(vhost, key) else { continue }
            if key == "sslcertificatefile" || key == "sslcertificatekeyfile" {
                values[key] = list.compactMap(\.args.first).joined(separator: " ")
            } else if let last = list.last {
                let joined = last.args.joined(separator: " ")
                values[key] = (key == "sslprotocol" || key == "sslverifyclient") ? joined.lowercased() : joined
            }
        }
        // SSLCipherSuite [protocol] spec: TLSv1.3 suites are a separate setting.
        var suites: [String: String] = [:]
        for directive in setting(vhost, "sslciphersuite") ?? [] {
            if directive.args.count >= 2, ["tlsv1.3", "ssl"].contains(directive.args[0].lowercased()) {
                let key = directive.args[0].lowercased() == "tlsv1.3" ? "sslciphersuite tlsv1.3" : "sslciphersuite"
                suites[key] = directive.args[1...].joined(separator: " ")
            } else {
                suites["sslciphersuite"] = directive.args.joined(separator: " ")
            }
        }
        values.merge(suites) { _, new in new }
        return TLSSetup(values: values)
    }

    /// The SSLCertificateFile directives in effect for a vhost.
    func certificateDirectives(_ vhost: VHost) -> [ApacheDirective] {
        setting(vhost, "sslcertificatefile") ?? []
    }
}
