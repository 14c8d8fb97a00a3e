import Engine
import Foundation
import NIOCore

/// One request to any address with SNI and Host chosen independently: what
/// `curl --connect-to` or `curl -H Host:` does, with the server's signature read from the response.
public struct HTTPRequestProbe: Probe {
    public static let description = ProbeDescription(
        id: "http.request",
        summary: "GET over HTTP/1.1 or HTTP/2 (by ALPN) to an address, with SNI and Host/:authority chosen independently",
        live: true,
        parameters: [
            ProbeParameter("connect", .string, required: true, contact: .endpoint, summary: "ADDR:PORT to connect to"),
            ProbeParameter("host", .string, required: true, summary: "Host header (HTTP/1.1) or :authority (HTTP/2)"),
            ProbeParameter("sni", .string,
                           summary: "server name to send in TLS; 'none' sends none (default: the host without port, none for an IP)"),
            ProbeParameter("path", .string, summary: "request path (default /)"),
            ProbeParameter("version", .string, summary: "auto (by ALPN, the default), 1.1 or 2"),
            ProbeParameter("scheme", .string, summary: "https (the default) or http for clear text"),
            ProbeParameter("follow", .bool, summary: "follow up to 5 redirects (default false)"),
            ProbeParameter("dry_run", .bool, summary: "only report the equivalent command; connect to nothing"),
        ],
        observations: [
            "status": "HTTP status code of the (last) response",
            "version": "HTTP version spoken: 1.1 or 2",
            "server": "the Server header, or 'none'",
            "signature": "who wrote the response: apache-421-page, nginx-421-page, haproxy-421-page, traefik-421, "
                + "caddy-strict-sni, cloudfront, cf-ray, fastly, akamai, invalid-host-header or 'none'",
            "location": "the Location header, or 'none'",
            "alpn": "ALPN protocol the server chose, or 'none'",
            "sni": "the SNI sent, or 'none'",
            "host": "the Host/:authority sent",
            "sni_matches_host": "whether the SNI sent equals the host name of Host (a mismatch makes Apache answer 421)",
            "dry_run": "true when nothing was sent (dry_run)",
        ],
        examples: [
            ProbeExample("a dry run names the curl command for SNI 'a.example.com' and Host 'b.example.com'",
                         parameters: ["connect": .string("203.0.113.7:443"), "sni": .string("a.example.com"),
                                      "host": .string("b.example.com"), "dry_run": .bool(true)],
                         expect: ["dry_run": "true", "sni": "a.example.com", "host": "b.example.com", "sni_matches_host": "false"]),
            ProbeExample("a host is required", parameters: ["connect": .string("203.0.113.7:443")], expectError: true),
            ProbeExample("an unknown version is an error",
                         parameters: ["connect": .string("203.0.113.7:443"), "host": .string("a.example.com"),
                                      "version": .string("3")],
                         expectError: true),
        ]
    )

    static let maxRedirects = 5

    public init() {}

    struct Plan: Sendable {
        var endpoint: Endpoint
        var host: String
        var sni: String?
        var path: String
        var choice: HTTPVersionChoice
        var plain: Bool
    }

