import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which name in the input plays which part in the case: the sender's domain and IP, the recipient and its
/// provider, the receiving MX, the requested host, the origin, the proxy, the SNI and Host a server saw, the
/// certificate names, the mechanism a reply names, the product and its version (issue 9).
///
/// A role comes from where a name stands in a reply, a log line or a header, never from a sentence about it:
/// "my domain is acme.test" names no sender domain, a config comment names nothing, and the receiver's MX is
/// never taken for the sender's domain.
public struct CaseRoles: Sendable, Hashable {
    /// The roles, spelled as the template variables and the JSON report spell them.
    public enum Role: String, Sendable, CaseIterable, Codable, Comparable {
        case senderDomain = "sender-domain"
        case senderIP = "sender-ip"
        case recipientDomain = "recipient-domain"
        case recipientProvider = "recipient-provider"
        case receivingMX = "receiving-mx"
        case requestedHost = "requested-host"
        case originIP = "origin-ip"
        case proxy
        case sni
        case hostHeader = "host-header"
        case certNames = "cert-names"
        case mechanism
        case product
        case version
        case siteURL = "site-url"

        public static func < (lhs: Role, rhs: Role) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// One value with where it was read.
    public struct Entry: Sendable, Hashable {
        public var value: String
        public var evidence: Evidence
    }

    /// At most this many values per role.
    public static let limit = 5

    public private(set) var entries: [Role: [Entry]] = [:]

    public init() {}

    public var isEmpty: Bool { entries.isEmpty }

    /// The values of a role, best first.
    public func values(_ role: Role) -> [String] { entries[role]?.map(\.value) ?? [] }

    public func first(_ role: Role) -> String? { entries[role]?.first?.value }

    /// Adds a value unless it is there already; later values rank after earlier ones.
    public mutating func add(_ role: Role, _ value: String, evidence: Evidence) {
        let clean = value.trimmingCharacters(in: .whitespaces)
        guard !clean.isEmpty, clean.utf8.count <= 300 else { return }
        var list = entries[role] ?? []
        guard !list.contains(where: { $0.value.caseInsensitiveCompare(clean) == .orderedSame }),
              list.count < Self.limit else { return }
        list.append(Entry(value: clean, evidence: evidence))
        entries[role] = list
    }

    /// Puts a value first (a value the user named outranks one read from the text).
    mutating func prepend(_ role: Role, _ value: String, evidence: Evidence) {
        var list = (entries[role] ?? []).filter { $0.value.caseInsensitiveCompare(value) != .orderedSame }
        list.insert(Entry(value: value, evidence: evidence), at: 0)
        entries[role] = Array(list.prefix(Self.limit))
    }

    mutating func mapEvidence(_ transform: (Evidence) -> Evidence) {
        for (role, list) in entries {
            entries[role] = list.map { Entry(value: $0.value, evidence: transform($0.evidence)) }
        }
    }

    mutating func removeAll(_ role: Role, where drop: (String) -> Bool) {
        guard let list = entries[role] else { return }
        let kept = list.filter { !drop($0.value) }
        entries[role] = kept.isEmpty ? nil : kept
    }

    /// Role name to values, for the JSON report.
    public var summary: [String: [String]] {
        var out: [String: [String]] = [:]
        for (role, list) in entries where !list.isEmpty { out[role.rawValue] = list.map(\.value) }
        return out
    }

    /// The text a `{{role}}` template variable gets: the best value, or every value for the roles that are lists.
    public func templateValue(_ role: Role) -> String? {
        let list = values(role)
        guard let first = list.first else { return nil }
        switch role {
        case .mechanism: return list.map(Self.displayName(ofMechanism:)).joined(separator: ", ")
        case .certNames: return list.joined(separator: ", ")
        default: return first
        }
    }

    // MARK: vocabularies

    /// What a reply or log line can name as the reason; a closed list, so playbooks can refer to it.
    public static let mechanisms: [String] = [
        "spf", "dkim", "dmarc", "ptr", "helo", "rate", "volume", "complaints", "reputation", "blocklist", "tls",
        "concurrency", "greylist", "timeout", "allowlist", "policy", "sni",
    ]

    /// Proxies and CDNs, CDNs first: the one in front is the `proxy` role.
    public static let proxies: [String] = [
        "cloudflare", "cloudfront", "fastly", "akamai", "haproxy", "traefik", "envoy", "istio", "kong",
        "nginx-proxy-manager", "zoraxy", "anubis", "engintron",
    ]

    /// Server software whose version a report can name.
    public static let products: [String] = [
        "apache", "nginx", "openresty", "litespeed", "traefik", "haproxy", "caddy", "envoy", "kong", "varnish", "iis",
        "exim", "postfix", "sendmail", "vsftpd", "proftpd", "pure-ftpd", "filezilla", "hestiacp", "plesk", "wordpress",
    ]

    /// The values a playbook condition may name for a role with a closed vocabulary; nil for open roles
    /// (names), whose values are compared as written.
    public static func vocabulary(of role: Role) -> [String]? {
        switch role {
        case .mechanism: return mechanisms
        case .recipientProvider: return Vocabulary.providers
        case .proxy: return proxies + ["nginx", "apache", "caddy", "openresty", "litespeed"]
        case .product: return products
        default: return nil
        }
    }

    static func displayName(ofMechanism slug: String) -> String {
        switch slug {
        case "spf", "dkim", "dmarc", "ptr", "helo", "tls", "sni": return slug.uppercased()
        case "rate": return "sending rate"
        default: return slug
        }
    }

    // MARK: providers by domain

