import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces the customer's own addresses and names with stable stand-ins (`--redact`), so a reply can go to a
/// vendor's or a public forum's thread. The same value gets the same stand-in everywhere in one output, and the
/// stand-ins are clearly fake yet valid where the value stood in a command:
///
/// - IPv4 addresses become addresses of the documentation ranges (192.0.2.1, 192.0.2.2 …, then 198.51.100.x and
///   203.0.113.x), IPv6 addresses become 2001:db8::1, 2001:db8::2 …; loopback and unspecified addresses stay.
///   Anything else shaped like an IPv4 address is treated as one (redaction errs on the safe side), except
///   Yahoo's dotted code after " - " (4.16.55.1). A query name that spells an address backwards
///   (4.3.2.1.zen.spamhaus.org) gets the address's stand-in spelled backwards.
/// - E-mail addresses become user-1@, user-2@ … at the redacted domain; role names (postmaster, abuse,
///   mailer-daemon …) keep their local part.
/// - Host names: the registrable domain becomes domain-1.example, domain-2.example … (RFC 2606), and each label
///   in front of it stays when it is a generic service word (www, mail, mx1, _dmarc …) and becomes sub-1, sub-2 …
///   otherwise, so www against the bare domain, the point of many HTTP cases, survives.
///
/// "Names the reply needs" are kept: well-known mail and hosting providers (gmail.com, outlook.com, yahoo.com,
/// gmx.net, cloudflare.com …), blocklists, vendors' documentation sites, the hosts of the knowledge articles'
/// references, placeholders (example.com, example.de, shop.example.io, .example, .invalid) and localhost. The customer's names, including a tenant
/// label in front of a provider's suffix (acme.mail.protection.outlook.com), are redacted.
///
/// Work is linear in the text: one RE2 scan per string and hash-map look-ups.
public struct Redactor: Sendable {
    private var ipv4: [String: String] = [:]
    private var ipv6: [String: String] = [:]
    private var domains: [String: String] = [:]
    private var labels: [String: String] = [:]
    private var emails: [String: String] = [:]
    /// Every value met so far, so no stand-in ever equals an original.
    private var originals: Set<String> = []
    private var nextIPv4 = 0
    private var nextIPv6 = 0
    private var nextUser = 0
    private var keep: [String]

    /// `keeping`: more host names (and their subdomains) the reply needs, such as its reference links' hosts.
    public init(keeping: [String] = []) {
        keep = (Self.wellKnown + keeping.map { $0.lowercased() }).filter { !$0.isEmpty }
    }

    // MARK: public entry points

    /// Reads texts whose values should get the first stand-ins (the inputs, in order), so every format of
    /// one ticket redacts the same way. Reads at most `limit` bytes of each.
    public mutating func learn(_ texts: [String], limit: Int = 1 << 20) {
        for text in texts {
            let head = text.utf8.count > limit ? String(decoding: text.utf8.prefix(limit), as: UTF8.self) : text
            for value in values(in: head) { originals.insert(value.text) }
        }
        for text in texts {
            let head = text.utf8.count > limit ? String(decoding: text.utf8.prefix(limit), as: UTF8.self) : text
            for value in values(in: head) { _ = replacement(for: value) }
        }
    }

    /// The text with every value replaced.
    public mutating func redact(_ text: String) -> String {
        let found = values(in: text)
        for value in found { originals.insert(value.text) }
        guard !found.isEmpty else { return text }
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        out.reserveCapacity(bytes.count)
        var at = 0
        for value in found {
            out.append(contentsOf: bytes[at..<value.range.lowerBound])
            out.append(contentsOf: replacement(for: value).utf8)
            at = value.range.upperBound
        }
        out.append(contentsOf: bytes[at...])
        return String(decoding: out, as: UTF8.self)
    }

    /// The value with every string in it redacted (a report, a protocol verdict); nil when it does not survive
    /// the JSON round trip, so the caller can fall back to redacting the rendered text.
    public mutating func redact<T: Codable>(_ value: T) -> T? {
        guard let data = try? JSONEncoder().encode(value),
              let tree = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
        var strings: [String] = []
        Self.collect(tree, into: &strings)
        for s in strings { for v in values(in: s) { originals.insert(v.text) } }
        let redacted = map(tree)
        guard let out = try? JSONSerialization.data(withJSONObject: redacted, options: [.fragmentsAllowed]) else {
            return nil
        }
        return try? JSONDecoder().decode(T.self, from: out)
    }

    private static func collect(_ node: Any, into strings: inout [String]) {
        if let s = node as? String { strings.append(s) }
        else if let array = node as? [Any] { for item in array { collect(item, into: &strings) } }
        else if let object = node as? [String: Any] {
            for (key, item) in object {
                strings.append(key)
                collect(item, into: &strings)
            }
        }
    }

