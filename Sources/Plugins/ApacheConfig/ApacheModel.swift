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

    init(roots: [ApacheLoader.Root]) {
        for root in roots { walk(root.directives, vhost: nil) }
    }

    /// Sections whose contents apply per request path, not to the vhost's TLS setup.
    private static let perDirectory: Set<String> = [
        "directory", "directorymatch", "location", "locationmatch", "files", "filesmatch", "proxy", "proxymatch",
        "if", "elseif", "else", "limit", "limitexcept", "macro", "requireall", "requireany", "requirenone",
    ]

    static func isActive(_ section: ApacheDirective) -> Bool {
        // Assume the modules and defines a TLS site needs are present; a negated test is taken as false.
        guard let arg = section.args.first else { return true }
        return !arg.hasPrefix("!")
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
                    if Self.isActive(directive) { walk(children, vhost: vhost) }
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

/// Host names a certificate file's path suggests, such as certbot's `/etc/letsencrypt/live/NAME/` or
/// Sectigo's `STAR_example_com.crt`. Only a hint: the certificate itself may list more names.
enum CertificatePathNames {
    private static let generic: Set<String> = [
        "cert", "fullchain", "chain", "server", "certificate", "ssl", "tls", "crt", "privkey", "bundle", "ca",
        "ca-bundle", "combined", "public", "site", "domain", "localhost", "ssl-cert-snakeoil",
    ]

    static func name(for path: String) -> String? {
        let components = path.split(separator: "/").map(String.init)
        if let live = components.firstIndex(of: "live"), live + 1 < components.count, live + 1 != components.count - 1 {
            var lineage = components[live + 1].lowercased()
            if let dash = lineage.lastIndex(of: "-"), ConfigText.isDigits(lineage[lineage.index(after: dash)...]),
               lineage.distance(from: dash, to: lineage.endIndex) == 5 {
                lineage = String(lineage[..<dash])
            }
            return domain(lineage)
        }
        guard let base = components.last else { return nil }
        var stem = base.lowercased()
        for ext in [".pem", ".crt", ".cer", ".cert", ".der"] where stem.hasSuffix(ext) {
            stem = String(stem.dropLast(ext.count))
        }
        for suffix in ["-fullchain", "_fullchain", ".fullchain", "-chain", "-cert", "_cert", ".cert", "-bundle",
                       "_bundle", ".bundle", "-ssl", "_ssl", "-crt", "_crt"] where stem.hasSuffix(suffix) {
            stem = String(stem.dropLast(suffix.count))
        }
        if let name = domain(stem) { return name }
        if generic.contains(stem), components.count >= 2 {
            return domain(components[components.count - 2].lowercased())
        }
        return nil
    }

    private static func domain(_ raw: String) -> String? {
        var s = raw
        var wildcard = false
        for prefix in ["wildcard.", "wildcard_", "wildcard-", "star.", "star_", "_.", "*."] where s.hasPrefix(prefix) {
            s = String(s.dropFirst(prefix.count))
            wildcard = true
            break
        }
        if !s.contains("."), s.contains("_") { s = s.replacingOccurrences("_", ".") }
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ label in
            !label.isEmpty && label.utf8.allSatisfy { c in
                (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45
            }
        }), let tld = labels.last, tld.count >= 2, tld.utf8.allSatisfy({ $0 >= 97 && $0 <= 122 }) else { return nil }
        return wildcard ? "*." + s : s
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