    /// Mail domains and MX domains of the big receivers, so a recipient or MX names its provider.
    static let providerDomains: [(suffix: String, provider: String)] = [
        ("gmail.com", "gmail"), ("googlemail.com", "gmail"), ("google.com", "gmail"),
        ("outlook.com", "microsoft"), ("hotmail.com", "microsoft"), ("live.com", "microsoft"), ("msn.com", "microsoft"),
        ("office365.com", "microsoft"), ("hotmail.de", "microsoft"), ("hotmail.fr", "microsoft"),
        ("hotmail.co.uk", "microsoft"), ("outlook.de", "microsoft"),
        ("yahoo.com", "yahoo"), ("yahoodns.net", "yahoo"), ("aol.com", "yahoo"), ("ymail.com", "yahoo"),
        ("yahoo.de", "yahoo"), ("yahoo.fr", "yahoo"), ("yahoo.co.uk", "yahoo"),
        ("icloud.com", "icloud"), ("me.com", "icloud"), ("mac.com", "icloud"),
        ("comcast.net", "comcast"),
        ("gmx.net", "gmx"), ("gmx.de", "gmx"), ("gmx.at", "gmx"), ("gmx.ch", "gmx"), ("gmx.com", "gmx"),
        ("web.de", "gmx"),
        ("mimecast.com", "mimecast"), ("pphosted.com", "proofpoint"), ("secureserver.net", "godaddy"),
        ("orange.fr", "orange"), ("wanadoo.fr", "orange"), ("zoho.com", "zoho"), ("zoho.eu", "zoho"),
        ("free.fr", "free"),
    ]

    /// Domains that run a provider's mail infrastructure: never the customer's own sending domain.
    static let infrastructureSuffixes = [
        "google.com", "googlemail.com", "outlook.com", "office365.com", "yahoodns.net", "mimecast.com", "pphosted.com",
        "secureserver.net", "gmx.net", "web.de", "icloud.com", "comcast.net",
    ]

    static func provider(ofDomain domain: String) -> String? {
        let d = domain.lowercased()
        return providerDomains.first { d == $0.suffix || d.hasSuffix("." + $0.suffix) }?.provider
    }

    static func isUnder(_ name: String, _ suffix: String) -> Bool {
        let n = name.lowercased(), s = suffix.lowercased()
        return n == s || n.hasSuffix("." + s)
    }
}

// MARK: extraction

/// Reads roles from prepared texts with bounded RE2 patterns; every rule needs one of its literals to be in the
/// text before its pattern runs, so most inputs pay for a handful of `memchr` scans.
struct CaseRoleScanner: Sendable {
    /// How a captured group becomes a value.
    enum Kind: Sendable {
        /// An IPv4 or IPv6 address.
        case ip
        /// An IP address that is not loopback or private (a log's client field on the sender's own host).
        case publicIP
        /// A host name (not an IP address).
        case host
        /// A host name or an IP address, with an optional port dropped.
        case hostOrIP
        /// The domain of an e-mail address, or a bare domain.
        case addressDomain
        /// The scheme and authority (and path) of a URL.
        case url
        /// A list of certificate names.
        case certNames
        /// A product name, mapped to its slug.
        case product
        /// A dotted version number.
        case version
    }

    struct Capture: Sendable {
        let group: Int
        let role: CaseRoles.Role
        let kind: Kind
    }

    struct Rule: Sendable {
        let regex: RegexPattern
        let requires: [[UInt8]]
        let captures: [Capture]
        /// Lower ranks first among values of the same role.
        let rank: Int
        let detail: String
        /// Only on lines without this (lowercase) text; the line decides the side of Exim's `H=`.
        var unlessLine: String?
        /// Only on lines with this (lowercase) text.
        var onlyLine: String?
        /// A fixed mechanism this rule also names.
        var mechanism: String?
    }

    struct Keyword: Sendable {
        let regex: RegexPattern
        let mechanism: String
    }

    let rules: [Rule]
    let keywords: [Keyword]
    /// Lines whose words are a server's or a receiver's, not a person's: replies, DSN fields, log status.
    let evidenceLine: RegexPattern

    var invalidPatterns: [String] {
        (rules.map(\.regex) + keywords.map(\.regex) + [evidenceLine]).filter { $0.check() != nil }.map(\.source)
    }

