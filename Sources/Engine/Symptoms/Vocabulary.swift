/// The slugs that facts, playbooks and reports share. Playbooks name stacks, providers and
/// signatures with these, so they are a public contract: add to them, never rename one silently.
public enum Vocabulary {
    /// Known stack slugs: servers, proxies, CDNs, panels, MTAs, FTP servers and clients.
    public static let stacks: [String] = [
        // web servers, proxies, CDNs and gateways
        "nginx", "apache", "litespeed", "iis", "cloudflare", "cloudfront", "fastly", "akamai", "haproxy",
        "traefik", "caddy", "envoy", "istio", "kubernetes", "kong", "openresty", "anubis",
        "nginx-proxy-manager", "zoraxy",
        // applications and hosting panels
        "wordpress", "cpanel", "plesk", "directadmin", "hestiacp", "virtualmin", "engintron",
        // mail
        "postfix", "postscreen", "exim", "exchange", "sendmail", "nodemailer",
        // ftp
        "vsftpd", "proftpd", "pure-ftpd", "filezilla",
        // clients and runtimes
        "browser", "chrome", "firefox", "safari", "curl", "nodejs", "go", "okhttp", "python", "uvicorn", "mcp",
    ]

    /// Known mail or service provider slugs.
    public static let providers: [String] = [
        "gmail", "microsoft", "yahoo", "icloud", "comcast", "gmx", "mimecast", "proofpoint", "godaddy",
        "orange", "amazon-ses", "sendgrid", "mailgun", "zoho", "free",
    ]

    /// Known server signatures: fingerprints of 421 bodies, headers and log wording.
    public static let signatures: [String] = [
        "apache-421-page", "nginx-421-page", "haproxy-421-page", "traefik-421", "caddy-strict-sni",
        "cloudfront", "cf-ray", "fastly", "akamai", "invalid-host-header",
    ]

    /// Kinds of input file kb understands.
    public static let fileKinds: [String] = [
        "text", "nginx-config", "apache-config", "apachectl-s", "error-log", "access-log", "mail-log", "ftp-log",
    ]

    /// The protocol a stack implies on its own, when it implies one (a mail server is about SMTP,
    /// an FTP server about FTP). Clients, runtimes and hosting panels imply none.
    static func impliedProtocol(ofStack slug: String) -> WireProtocol? {
        switch slug {
        case "postfix", "postscreen", "exim", "exchange", "sendmail", "nodemailer":
            return .smtp
        case "vsftpd", "proftpd", "pure-ftpd", "filezilla":
            return .ftp
        case "nginx", "apache", "litespeed", "iis", "cloudflare", "cloudfront", "fastly", "akamai", "haproxy",
             "traefik", "caddy", "envoy", "istio", "kubernetes", "kong", "openresty", "anubis",
             "nginx-proxy-manager", "zoraxy", "wordpress", "engintron", "browser", "chrome", "firefox", "safari",
             "okhttp", "uvicorn", "mcp":
            return .http
        default:
            return nil
        }
    }

    /// The stack a kind of input file shows by being that file: an nginx config is nginx's.
    static func impliedStack(ofFileKind kind: String) -> String? {
        switch kind {
        case "nginx-config": return "nginx"
        case "apache-config", "apachectl-s": return "apache"
        default: return nil
        }
    }

    /// The protocol a kind of input file implies, with how strongly.
    static func impliedProtocol(ofFileKind kind: String) -> (WireProtocol, Double)? {
        switch kind {
        case "nginx-config", "apache-config", "apachectl-s", "access-log":
            return (.http, 3)
        case "error-log":
            return (.http, 1)
        case "mail-log":
            return (.smtp, 4)
        case "ftp-log":
            return (.ftp, 4)
        default:
            return nil
        }
    }
}
