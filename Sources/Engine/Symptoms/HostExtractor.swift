import Foundation

/// Host names mentioned in the text, best first.
///
/// Names that a server or client reports as SNI or Host rank first, then names in URLs and mail log
/// relay fields, then other domain-like words, then the domains of email addresses. IP addresses,
/// file names (index.js, nginx.conf) and placeholders (x.x.x.x) are not host names.
struct HostExtractor: Sendable {
    private struct Source: Sendable {
        let regex: RegexPattern
        let rank: Int
        /// Whether a single-label name (localhost, an SNI such as "p") counts here.
        let singleLabel: Bool
        let requires: [[UInt8]]
        /// Checks what once was a look-ahead after the match.
        var accept: (@Sendable (SymptomText, RegexMatch) -> Bool)?
    }

    private let sources: [Source]

    /// Patterns RE2 rejects (tests assert there are none); compiles them all.
    var invalidPatterns: [String] { sources.filter { $0.regex.check() != nil }.map(\.regex.source) }

    init() {
        var sources: [Source] = []
        func add(_ pattern: String, rank: Int, singleLabel: Bool, requires: [String] = [],
                 accept: (@Sendable (SymptomText, RegexMatch) -> Bool)? = nil) {
            sources.append(Source(regex: SymptomRegex.compile(pattern), rank: rank, singleLabel: singleLabel,
                                  requires: requires.map { Array($0.utf8) }, accept: accept))
        }
        let name = #"([^\s'"<>()\[\],;`]{1,253})"#
        // rank 0: what a server or client reports as SNI / Host
        add(#"hostname\s{1,3}"# + name + #"\s{1,3}(?:provided via|\(default host)"#, rank: 0, singleLabel: true,
            requires: ["hostname"])
        add(#"tls servername \("# + name + #"\) and http host \("# + name + #"\)"#, rank: 0, singleLabel: true,
            requires: ["servername"])
        add(#""(?:server_name|sni|host|:authority|authority|servername)"\s{0,3}:\s{0,3}""# + name + #"""#, rank: 0,
            singleLabel: true, requires: ["\""])
        add(#"^[ \t]*[<>]?[ \t]*(?::authority|host):[ \t]*"# + name, rank: 0, singleLabel: true, requires: ["host:", "authority:"])
        add(#"-H\s{0,3}['"]?host:\s{0,3}"# + name, rank: 0, singleLabel: true, requires: ["host:"])
        add(#"\bhost:\s{0,3}""# + name + #"""#, rank: 0, singleLabel: true, requires: ["host:"])
        add(#"\bserver:\s{0,3}"# + name + #", request:"#, rank: 0, singleLabel: true, requires: ["request:"])
        add(#"-servername\s{1,3}"# + name, rank: 0, singleLabel: true, requires: ["servername"])
        add(#"--(?:resolve|connect-to)[\s=]{1,3}['"]?([^\s:'"]{1,253}):"#, rank: 0, singleLabel: true,
            requires: ["--resolve", "--connect-to"])
        add(#"\bserver_name\s{1,3}([^;{}\n]{1,400});"#, rank: 0, singleLabel: false, requires: ["server_name"])
        add(#"\b(?:TARGET_SNI|sni|proxy_ssl_name)\s{0,3}[=:]\s{0,3}"# + name, rank: 0, singleLabel: false,
            requires: ["sni", "proxy_ssl_name"])
        // rank 1: URLs, mail relays, "connect to"
        add(#"\b(?:https?|ftps?|ftpes|sftp|smtps?|wss?)://(?:[^@/\s]{1,200}@)?([^/\s:'"<>?#)\]`,]{1,253})"#, rank: 1,
            singleLabel: true, requires: ["://"])
        add(#"\brelay=([^\s\[,;]{1,253})"#, rank: 1, singleLabel: false, requires: ["relay="])
        add(#"\bhost\s{1,3}([^\s\[\]]{1,253})\s?\["#, rank: 1, singleLabel: false, requires: ["host"])
        add(#"\b(?:connect(?:ing|ed)? to|-connect)\s{1,3}([^\s:\[\]'"]{1,253})"#, rank: 1, singleLabel: false,
            requires: ["connect"])
        // rank 2: other domain-like words; rank 3: email domains
        // the look-behinds are a consumed character (or a line start); the look-ahead is `endsName`
        add(#"(?:^|[^\pL\pM\p{Nd}\p{Pc}.@/-])((?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.){1,10}[a-z][a-z0-9-]{1,23})\.?"#,
            rank: 2, singleLabel: false, accept: Self.endsName)
        add(#"(?:^|[^\pL\pM\p{Nd}\p{Pc}.+-])[\pL\pM\p{Nd}\p{Pc}.+-]{1,64}@((?:[\w-]{1,63}\.){1,8}[a-z]{2,24})\b"#, rank: 3,
            singleLabel: false, requires: ["@"])
        self.sources = sources
    }

    /// ICU's `(?![\w-]|\.\w)` after a name and its optional final dot: the name ends there.
    @Sendable private static func endsName(_ text: SymptomText, _ m: RegexMatch) -> Bool {
        func ends(at offset: Int) -> Bool {
            if text.isWordScalar(at: offset) || text.byte(at: offset) == 0x2D { return false }
            return !(text.byte(at: offset) == 0x2E && text.isWordScalar(at: offset + 1))
        }
        let end = m.range.upperBound
        if ends(at: end) { return true }
        if let name = m[1], end > name.upperBound { return ends(at: name.upperBound) }
        return false
    }

    struct Found {
        let host: String
        let rank: Int
        let order: (Int, Int)
    }

    func hosts(in text: SymptomText, index: Int) -> [Found] {
        var out: [Found] = []
        for source in sources {
            if !source.requires.isEmpty, !source.requires.contains(where: { text.contains($0) }) { continue }
            let found = source.accept.map { accept in text.matches(source.regex, limit: 1_000) { accept(text, $0) } }
                ?? text.matches(source.regex, limit: 1_000)
            for m in found {
                for g in 1..<m.groups.count {
                    guard let raw = text.group(m, g), !raw.isEmpty else { continue }
                    let candidates = source.rank == 0 && raw.contains(" ") ? raw.split(separator: " ").map(String.init) : [raw]
                    for candidate in candidates {
                        guard let host = Self.normalize(candidate, singleLabel: source.singleLabel,
                                                        generic: source.rank >= 2) else { continue }
                        out.append(Found(host: host, rank: source.rank, order: (index, m[g]?.lowerBound ?? m.range.lowerBound)))
                    }
                }
            }
        }
        return out
    }

    /// Best first (rank, then order of appearance), without duplicates, at most `limit`.
    static func rank(_ found: [Found], limit: Int = 50) -> [String] {
        let sorted = found.sorted { a, b in a.rank != b.rank ? a.rank < b.rank : a.order < b.order }
        var seen: Set<String> = []
        var out: [String] = []
        for item in sorted where !seen.contains(item.host) {
            seen.insert(item.host)
            out.append(item.host)
            if out.count >= limit { break }
        }
        return out
    }

    // MARK: validation

    private static let fileExtensions: Set<String> = [
        "js", "mjs", "cjs", "ts", "tsx", "jsx", "py", "pyc", "rb", "go", "c", "h", "cc", "cpp", "hpp", "swift",
        "java", "kt", "php", "html", "htm", "css", "scss", "json", "yaml", "yml", "xml", "txt", "log", "conf", "cfg",
        "ini", "md", "mdx", "sh", "bash", "pem", "crt", "key", "csr", "sock", "pid", "lua", "exe", "dll", "so",
        "dylib", "zip", "gz", "tgz", "tar", "bz2", "xz", "iso", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp",
        "pdf", "rs", "pl", "pm", "cs", "vb", "jar", "war", "class", "lock", "toml", "env", "bak", "tmp", "orig", "rej",
        "patch", "diff", "spec", "rpm", "deb", "d", "service", "socket", "timer", "mount", "local", "example", "dist",
        "sample", "db", "sqlite", "csv", "tsv", "map", "min", "wasm", "vue", "svelte", "astro", "erb", "ejs", "hbs",
        "twig", "tpl", "j2", "cnf", "mk", "cmake", "gradle", "properties", "plist", "nix", "ps1", "bat", "cmd", "vbs",
        "tf", "hcl", "proto",
    ]

    /// Top-level names accepted for domain-like words found without a URL or a Host context.
    private static let genericTLDs: Set<String> = [
        "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "io", "dev", "app", "cloud", "online", "site",
        "tech", "xyz", "me", "tv", "co", "ai", "ly", "gg", "localdomain", "lan", "internal", "test", "invalid",
        "localhost", "loc", "tld", "corp", "home", "arpa", "name", "pro", "mobi", "asia", "eu", "email", "host",
        "link", "network", "systems", "solutions", "services", "digital", "media", "news", "blog", "shop", "store",
        "website", "space", "live", "world", "today", "one", "top", "club", "page", "ltd", "gmbh", "academy", "agency",
        "center", "company", "zone", "works", "social", "studio", "team", "tools", "run", "to", "ws",
    ]

    private static let notCountryCodes: Set<String> = [
        "xx", "yy", "zz", "js", "ts", "rb", "py", "md", "so", "ps", "rs", "go",
    ]

    /// File extensions that are never a top-level name, even in a URL or a Host context.
    private static let sourceExtensions: Set<String> = [
        "js", "py", "rb", "php", "json", "yaml", "yml", "conf", "log", "txt", "html",
    ]

    /// A label made of one redaction letter repeated: xx, xxx, yyyyy, zzzz (x.com stays a host).
    private static func isRedaction(_ label: Substring) -> Bool {
        guard label.count >= 2, let first = label.first, "xyz".contains(first) else { return false }
        return label.allSatisfy { $0 == first }
    }

    static func normalize(_ raw: String, singleLabel: Bool, generic: Bool) -> String? {
        var host = raw.lowercased()
        host = host.trimmingCharacters(in: CharacterSet(charactersIn: "'\"<>()[]{},;:`*.\\/"))
        if host.hasPrefix("*.") { host.removeFirst(2) }
        // a port
        if let colon = host.lastIndex(of: ":"), host[host.index(after: colon)...].allSatisfy(\.isNumber) {
            host = String(host[..<colon])
        }
        while host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty, host.utf8.count <= 253 else { return nil }
        guard host.unicodeScalars.allSatisfy({ scalar in
            let v = scalar.value
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) || v == 0x2D || v == 0x2E || v == 0x5F
        }) else { return nil }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") }) else {
            return nil
        }
        // IP addresses and version numbers
        if labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) { return nil }
        guard let tld = labels.last else { return nil }
        if labels.count == 1 {
            guard singleLabel, host.contains(where: \.isLetter), !isRedaction(labels[0]) else { return nil }
            return host
        }
        if tld.allSatisfy(\.isNumber) || tld.count < 2 { return nil }
        // redactions such as x.x.x.x, xxx.example.com or yyyyy.org
        if labels.dropLast().contains(where: isRedaction) { return nil }
        if generic {
            let t = String(tld)
            if fileExtensions.contains(t) { return nil }
            if labels.count == 2, ["e", "i"].contains(labels[0]) { return nil }
            let countryCode = t.count == 2 && t.allSatisfy(\.isLetter) && !notCountryCodes.contains(t)
            let known = genericTLDs.contains(t) || countryCode
            guard known else { return nil }
            if tld.contains("_") || labels.first(where: { $0.contains("_") }) != nil { return nil }
        } else if sourceExtensions.contains(String(tld)) {
            return nil
        }
        return host
    }
}