    static func plan(_ parameters: [String: ProbeValue]) throws(ProbeFailure) -> (Plan, follow: Bool, dryRun: Bool) {
        guard let connect = parameters.string("connect") else { throw ProbeFailure("no 'connect' given; give ADDR:PORT") }
        guard let host = parameters.string("host") else { throw ProbeFailure("no 'host' given; give the Host header to send") }
        guard host.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ProbeFailure("'\(Format.serverText(host, limit: 80))' is not a valid Host value")
        }
        let scheme = (parameters.string("scheme") ?? "https").lowercased()
        guard scheme == "https" || scheme == "http" else { throw ProbeFailure("'scheme' must be https or http, not '\(scheme)'") }
        let plain = scheme == "http"
        let endpoint = try Endpoint.parse(connect, defaultPort: plain ? 80 : 443)
        let hostName = hostWithoutPort(host)
        let sni: String?
        if plain {
            sni = nil
        } else if let raw = parameters.string("sni") {
            sni = try TLSSupport.sniValue(raw)
        } else {
            sni = Endpoint.isIPLiteral(hostName) ? nil : try TLSSupport.sniValue(hostName)
        }
        var path = parameters.string("path") ?? "/"
        if !path.hasPrefix("/") { path = "/" + path }
        guard path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ProbeFailure("the path must be printable ASCII without spaces")
        }
        let choice = try HTTPVersionChoice.parse(parameters.string("version"))
        return (Plan(endpoint: endpoint, host: host, sni: sni, path: path, choice: choice, plain: plain),
                try parameters.flag("follow", default: false), try parameters.flag("dry_run", default: false))
    }

    /// `b.example.com:8443` → `b.example.com`; `[::1]:8443` → `::1`.
    static func hostWithoutPort(_ host: String) -> String {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            return String(host[host.index(after: host.startIndex)..<close])
        }
        if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") { return String(host[..<colon]) }
        return host
    }

    public func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        let plan: Plan
        let follow: Bool
        let dryRun: Bool
        do {
            (plan, follow, dryRun) = try Self.plan(parameters)
        } catch {
            return .failure(error.reason)
        }
        let command = Self.command(plan)
        let sniMatches = plan.sni.map { $0.lowercased() == Self.hostWithoutPort(plan.host).lowercased() } ?? false
        if dryRun {
            return ProbeOutcome(observations: ["dry_run": .bool(true), "sni": .string(plan.sni ?? "none"),
                                               "host": .string(plan.host), "sni_matches_host": .bool(sniMatches)],
                                command: command)
        }
        let budget = Budget(context)
        let byteLimit = context.byteLimit
        return await LiveIO.withGroup(context) { group in
            var current = plan
            var evidence: [Evidence] = []
            var hops = 0
            while true {
                let connection: HTTPConnection
                let result: HTTPResult
                do {
                    connection = try await HTTPConnection.open(current.endpoint, sni: current.sni, plain: current.plain,
                                                               choice: current.choice, group: group, budget: budget,
                                                               byteLimit: byteLimit)
                    defer { connection.close() }
                    result = try await connection.get(authority: current.host, path: current.path, keepAlive: false,
                                                      budget: budget)
                } catch {
                    return ProbeOutcome(evidence: evidence, error: error.reason, command: command)
                }
                let (signature, signatureEvidence) = HTTPSignature.of(result)
                let statusLine = "HTTP/\(result.version) \(result.status) \(result.reason)"
                evidence.append(Evidence(kind: "status-line", text: Format.serverText(statusLine),
                                         detail: "GET \(current.path) to \(current.endpoint) with SNI "
                                             + "'\(current.sni ?? "none")' and Host '\(current.host)'"))
                if let server = result.header("server") {
                    evidence.append(Evidence(kind: "header", text: "server: " + Format.serverText(server)))
                }
                if let signatureEvidence { evidence.append(signatureEvidence) }
                if follow, (300...399).contains(result.status), let location = result.header("location"),
                   hops < Self.maxRedirects, let next = Self.redirect(from: current, to: location) {
                    hops += 1
                    evidence.append(Evidence(kind: "redirect", text: "location: " + Format.serverText(location)))
                    current = next
                    continue
                }
                let sentMatches = current.sni.map { $0.lowercased() == Self.hostWithoutPort(current.host).lowercased() } ?? false
                return ProbeOutcome(observations: [
                    "status": .int(result.status),
                    "version": .string(result.version),
                    "server": .string(result.header("server").map { Format.serverText($0) } ?? "none"),
                    "signature": .string(signature),
                    "location": .string(result.header("location").map { Format.serverText($0) } ?? "none"),
                    "alpn": .string(connection.tls?.alpn ?? "none"),
                    "sni": .string(current.sni ?? "none"),
                    "host": .string(current.host),
                    "sni_matches_host": .bool(sentMatches),
                ], evidence: evidence, command: command)
            }
        }
    }

    /// The next request for a redirect: same address for the same host, the new host's own address otherwise.
    static func redirect(from plan: Plan, to location: String) -> Plan? {
        var next = plan
        if location.hasPrefix("/") {
            next.path = location
            return next
        }
        guard let url = URL(string: location), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host else { return nil }
        next.plain = scheme == "http"
        let port = url.port ?? (next.plain ? 80 : 443)
        next.path = url.path.isEmpty ? "/" : url.path + (url.query.map { "?" + $0 } ?? "")
        let sameHost = host.lowercased() == hostWithoutPort(plan.host).lowercased()
        next.host = url.port.map { "\(host):\($0)" } ?? host
        if !sameHost || next.plain != plan.plain {
            next.endpoint = Endpoint(host: host, port: port)
        }
        next.sni = next.plain || Endpoint.isIPLiteral(host) ? nil : host
        return next
    }

    /// The curl command that sends the same SNI and Host to the same address.
    static func command(_ plan: Plan) -> String {
        var words = ["curl", "-sv"]
        switch plan.choice {
        case .http1: words.append("--http1.1")
        case .http2: words.append(plan.plain ? "--http2-prior-knowledge" : "--http2")
        case .auto: if !plan.plain { words.append("--http2") }
        }
        let scheme = plan.plain ? "http" : "https"
        let defaultPort = plan.plain ? 80 : 443
        let hostName = hostWithoutPort(plan.host)
        if plan.plain {
            words += ["-H", "Host: \(plan.host)", "\(scheme)://\(plan.endpoint)\(plan.path)"]
        } else if let sni = plan.sni {
            // curl sends the URL's host as SNI; --connect-to sends the connection to the address.
            let urlPort = sni == hostName ? (Self.port(of: plan.host) ?? defaultPort) : defaultPort
            words += ["-k", "--connect-to", "\(sni):\(urlPort):\(plan.endpoint)"]
            if sni != hostName { words += ["-H", "Host: \(plan.host)"] }
            words.append("\(scheme)://\(sni)\(urlPort == defaultPort ? "" : ":\(urlPort)")\(plan.path)")
        } else {
            // curl sends no SNI for an IP address in the URL.
            words += ["-k", "-H", "Host: \(plan.host)", "\(scheme)://\(plan.endpoint)\(plan.path)"]
        }
        words += ["-o", "/dev/null"]
        return words.map(Format.shell).joined(separator: " ")
    }

    static func port(of host: String) -> Int? {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let rest = host[host.index(after: close)...]
            return rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil
        }
        guard host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") else { return nil }
        return Int(host[host.index(after: colon)...])
    }
}
