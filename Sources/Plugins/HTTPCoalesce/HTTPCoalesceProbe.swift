import Engine
import Foundation
import NIOCore

/// Reproduces browser connection coalescing: a connection opened for host A (SNI A) carries a request for
/// host B, as Firefox, Chrome and Safari do when A's certificate also covers B and both resolve to one address;
/// then B goes over a connection of its own. A 421 on the shared connection only is the coalescing 421.
public struct HTTPCoalesceProbe: Probe {
    public static let description = ProbeDescription(
        id: "http.coalesce",
        summary: "one HTTP/2 connection opened for host A, then a request for host B on it, then B on a fresh connection",
        live: true,
        parameters: [
            ProbeParameter("connect", .string, required: true, contact: .endpoint,
                           summary: "ADDR:PORT both names resolve to"),
            ProbeParameter("first", .string, required: true, summary: "host A: the SNI and :authority of the first request"),
            ProbeParameter("second", .string, required: true, summary: "host B: requested on A's connection, then on its own"),
            ProbeParameter("path", .string, summary: "request path (default /)"),
            ProbeParameter("version", .string,
                           summary: "auto (the default: HTTP/2 when offered, else HTTP/1.1 keep-alive, as a pooling proxy "
                               + "reuses), 1.1 or 2"),
            ProbeParameter("dry_run", .bool, summary: "only report the equivalent commands; connect to nothing"),
        ],
        observations: [
            "first_status": "status of A on A's connection",
            "shared_status": "status of B on A's connection (0 when the server closed it first)",
            "fresh_status": "status of B on a connection with SNI B",
            "reproduced": "whether B fails with 421 on A's connection and not on its own (the coalescing 421)",
            "alpn": "ALPN protocol of A's connection: h2 means browsers could coalesce",
            "version": "HTTP version of A's connection: 1.1 or 2",
            "cert_covers_second": "whether the certificate on A's connection covers B (browsers coalesce only then)",
            "shared_signature": "signature of the shared-connection response (apache-421-page, nginx-421-page … or 'none')",
            "dry_run": "true when nothing was sent (dry_run)",
        ],
        examples: [
            ProbeExample("a dry run names the commands", parameters: [
                "connect": .string("203.0.113.7:443"), "first": .string("a.example.com"), "second": .string("b.example.com"),
                "dry_run": .bool(true),
            ], expect: ["dry_run": "true"]),
            ProbeExample("both names are required",
                         parameters: ["connect": .string("203.0.113.7:443"), "first": .string("a.example.com")],
                         expectError: true),
            ProbeExample("two equal names cannot show coalescing", parameters: [
                "connect": .string("203.0.113.7:443"), "first": .string("a.example.com"), "second": .string("A.example.com"),
            ], expectError: true),
        ]
    )

    public init() {}

    public func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        let endpoint: Endpoint
        let first: String, second: String, path: String
        let choice: HTTPVersionChoice
        let dryRun: Bool
        do {
            guard let connect = parameters.string("connect") else { throw ProbeFailure("no 'connect' given; give ADDR:PORT") }
            endpoint = try Endpoint.parse(connect, defaultPort: 443)
            guard let a = parameters.string("first"), let b = parameters.string("second") else {
                throw ProbeFailure("give both 'first' and 'second' host names")
            }
            guard HTTPRequestProbe.hostWithoutPort(a).lowercased() != HTTPRequestProbe.hostWithoutPort(b).lowercased() else {
                throw ProbeFailure("'first' and 'second' are the same name ('\(a)'); coalescing needs two names")
            }
            first = a
            second = b
            _ = try TLSSupport.sniValue(HTTPRequestProbe.hostWithoutPort(a))
            _ = try TLSSupport.sniValue(HTTPRequestProbe.hostWithoutPort(b))
            var p = parameters.string("path") ?? "/"
            if !p.hasPrefix("/") { p = "/" + p }
            path = p
            choice = try HTTPVersionChoice.parse(parameters.string("version"))
            dryRun = try parameters.flag("dry_run", default: false)
        } catch {
            return .failure(error.reason)
        }
        let sniA = HTTPRequestProbe.hostWithoutPort(first)
        let sniB = HTTPRequestProbe.hostWithoutPort(second)
        let command = Self.command(endpoint, first: first, second: second, path: path)
        if dryRun { return ProbeOutcome(observations: ["dry_run": .bool(true)], command: command) }