    private mutating func map(_ node: Any) -> Any {
        if let s = node as? String { return redact(s) }
        if let array = node as? [Any] { return array.map { map($0) } }
        if let object = node as? [String: Any] {
            var out: [String: Any] = [:]
            // Keys are redacted too: a table keyed by host or address must not keep the original.
            for key in object.keys.sorted() { out[redact(key)] = map(object[key]!) }
            return out
        }
        return node
    }

    // MARK: finding values

    enum Kind { case email, host, ipv4, ipv6 }

    struct Value {
        var kind: Kind
        var text: String
        var range: Range<Int>
    }

    /// Email first, so a dotted local part is not read as a host; hosts before IPv4 so a blocklist query name
    /// (4.3.2.1.zen.spamhaus.org) stays one name.
    static let pattern = RegexPattern(
        #"([A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63})"#
        + #"|((?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"#
        + #"|((?:[0-9A-Fa-f]{1,4})?(?::(?:[0-9A-Fa-f]{1,4})?){2,7}(?:\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})?)"#
        + #"|([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})"#,
        options: [])

    func values(in text: String) -> [Value] {
        let matches = Self.pattern.matches(in: text, limit: Int.max)
        guard !matches.isEmpty else { return [] }
        let bytes = Array(text.utf8)
        var out: [Value] = []
        for m in matches {
            let r = m.range
            // A value glued to more of the same (a longer dotted number, part of a word) is something else.
            let before = r.lowerBound > 0 ? bytes[r.lowerBound - 1] : 0
            let after = r.upperBound < bytes.count ? bytes[r.upperBound] : 0
            let afterNext = r.upperBound + 1 < bytes.count ? bytes[r.upperBound + 1] : 0
            let text = String(decoding: bytes[r], as: UTF8.self)
            if m[1] != nil {
                out.append(Value(kind: .email, text: text, range: r))
            } else if m[2] != nil {
                if Self.isWordByte(before) || before == UInt8(ascii: "-") || Self.isWordByte(after) { continue }
                guard Self.isHostName(text) else { continue }
                out.append(Value(kind: .host, text: text, range: r))
            } else if m[3] != nil {
                if Self.isWordByte(before) || before == UInt8(ascii: ":") || Self.isWordByte(after) { continue }
                guard Self.validIPv6(text), !["::", "::1"].contains(text) else { continue }
                out.append(Value(kind: .ipv6, text: text, range: r))
            } else if m[4] != nil {
                if Self.isDigit(before) || before == UInt8(ascii: ".") || Self.isWordByte(after)
                    || (after == UInt8(ascii: ".") && Self.isDigit(afterNext)) { continue }
                guard Self.validIPv4(text), !text.hasPrefix("127."), text != "0.0.0.0",
                      !Self.isProviderCode(text, in: bytes, at: r.lowerBound) else { continue }
                out.append(Value(kind: .ipv4, text: text, range: r))
            }
        }
        return out
    }

