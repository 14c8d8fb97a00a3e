import Engine
import Foundation
import NIOCore

/// Does what `openssl s_client -connect ADDR -servername NAME` does, and judges the certificate itself: names,
/// validity, and the SNI matrix that shows which certificate a client without SNI gets.
public struct TLSHandshakeProbe: Probe {
    public static let description = ProbeDescription(
        id: "tls.handshake",
        summary: "TLS handshake with an address: chosen SNI or none, version, ALPN, the certificate and the names it covers",
        live: true,
        parameters: [
            ProbeParameter("connect", .string, required: true, contact: .endpoint,
                           summary: "ADDR:PORT to connect to (IPv6 as [ADDR]:PORT)"),
            ProbeParameter("sni", .string,
                           summary: "server name to send; 'none' sends no SNI (default: 'name', else the connect host if it is a name)"),
            ProbeParameter("name", .string, summary: "the host name the certificate must cover (default: the SNI)"),
            ProbeParameter("alpn", .list, summary: "ALPN protocols to offer (default h2,http/1.1)"),
            ProbeParameter("matrix", .list, summary: "names for the SNI matrix: one handshake per name with SNI, plus one without"),
            ProbeParameter("dry_run", .bool, summary: "only report the equivalent command; connect to nothing"),
        ],
        observations: [
            "version": "negotiated TLS version: TLSv1.2, TLSv1.3 …",
            "alpn": "ALPN protocol the server chose, or 'none'",
            "subject": "subject of the leaf certificate",
            "issuer": "issuer of the leaf certificate",
            "sans": "DNS names and IP addresses in the leaf's subjectAltName (list)",
            "not_after": "end of the leaf's validity, ISO 8601",
            "covers": "whether the leaf covers 'name' (SAN match, wildcard only as the whole left-most label)",
            "valid_now": "whether the current time is within the leaf's validity",
            "self_signed": "whether the leaf is its own issuer",
            "sni": "the SNI sent, or 'none'",
            "default_cert_covers":
                "with 'matrix': whether the certificate a client without SNI gets covers 'name' (or the first matrix name)",
            "matrix": "with 'matrix': one entry per name: the subject and coverage with SNI, and without",
            "dry_run": "true when nothing was sent (dry_run)",
        ],
        examples: [
            ProbeExample("a dry run only names the openssl command",
                         parameters: ["connect": .string("203.0.113.7:443"), "sni": .string("none"),
                                      "name": .string("b.example.com"), "dry_run": .bool(true)],
                         expect: ["dry_run": "true", "sni": "none"]),
            ProbeExample("an address without a port is an error", parameters: ["connect": .string("203.0.113.7")],
                         expectError: true),
            ProbeExample("an IP address is never sent as SNI",
                         parameters: ["connect": .string("203.0.113.7:443"), "sni": .string("203.0.113.7")],
                         expectError: true),
        ]
    )

    static let maxMatrix = 16

    public init() {}

    public func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        let endpoint: Endpoint
        let sni: String?
        let name: String?
        let dryRun: Bool
        do {
            guard let connect = parameters.string("connect") else { throw ProbeFailure("no 'connect' given; give ADDR:PORT") }
            endpoint = try Endpoint.parse(connect)
            if let raw = parameters.string("sni") {
                sni = try TLSSupport.sniValue(raw)
            } else if let n = parameters.string("name"), !Endpoint.isIPLiteral(n) {
                sni = try TLSSupport.sniValue(n)
            } else {
                sni = endpoint.isIPLiteral ? nil : try TLSSupport.sniValue(endpoint.host)
            }
            name = parameters.string("name") ?? sni ?? (endpoint.isIPLiteral ? nil : endpoint.host)
            dryRun = try parameters.flag("dry_run", default: false)
        } catch {
            return .failure(error.reason)
        }
        let alpn = parameters.list("alpn") ?? ["h2", "http/1.1"]
        let matrixNames = Array((parameters.list("matrix") ?? []).prefix(Self.maxMatrix))
        let command = Self.command(endpoint, sni: sni, alpn: alpn)
        if dryRun {
            return ProbeOutcome(observations: ["dry_run": .bool(true), "sni": .string(sni ?? "none")], command: command)
        }
        for m in matrixNames {
            do { _ = try TLSSupport.sniValue(m) } catch { return .failure(error.reason, command: command) }
        }
        let budget = Budget(context)
        let byteLimit = context.byteLimit
        context.logger.debug("tls.handshake \(endpoint) sni=\(sni ?? "none") matrix=\(matrixNames)")

