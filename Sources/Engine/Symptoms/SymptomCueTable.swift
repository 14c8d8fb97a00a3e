/// The evidence kb weighs to tell the three 421s apart, and the product names and tell-tale strings
/// that reveal stacks, providers and server signatures.
///
/// The weights model general evidence, not particular texts:
/// - 7: decisive on its own (an HTTP status line, an enhanced status code after 421, RFC 959's
///   "closing control connection", RFC 5321's "closing transmission channel", "Misdirected Request").
/// - 4 to 6: a protocol's own vocabulary (SMTP commands, mail log fields, FTP commands, SNI/Host wording).
/// - 1 to 3: products, providers and words that lean one way (browsers, "email", web server names).
/// - corroborating cues count only when their protocol already has other evidence ("try again later").
/// Phrases shared by several protocols ("too many connections", "service not available") weigh
/// little and evenly, so context decides. TLS words weigh nothing: HTTP, SMTP (STARTTLS) and FTP (AUTH TLS)
/// all use TLS.
struct SymptomCueTable: Sendable {
    let protocolCues: [SymptomCue]
    let intermittencyCues: [SymptomCue]

    /// Patterns RE2 rejects; compiles them all, so only tests ask.
    var invalidPatterns: [String] {
        (protocolCues + intermittencyCues).compactMap { cue in
            if case .pattern(let regex, _, _) = cue.matcher, regex.check() != nil { return regex.source }
            return nil
        }
    }

    init() {
        var b = SymptomCueBuilder()
        Self.addHTTP(&b)
        Self.addWebStacks(&b)
        Self.addSMTP(&b)
        Self.addMailProviders(&b)
        Self.addFTP(&b)
        Self.addShared(&b)
        let protocolCues = b.cues
        var i = SymptomCueBuilder()
        Self.addIntermittency(&i)
        self.protocolCues = protocolCues
        self.intermittencyCues = i.cues
    }

    // MARK: look-around, in Swift

