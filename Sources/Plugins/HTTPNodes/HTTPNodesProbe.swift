import Engine

/// The same request to every address a name resolves to, one connection each, concurrently.
///
/// A load balancer pool or a round-robin DNS name with one stale node answers 421 only from that node;
/// asking each address separately is how an admin finds it (curl --resolve per address).
public struct HTTPNodesProbe: Probe {
    public static let description = ProbeDescription(
        id: "http.nodes",
        summary: "the same HTTPS request to each address of a name separately (curl --resolve per address)",
        live: true,
        parameters: [
            ProbeParameter("addresses", .list, required: true, contact: .endpoint,
                           summary: "the addresses to ask, ADDR:PORT each (at most 16)"),
            ProbeParameter("host", .string, required: true, summary: "Host/:authority and SNI to send to each"),
            ProbeParameter("path", .string, summary: "request path (default /)"),
            ProbeParameter("scheme", .string, summary: "https (default) or http"),
            ProbeParameter("dry_run", .bool, summary: "report the commands without connecting"),
        ],
        observations: [
            "statuses": "address=status for each address (error where it could not be asked)",
            "differs": "whether the addresses gave different statuses",
            "failing": "the addresses that answered 421",
            "count": "how many addresses were asked",
        ],
        examples: [
            ProbeExample("two nodes, planned only", parameters: [
                "addresses": .list(["192.0.2.10:443", "192.0.2.11:443"]), "host": .string("shop.example.com"),
                "dry_run": .bool(true)], expect: ["count": "2"]),
            ProbeExample("no address is an error", parameters: ["addresses": .list([]), "host": .string("shop.example.com")],
                         expectError: true),
        ]
    )

    static let maxAddresses = 16

    public init() {}

    public func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        let addresses = (parameters["addresses"]?.listValue ?? []).filter { !$0.isEmpty }
        guard let host = parameters["host"]?.stringValue, !host.isEmpty else { return .failure("no host given") }
        guard !addresses.isEmpty else { return .failure("no address to ask: the name did not resolve") }
        guard addresses.count <= Self.maxAddresses else {
            return .failure("\(addresses.count) addresses; at most \(Self.maxAddresses) are asked")
        }
        let dryRun = parameters["dry_run"]?.boolValue ?? false
        let port = addresses.first.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } } ?? 443
        let command = "for a in \(addresses.map { String($0.split(separator: ":").dropLast().joined(separator: ":")) }.joined(separator: " ")); do "
            + "curl -sk -o /dev/null -w \"$a %{http_code}\\n\" --resolve \(host):\(port):$a https://\(host):\(port)\(parameters["path"]?.stringValue ?? "/"); done"
        if dryRun {
            return ProbeOutcome(observations: ["count": .int(addresses.count), "dry_run": .bool(true)], command: command)
        }
        var request: [String: ProbeValue] = ["host": .string(host)]
        for key in ["path", "scheme"] { if let v = parameters[key] { request[key] = v } }
        let results = await withTaskGroup(of: (Int, String, ProbeOutcome).self) { group in
            for (i, address) in addresses.enumerated() {
                var p = request
                p["connect"] = .string(address)
                group.addTask { (i, address, await HTTPRequestProbe().run(p, context: context)) }
            }
            var out: [(Int, String, ProbeOutcome)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
        var statuses: [String] = []
        var failing: [String] = []
        var evidence: [Evidence] = []
        var answered = 0
        for (_, address, outcome) in results {
            if let error = outcome.error {
                statuses.append("\(address)=error")
                evidence.append(Evidence(kind: "node", text: "\(address): \(error)"))
                continue
            }
            answered += 1
            let status = outcome.observations["status"]?.description ?? "?"
            statuses.append("\(address)=\(status)")
            if status == "421" { failing.append(address) }
            evidence.append(Evidence(kind: "node", text: "\(address): HTTP \(status)", detail: "Host and SNI '\(host)'"))
        }
        if answered == 0 {
            return ProbeOutcome(evidence: evidence, error: "no address answered", command: command)
        }
        let distinct = Set(statuses.map { $0.split(separator: "=").last.map(String.init) ?? "" })
        return ProbeOutcome(observations: ["statuses": .list(statuses), "differs": .bool(distinct.count > 1),
                                           "failing": .list(failing), "count": .int(addresses.count)],
                            evidence: evidence, command: command)
    }
}