        return await LiveIO.withGroup(context) { group in
            // The main handshake and the matrix run concurrently: they are independent connections.
            var jobs: [(key: String, sni: String?)] = [("main", sni)]
            if !matrixNames.isEmpty {
                jobs.append(("no-sni", nil))
                for m in matrixNames { jobs.append(("sni:" + m, m)) }
            }
            let results = await withTaskGroup(of: (String, Result<HandshakeInfo, ProbeFailure>).self) { tasks in
                for job in jobs {
                    tasks.addTask {
                        (job.key, await TLSClient.handshake(endpoint, sni: job.sni, alpn: alpn, group: group,
                                                            budget: budget, byteLimit: byteLimit))
                    }
                }
                var out: [String: Result<HandshakeInfo, ProbeFailure>] = [:]
                for await (key, result) in tasks { out[key] = result }
                return out
            }
            let main: HandshakeInfo
            switch results["main"]! {
            case .failure(let failure): return .failure(failure.message, command: command)
            case .success(let info): main = info
            }
            guard let leaf = main.leaf else {
                return .failure("\(endpoint) completed the handshake but sent no readable certificate", command: command)
            }
            var observations: [String: ProbeValue] = [
                "version": .string(main.version),
                "alpn": .string(main.alpn ?? "none"),
                "subject": .string(Format.serverText(leaf.subject)),
                "issuer": .string(Format.serverText(leaf.issuer)),
                "sans": .list(leaf.sans.map { Format.serverText($0) }),
                "not_after": .string(Format.iso8601(leaf.notAfter)),
                "valid_now": .bool(leaf.validNow()),
                "self_signed": .bool(leaf.selfSigned),
                "sni": .string(sni ?? "none"),
            ]
            var evidence = [Evidence(kind: "certificate", text: Format.serverText(leaf.line, limit: 600),
                                     detail: "certificate \(endpoint) sent " + (sni.map { "for SNI '\($0)'" } ?? "to a client without SNI") +
                                        ", \(main.version), ALPN \(main.alpn ?? "none")")]
            if let name {
                let covers = leaf.covers(name)
                observations["covers"] = .bool(covers)
                evidence.append(Evidence(kind: "coverage", text: "'\(name)' \(covers ? "is" : "is not") covered by \(leaf.subject)",
                                         detail: covers ? "a client checking '\(name)' accepts this certificate"
                                             : "a client checking '\(name)' rejects this certificate"))
            }
            if !leaf.validNow() {
                let validity = "valid \(Format.iso8601(leaf.notBefore)) to \(Format.iso8601(leaf.notAfter))"
                evidence.append(Evidence(kind: "validity", text: validity,
                                         detail: "the certificate is not valid now"))
            }
            if !matrixNames.isEmpty {
                var entries: [String] = []
                let noSNI = results["no-sni"]!
                let checkName = name ?? matrixNames[0]
                if case .success(let info) = noSNI, let cert = info.leaf {
                    observations["default_cert_covers"] = .bool(cert.covers(checkName))
                    evidence.append(Evidence(kind: "default-certificate", text: Format.serverText(cert.line, limit: 600),
                                             detail: "what a client without SNI gets; it "
                                                 + "\(cert.covers(checkName) ? "covers" : "does not cover") '\(checkName)'"))
                } else if case .failure(let f) = noSNI {
                    evidence.append(Evidence(kind: "default-certificate", text: f.message,
                                             detail: "a client without SNI gets no certificate"))
                }
                for m in matrixNames {
                    let with = Self.cell(results["sni:" + m]!, name: m)
                    let without = Self.cell(noSNI, name: m)
                    entries.append("\(m): sni \(with); no-sni \(without)")
                }
                observations["matrix"] = .string(entries.joined(separator: " | "))
            }
            return ProbeOutcome(observations: observations, evidence: evidence, command: command)
        }
    }

    /// `CN=a.test covers` / `CN=default does-not-cover` / `error: …` for one matrix cell.
    static func cell(_ result: Result<HandshakeInfo, ProbeFailure>, name: String) -> String {
        switch result {
        case .failure(let f): return "error (\(f.message))"
        case .success(let info):
            guard let leaf = info.leaf else { return "no certificate" }
            return "\(Format.serverText(leaf.subject, limit: 120)) \(leaf.covers(name) ? "covers" : "does-not-cover")"
        }
    }

    static func command(_ endpoint: Endpoint, sni: String?, alpn: [String]) -> String {
        var words = ["openssl", "s_client", "-connect", endpoint.description]
        if let sni { words += ["-servername", sni] } else { words.append("-noservername") }
        if !alpn.isEmpty { words += ["-alpn", alpn.joined(separator: ",")] }
        words.append("-showcerts")
        return words.map(Format.shell).joined(separator: " ") + " </dev/null"
    }
}
