import Engine
import Foundation

/// Reads an HTTP response the user pasted (curl -v, a browser's raw headers, a saved page)
/// and says what answered: status, version, server and the error page's signature.
public struct HTTPResponseProbe: Probe {
    public static let description = ProbeDescription(
        id: "http.response",
        summary: "read a pasted HTTP response: status line, headers and the error page's server signature",
        parameters: [
            ProbeParameter("status", .int,
                           summary: "read only a response with this status; with none, every observation is 'unknown'"),
        ],
        observations: [
            "status": "the status code of the response (a 421 page without a status line counts as 421)",
            "version": "HTTP version of the status line: 1.0, 1.1, 2 or 3",
            "server": "the Server header, or 'none'",
            "signature": "who wrote the error page: apache-421-page, nginx-421-page, cloudfront, … or 'none'",
        ],
        examples: [
            ProbeExample("curl -v output from nginx",
                         input: "< HTTP/2 421\n< server: nginx\n< content-type: text/html\n<html><head><title>421 Misdirected Request</title></head><body><center><h1>421 Misdirected Request</h1></center><hr><center>nginx</center></body></html>",
                         expect: ["status": "421", "version": "2", "server": "nginx", "signature": "nginx-421-page"]),
            ProbeExample("Apache's own 421 page",
                         input: "HTTP/1.1 421 Misdirected Request\nServer: Apache/2.4.65 (Debian)\nContent-Type: text/html; charset=iso-8859-1\n\n<title>421 Misdirected Request</title>\n<p>The client needs a new connection for this request as the requested host name does not match the Server Name Indication (SNI) in use for this connection.</p>",
                         expect: ["status": "421", "version": "1.1", "server": "Apache/2.4.65 (Debian)", "signature": "apache-421-page"]),
            ProbeExample("a mail log has no HTTP response", input: "postfix/smtp[1]: said: 421 4.7.0 try later",
                         expectError: true),
            ProbeExample("a 200 after the fix says nothing about the 421", parameters: ["status": .int(421)],
                         input: "< HTTP/2 200\n< server: nginx\n< content-type: text/html",
                         expect: ["status": "unknown", "version": "unknown", "signature": "unknown"]),
        ]
    )

    public init() {}

    public func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        let wanted = parameters["status"]?.intValue
        guard let response = Self.findResponse(context.facts.inputs, status: wanted) else {
            if wanted == nil || wanted == 421,
               let page = context.facts.signatures.first(where: { $0.key.hasSuffix("421-page") }) {
                return ProbeOutcome(observations: ["status": .int(421), "version": .string("unknown"),
                                                   "server": .string("none"), "signature": .string(page.key)],
                                    evidence: [page.value])
            }
            if wanted != nil {
                // A check about the 421 says nothing about a 200 that came after the fix.
                let unknown = ProbeValue.string("unknown")
                return ProbeOutcome(observations: ["status": unknown, "version": unknown, "server": unknown,
                                                   "signature": unknown])
            }
            return .failure("no HTTP response (status line or error page) in the input")
        }
        // The extractor already knows every signature; reading the response block alone keeps it to this response.
        let facts = SymptomExtractor().extract([InputText(name: response.input, text: response.block)])
        let signature = Self.signaturePriority.first { facts.signatures[$0] != nil } ?? "none"
        var evidence = [Evidence(kind: "status-line", text: response.statusLine, detail: "status line",
                                 location: SourceLocation(file: response.input, line: response.line))]
        if let s = facts.signatures[signature] { evidence.append(s) }
        return ProbeOutcome(observations: ["status": .int(response.status), "version": .string(response.version),
                                           "server": .string(response.server ?? "none"), "signature": .string(signature)],
                            evidence: evidence)
    }

    static let signaturePriority = ["apache-421-page", "nginx-421-page", "haproxy-421-page", "traefik-421", "caddy-strict-sni",
                                    "cloudfront", "cf-ray", "fastly", "akamai", "invalid-host-header"]

    struct Response {
        var input: String
        var line: Int
        var statusLine: String
        var status: Int
        var version: String
        var server: String?
        var block: String
    }

    /// The first status line (`HTTP/1.1 421 …`, `< HTTP/2 421`, `:status: 421`) with the headers and body after it.
    static func findResponse(_ inputs: [InputText], status wanted: Int? = nil) -> Response? {
        for input in inputs {
            let lines = input.text.split(separator: "\n", omittingEmptySubsequences: false).map { Substring($0) }
            for (i, raw) in lines.enumerated() {
                guard let (version, status) = statusLine(raw), wanted == nil || status == wanted else { continue }
                var server: String?
                var end = min(lines.count, i + 200)
                for j in (i + 1)..<end {
                    let line = stripCurlPrefix(lines[j])
                    if j > i + 1, statusLine(lines[j]) != nil { end = j; break }
                    if let colon = line.firstIndex(of: ":"), server == nil {
                        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                        if name == "server" { server = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
                    }
                }
                let block = lines[i..<end].joined(separator: "\n")
                return Response(input: input.name, line: i + 1, statusLine: String(raw.trimmingCharacters(in: .whitespaces)),
                                status: status, version: version, server: server, block: block)
            }
        }
        return nil
    }

    static func stripCurlPrefix(_ line: Substring) -> Substring {
        var l = line
        if l.hasPrefix("< ") || l.hasPrefix("> ") { l = l.dropFirst(2) }
        if l.hasSuffix("\r") { l = l.dropLast() }
        return l
    }

    static func statusLine(_ raw: Substring) -> (String, Int)? {
        let line = stripCurlPrefix(raw).trimmingCharacters(in: .whitespaces)
        if line.hasPrefix(":status:") || line.hasPrefix(":status ") {
            let rest = line.dropFirst(7).drop { $0 == ":" || $0 == " " }
            if let code = Int(rest.prefix(3)), (100...599).contains(code) { return ("2", code) }
            return nil
        }
        guard line.hasPrefix("HTTP/") else { return nil }
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let code = Int(parts[1]), (100...599).contains(code), parts[1].count == 3 else { return nil }
        var version = String(parts[0].dropFirst(5))
        if version == "2.0" { version = "2" }
        if version == "3.0" { version = "3" }
        guard ["1.0", "1.1", "2", "3"].contains(version) else { return nil }
        return (version, code)
    }
}