    /// Yahoo's dotted diagnostic code ("complaints - 4.16.55.1;") is not an address.
    static func isProviderCode(_ text: String, in bytes: [UInt8], at start: Int) -> Bool {
        guard text.hasPrefix("4.16.") || text.hasPrefix("5.16."), start >= 2 else { return false }
        return bytes[start - 2] == UInt8(ascii: "-") && bytes[start - 1] == UInt8(ascii: " ")
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isHexByte(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }
    private static func isWordByte(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }

    static func validIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".")
        return parts.count == 4 && parts.allSatisfy { Int($0).map { (0...255).contains($0) } ?? false }
    }

    static func validIPv6(_ s: String) -> Bool {
        var buffer = in6_addr()
        return s.withCString { inet_pton(AF_INET6, $0, &buffer) } == 1
    }

    /// A name whose last label is a top-level domain in use, not a file extension (mail.log, main.cf, wp-config.php).
    static func isHostName(_ s: String) -> Bool {
        guard let dot = s.lastIndex(of: ".") else { return false }
        // An underscore inside a label is a file or identifier (spdy_session_pool.cc); _dmarc starts with one.
        if s.split(separator: ".").contains(where: { $0.dropFirst().contains("_") }) { return false }
        let tld = s[s.index(after: dot)...]
        guard tld.allSatisfy({ $0.isASCII && $0.isLowercase }) else { return false }
        if tld.count == 2 { return !fileExtensions.contains(String(tld)) }
        return topLevel.contains(String(tld))
    }

    /// Two-letter endings that are far more often file extensions than country domains.
    static let fileExtensions: Set<String> = [
        "cf", "md", "sh", "py", "pl", "rs", "so", "mo", "po", "gz", "xz", "js", "ts", "db", "go", "kt", "cc", "rb",
        "hs", "cs", "vb", "fs", "el", "lb",
    ]

    /// Generic and reserved top-level domains a ticket's names end in; two-letter country codes are taken as such.
    static let topLevel: Set<String> = [
        "com", "net", "org", "info", "biz", "edu", "gov", "mil", "int", "app", "dev", "shop", "store", "online",
        "site", "tech", "cloud", "email", "xyz", "top", "club", "blog", "news", "live", "page", "website",
        "space", "world", "agency", "digital", "media", "network", "systems", "solutions", "services", "support",
        "studio", "design", "company", "group", "tools", "pro", "mobi", "asia", "travel", "berlin",
        "hamburg", "bayern", "wien", "swiss", "london", "nyc", "paris", "amsterdam", "koeln", "ruhr", "nrw",
        "test", "example", "invalid", "localhost", "local", "internal", "lan", "home", "corp", "intranet", "arpa",
    ]

    /// Second-level suffixes under which the registrable domain has three labels.
    static let secondLevel: Set<String> = [
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "com.au", "net.au", "org.au", "co.nz", "co.jp", "ne.jp",
        "or.jp", "com.br", "com.ar", "com.mx", "com.tr", "co.za", "co.in", "com.cn", "com.sg", "com.hk", "co.at",
        "or.at", "co.il", "com.pl", "com.es",
    ]

    /// Names a reply about mail, the web or FTP needs to say who answered: providers, blocklists, CDNs,
    /// kb's own placeholders. A name is kept when it is one of these or ends in "." and one of these.
    static let wellKnown: [String] = [
        "example.com", "example.net", "example.org", "example", "invalid", "localhost",
        "google.com", "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "microsoft.com", "office365.com", "office.com", "yahoo.com", "yahoodns.net", "yahooinc.com", "aol.com",
        "gmx.net", "gmx.de", "gmx.com", "web.de", "t-online.de", "icloud.com", "me.com", "apple.com",
        "comcast.net", "orange.fr", "free.fr", "zoho.com", "mimecast.com", "pphosted.com", "proofpoint.com",
        "secureserver.net", "godaddy.com", "sendgrid.net", "mailgun.org", "amazonses.com", "amazonaws.com",
        "spamhaus.org", "spamcop.net", "barracudacentral.org", "sorbs.net", "uceprotect.net", "mxtoolbox.com",
        "cloudflare.com", "cloudflare.net", "letsencrypt.org", "wordpress.org", "cpanel.net", "filezilla-project.org",
        "postfix.org", "exim.org", "nginx.org", "apache.org", "mozilla.org", "ietf.org", "rfc-editor.org",
        "iana.org", "github.com", "curl.se", "caddyserver.com", "haproxy.org", "traefik.io", "proftpd.org",
        "pureftpd.org", "plesk.com", "docs.cpanel.net", "postmaster.free.fr", "schweikert.ch",
    ]

    /// kb's own and documentation placeholders in any top-level domain: example.de, shop.example.io, beispiel.de.
    static func isPlaceholder(_ name: String) -> Bool {
        let labels = name.split(separator: ".")
        guard labels.count >= 2 else { return false }
        let second = labels[labels.count - 2]
        return second == "example" || second == "beispiel" || (labels.count >= 3 && second == "co"
            && labels[labels.count - 3] == "example")
    }

    /// Provider suffixes whose first label names the provider's customer (a tenant): that label is redacted.
    static let tenantSuffixes: [String] = [
        "mail.protection.outlook.com", "onmicrosoft.com", "myshopify.com", "herokuapp.com", "azurewebsites.net",
        "github.io", "netlify.app", "vercel.app", "pages.dev", "workers.dev", "cloudfront.net", "trycloudflare.com",
        "appspot.com", "azureedge.net", "fastly.net", "akamaiedge.net",
    ]

    /// Labels that name a service, not a customer; kept in front of a redacted domain.
    static let genericLabels: Set<String> = [
        "www", "mail", "smtp", "smtps", "mx", "imap", "pop", "pop3", "ftp", "sftp", "ftps", "webmail", "cpanel",
        "whm", "autodiscover", "autoconfig", "api", "cdn", "static", "shop", "store", "blog", "app", "m", "ns",
        "dns", "_dmarc", "_domainkey", "_mta-sts", "mta-sts", "default", "selector", "email", "news", "newsletter",
        "billing", "portal", "secure", "admin", "dev", "staging", "test", "beta", "login", "auth", "account", "my",
        "support", "help", "docs", "status", "assets", "img", "images", "media", "files", "download", "mta",
        "relay", "out", "outbound", "bounce", "bounces", "lists", "origin", "edge", "proxy", "lb", "web", "server",
        "host", "vps", "node", "srv", "cloud", "office", "intranet", "remote", "vpn",
    ]

    // MARK: stand-ins

    private mutating func replacement(for value: Value) -> String {
        switch value.kind {
        case .ipv4: return ipv4Token(value.text)
        case .ipv6: return ipv6Token(value.text.lowercased())
        case .host: return host(value.text, force: false)
        case .email: return email(value.text)
        }
    }

    private mutating func ipv4Token(_ address: String) -> String {
        if let token = ipv4[address] { return token }
        var token: String
        repeat {
            nextIPv4 += 1
            let ranges = ["192.0.2.", "198.51.100.", "203.0.113."]
            let (range, n) = ((nextIPv4 - 1) / 254, (nextIPv4 - 1) % 254 + 1)
            token = range < ranges.count ? ranges[range] + String(n) : "[ip-\(nextIPv4)]"
        } while originals.contains(token)
        ipv4[address] = token
        return token
    }

    private mutating func ipv6Token(_ address: String) -> String {
        if let token = ipv6[address] { return token }
        var token: String
        repeat {
            nextIPv6 += 1
            token = "2001:db8::" + String(nextIPv6, radix: 16)
        } while originals.contains(token)
        ipv6[address] = token
        return token
    }

    private mutating func email(_ address: String) -> String {
        let key = address.lowercased()
        if let token = emails[key] { return token }
        guard let at = address.lastIndex(of: "@") else { return address }
        let local = String(address[..<at])
        let domain = host(String(address[address.index(after: at)...]), force: true)
        let roles: Set<String> = ["postmaster", "abuse", "mailer-daemon", "noreply", "no-reply", "hostmaster",
                                  "webmaster", "root", "admin", "support", "info"]
        let token: String
        if roles.contains(local.lowercased()) { token = local + "@" + domain } else {
            nextUser += 1
            token = "user-\(nextUser)@" + domain
        }
        emails[key] = token
        return token
    }

    /// `force`: the name is an e-mail domain, redacted whatever its ending.
    private mutating func host(_ name: String, force: Bool) -> String {
        let lower = name.lowercased()
        let trailingDot = lower.hasSuffix(".")
        let bare = trailingDot ? String(lower.dropLast()) : lower
        if let tenant = Self.tenantSuffixes.first(where: { bare.hasSuffix("." + $0) }) {
            let front = bare.dropLast(tenant.count + 1).split(separator: ".").map { label($0) }
            return (front + [tenant]).joined(separator: ".") + (trailingDot ? "." : "")
        }
        if keep.contains(where: { bare == $0 || bare.hasSuffix("." + $0) }) { return reversedAddresses(in: name) }
        if Self.isPlaceholder(bare) { return name }
        var parts = bare.split(separator: ".").map(String.init)
        guard parts.count >= 2 else { return name }
        let two = parts.suffix(2).joined(separator: ".")
        let size = Self.secondLevel.contains(two) && parts.count >= 3 ? 3 : 2
        let registrable = parts.suffix(size).joined(separator: ".")
        parts.removeLast(size)
        let domain: String
        if let token = domains[registrable] { domain = token } else {
            var n = domains.count + 1
            while originals.contains("domain-\(n).example") { n += 1 }
            domain = "domain-\(n).example"
            domains[registrable] = domain
        }
        return (parts.map { label(Substring($0)) } + [domain]).joined(separator: ".") + (trailingDot ? "." : "")
    }

    /// A blocklist or reverse-DNS query name spells an address backwards (4.3.2.1.zen.spamhaus.org for
    /// 1.2.3.4): the address gets its stand-in, spelled backwards too.
    private mutating func reversedAddresses(in name: String) -> String {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard labels.count > 4, labels.prefix(4).allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else {
            return name
        }
        let address = labels.prefix(4).reversed().joined(separator: ".")
        guard Self.validIPv4(address), !address.hasPrefix("127.") else { return name }
        let token = ipv4Token(address)
        guard !token.hasPrefix("[") else { return name }
        return (token.split(separator: ".").reversed().map(String.init) + labels.dropFirst(4)).joined(separator: ".")
    }

    private mutating func label(_ label: Substring) -> String {
        let text = String(label)
        let base = String(text.reversed().drop { $0.isNumber }.reversed())
        if Self.genericLabels.contains(text) || Self.genericLabels.contains(base) { return text }
        if let token = labels[text] { return token }
        let token = "sub-\(labels.count + 1)"
        labels[text] = token
        return token
    }
}
