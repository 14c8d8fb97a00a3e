/// The cause taxonomy. The slugs are a public contract of the JSON report: add, never rename.
public struct Cause: Sendable, Hashable {
    public var slug: String
    public var protocolValue: WireProtocol
    public var summary: String
}

public enum Causes {
    public static let all: [Cause] = [
        Cause(slug: "h2-coalescing", protocolValue: .http,
              summary: "a client reused an HTTP/2 or HTTP/3 connection opened for another host name"),
        Cause(slug: "sni-host-mismatch", protocolValue: .http,
              summary: "the client sent a Host that differs from its TLS SNI"),
        Cause(slug: "upstream-sni-missing", protocolValue: .http,
              summary: "a proxy or gateway reaches the HTTPS origin with no SNI, a fixed SNI or a pooled connection"),
        Cause(slug: "panel-apache-update", protocolValue: .http,
              summary: "a hosting panel's nginx-to-Apache stack after Apache's stricter SNI check"),
        Cause(slug: "server-update-regression", protocolValue: .http,
              summary: "a server, proxy or WAF upgrade tightened or broke Host/SNI checks"),
        Cause(slug: "cdn-origin-host", protocolValue: .http,
              summary: "a CDN or edge uses a Host/SNI toward the origin that one side does not accept"),
        Cause(slug: "missing-vhost", protocolValue: .http,
              summary: "the answering server has no virtual host or certificate name for the host"),
        Cause(slug: "lb-node-drift", protocolValue: .http,
              summary: "some nodes behind a load balancer or CDN pool have stale configuration"),
        Cause(slug: "dns-stale-record", protocolValue: .http,
              summary: "DNS sends some clients to a server that does not serve the name"),
        Cause(slug: "redirect-host-drift", protocolValue: .http,
              summary: "the application redirects to a host name the edge or origin does not serve"),
        Cause(slug: "host-allowlist", protocolValue: .http,
              summary: "an application-level Host allow-list answers 421"),
        Cause(slug: "nonstandard-421", protocolValue: .http,
              summary: "a vendor uses 421 for something unrelated to routing"),
        Cause(slug: "smtp-concurrency", protocolValue: .smtp,
              summary: "too many simultaneous connections from the sending IP"),
        Cause(slug: "smtp-rate-limit", protocolValue: .smtp, summary: "sending volume or rate throttled"),
        Cause(slug: "smtp-reputation", protocolValue: .smtp,
              summary: "IP or domain reputation, complaints or blocklists"),
        Cause(slug: "smtp-policy", protocolValue: .smtp,
              summary: "sender identity or authentication policy: HELO, PTR, SPF, DKIM, DMARC"),
        Cause(slug: "smtp-overload", protocolValue: .smtp, summary: "the receiving service is overloaded"),
        Cause(slug: "smtp-shutdown", protocolValue: .smtp,
              summary: "the service is shutting down, restarting or not active"),
        Cause(slug: "smtp-timeout", protocolValue: .smtp, summary: "an idle, command or session timeout"),
        Cause(slug: "smtp-tls", protocolValue: .smtp, summary: "TLS version, cipher, certificate or STARTTLS problems"),
        Cause(slug: "smtp-greylisting", protocolValue: .smtp, summary: "a first-time sender deferred on purpose"),
        Cause(slug: "ftp-too-many-connections", protocolValue: .ftp,
              summary: "per-IP or total connection limit of the FTP server"),
        Cause(slug: "ftp-tls-required", protocolValue: .ftp, summary: "the server refuses cleartext or weak ciphers"),
        Cause(slug: "ftp-idle-timeout", protocolValue: .ftp, summary: "idle or no-transfer timeout"),
        Cause(slug: "ftp-server-closed", protocolValue: .ftp,
              summary: "the FTP client reports 421 because the server dropped the connection"),
        Cause(slug: "unknown", protocolValue: .unknown, summary: "not enough evidence to name a protocol or a cause"),
    ]

    public static func named(_ slug: String) -> Cause? { all.first { $0.slug == slug } }
}