    /// What ICU's `(?<=port\s|port\s\s|[a-z\]]:)` said before a port number.
    @Sendable static func afterPort(_ t: SymptomText, _ m: RegexMatch) -> Bool {
        let start = m.range.lowerBound
        func space(_ i: Int) -> Bool { t.byte(at: i).map { [0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B].contains($0) } ?? false }
        if space(start - 1), t.has("port", before: start - 1) { return true }
        if space(start - 1), space(start - 2), t.has("port", before: start - 2) { return true }
        guard t.byte(at: start - 1) == 0x3A, let b = t.byte(at: start - 2) else { return false }
        return (b >= 0x61 && b <= 0x7A) || b == 0x5D
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// Whether the scalar before `offset` is a word character or one of `others` (ASCII).
    static func touches(_ t: SymptomText, before offset: Int, _ others: String) -> Bool {
        if t.isWordScalar(before: offset) { return true }
        guard let b = t.byte(at: offset - 1) else { return false }
        return others.utf8.contains(b)
    }

    /// Whether the scalar at `offset` is a word character or one of `others` (ASCII).
    static func touches(_ t: SymptomText, at offset: Int, _ others: String) -> Bool {
        if t.isWordScalar(at: offset) { return true }
        guard let b = t.byte(at: offset) else { return false }
        return others.utf8.contains(b)
    }

    // MARK: HTTP

    private static func addHTTP(_ b: inout SymptomCueBuilder) {
        let version = #"HTTP/(?:1\.[01]|2(?:\.0)?|3(?:\.0)?)"#
        b.pattern(#"\b"# + version + #"\s+421\b"#, requires: ["http/"], http: 7, kind: "status-line",
                  "HTTP status line with 421")
        b.pattern(#"\b"# + version + #"\s+[1-5]\d\d\b"#, requires: ["http/"], http: 3, kind: "status-line",
                  "HTTP status line")
        b.pattern(#":status["'\]\s:=,]{0,8}421\b"#, requires: [":status"], http: 6, kind: "status-line",
                  "HTTP/2 :status 421 pseudo-header")
        b.phrase(":status", http: 2, kind: "header", "HTTP/2 pseudo-header")
        b.phrase("misdirected request", http: 7, kind: "reason-phrase", "HTTP 421 reason phrase 'Misdirected Request'")
        b.pattern(#"<title>\s*421\b"#, requires: ["<title>"], http: 3, kind: "body", "HTML error page titled 421")
        b.pattern(#"\bAH0203[123]\b"#, requires: ["ah0203"], http: 6, kind: "log-line",
                  "HTTP: Apache mod_ssl SNI/Host check (AH02031-AH02033)", stack: "apache")
        b.pattern(#"\bAH\d{5}:"#, requires: ["ah"], caseSensitive: true, http: 3, kind: "log-line",
                  "HTTP: Apache httpd log message code", stack: "apache")
        b.pattern(#"\[(?:ssl|proxy|proxy_http|http|http2|core|mpm_\w{1,10}|rewrite|authz_core):(?:error|warn|info|notice|debug|crit|trace\d)\]"#,
                  requires: [":error]", ":warn]", ":info]", ":notice]", ":debug]", ":crit]", ":trace"],
                  http: 4, kind: "log-line", "HTTP: Apache error log line", stack: "apache")
        b.phrase("provided via sni", http: 5, kind: "log-line", "HTTP: Apache SNI/Host mismatch wording", stack: "apache")
        b.phrase("provided via http", http: 3, kind: "log-line", "HTTP: Apache SNI/Host mismatch wording")
        b.phrase("no sni was provided", http: 4, kind: "log-line", "HTTP: request arrived without TLS SNI")
        b.phrase("server name indication", http: 4, "HTTP: TLS Server Name Indication selects the virtual host")
        b.phrase("sni", word: true, http: 2.5, "HTTP: TLS SNI selects the virtual host")
        b.phrase("host header", http: 2.5, "HTTP Host header")
        b.pattern(#"^[ \t]*[<>]?[ \t]*host:[ \t]*\S"#, requires: ["host:"], http: 3, kind: "header",
                  "HTTP Host request header")
        b.pattern(#"-H\s{0,3}['"]?host:"#, requires: ["host:"], http: 4, kind: "command",
                  "HTTP: curl with a Host header override", stack: "curl")
        b.phrase("server name different from the one that was negotiated", http: 6, kind: "log-line",
                 "HTTP: nginx SNI/Host mismatch log", stack: "nginx")
        b.phrase("negotiated protocol is disabled", http: 5, kind: "log-line", "HTTP: nginx per-server http2/http3 mismatch",
                 stack: "nginx")
        b.phrase("strict host matching", http: 6, kind: "log-line", "HTTP: Caddy strict SNI/Host matching",
                 stack: "caddy", signature: "caddy-strict-sni")
        b.phrase("strict_sni_host", http: 5, kind: "config", "HTTP: Caddy strict_sni_host", stack: "caddy",
                 signature: "caddy-strict-sni")
        b.pattern(#"\bstrict\s+sni\b"#, requires: ["strict"], http: 3, "HTTP: strict SNI checking")
        b.phrase("snicheck", http: 3, "HTTP: Traefik SNICheck middleware", stack: "traefik")
        b.phrase("tls options difference", http: 4, kind: "log-line", "HTTP: Traefik TLS options differ for SNI and Host",
                 stack: "traefik")
        b.phrase("invalid host header", http: 5, kind: "body", "HTTP: Host allow-list rejection",
                 signature: "invalid-host-header")
        b.phrase("non-authoritative server", http: 5, kind: "body", "HTTP: HAProxy 421 page",
                 stack: "haproxy", signature: "haproxy-421-page")
        b.phrase("the client needs a new connection for this request", http: 6, kind: "body", "HTTP: Apache 421 page",
                 stack: "apache", signature: "apache-421-page")
        b.phrase("does not match the server name indication", http: 4, kind: "body", "HTTP: Apache 421 page wording",
                 stack: "apache", signature: "apache-421-page")
        b.phrase("alpn", word: true, http: 3, "HTTP: TLS ALPN protocol negotiation")
        b.pattern(#"h2c?"#, requires: ["h2"], http: 1.5, "HTTP/2 ALPN id h2",
                  accept: { t, m in !Self.touches(t, before: m.range.lowerBound, "</.-")
                      && !Self.touches(t, at: m.range.upperBound, ">.-") })
        b.pattern(#"\bhttp(?:/|\s)?[23](?:\.0)?\b"#, requires: ["http"], http: 3, "HTTP/2 or HTTP/3 named")
        b.pattern(#"\bquic\b|\bh3="#, requires: ["quic", "h3="], http: 2, "HTTP/3 (QUIC, Alt-Svc h3)")
        b.near("curl", then: ["http://", "https://"], http: 3.5, kind: "command",
               "HTTP: curl request to an http(s) URL", stack: "curl")
        b.near("curl", then: ["ftp://", "ftps://", "ftpes://", "sftp://"], ftp: 4, kind: "command",
               "FTP: curl request to an ftp URL", stack: "curl")
        b.near("curl", then: ["smtp://", "smtps://"], smtp: 4, kind: "command", "SMTP: curl talking to an smtp URL",
               stack: "curl")
        b.pattern(#"\bcurl\b"#, requires: ["curl"], http: 1, kind: "command", "HTTP: curl named", corroborating: true,
                  stack: "curl")
        b.pattern(#"\bhttps?://"#, requires: ["http"], http: 1, kind: "url", "HTTP: http(s) URL")
        b.phrase("proxy_pass", http: 4, kind: "config", "HTTP: nginx proxy_pass", stack: "nginx")
        b.pattern(#"\bproxy_ssl_\w{2,30}"#, requires: ["proxy_ssl_"], http: 5, kind: "config",
                  "HTTP: nginx upstream TLS directive", stack: "nginx")
        b.phrase("proxy_set_header", http: 3, kind: "config", "HTTP: nginx proxy header directive", stack: "nginx")
        b.phrase("ssl_verify_client", http: 3, kind: "config", "HTTP: nginx client certificate check", stack: "nginx")
        b.phrase("server_name", word: true, http: 2, kind: "config", "HTTP: server_name (nginx vhost or TLS SNI field)")
        b.phrase("virtualhost", http: 4, kind: "config", "HTTP: Apache VirtualHost", stack: "apache")
        b.pattern(#"\bvhosts?\b|\bvirtual[ -]hosts?\b|\bserver blocks?\b"#, requires: ["vhost", "virtual", "server block"],
                  http: 3, "HTTP: virtual host / server block")
        b.pattern(#"\bSSL(?:StrictSNIVHostCheck|VHostSNIPolicy|ProxyEngine|ProxyCheckPeer\w{0,10})\b"#,
                  requires: ["ssl"], http: 5, kind: "config", "HTTP: Apache mod_ssl directive", stack: "apache")
        b.phrase("mod_ssl", http: 4, "HTTP: Apache mod_ssl", stack: "apache")
        b.pattern(#"\bhttpd\b"#, requires: ["httpd"], http: 2, "HTTP: httpd named", stack: "apache")
        b.phrase("browser", http: 2.5, "HTTP: a browser is the client", stack: "browser")
        b.phrase("浏览器", http: 2.5, "HTTP: a browser is the client", stack: "browser")
        b.pattern(#"\bchrom(?:e|ium)\b"#, requires: ["chrom"], http: 2.5, "HTTP: Chrome is the client", stack: "chrome")
        b.phrase("firefox", http: 2.5, "HTTP: Firefox is the client", stack: "firefox")
        b.phrase("safari", http: 2.5, "HTTP: Safari is the client", stack: "safari")
        b.phrase("mozilla/", http: 3, kind: "header", "HTTP: browser user agent")
        b.phrase("user-agent", http: 1.5, kind: "header", "HTTP: User-Agent header")
        b.pattern(#"\breferr?er\b"#, requires: ["refer"], http: 3, kind: "header", "HTTP: referer")
        b.pattern(#"^[ \t]*[<>]?[ \t]*(?:server|alt-svc|location|set-cookie|cache-control|x-powered-by|strict-transport-security|x-forwarded-[a-z]{2,8}|content-security-policy|access-control-[a-z-]{3,20}|vary|etag|x-cache|x-request-id):[ \t]"#,
                  requires: ["server:", "alt-svc:", "location:", "set-cookie:", "cache-control:", "x-powered-by:",
                             "strict-transport-security:", "x-forwarded-", "content-security-policy:", "access-control-",
                             "vary:", "etag:", "x-cache:", "x-request-id:"],
                  http: 3, kind: "header", "HTTP response header")
        b.pattern(#"\b(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT|PROPFIND)\s+\S+\s+HTTP/[0-9.]{1,3}"#,
                  requires: ["http/"], caseSensitive: true, http: 4, kind: "request-line", "HTTP request line")
        b.pattern(#""(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT|PROPFIND)\s+\S+\s+HTTP/[0-9.]{1,3}"\s+\d{3}\b"#,
                  requires: ["http/"], caseSensitive: true, http: 2, kind: "log-line", "HTTP access log line")
        b.pattern(#""(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT|PROPFIND)\s+\S+\s+HTTP/[0-9.]{1,3}"\s+421\b"#,
                  requires: ["http/"], caseSensitive: true, http: 3, kind: "log-line", "HTTP access log line with 421")
        b.pattern(#""method"\s{0,3}:\s{0,3}"(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT)""#, requires: ["method"],
                  http: 3, kind: "log-field", "HTTP method in a JSON log")
        b.pattern(#""status"\s{0,3}:\s{0,3}"?421\b"#, requires: ["status"], http: 4, kind: "log-field",
                  "HTTP: JSON log field status 421")
        b.pattern(#""(?:proto|protocol)"\s{0,3}:\s{0,3}"(?:HTTP/|h2|h3)"#, requires: ["proto"], http: 3, kind: "log-field",
                  "HTTP version in a JSON log")
        b.pattern(#"\bweb\s?(?:servers?|sites?|pages?|domains?|apps?|hosting)\b|\bwebsites?\b|\bwebpages?\b"#,
                  requires: ["web"], http: 2.5, "HTTP: web server or site wording")
        b.pattern(#"网站|网页"#, requires: ["网"], http: 2.5, "HTTP: web site wording")
        b.phrase("reverse proxy", http: 2, "HTTP: reverse proxy")
        b.phrase("load balancer", http: 1.5, "HTTP: load balancer")
        b.pattern(#"\bcdn\b"#, requires: ["cdn"], http: 2, "HTTP: CDN")
        b.pattern(#"\bwildcard\s+(?:ssl\s+|tls\s+)?cert"#, requires: ["wildcard"], http: 2, "HTTP: wildcard certificate")
        b.phrase("domain fronting", http: 4, "HTTP: domain fronting")
        b.phrase("coalesc", http: 3, "HTTP: connection coalescing")
        b.phrase("status code", http: 1.5, "HTTP: 'status code' wording")
        b.pattern(#"\bhttps?(?:[ _-](?:error|status|response|code|request))*[ :]{1,3}421\b"#, requires: ["http"], http: 5,
                  kind: "status-code", "HTTP: '421' called an HTTP status")
        b.pattern(#"\bhttp (?:response|status)(?: code)?\b|request failed with status code"#,
                  requires: ["http", "request failed"], http: 4, "HTTP: HTTP response/status code wording")
        b.pattern(#"\bhttps?\b"#, requires: ["http"], http: 2, "HTTP named", accept: { t, m in
            let end = m.range.upperBound
            return !t.has("://", at: end) && !(t.has("/", at: end) && t.byte(at: end + 1).map(Self.isDigit) == true)
        })
        b.phrase("bad request", http: 2.5, "HTTP 400 Bad Request")
        b.phrase("bad gateway", http: 3, "HTTP 502 Bad Gateway")
        b.pattern(#"\b(?:400|401|403|404|405|408|429)\s{0,3}(?:error|错误|bad request|forbidden|not found|unauthorized|too many requests)|(?:error|status|returned|returns|返回|报错|错误)\s{0,3}:?\s{0,3}["']?(?:400|401|403|404|405|408|429)\b"#,
                  requires: ["40", "429"], http: 2, kind: "status-code",
                  "HTTP-only status code (no SMTP or FTP reply uses it)")
        b.pattern(#"\b(?:fetch|xhr|xmlhttprequest|ajax|axios)\b"#, requires: ["fetch", "xhr", "xmlhttprequest", "ajax", "axios"],
                  http: 2, "HTTP: browser or JavaScript HTTP request")
        b.pattern(#"net::err_|\berr_http2_|\berr_quic_|\berr_ssl_"#, requires: ["err_"], http: 3,
                  "HTTP: Chrome network error code")
        b.pattern(#"\b(?:alb|elb|application load balancer|front door|app gateway|application gateway)\b"#,
                  requires: ["alb", "elb", "load balancer", "front door", "gateway"], http: 1.5,
                  "HTTP: cloud load balancer")
        b.pattern(#"\borigin(?: server)?s?\b"#, requires: ["origin"], http: 1.5, "HTTP: origin server (CDN wording)")
        b.pattern(#"\bproxy\b"#, requires: ["proxy"], http: 1, "HTTP: proxy", corroborating: true)
        b.pattern(#"\b(?:rest )?apis?\b"#, requires: ["api"], http: 1.5, "HTTP: API")
        b.pattern(#"\bupstream\b"#, requires: ["upstream"], http: 1, "HTTP: upstream (proxy wording)", corroborating: true)
        b.pattern(#"(?:443|80|8443|8080)\b"#, requires: ["443", "80"], http: 2, kind: "port",
                  "HTTP port", accept: Self.afterPort)
    }

    private static func addWebStacks(_ b: inout SymptomCueBuilder) {
        b.phrase("nginx", http: 1.5, "HTTP: nginx named", stack: "nginx")
        b.pattern(#"\bapache\b"#, requires: ["apache"],
                  http: 1.5, "HTTP: Apache named", stack: "apache", accept: { t, m in
            var at = m.range.upperBound
            if t.byte(at: at) == 0x20 || t.byte(at: at) == 0x2E { at += 1 }
            return !["commons", "james", "camel", "kafka", "spark", "mina", "ftpserver"].contains { t.has($0, at: at) }
        })
        b.phrase("apachectl", http: 2, "HTTP: apachectl", stack: "apache")
        b.phrase("traefik", http: 2, "HTTP: Traefik named", stack: "traefik")
        b.pattern(#"\bcaddy"#, requires: ["caddy"], http: 2, "HTTP: Caddy named", stack: "caddy")
        b.pattern(#"\benvoy"#, requires: ["envoy"], http: 2, "HTTP: Envoy named", stack: "envoy")
        b.pattern(#"\bkong\b"#, requires: ["kong"], http: 2, "HTTP: Kong gateway named", stack: "kong",
                  accept: { t, m in !t.has("hong ", before: m.range.lowerBound) })
        b.phrase("haproxy", http: 2, "HTTP: HAProxy named", stack: "haproxy")
        b.pattern(#"\b(?:open)?litespeed\b|\blsws\b"#, requires: ["litespeed", "lsws"], http: 2, "HTTP: LiteSpeed named",
                  stack: "litespeed")
        b.pattern(#"\biis\b|microsoft-iis"#, requires: ["iis"], http: 2, "HTTP: IIS named", stack: "iis")
        b.phrase("openresty", http: 2, "HTTP: OpenResty named", stack: "openresty")
        b.phrase("anubis", http: 1.5, "HTTP: Anubis named", stack: "anubis")
        b.pattern(#"\bistio"#, requires: ["istio"], http: 2, "HTTP: Istio named", stack: "istio")
        b.pattern(#"\bkubernetes\b|\bk8s\b|\bingress\b|\bgateway api\b|\bhttproute\b"#,
                  requires: ["kubernetes", "k8s", "ingress", "gateway api", "httproute"], http: 1.5,
                  "HTTP: Kubernetes ingress or gateway", stack: "kubernetes")
        b.pattern(#"nginx[ -]?proxy[ -]?manager"#, requires: ["proxy"], http: 2, "HTTP: Nginx Proxy Manager named",
                  stack: "nginx-proxy-manager")
        b.phrase("zoraxy", http: 2, "HTTP: Zoraxy named", stack: "zoraxy")
        b.phrase("cloudflare", http: 2, "HTTP: Cloudflare named", stack: "cloudflare")
        b.phrase("cf-ray", http: 4, kind: "header", "HTTP: Cloudflare cf-ray header", stack: "cloudflare", signature: "cf-ray")
        b.phrase("cf-cache-status", http: 3, kind: "header", "HTTP: Cloudflare header", stack: "cloudflare")
        b.phrase("cloudfront", http: 2.5, "HTTP: CloudFront named", stack: "cloudfront")
        b.phrase("<center>cloudfront</center>", http: 3, kind: "body", "HTTP: CloudFront error page",
                 stack: "cloudfront", signature: "cloudfront")
        b.pattern(#"x-amz-cf-(?:id|pop)|error from cloudfront|\(cloudfront\)"#, requires: ["x-amz-cf-", "cloudfront"],
                  http: 4, kind: "header", "HTTP: CloudFront header", stack: "cloudfront", signature: "cloudfront")
        b.phrase("fastly", http: 2.5, "HTTP: Fastly named", stack: "fastly")
        b.pattern(#"x-served-by:\s{0,3}cache-|x-fastly-|fastly error"#, requires: ["x-served-by", "fastly"], http: 3,
                  kind: "header", "HTTP: Fastly header or error", stack: "fastly", signature: "fastly")
        b.phrase("akamai", http: 2.5, "HTTP: Akamai named", stack: "akamai")
        b.pattern(#"akamaighost|x-akamai-|\bedge(?:suite|key)\.net\b|reference\s{0,2}#\d{1,3}\.[0-9a-f]{4,}"#,
                  requires: ["akamai", "edgesuite", "edgekey", "reference"], http: 3, kind: "header",
                  "HTTP: Akamai header or error page", stack: "akamai", signature: "akamai")
        b.phrase("wordpress", http: 2, "HTTP: WordPress named", stack: "wordpress")
        b.pattern(#"\bwp-(?:admin|json|content|cron|config|login|includes)\b"#, requires: ["wp-"], http: 3,
                  "HTTP: WordPress path", stack: "wordpress")
        b.phrase("site health", http: 1.5, "HTTP: WordPress Site Health", stack: "wordpress")
        b.phrase("loopback request", http: 2, "HTTP: loopback request to the site")
        b.phrase("cpanel", http: 1, "hosting panel cPanel", stack: "cpanel")
        b.pattern(#"easyapache|ea-nginx|ea-apache24|\bwhm\b"#, requires: ["easyapache", "ea-", "whm"], http: 3,
                  "HTTP: cPanel web stack", stack: "cpanel")
        b.phrase("plesk", http: 1, "hosting panel Plesk", stack: "plesk")
        b.phrase("directadmin", http: 1, "hosting panel DirectAdmin", stack: "directadmin")
        b.phrase("hestia", http: 1, "hosting panel HestiaCP", stack: "hestiacp")
        b.pattern(#"virtualmin|\bwebmin\b"#, requires: ["virtualmin", "webmin"], http: 1, "hosting panel Virtualmin",
                  stack: "virtualmin")
        b.phrase("engintron", http: 2, "HTTP: Engintron named", stack: "engintron")
        b.pattern(#"\bnode\.?js\b|node_modules|\bundici\b|\bnpm\b"#, requires: ["node", "undici", "npm"],
                  "Node.js runtime", stack: "nodejs")
        b.pattern(#"\bgolang\b|go-http-client|x/net/http2|\bnet/http\b"#, requires: ["go", "net/http"], http: 1.5,
                  "HTTP: Go HTTP client", stack: "go")
        b.phrase("okhttp", http: 3, "HTTP: OkHttp client", stack: "okhttp")
        b.pattern(#"\bpython\d?\b|\bhttpx\b|\burllib3?\b|\baiohttp\b|\bsmtplib\b|\bftplib\b|\brequests\.(?:get|post|exceptions)"#,
                  requires: ["python", "httpx", "urllib", "aiohttp", "smtplib", "ftplib", "requests."],
                  "Python runtime", stack: "python")
        b.phrase("uvicorn", http: 3, "HTTP: uvicorn server", stack: "uvicorn")
        b.pattern(#"\bmcp\b|model context protocol"#, requires: ["mcp", "model context"], http: 2,
                  "HTTP: MCP server", stack: "mcp")
    }

    // MARK: SMTP

    private static func addSMTP(_ b: inout SymptomCueBuilder) {
        b.pattern(#"\b421[ -][245]\.\d{1,3}\.\d{1,3}\b"#, requires: ["421"], smtp: 7, kind: "enhanced-code",
                  "SMTP reply 421 with an RFC 3463 enhanced status code")
        b.pattern(#"\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b"#, smtp: 4, kind: "enhanced-code",
                  "SMTP reply with an RFC 3463 enhanced status code",
                  accept: { t, m in !t.has("421", at: m.range.lowerBound) })
        b.pattern(#"\bdsn=[245]\.\d"#, requires: ["dsn="], smtp: 6, kind: "log-field", "SMTP: mail log delivery status (dsn=)")
        b.pattern(#"\(in reply to [^)\n]{1,40}command\)"#, requires: ["in reply to"], smtp: 6, kind: "log-line",
                  "SMTP: mail log names the SMTP command the reply answered")
        b.pattern(#"\bsaid:\s{0,3}[245]\d\d\b"#, requires: ["said:"], smtp: 5, kind: "log-line",
                  "SMTP: mail log quotes the remote server's reply")
        b.phrase("refused to talk to me", smtp: 6, kind: "log-line", "SMTP: Postfix, remote greeting refused",
                 stack: "postfix")
        b.phrase("smtp error from remote mail server", smtp: 6, kind: "log-line", "SMTP: Exim, remote server reply",
                 stack: "exim")
        b.pattern(#"\bstatus=(?:deferred|bounced|sent|expired)\b"#, requires: ["status="], smtp: 5, kind: "log-field",
                  "SMTP: mail log delivery status")
        b.pattern(#"\bpostfix/[a-z]{2,12}"#, requires: ["postfix/"], smtp: 6, kind: "log-line", "SMTP: Postfix log line",
                  stack: "postfix")
        b.phrase("postfix", smtp: 3, "SMTP: Postfix named", stack: "postfix")
        b.phrase("postscreen", smtp: 4, "SMTP: Postfix postscreen", stack: "postscreen")
        b.phrase("postscreen", smtp: 0, "SMTP: Postfix postscreen", stack: "postfix")
        b.phrase("smtp", smtp: 5, "SMTP named")
        b.pattern(#"\b(?:ehlo|helo|lhlo)\b"#, requires: ["ehlo", "helo", "lhlo"], smtp: 4, kind: "command",
                  "SMTP greeting command (EHLO/HELO)")
        b.pattern(#"\bmail from\b"#, requires: ["mail from"], smtp: 4, kind: "command", "SMTP MAIL FROM command")
        b.pattern(#"\brcpt\b"#, requires: ["rcpt"], smtp: 4, kind: "command", "SMTP RCPT TO command")
        b.pattern(#"\bend of data\b|\bDATA command\b"#, requires: ["data"], smtp: 4, kind: "command",
                  "SMTP DATA command")
        b.pattern(#"\bDATA\b"#, requires: ["data"], caseSensitive: true, smtp: 1.5, kind: "command",
                  "SMTP DATA command", corroborating: true)
        b.phrase("starttls", smtp: 2, kind: "command", "SMTP STARTTLS (with other mail evidence)", corroborating: true)
        b.phrase("closing transmission channel", smtp: 7, "SMTP: RFC 5321 421 wording 'closing transmission channel'")
        b.phrase("transmission channel", smtp: 4, "SMTP: RFC 5321 'transmission channel'")
        b.phrase("gsmtp", smtp: 5, "SMTP: Gmail reply suffix", provider: "gmail")
        b.pattern(#"\brelay=[\w.\[-]"#, requires: ["relay="], smtp: 4, kind: "log-field", "SMTP: mail log relay field")
        b.pattern(#"\b(?:to|from|orig_to)=<"#, requires: ["to=<", "from=<"], smtp: 4, kind: "log-field",
                  "SMTP: mail log address field")
        b.pattern(#"\bdelays=[\d./]{3,40}"#, requires: ["delays="], smtp: 4, kind: "log-field",
                  "SMTP: Postfix delays field", stack: "postfix")
        b.pattern(#"mx\d{0,3}[.-]\w|\.mx\d{0,3}\.|\bmx\s{1,2}(?:records?|hosts?|servers?|entr(?:y|ies))\b"#,
                  requires: ["mx"], smtp: 2.5, "SMTP: MX host or record", accept: { t, m in
            // the first alternative (mx1.example) must not continue a word, a name or a dotted path
            let start = m.range.lowerBound
            guard t.has("mx", at: start) else { return true }
            var end = start + 2
            while t.byte(at: end).map(Self.isDigit) == true { end += 1 }
            guard t.byte(at: end) == 0x2E || t.byte(at: end) == 0x2D else { return true }
            return !Self.touches(t, before: start, ".-")
        })
        b.pattern(#"\[TSS?\d{2}\]"#, requires: ["[ts"], caseSensitive: true, smtp: 5, kind: "provider-tag",
                  "SMTP: Yahoo deferral tag", provider: "yahoo")
        b.pattern(#"\bRP-00\d\b|\bPR\(ct\d\)"#, requires: ["rp-00", "pr(ct"], caseSensitive: true, smtp: 5,
                  kind: "provider-tag", "SMTP: Hotmail/Outlook throttling tag", provider: "microsoft")
        b.phrase("temporarily deferred", smtp: 5, "SMTP: 'temporarily deferred' (mail deferral)")
        b.pattern(#"\bdeferr(?:ed|al)\b"#, requires: ["deferr"], smtp: 2, "SMTP: deferred (mail queue wording)")
        b.phrase("too many concurrent smtp connections from this ip address", smtp: 3,
                 "SMTP: Exim per-host connection limit", stack: "exim")
        b.phrase("too many concurrent smtp connections; please try again later", smtp: 2,
                 "SMTP: Exim connection limit", stack: "exim")
        b.pattern(#"\bmail\s?servers?\b|\bmta\b|\bmail transfer agent\b|\bmail relay\b|\bmail log\b|\bmaillog\b"#,
                  requires: ["mail", "mta"], smtp: 3, "SMTP: mail server wording")
        b.phrase("postmaster", smtp: 3, "SMTP: postmaster")
        b.pattern(#"@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[a-z]{2,24}\b"#, requires: ["@"],
                  smtp: 1.5, kind: "address", "SMTP: email address",
                  accept: { t, m in Self.touches(t, before: m.range.lowerBound, ".+-") })
        b.pattern(#"e-?mail"#, requires: ["mail"], smtp: 2, "SMTP: email wording")
        b.pattern(#"\bmails?\b"#, requires: ["mail"], smtp: 1.5, "SMTP: mail wording")
        b.pattern(#"邮件|邮箱|发信|收件人"#, requires: ["\u{90ae}", "\u{53d1}", "\u{6536}"], smtp: 3, "SMTP: mail wording")
        b.phrase("nodemailer", smtp: 4, "SMTP: Nodemailer client", stack: "nodemailer")
        b.pattern(#"smtp-?connection|_actiondata|_actionmail|_actionrcpt"#, requires: ["smtp", "_action"], smtp: 2,
                  "SMTP: Nodemailer connection", stack: "nodemailer")
        for library in ["phpmailer", "swiftmailer", "javamail", "mailkit", "net::smtp", "smtplib", "actionmailer"] {
            b.phrase(library, smtp: 3, "SMTP: mail client library")
        }
        b.phrase("sendmail", smtp: 4, "SMTP: Sendmail", stack: "sendmail")
        b.pattern(#"\bexim\d?\b"#, requires: ["exim"], smtp: 4, "SMTP: Exim named", stack: "exim")
        b.pattern(#"\bexchange\s{1,3}(?:server|online|management shell|admin center|\d{4})\b|\bmicrosoft exchange\b"#,
                  requires: ["exchange"], smtp: 4, "SMTP: Microsoft Exchange", stack: "exchange")
        b.pattern(#"\b(?:receive|send) connectors?\b|\bfront ?end transport\b|\bhub transport\b|get-servercomponent|\btransport service\b"#,
                  requires: ["connector", "transport", "get-servercomponent"], smtp: 4,
                  "SMTP: Exchange transport wording", stack: "exchange")
        b.phrase("total session duration", smtp: 2, "SMTP: Exchange session timeout wording", stack: "exchange")
        b.phrase("temporary system problem", smtp: 4, "SMTP: 'Temporary System Problem' reply")
        b.phrase("too many sessions opened", smtp: 4, "SMTP: Comcast session limit", provider: "comcast")
        b.pattern(#"\breverse dns\b|\bptr record\b|\brdns\b|\breverse dns entry\b"#, requires: ["dns", "ptr"], smtp: 2,
                  "SMTP: reverse DNS of the sending IP")
        b.pattern(#"\b(?:spf|dkim|dmarc|arc)\b"#, requires: ["spf", "dkim", "dmarc", "arc"], smtp: 4,
                  "SMTP: sender authentication (SPF/DKIM/DMARC)", accept: { t, m in
            guard let b = t.byte(at: m.range.upperBound) else { return true }
            return [0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B].contains(b) || ",.:;)".utf8.contains(b)
        })
        b.pattern(#"\bspam\b|\bunsolicited\b"#, requires: ["spam", "unsolicited"], smtp: 2, "SMTP: spam wording")
        b.pattern(#"\bbounce[sd]?\b|mailer-daemon|\bundeliverable\b|delivery status notification|\bnon-delivery\b"#,
                  requires: ["bounce", "mailer-daemon", "undeliverable", "delivery"], smtp: 3,
                  "SMTP: bounce / non-delivery")
        b.pattern(#"\brecipients?\b"#, requires: ["recipient"], smtp: 2.5, "SMTP: recipient")
        b.pattern(#"\bsenders?\b"#, requires: ["sender"], smtp: 1.5, "SMTP: sender", corroborating: true)
        b.phrase("sender address", smtp: 3, "SMTP: sender address")
        b.pattern(#"\btoo many (?:sessions|concurrent sessions)\b"#, requires: ["sessions"], smtp: 1.5,
                  "SMTP: session limit wording (mail providers)")
        b.phrase("closing connection", smtp: 1, "SMTP: 'closing connection' (MTA wording; FTP says 'closing control connection')")
        b.phrase("swaks", smtp: 4, kind: "command", "SMTP: swaks test tool")
        b.pattern(#"\btelnet\s{1,3}\S{1,253}\s{1,3}(?:25|465|587|2525)\b"#, requires: ["telnet"], smtp: 4, kind: "command",
                  "SMTP: telnet to a mail port")
        b.pattern(#"\bmailbox(?:es)?\b|\binbox\b"#, requires: ["mailbox", "inbox"], smtp: 3, "SMTP: mailbox")
        b.pattern(#"\bmessage-id\b"#, requires: ["message-id"], smtp: 3, "SMTP: Message-ID")
        b.pattern(#"\bblock ?lists?(?:ed)?\b|\bblacklist(?:s|ed)?\b|\bspamhaus\b|\bdnsbl\b|\brbl\b"#,
                  requires: ["list", "spamhaus", "dnsbl", "rbl"], smtp: 1.5, "SMTP: blocklist")
        b.pattern(#"^(?:received|return-path|dkim-signature|x-mailer|delivered-to|x-original-to|authentication-results):\s"#,
                  requires: ["received:", "return-path:", "dkim-signature:", "x-mailer:", "delivered-to:",
                             "x-original-to:", "authentication-results:"],
                  smtp: 3, kind: "header", "SMTP: email header")
        b.pattern(#"(?:25|465|587|2525)\b"#, requires: ["25", "465", "587"], smtp: 3,
                  kind: "port", "SMTP port", accept: Self.afterPort)
        b.phrase("greeting", smtp: 1.5, "SMTP: greeting", corroborating: true)
    }

    private static func addMailProviders(_ b: inout SymptomCueBuilder) {
        b.phrase("gmail", smtp: 2.5, "SMTP: Gmail named", provider: "gmail")
        b.pattern(#"googlemail|aspmx|support\.google\.com/mail|\bgoogle workspace\b"#,
                  requires: ["googlemail", "aspmx", "google"], smtp: 3, "SMTP: Google mail", provider: "gmail")
        b.phrase("yahoo", smtp: 1.5, "SMTP: Yahoo named", provider: "yahoo")
        b.pattern(#"postmaster\.yahooinc|yahoodns|\b4\.16\.5\d\b"#, requires: ["yahoo", "4.16.5"], smtp: 3,
                  "SMTP: Yahoo postmaster code", provider: "yahoo")
        b.pattern(#"outlook|hotmail|\boffice\s?365\b|\bo365\b|\bmicrosoft 365\b|\bexchange online\b|\blive\.com\b|\bmsn\.com\b"#,
                  requires: ["outlook", "hotmail", "office", "o365", "microsoft", "exchange", "live.com", "msn.com"],
                  smtp: 1.5, "SMTP: Microsoft mail named", provider: "microsoft")
        b.phrase("protection.outlook.com", smtp: 3, "SMTP: Microsoft mail exchanger", provider: "microsoft")
        b.phrase("icloud", "iCloud named", provider: "icloud")
        b.pattern(#"\bme\.com\b|\bmac\.com\b"#, requires: ["me.com", "mac.com"], smtp: 1.5, "SMTP: iCloud mail domain",
                  provider: "icloud")
        b.pattern(#"comcast|xfinity"#, requires: ["comcast", "xfinity"], smtp: 1, "SMTP: Comcast named", provider: "comcast")
        b.pattern(#"\bgmx\b|\bweb\.de\b|\bgmx\.(?:net|de|com)\b"#, requires: ["gmx", "web.de"], smtp: 1.5,
                  "SMTP: GMX / WEB.DE named", provider: "gmx")
        b.phrase("mimecast", smtp: 2, "SMTP: Mimecast named", provider: "mimecast")
        b.pattern(#"proofpoint|pphosted"#, requires: ["proofpoint", "pphosted"], smtp: 2, "SMTP: Proofpoint named",
                  provider: "proofpoint")
        b.pattern(#"godaddy|secureserver\.net"#, requires: ["godaddy", "secureserver"], smtp: 0.5, "GoDaddy named",
                  provider: "godaddy")
        b.pattern(#"\borange\.fr\b|\bwanadoo\b|\bmwinf"#, requires: ["orange", "wanadoo", "mwinf"], smtp: 2,
                  "SMTP: Orange mail named", provider: "orange")
        b.pattern(#"amazon\s?ses|aws\s?ses|amazonses|email-smtp\."#, requires: ["ses", "email-smtp"], smtp: 3,
                  "SMTP: Amazon SES named", provider: "amazon-ses")
        b.phrase("sendgrid", smtp: 2.5, "SMTP: SendGrid named", provider: "sendgrid")
        b.phrase("mailgun", smtp: 2.5, "SMTP: Mailgun named", provider: "mailgun")
        b.phrase("zoho", smtp: 1, "SMTP: Zoho named", provider: "zoho")
        b.pattern(#"\bfree\.fr\b"#, requires: ["free.fr"], smtp: 1, "SMTP: Free (free.fr) named", provider: "free")
    }

    // MARK: FTP

    private static func addFTP(_ b: inout SymptomCueBuilder) {
        b.phrase("closing control connection", ftp: 7, "FTP: RFC 959 421 wording 'closing control connection'")
        b.phrase("control connection", ftp: 4, "FTP control connection")
        b.pattern(#"(?:vs|pro|pure-?|wu-?|l|nc|s)?ftp"#, requires: ["ftp"], ftp: 5, "FTP named", accept: { t, m in
            guard let b = t.byte(at: m.range.lowerBound - 1) else { return true }
            return !(Self.isDigit(b) || (b >= 0x61 && b <= 0x7A))
        })
        b.pattern(#"\b(?:s?ftps?|ftpes)://"#, requires: ["ftp"], ftp: 4, kind: "url", "FTP URL")
        b.pattern(#"ftp(?:temp|perm)?error|ftpclient|ftpcontext"#, requires: ["ftp"], ftp: 3, kind: "log-line",
                  "FTP client library error")
        b.phrase("control socket", ftp: 4, "FTP control socket")
        b.phrase("data connection", ftp: 3, "FTP data connection")
        b.pattern(#"\bauth (?:tls|ssl)\b"#, requires: ["auth "], ftp: 4, kind: "command", "FTP AUTH TLS command")
        b.pattern(#"\b(?:PASV|EPSV|PBSZ|MLSD|NLST|EPRT)\b"#, requires: ["pasv", "epsv", "pbsz", "mlsd", "nlst", "eprt"],
                  caseSensitive: true, ftp: 4, kind: "command", "FTP transfer command")
        b.pattern(#"\bpassive mode\b|\bentering passive\b"#, requires: ["passive"], ftp: 3, "FTP passive mode")
        b.pattern(#"^[ \t]*(?:Command:|>|-->|C:)?[ \t]*(?:USER|PASS|LIST|RETR|STOR|CWD|PWD|FEAT|SYST|TYPE [AI]|MKD|RMD|DELE|REST|ABOR|APPE)(?:[ \t\r]|$)"#,
                  requires: ["user", "pass", "list", "retr", "stor", "cwd", "pwd", "feat", "syst", "type", "mkd", "rmd",
                             "dele", "rest", "abor", "appe"],
                  caseSensitive: true, ftp: 3, kind: "command", "FTP command line")
        b.pattern(#"^(?:Status|Command|Response):[ \t]"#, requires: ["status:", "command:", "response:"],
                  caseSensitive: true, ftp: 2, kind: "log-line", "FTP client log (FileZilla style)", corroborating: true)
        b.phrase("cleartext sessions", ftp: 6, "FTP: Pure-FTPd refuses cleartext sessions", stack: "pure-ftpd")
        b.phrase("weak ciphers are not accepted", ftp: 3, "FTP: Pure-FTPd TLS requirement", stack: "pure-ftpd")
        b.phrase("tls security mechanisms", ftp: 3, "FTP: Pure-FTPd asks to reconnect with TLS")
        b.phrase("vsftpd", ftp: 5, "FTP: vsftpd named", stack: "vsftpd")
        b.phrase("proftpd", ftp: 5, "FTP: ProFTPD named", stack: "proftpd")
        b.pattern(#"pure-?ftpd"#, requires: ["ftpd"], ftp: 5, "FTP: Pure-FTPd named", stack: "pure-ftpd")
        b.phrase("filezilla", ftp: 5, "FTP: FileZilla named", stack: "filezilla")
        b.phrase("winscp", ftp: 3, "FTP: WinSCP named")
        b.pattern(#"\btelnet\s{1,3}\S{1,253}\s{1,3}(?:21|990)\b"#, requires: ["telnet"], ftp: 4, kind: "command",
                  "FTP: telnet to an FTP port")
        b.phrase("too many connected users", ftp: 6, "FTP: vsftpd max_clients reply", stack: "vsftpd")
        b.phrase("from your internet address", ftp: 6, "FTP: vsftpd max_per_ip reply", stack: "vsftpd")
        b.pattern(#"too many connections \(\d{1,6}\) from this ip"#, requires: ["too many connections ("], ftp: 5,
                  "FTP: Pure-FTPd per-IP limit reply", stack: "pure-ftpd")
        b.phrase("(the maximum) are already logged in", ftp: 6, "FTP: Pure-FTPd user limit reply", stack: "pure-ftpd")
        b.phrase("no transfer timeout", ftp: 6, "FTP: ProFTPD TimeoutNoTransfer reply", stack: "proftpd")
        b.pattern(#"\b(?:login|idle|session) timeout \(\d{1,6} seconds\)"#, requires: ["timeout ("], ftp: 5,
                  "FTP: ProFTPD timeout reply", stack: "proftpd")
        b.phrase("data timeout", ftp: 4, "FTP: data connection timeout")
        b.phrase("reconnect. sorry", ftp: 4, "FTP: vsftpd data timeout reply", stack: "vsftpd")
        b.phrase("no new data for", ftp: 3, "FTP: Pure-FTPd timeout reply", stack: "pure-ftpd")
        b.phrase("remote server has closed connection", ftp: 5, "FTP: ftp client reports the server closed the connection")
        b.pattern(#"\b(?:max_per_ip|max_clients|idle_session_timeout|data_connection_timeout|pasv_enable|ftpd_banner|anonymous_enable)\b"#,
                  requires: ["max_", "timeout", "pasv", "ftpd", "anonymous"], ftp: 4, kind: "config",
                  "FTP: vsftpd setting", stack: "vsftpd")
        b.pattern(#"\b(?:TimeoutNoTransfer|TimeoutLogin|TimeoutIdle|MaxClientsPerHost|MaxInstances)\b"#,
                  requires: ["timeout", "maxclients", "maxinstances"], caseSensitive: true, ftp: 4, kind: "config",
                  "FTP: ProFTPD setting", stack: "proftpd")
        b.pattern(#"(?:21|990)\b"#, requires: ["21", "990"], ftp: 3, kind: "port", "FTP port", accept: Self.afterPort)
        b.phrase("file transfer", ftp: 2, "FTP: file transfer wording")
        b.pattern(#"\b(?:change|home|working) directory\b|\bchroot\b"#, requires: ["directory", "chroot"], ftp: 2,
                  "FTP: directory wording (FTP server replies)")
    }

    // MARK: shared

    private static func addShared(_ b: inout SymptomCueBuilder) {
        b.pattern(#"^[ \t]*(?:[SC]:[ \t]*)?421[ -]"#, requires: ["421"], smtp: 1, ftp: 1,
                  kind: "reply-line", "SMTP or FTP: a line starts with the reply code 421", accept: { t, m in
            var at = m.range.upperBound
            while t.byte(at: at) == 0x20 || t.byte(at: at) == 0x09 { at += 1 }
            return !t.has("misdirected", at: at)
        })
        b.phrase("service not available", smtp: 1, ftp: 1, "SMTP or FTP: RFC 421 wording 'Service not available'")
        b.pattern(#"\btry (?:again )?later\b"#, requires: ["later"], smtp: 1, ftp: 0.5,
                  "SMTP or FTP: 'try again later'", corroborating: true)
        b.pattern(#"\btoo many (?:connections|sessions)\b"#, requires: ["too many"], smtp: 0.5, ftp: 0.5,
                  "SMTP or FTP: connection limit wording", corroborating: true)
        b.pattern(#"\breply code\b|\bresponse code\b"#, requires: ["code"], smtp: 0.5, ftp: 0.5,
                  "SMTP or FTP: 'reply code' wording", corroborating: true)
        b.phrase("banner", smtp: 1, ftp: 0.5, "SMTP or FTP: server banner", corroborating: true)
        b.phrases(MultilingualCues.tryLater, smtp: 1, ftp: 0.5, "SMTP or FTP: 'try again later'", corroborating: true)
        b.phrases(MultilingualCues.connectionLimit, smtp: 0.5, ftp: 0.5, "SMTP or FTP: connection limit wording",
                  corroborating: true)
    }

    // MARK: intermittency

    private static func addIntermittency(_ b: inout SymptomCueBuilder) {
        let yes = "the text says it comes and goes"
        let no = "the text says it always happens"
        b.phrases(MultilingualCues.intermittent, kind: "intermittency", yes, intermittent: true)
        b.pattern(#"\bsometimes\b|\bat times\b"#, requires: ["times"], kind: "intermittency", yes, intermittent: true)
        b.pattern(#"\bintermittent(?:ly)?\b"#, requires: ["intermittent"], kind: "intermittency", yes, intermittent: true)
        b.pattern(#"\brandom(?:ly)?\b|\bat random\b"#, requires: ["random"], kind: "intermittency", yes, intermittent: true)
        b.pattern(#"\bperiodically\b|\boccasional(?:ly)?\b|\bon occasion\b|\bsporadic(?:ally)?\b|\bflaky\b"#,
                  requires: ["periodically", "occasion", "sporadic", "flaky"], kind: "intermittency", yes,
                  intermittent: true)
        b.pattern(#"\b(?:refresh|refreshing|reload|reloading)\b[^.\n]{0,40}\b(?:fix|fixes|fixed|works|helps|solves|goes away)\b|\bafter (?:a )?(?:refresh|reload)\b"#,
                  requires: ["refresh", "reload"], kind: "intermittency", yes, intermittent: true)
        b.pattern(#"\bafter a while\b|\bfrom time to time\b|\bnow and then\b|\bonce in a while\b|\bevery (?:few|so often)\b"#,
                  requires: ["while", "time to time", "now and then", "every "], kind: "intermittency", yes,
                  intermittent: true)
        b.pattern(#"\bonly (?:for )?some (?:users|clients|people|visitors|requests|connections)\b|\bsome (?:users|requests)\b|\bnot (?:on |for |in |with )?(?:always|every|each|all)\b"#,
                  requires: ["some", "not "], kind: "intermittency", yes, intermittent: true)
        b.pattern(#"\b(?:can't|cannot|can not|couldn't|unable to|hard to)\s+reproduce\b|不复现|无法复现|难以复现"#,
                  requires: ["reproduce", "复现"], kind: "intermittency", yes, intermittent: true)
        b.phrase("a small number of", kind: "intermittency", yes, intermittent: true)
        b.pattern(#"\blater\b[^.\n]{0,40}\b(?:works?|loads?|fine|succeeds?|goes through)\b|\b(?:works?|loads? fine|succeeds?)\b[^.\n]{0,20}\blater\b"#,
                  requires: ["later"], kind: "intermittency", yes, intermittent: true)
        b.pattern(#"\b(?:retry|retries|retrying|second attempt|add(?:ing)? (?:a |some |certain )?delay)\b[^.\n]{0,60}\b(?:succeeds?|works?|fine|goes through)\b"#,
                  requires: ["retr", "second attempt", "delay"], kind: "intermittency", yes, intermittent: true)
        b.pattern(#"有时|偶尔|偶发|时不时|时好时坏|一段时间后"#, requires: ["\u{6709}", "\u{5076}", "\u{65f6}", "\u{4e00}"],
                  kind: "intermittency", yes, intermittent: true)
        b.pattern(#"\b(?:all|every) (?:requests?|connections?|pages?|sites?|domains?|times?)\b|\beach time\b"#,
                  requires: ["all ", "every ", "each time"], kind: "intermittency", no, intermittent: false,
                  accept: { t, m in
                      // a negation right before: "not on every request" is not "always"
                      let start = m.range.lowerBound
                      let negations = t.has("each time", at: start) ? ["not "]
                          : t.has("every time", at: start) && m.range.count == 10 ? ["not ", "not on "]
                          : ["not ", "not on ", "not for ", "not in ", "not with ", "n't "]
                      if !negations.contains(where: { t.has($0, before: start) }) { return true }
                      // "not for every time" still counts through the "every time" wording
                      return m.range.count == 10 && t.has("every time", at: start)
                          && !["not ", "not on "].contains { t.has($0, before: start) }
                  })
        b.pattern(#"\balways\b|\bconsistently\b|\bconstantly\b|\ball the time\b|\bevery single\b"#,
                  requires: ["always", "consistently", "constantly", "all the time", "every single"],
                  kind: "intermittency", no, intermittent: false, accept: { t, m in
                      !t.has("always", at: m.range.lowerBound) || !["not ", "n't "].contains { t.has($0, before: m.range.lowerBound) }
                  })
        b.pattern(#"\bnever (?:works?|succeeds?|loads?|connects?|goes through)\b|\b(?:did not|didn't|does not|doesn't) go away\b|\bpersist(?:s|ent|ently)\b|\b100 ?%"#,
                  requires: ["never", "go away", "persist", "100"], kind: "intermittency", no, intermittent: false)
    }
}