    init() {
        var rules: [Rule] = []
        func add(_ pattern: String, _ requires: [String], _ captures: [(Int, CaseRoles.Role, Kind)], rank: Int,
                 _ detail: String, unlessLine: String? = nil, onlyLine: String? = nil, mechanism: String? = nil) {
            rules.append(Rule(regex: SymptomRegex.compile(pattern), requires: requires.map { Array($0.utf8) },
                              captures: captures.map { Capture(group: $0.0, role: $0.1, kind: $0.2) }, rank: rank,
                              detail: detail, unlessLine: unlessLine, onlyLine: onlyLine, mechanism: mechanism))
        }
        let ip = #"([0-9a-fA-F:.]{3,45})"#
        let ip4 = #"((?:\d{1,3}\.){3}\d{1,3})"#
        let address = #"([^\s<>@"',;()\[\]]{1,64}@[a-zA-Z0-9.-]{1,253})"#
        let name = #"([a-zA-Z0-9*_](?:[a-zA-Z0-9._-]{0,251}[a-zA-Z0-9])?)"#
        let hostName = #"([^\s'"<>()\[\],;`]{1,253})"#

        // the sender, as a receiver's reply names it
        add(#"\b(spf|dkim|dmarc)\s{0,3}\[([^\]\s]{1,253})\]"#, ["spf", "dkim", "dmarc"],
            [(2, .senderDomain, .addressDomain)], rank: 0, "the domain the reply's authentication result names")
        // Gmail's 4.7.27 form: "Authentication results: SPF domain: shop.example SPF result: none"
        add(#"\b(?:spf|dkim) domain:?\s{1,3}"# + name, ["spf domain", "dkim domain"],
            [(1, .senderDomain, .addressDomain)], rank: 0, "the domain the reply's authentication result names")
        add(#"\bwith ip:?\s{0,3}\[([0-9a-fA-F:.]{3,45})\]"#, ["with ip"], [(1, .senderIP, .ip)], rank: 0,
            "the sending IP the reply's SPF result names")
        add(#"\bmessages from \[?"# + ip, ["messages from"], [(1, .senderIP, .ip)], rank: 0,
            "the IP the reply says messages came from")
        add(#"\[((?:\d{1,3}\.){3}\d{1,3})\s{1,12}\d{1,3}\]"#, ["["], [(1, .senderIP, .ip)], rank: 1,
            "the IP in the reply's bracketed address and score")
        add(#"\b(?:mail server|client host|sending ip|sending host|ip address|your ip|reverse dns for|sessions from|connections from|connects from)\s{0,3}[\[(]?"#
            + ip, ["mail server", "client host", "sending", "ip address", "your ip", "reverse dns for", "from"],
            [(1, .senderIP, .ip)], rank: 1, "the IP the reply refers to as the sender")
        add(#"\["# + ip + #"\]:?\s{1,3}(?:the ip|our system|this message|the sending|gmail has|messages from)"#,
            ["["], [(1, .senderIP, .ip)], rank: 0, "the IP the reply opens with")
        add(#"[?&](?:ip|v)="# + ip4, ["ip=", "v="], [(1, .senderIP, .ip)], rank: 1,
            "the IP in the provider's explanation link")
        add(#"\bdomain of (?:[^\s@]{1,64}@)?"# + name + #" does not designate "# + ip + #" as permitted sender"#,
            ["does not designate"], [(1, .senderDomain, .addressDomain), (2, .senderIP, .ip)], rank: 0,
            "the domain and IP of the SPF result", mechanism: "spf")
        add(#"\bsending domain\s{1,3}"# + name, ["sending domain"], [(1, .senderDomain, .addressDomain)], rank: 0,
            "the domain the reply calls the sending domain")
        add(#"\bfrom "# + name + #" is not accepted due to"#, ["is not accepted due to"],
            [(1, .senderDomain, .addressDomain)], rank: 0, "the domain whose DMARC policy the reply applies",
            mechanism: "dmarc")
        // the sender, as headers and logs name it
        add(#"\bfrom=<"# + address + ">", ["from=<"], [(1, .senderDomain, .addressDomain)], rank: 1,
            "the envelope sender in the mail log (from=)")
        add(#"\sF=<"# + address + ">", ["f=<"], [(1, .senderDomain, .addressDomain)], rank: 1,
            "the envelope sender in Exim's log (F=)")
        add(#"\s<=\s{1,3}"# + address + #"(?:\s|$)"#, ["<="], [(1, .senderDomain, .addressDomain)], rank: 1,
            "the sender of the message Exim received (<=)")
        add(#"\bx-postfix-sender:\s{0,3}rfc822;\s{0,3}<?"# + address, ["x-postfix-sender"],
            [(1, .senderDomain, .addressDomain)], rank: 1, "the sender in the bounce's X-Postfix-Sender field")
        // a header line of the returned message or of the ticket, in English or German
        add(#"^(?:from|sender|absender|von):\s{0,3}(?:[^<\n]{0,80}<)?"# + address, ["from:", "sender:", "absender:", "von:"],
            [(1, .senderDomain, .addressDomain)], rank: 2, "the sender in a From or Sender header line")
        add(#"^return-path:\s{0,3}<"# + address + ">", ["return-path"], [(1, .senderDomain, .addressDomain)], rank: 2,
            "the Return-Path of the returned message")
        add(#"\bsmtp\.mailfrom=(?:[^\s;@]{1,64}@)?"# + name, ["smtp.mailfrom="], [(1, .senderDomain, .addressDomain)],
            rank: 1, "the envelope domain in Authentication-Results")
        // the From domain is the one DMARC reads, so it outranks envelope domains
        add(#"\bheader\.from="# + name, ["header.from="], [(1, .senderDomain, .addressDomain)], rank: -1,
            "the From domain in Authentication-Results")
        add(#"\benvelope-from[=:]\s{0,3}<?"# + address, ["envelope-from"], [(1, .senderDomain, .addressDomain)],
            rank: 2, "the envelope sender")
        add(#"\bmail from:\s{0,3}<"# + address + ">", ["mail from:"], [(1, .senderDomain, .addressDomain)], rank: 1,
            "the MAIL FROM of the session transcript")
        add(#"\breject: (?:rcpt|mail|data|ehlo|helo|connect|end-of-message) from [^\[\s]{1,253}\["# + ip + #"\]"#,
            ["reject: "], [(1, .senderIP, .publicIP)], rank: 1, "the client a receiving Postfix rejected")
        add(#"\bclient=[^\[\s]{1,253}\["# + ip + #"\]"#, ["client="], [(1, .senderIP, .publicIP)], rank: 2,
            "the client that handed the message to Postfix")
        add(#"\sH=[^\s\[]{0,253}\s{0,2}(?:\([^)\s]{1,253}\)\s{1,2})?\["# + ip + #"\]"#, ["h="],
            [(1, .senderIP, .publicIP)], rank: 2, "the host Exim received the message from", onlyLine: " <= ")

        // the recipient and the receiving MX
        add(#"\bto=<"# + address + ">", ["to=<"], [(1, .recipientDomain, .addressDomain)], rank: 1,
            "the recipient in the mail log (to=)")
        add(#"(?:^|\s)(?:=>|->|==|\*\*)\s{1,3}"# + address, ["=>", "->", "==", "**"],
            [(1, .recipientDomain, .addressDomain)], rank: 1, "the recipient of Exim's delivery line")
        add(#"^\s{0,8}<"# + address + #">:\s"#, [">: "], [(1, .recipientDomain, .addressDomain)], rank: 0,
            "the recipient the bounce reports on")
        add(#"\b(?:final|original)-recipient:\s{0,3}rfc822;\s{0,3}<?"# + address, ["-recipient:"],
            [(1, .recipientDomain, .addressDomain)], rank: 0, "the recipient in the bounce's delivery report")
        add(#"\brcpt to:\s{0,3}<"# + address + ">", ["rcpt to:"], [(1, .recipientDomain, .addressDomain)], rank: 1,
            "the RCPT TO of the session transcript")
        add(#"\bhost "# + name + #"\["# + ip + #"\](?::\d{1,5})?\s{1,3}(?:said|refused)"#, ["host "],
            [(1, .receivingMX, .host)], rank: 0, "the MX that answered, in the bounce")
        add(#"\brelay="# + name + #"\["# + ip + #"\]"#, ["relay="], [(1, .receivingMX, .host)], rank: 1,
            "the relay in the mail log")
        add(#"\bconnect to "# + name + #"\["# + ip + #"\]"#, ["connect to "], [(1, .receivingMX, .host)], rank: 1,
            "the MX the mail log tried to reach")
        add(#"\sH="# + name + #"\s{1,2}(?:\([^)\s]{1,253}\)\s{1,2})?\["# + ip + #"\]"#, ["h="],
            [(1, .receivingMX, .host)], rank: 1, "the remote host in Exim's delivery line", unlessLine: " <= ")
        add(#"\bremote-mta:\s{0,3}dns;\s{0,3}"# + name, ["remote-mta"], [(1, .receivingMX, .host)], rank: 0,
            "the Remote-MTA of the bounce's delivery report")

        // the web side: what a server saw and where it proxied
        add(#"hostname\s{1,3}"# + hostName + #"\s{1,3}provided via sni,?\s{1,3}and hostname\s{1,3}"# + hostName
            + #"\s{1,3}provided via http"#, ["provided via sni"],
            [(1, .sni, .hostOrIP), (2, .hostHeader, .hostOrIP)], rank: 0, "the names in Apache's AH02032 line",
            mechanism: "sni")
        add(#"hostname\s{1,3}"# + hostName + #"\s{1,3}\(default host as no sni was provided\)\s{0,3}and hostname\s{1,3}"#
            + hostName + #"\s{1,3}provided via http"#, ["default host as no sni"],
            [(2, .hostHeader, .hostOrIP)], rank: 0, "the Host in Apache's AH02032 line (no SNI was sent)",
            mechanism: "sni")
        add(#"\bah0203[13]\b"#, ["ah0203"], [], rank: 0, "Apache's SNI check", mechanism: "sni")
        add(#"tls servername \("# + hostName + #"\) and http host \("# + hostName + #"\)"#, ["servername ("],
            [(1, .sni, .hostOrIP), (2, .hostHeader, .hostOrIP)], rank: 0, "the names in the proxy's SNI check",
            mechanism: "sni")
        add(#", host: ""# + hostName + #"""#, [", host: \""], [(1, .hostHeader, .host)], rank: 1,
            "the Host in nginx's error log")
        add(#""(?:requesthost|request_host|host|:authority|authority)"\s{0,3}:\s{0,3}""# + hostName + #"""#,
            ["host\"", "authority\""], [(1, .hostHeader, .host)], rank: 1, "the Host field of a JSON log line")
        add(#""(?:sni|servername|ssl_server_name|tls_sni|requestsni)"\s{0,3}:\s{0,3}""# + hostName + #"""#,
            ["sni\"", "servername\"", "server_name\""], [(1, .sni, .host)], rank: 1, "the SNI field of a JSON log line")
        add(#"^[ \t]*>[ \t]*host:[ \t]*"# + hostName, ["host:"], [(1, .hostHeader, .host)], rank: 1,
            "the Host header curl sent")
        add(#"-H\s{0,3}['"]?host:\s{0,3}"# + hostName, ["host:"], [(1, .hostHeader, .host)], rank: 0,
            "the Host header set on the command line")
        add(#"\bcurl\b[^\n]{0,300}?\bhttps://\[?([^/\s'"\]:]{1,253})"#, ["curl"],
            [(1, .sni, .host), (1, .requestedHost, .host)], rank: 2, "the name in the URL curl connected to")
        // the name a sentence or log line ties to the 421 itself, not a name that "works"
        add(#"\bhttps?://([^/\s'"<>()\[\],;`:]{1,253})[^\s'"<>]{0,200}\s{1,3}(?:now |still |only |always |sometimes )?(?:returns?|gives?|shows?|answers?|gets?|got|fails with|responds with|is|=)\s{1,3}[^\n]{0,20}?(?:421|misdirected)"#,
            ["421", "misdirected"], [(1, .requestedHost, .host)], rank: 0, "the URL the input says answers 421")
        add(#"(?:421|misdirected request)[^\n]{0,40}?\b(?:for|on|at|from|when opening|visiting)\s{1,3}(?:https?://)?([a-z0-9][a-z0-9-]{0,62}\.[a-z0-9.-]{0,250}[a-z0-9])"#,
            ["421", "misdirected"], [(1, .requestedHost, .host)], rank: 1, "the name the input says the 421 is for")
        add(#"-servername\s{1,3}"# + hostName, ["-servername"], [(1, .sni, .host)], rank: 1,
            "the SNI given to openssl s_client")
        add(#"\bupstream: "(?:https?|grpcs?)://([^/"\s]{1,260})"#, ["upstream: \""], [(1, .originIP, .hostOrIP)],
            rank: 0, "the upstream in nginx's error log")
        add(#"\borigin(?: server| ip| address|-ip)?(?: is| at| on)?\s{0,3}[:=]?\s{0,3}\[?"# + ip4, ["origin"],
            [(1, .originIP, .ip)], rank: 1, "the address named as the origin")
        add(#"^[ \t]*proxy_pass\s{1,3}https?://([^/;\s]{1,260})"#, ["proxy_pass"], [(1, .originIP, .hostOrIP)], rank: 2,
            "the proxy_pass target")
        add(#"^[ \t]*proxypass\s{1,3}\S{1,200}\s{1,3}https?://([^/\s"]{1,260})"#, ["proxypass"],
            [(1, .originIP, .hostOrIP)], rank: 2, "the ProxyPass target")

        // certificate names
        add(#"\bsubject:\s{0,3}(?:[a-z]{1,3}\s{0,2}=[^,\n]{0,200},\s{0,2})*cn\s{0,2}=\s{0,2}"# + name, ["subject"],
            [(1, .certNames, .certNames)], rank: 0, "the certificate subject")
        add(#"\bsubject=\s{0,3}(?:[a-z]{1,3}\s{0,2}=[^,\n]{0,200},\s{0,2})*cn\s{0,2}=\s{0,2}"# + name, ["subject="],
            [(1, .certNames, .certNames)], rank: 0, "the certificate subject")
        add(#"matched cert's "([^"\s]{1,253})""#, ["matched cert"], [(1, .certNames, .certNames)], rank: 0,
            "the certificate name curl matched")
        add(#"\bdns:([*a-zA-Z0-9._-]{1,253}(?:,\s{0,2}(?:dns|ip address):[*a-zA-Z0-9._:-]{1,253})*)"#, ["dns:"],
            [(1, .certNames, .certNames)], rank: 0, "the certificate's subjectAltName list")
        add(#"certificate is valid for ([^\n]{1,600}?), not "#, ["certificate is valid for"],
            [(1, .certNames, .certNames)], rank: 0, "the names the client says the certificate is valid for")

        // the site URL an application is configured with
        add(#"\b(?:site ?url|site address(?: \(url\))?|wordpress address(?: \(url\))?|wp_home|wp_siteurl|siteurl|home_url|option (?:update|get|set) home)\b[^\n]{0,40}?(https?://[^\s'"<>(){}\[\],;`]{1,200})"#,
            ["site", "wordpress address", "wp_", "home_url", "option"], [(1, .siteURL, .url)], rank: 0,
            "the site URL the application is set to")

        // "changed the Site Address from http://old to https://new": the new one is what the site is set to now
        add(#"\b(?:site ?url|site address(?: \(url\))?|wordpress address(?: \(url\))?|wp_home|wp_siteurl|siteurl|home_url|home)\b[^\n]{0,80}?\bfrom\s{1,3}https?://[^\s'"<>]{1,200}\s{1,3}to\s{1,3}(https?://[^\s'"<>(){}\[\],;`]{1,200})"#,
            ["site", "wordpress address", "wp_", "home"], [(1, .siteURL, .url)], rank: -1,
            "the site URL the application was changed to")

        // product and version
        add(#"\b(apache|httpd|nginx|ea-nginx|openresty|litespeed|traefik|haproxy|caddy|envoy|kong|varnish|microsoft-iis|exim|postfix|sendmail|vsftpd|proftpd|pure-ftpd|filezilla server|hestiacp|plesk|wordpress)(?:/| version | v| )v?(\d{1,3}\.\d{1,3}(?:\.\d{1,4})?)\b(?:\s{1,3}(?:to|->|→)\s{1,3}v?(\d{1,3}\.\d{1,3}(?:\.\d{1,4})?))?"#,
            ["apache", "httpd", "nginx", "openresty", "litespeed", "traefik", "haproxy", "caddy", "envoy", "kong",
             "varnish", "iis", "exim", "postfix", "sendmail", "ftpd", "filezilla", "hestiacp", "plesk", "wordpress"],
            [(1, .product, .product), (3, .version, .version), (2, .version, .version)], rank: 0,
            "the product and version in the input")
        self.rules = rules

        let table: [(String, String)] = [
            (#"\bspf\b"#, "spf"), (#"\bdkim\b"#, "dkim"), (#"\bdmarc\b"#, "dmarc"),
            (#"reverse dns|\bptr\b|\brdns\b|reverse (?:lookup|record|hostname)|does not resolve to|forward (?:dns|entry|lookup)"#, "ptr"),
            (#"invalid (?:helo|ehlo)|(?:helo|ehlo)(?: name| hostname)?[^\n]{0,30}(?:invalid|rejected|not (?:a )?(?:fqdn|valid)|mismatch)|closing connection\.?\s{0,3}\((?:ehlo|helo)\)"#, "helo"),
            (#"\brate(?:-| )?limit|unusual rate|sending rate|too many messages|in a short period|how many messages|per hour"#, "rate"),
            (#"\bvolume\b"#, "volume"),
            (#"complaints?\b"#, "complaints"),
            (#"reputation"#, "reputation"),
            (#"block ?list|black ?list|spamhaus|\brbl\b|\bdnsbl\b|listed (?:on|in|at|by)\b"#, "blocklist"),
            (#"\btls ?1\.[01]\b|tls required|must issue a starttls|\bstarttls\b|tls version|protocol version|ssl version"#, "tls"),
            (#"too many (?:concurrent |simultaneous )?(?:smtp )?(?:connections|sessions)|zu viele (?:gleichzeitige )?verbindungen|trop de connexions"#, "concurrency"),
            (#"gr[ae]y-?list"#, "greylist"),
            (#"time(?:d)? ?out\b"#, "timeout"),
            (#"not in (?:the |our )?(?:allow|white) ?list|relay(?:ing)? (?:access )?denied|not permitted to relay|sender address blocked"#, "allowlist"),
            (#"policy restrictions|policy violations|due to (?:local )?policy"#, "policy"),
        ]
        keywords = table.map { Keyword(regex: SymptomRegex.compile($0.0), mechanism: $0.1) }
        evidenceLine = SymptomRegex.compile(
            #"^[^\n]*?(?:^\s{0,8}[245]\d\d[ -][245]\.\d{1,3}\.\d|\bdsn=|\bstatus=(?:deferred|bounced)|diagnostic-code:|authentication-results:|\bsaid:|\bah0\d{4}\b|\[(?:error|warn|crit)\])[^\n]*"#)
    }

    /// Enhanced status codes that name what failed (Gmail's and Microsoft's).
    static let enhancedMechanisms: [String: [String]] = [
        "4.7.23": ["ptr"], "4.7.25": ["ptr"], "5.7.23": ["ptr"], "5.7.25": ["ptr"],
        "4.7.24": ["spf"], "4.7.27": ["spf"], "5.7.27": ["spf"],
        "4.7.26": ["spf", "dkim"], "5.7.26": ["spf", "dkim", "dmarc"],
        "4.7.30": ["dkim"], "5.7.30": ["dkim"], "4.7.32": ["dmarc"], "5.7.32": ["dmarc"],
        "4.7.28": ["rate"], "4.7.29": ["tls"], "4.7.66": ["tls"], "4.7.650": ["reputation"],
    ]

    struct Candidate {
        var role: CaseRoles.Role
        var value: String
        var rank: Int
        var order: (Int, Int)
        var evidence: Evidence
    }

    /// Every role the texts show, then the roles derived from the other facts.
    func scan(_ texts: [SymptomText], facts: Facts) -> CaseRoles {
        var found: [Candidate] = []
        for (index, text) in texts.enumerated() {
            found += scan(text, index: index)
        }
        // A reply wrapped over lines ("421-4.7.27 … SPF domain:" / "421-4.7.27 shop.example") names its
        // roles only once its continuation prefixes are gone: scan the joined reply text too.
        for (i, reply) in facts.replies.prefix(50).enumerated() where reply.text.utf8.count <= 8192 {
            let joined = SymptomText(name: "reply", string: reply.text)
            found += scan(joined, index: texts.count + i).map { candidate in
                var c = candidate
                c.evidence.location = reply.location
                return c
            }
        }
        found += mechanismCandidates(texts, facts: facts)
        found.sort { a, b in a.rank != b.rank ? a.rank < b.rank : a.order < b.order }
        var roles = CaseRoles()
        for c in found { roles.add(c.role, c.value, evidence: c.evidence) }
        Self.derive(&roles, facts: facts)
        return roles
    }

    func scan(_ text: SymptomText, index: Int) -> [Candidate] {
        var out: [Candidate] = []
        for rule in rules {
            guard rule.requires.isEmpty || rule.requires.contains(where: { text.contains($0) }) else { continue }
            for m in text.matches(rule.regex, limit: 200) {
                let line = text.line(ofByte: m.range.lowerBound)
                let lineText = text.lineText(line).lowercased()
                if Self.isComment(lineText) { continue }
                if let unless = rule.unlessLine, lineText.contains(unless) { continue }
                if let only = rule.onlyLine, !lineText.contains(only) { continue }
                let location = text.location(ofByte: m.range.lowerBound)
                let matched = Finding.shortExcerpt(text.text(m.range))
                var roleSeen: Set<CaseRoles.Role> = []
                for capture in rule.captures where !roleSeen.contains(capture.role) {
                    guard let raw = text.group(m, capture.group), let value = Self.normalize(raw, capture.kind) else {
                        continue
                    }
                    for v in value {
                        out.append(Candidate(role: capture.role, value: v, rank: rule.rank,
                                             order: (index, m.range.lowerBound),
                                             evidence: Evidence(kind: "role", text: matched,
                                                                detail: "\(capture.role.rawValue): \(rule.detail)",
                                                                location: location)))
                    }
                    roleSeen.insert(capture.role)
                }
                if let mechanism = rule.mechanism {
                    out.append(Candidate(role: .mechanism, value: mechanism, rank: 0,
                                         order: (index, m.range.lowerBound),
                                         evidence: Evidence(kind: "role", text: matched,
                                                            detail: "mechanism: \(rule.detail)", location: location)))
                }
            }
        }
        return out
    }

    /// A line a person or a config wrote as a comment says nothing about the case.
    static func isComment(_ line: String) -> Bool {
        let t = line.drop { $0 == " " || $0 == "\t" }
        return t.hasPrefix("#") || t.hasPrefix("//") || t.hasPrefix(";") || t.hasPrefix("<!--")
    }

    /// What the replies and the server's own lines name as the reason, never what a person's sentence says.
    private func mechanismCandidates(_ texts: [SymptomText], facts: Facts) -> [Candidate] {
        var out: [Candidate] = []
        for (i, code) in facts.enhancedCodes.enumerated() {
            for mechanism in Self.enhancedMechanisms[code] ?? [] {
                out.append(Candidate(role: .mechanism, value: mechanism, rank: 0, order: (-1, i),
                                     evidence: Evidence(kind: "role", text: code,
                                                        detail: "mechanism: what enhanced code \(code) stands for")))
            }
        }
        var lines: [(text: String, location: SourceLocation?, order: (Int, Int))] = []
        for (i, reply) in facts.replies.prefix(50).enumerated() {
            lines.append((reply.text, reply.location, (-1, 100 + i)))
        }
        for (index, text) in texts.enumerated() {
            var budget = 200_000
            for m in text.matches(evidenceLine, limit: 300) where budget > 0 {
                let line = text.text(m.range)
                budget -= line.utf8.count
                if Self.isComment(line.lowercased()) { continue }
                lines.append((line, text.location(ofByte: m.range.lowerBound), (index, m.range.lowerBound)))
            }
        }
        for keyword in keywords {
            for line in lines {
                guard let m = keyword.regex.firstMatch(in: line.text), let hit = m.text(in: line.text) else { continue }
                // Gmail's "rate limited because it is unauthenticated" is about authentication, not the rate
                // and so is 4.7.27's "rate limited because SPF authentication didn't pass"
                if keyword.mechanism == "rate", line.text.lowercased().contains("authenticat") { continue }
                out.append(Candidate(role: .mechanism, value: keyword.mechanism, rank: 1, order: line.order,
                                     evidence: Evidence(kind: "role", text: String(hit),
                                                        detail: "mechanism: named in a reply or a server's log line",
                                                        location: line.location)))
                break
            }
        }
        return out
    }

    // MARK: derived roles and guards

    /// Roles that follow from other facts, and the guards that keep one side's names out of the other's roles.
    static func derive(_ roles: inout CaseRoles, facts: Facts) {
        // the receiver's names are never the sender's domain
        let mx = roles.values(.receivingMX)
        let recipients = roles.values(.recipientDomain)
        roles.removeAll(.senderDomain) { domain in
            mx.contains { CaseRoles.isUnder($0, domain) }
                || recipients.contains { $0.caseInsensitiveCompare(domain) == .orderedSame }
                || CaseRoles.infrastructureSuffixes.contains { CaseRoles.isUnder(domain, $0) }
        }
        // nor the receiver's address the sender's IP
        let mxAddresses = Set(mxIPs(facts))
        roles.removeAll(.senderIP) { mxAddresses.contains($0) }

        if roles.first(.recipientProvider) == nil {
            let fromNames = (recipients + mx).compactMap(CaseRoles.provider(ofDomain:))
            for provider in fromNames {
                roles.add(.recipientProvider, provider, evidence: Evidence(kind: "role", text: provider,
                    detail: "recipient-provider: the recipient's domain or MX belongs to it"))
            }
            let proto = facts.protocolVerdict.value
            if fromNames.isEmpty, proto == .smtp || proto == .unknown {
                let senders: Set<String> = ["sendgrid", "mailgun", "amazon-ses"]
                for slug in ordered(facts.providers) where !senders.contains(slug) {
                    roles.add(.recipientProvider, slug, evidence: facts.providers[slug]!)
                }
            }
        }
        if roles.first(.proxy) == nil {
            var inFront = ordered(facts.stacks).filter { CaseRoles.proxies.contains($0) }
            for (signature, slug) in [("cf-ray", "cloudflare"), ("cloudfront", "cloudfront"), ("fastly", "fastly"),
                                      ("akamai", "akamai")] where facts.signatures[signature] != nil {
                if !inFront.contains(slug) { inFront.append(slug) }
            }
            inFront.sort { (CaseRoles.proxies.firstIndex(of: $0) ?? 99) < (CaseRoles.proxies.firstIndex(of: $1) ?? 99) }
            // nginx in front of Apache is the proxy of a panel stack
            if inFront.isEmpty, facts.stacks["nginx"] != nil, facts.stacks["apache"] != nil { inFront = ["nginx"] }
            for slug in inFront {
                roles.add(.proxy, slug, evidence: facts.stacks[slug] ?? Evidence(kind: "role", text: slug,
                    detail: "proxy: a signature of it in the response"))
            }
        }
        // a mail session has no requested host: the names in it are the sender's and the receiver's
        if facts.protocolVerdict.value == .smtp { roles.removeAll(.requestedHost) { _ in true } }
        if roles.first(.requestedHost) == nil {
            let proto = facts.protocolVerdict.value
            if proto != .smtp {
                // the site an application is set to is the site people request
                let site = roles.first(.siteURL).flatMap { normalize($0, .url) == nil ? nil : URLComponents(string: $0)?.host }
                let host = facts.target?.host ?? roles.first(.hostHeader) ?? site ?? facts.hosts.first
                if let host {
                    roles.add(.requestedHost, host, evidence: Evidence(kind: "role", text: host,
                        detail: "requested-host: the name the request or session was for"))
                }
            }
        }
        // A WordPress site whose configured URL the input does not quote is the site that was requested.
        if roles.first(.siteURL) == nil, facts.stacks["wordpress"] != nil, facts.protocolVerdict.value != .smtp,
           let host = roles.first(.requestedHost), !isIPAddress(host) {
            roles.add(.siteURL, "https://" + host, evidence: Evidence(kind: "role", text: host,
                detail: "site-url: the requested host; the input quotes no configured site URL"))
        }
    }

    private static func isIPAddress(_ s: String) -> Bool { isIP(s) }

    /// Addresses of the receiving side, from `host NAME[ADDR] said` and `relay=NAME[ADDR]`.
    private static func mxIPs(_ facts: Facts) -> [String] {
        var out: [String] = []
        let text = facts.text
        for marker in ["] said", "]:25", "] refused"] {
            var search = text[...]
            var count = 0
            while count < 50, let r = search.range(of: marker) {
                let from = text.index(r.lowerBound, offsetBy: -48, limitedBy: text.startIndex) ?? text.startIndex
                if let open = text[from..<r.lowerBound].lastIndex(of: "[") {
                    out.append(String(text[text.index(after: open)..<r.lowerBound]))
                }
                search = text[r.upperBound...]
                count += 1
            }
        }
        return out
    }

    static func ordered(_ map: [String: Evidence]) -> [String] {
        map.sorted { a, b in
            let la = a.value.location?.line ?? Int.max, lb = b.value.location?.line ?? Int.max
            return la != lb ? la < lb : a.key < b.key
        }.map(\.key)
    }

    // MARK: values

    static func normalize(_ raw: String, _ kind: Kind) -> [String]? {
        let trimmed = raw.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'<>[]().,;"))
        switch kind {
        case .ip:
            return isIP(trimmed) ? [trimmed.lowercased()] : nil
        case .publicIP:
            return isIP(trimmed) && !isPrivate(trimmed) ? [trimmed.lowercased()] : nil
        case .host:
            guard !isIP(trimmed), let host = HostExtractor.normalize(trimmed, singleLabel: true, generic: false) else {
                return nil
            }
            return [host]
        case .hostOrIP:
            var value = trimmed
            if value.hasPrefix("["), let close = value.firstIndex(of: "]") {
                value = String(value[value.index(after: value.startIndex)..<close])
            } else if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") {
                value = String(value[..<colon])
            }
            if isIP(value) { return [value.lowercased()] }
            return HostExtractor.normalize(value, singleLabel: true, generic: false).map { [$0] }
        case .addressDomain:
            let domain = trimmed.split(separator: "@").last.map(String.init) ?? trimmed
            guard !isIP(domain), let host = HostExtractor.normalize(domain, singleLabel: false, generic: false),
                  !host.hasPrefix("mailer-daemon") else { return nil }
            return [host]
        case .url:
            guard let schemeEnd = trimmed.range(of: "://") else { return nil }
            var rest = trimmed[schemeEnd.upperBound...]
            while rest.hasSuffix("/") { rest = rest.dropLast() }
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            let hostPart = authority.split(separator: ":").first.map(String.init) ?? ""
            guard let host = HostExtractor.normalize(hostPart, singleLabel: true, generic: false)
                ?? (isIP(hostPart) ? hostPart : nil) else { return nil }
            let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
            let path = rest.dropFirst(authority.count).prefix { $0 != "?" && $0 != "#" }
            let portNumber = authority.split(separator: ":").last.map(String.init) ?? ""
            let port = authority.contains(":") ? ":" + portNumber : ""
            return ["\(scheme)://\(host)\(port)\(path)"]
        case .certNames:
            var out: [String] = []
            let separators = CharacterSet(charactersIn: ", ")
            // a subjectAltName list names its kinds: only DNS entries are names
            let typed = trimmed.lowercased().contains("dns:")
            for piece in trimmed.components(separatedBy: separators) where !piece.isEmpty {
                var name = piece.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "\"'[]()"))
                if typed && !name.hasPrefix("dns:") { continue }
                if name.hasPrefix("dns:") { name.removeFirst(4) }
                let wildcard = name.hasPrefix("*.")
                guard let host = HostExtractor.normalize(wildcard ? String(name.dropFirst(2)) : name,
                                                         singleLabel: false, generic: false) else { continue }
                out.append(wildcard ? "*." + host : host)
                if out.count >= CaseRoles.limit { break }
            }
            return out.isEmpty ? nil : out
        case .version:
            return trimmed.contains(".") && trimmed.allSatisfy({ $0.isNumber || $0 == "." }) ? [trimmed] : nil
        case .product:
            let slug = trimmed.lowercased()
            switch slug {
            case "httpd": return ["apache"]
            case "ea-nginx": return ["nginx"]
            case "microsoft-iis": return ["iis"]
            case "filezilla server": return ["filezilla"]
            default: return CaseRoles.products.contains(slug) ? [slug] : nil
            }
        }
    }

    static func isIP(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 45 else { return false }
        var v4 = in_addr()
        var v6 = in6_addr()
        return s.withCString { inet_pton(AF_INET, $0, &v4) == 1 || inet_pton(AF_INET6, $0, &v6) == 1 }
    }

    /// Loopback, private and link-local addresses: a host's own clients, never the sender a receiver judged.
    static func isPrivate(_ s: String) -> Bool {
        let lower = s.lowercased()
        if lower == "::1" || lower.hasPrefix("fe80:") || lower.hasPrefix("fc") || lower.hasPrefix("fd") { return true }
        let parts = s.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4 else { return false }
        switch (parts[0], parts[1]) {
        case (127, _), (10, _), (192, 168), (169, 254), (0, _): return true
        case (172, let b) where (16...31).contains(b): return true
        default: return false
        }
    }
}