        let budget = Budget(context)
        let byteLimit = context.byteLimit
        return await LiveIO.withGroup(context) { group in
            // The fresh connection for B does not depend on A's: it runs alongside.
            async let freshResult = Self.fresh(endpoint, sni: sniB, authority: second, path: path, choice: choice,
                                               group: group, budget: budget, byteLimit: byteLimit)
            let shared: HTTPConnection
            do {
                shared = try await HTTPConnection.open(endpoint, sni: sniA, plain: false, choice: choice, group: group,
                                                       budget: budget, byteLimit: byteLimit)
            } catch {
                _ = await freshResult
                return .failure(error.reason, command: command)
            }
            defer { shared.close() }
            let firstResult: HTTPResult
            do {
                firstResult = try await shared.get(authority: first, path: path, keepAlive: true, budget: budget)
            } catch {
                _ = await freshResult
                return .failure(error.reason, command: command)
            }
            var evidence = [Evidence(kind: "status-line", text: "HTTP/\(firstResult.version) \(firstResult.status)",
                                     detail: "\(first) on a connection with SNI '\(sniA)'")]
            var sharedStatus = 0
            var sharedSignature = "none"
            do {
                let sharedResult = try await shared.get(authority: second, path: path, keepAlive: true, budget: budget)
                sharedStatus = sharedResult.status
                let (signature, signatureEvidence) = HTTPSignature.of(sharedResult)
                sharedSignature = signature
                let line = "HTTP/\(sharedResult.version) \(sharedResult.status) \(Format.serverText(sharedResult.reason))"
                evidence.append(Evidence(kind: "status-line", text: line,
                                         detail: "\(second) on the connection opened for '\(sniA)' (coalesced)"))
                if let signatureEvidence { evidence.append(signatureEvidence) }
            } catch {
                evidence.append(Evidence(kind: "shared-connection", text: error.reason,
                                         detail: "\(second) could not be sent on the connection opened for '\(sniA)'"))
            }
            let fresh: HTTPResult
            switch await freshResult {
            case .failure(let failure): return ProbeOutcome(evidence: evidence, error: failure.message, command: command)
            case .success(let r): fresh = r
            }
            let freshLine = "HTTP/\(fresh.version) \(fresh.status) \(Format.serverText(fresh.reason))"
            evidence.append(Evidence(kind: "status-line", text: freshLine,
                                     detail: "\(second) on a fresh connection with SNI '\(sniB)'"))
            let covers = shared.tls?.leaf?.covers(sniB) ?? false
            if let leaf = shared.tls?.leaf {
                evidence.append(Evidence(kind: "certificate", text: Format.serverText(leaf.line, limit: 600),
                                         detail: "certificate on the connection for '\(sniA)'; it "
                                             + "\(covers ? "covers" : "does not cover") '\(sniB)'"))
            }
            return ProbeOutcome(observations: [
                "first_status": .int(firstResult.status),
                "shared_status": .int(sharedStatus),
                "fresh_status": .int(fresh.status),
                "reproduced": .bool(sharedStatus == 421 && fresh.status != 421),
                "alpn": .string(shared.tls?.alpn ?? "none"),
                "version": .string(shared.version),
                "cert_covers_second": .bool(covers),
                "shared_signature": .string(sharedSignature),
            ], evidence: evidence, command: command)
        }
    }

    static func fresh(_ endpoint: Endpoint, sni: String, authority: String, path: String, choice: HTTPVersionChoice,
                      group: any EventLoopGroup, budget: Budget, byteLimit: Int) async -> Result<HTTPResult, ProbeFailure> {
        do {
            let fresh = try await HTTPConnection.open(endpoint, sni: sni, plain: false, choice: choice, group: group,
                                                      budget: budget, byteLimit: byteLimit)
            defer { fresh.close() }
            return .success(try await fresh.get(authority: authority, path: path, keepAlive: false, budget: budget))
        } catch {
            return .failure(error)
        }
    }

    /// No common tool coalesces; kb itself reruns it, and curl shows the fresh-connection half.
    static func command(_ endpoint: Endpoint, first: String, second: String, path: String) -> String {
        let kb = ["kb", "probe", "http.coalesce", "--param", "connect=\(endpoint)", "--param", "first=\(first)",
                  "--param", "second=\(second)"].map(Format.shell).joined(separator: " ")
        let b = HTTPRequestProbe.hostWithoutPort(second)
        let curl = ["curl", "-sv", "--http2", "-k", "--connect-to", "\(b):443:\(endpoint)", "https://\(b)\(path)", "-o", "/dev/null"]
            .map(Format.shell).joined(separator: " ")
        return "\(kb)   # fresh connection only: \(curl)"
    }
}
