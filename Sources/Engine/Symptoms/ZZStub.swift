public enum Vocabulary {
    public static let stacks: [String] = "nginx, apache, litespeed, iis, cloudflare, cloudfront, fastly, akamai, haproxy, traefik, caddy, envoy, istio, kubernetes, kong, openresty, anubis, nginx-proxy-manager, zoraxy, wordpress, cpanel, plesk, directadmin, hestiacp, virtualmin, engintron, postfix, postscreen, exim, exchange, sendmail, nodemailer, vsftpd, proftpd, pure-ftpd, filezilla, browser, chrome, firefox, safari, curl, nodejs, go, okhttp, python, uvicorn, mcp".split(separator: ", ").map(String.init)
    public static let providers: [String] = "gmail, microsoft, yahoo, icloud, comcast, gmx, mimecast, proofpoint, godaddy, orange, amazon-ses, sendgrid, mailgun, zoho, free".split(separator: ", ").map(String.init)
    public static let signatures: [String] = "apache-421-page, nginx-421-page, haproxy-421-page, traefik-421, caddy-strict-sni, cloudfront, cf-ray, fastly, akamai, invalid-host-header".split(separator: ", ").map(String.init)
    public static let fileKinds: [String] = ["text", "nginx-config", "apache-config", "apachectl-s", "error-log", "access-log", "mail-log", "ftp-log"]
}
public struct SymptomExtractor: Sendable {
    public init() {}
    public func extract(_ inputs: [InputText], statements: Statements = Statements()) -> Facts { Facts(inputs: inputs, text: inputs.map(\.text).joined(separator: "\n")) }
    public func classify(_ text: String, statements: Statements = Statements()) -> ProtocolVerdict { ProtocolVerdict(value: .unknown, confidence: 0) }
}
