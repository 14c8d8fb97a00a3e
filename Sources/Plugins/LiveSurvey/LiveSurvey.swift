import Engine

/// A first look at a live target, turned into text the symptom extractor reads like a paste.
///
/// What the server says (its status line, Server header, error page, SMTP reply) is evidence of the
/// same kind as what a customer pastes, so it goes through the same extraction and matching; the
/// playbooks' live checks then confirm or refute the cause.
public enum LiveSurvey {
    /// Resolves the target's name (unless `--resolve` pins it) so checks can ask each address separately.
    public static func addresses(_ target: Target, environment: RunEnvironment) async -> [String] {
        if let pinned = target.pinnedAddress { return [pinned] }
        let context = environment.context(Facts(target: target))
        let outcome = await DNSLookupProbe().run(["name": .string(target.host)], context: context)
        return outcome.observations["addresses"]?.listValue.filter { !$0.isEmpty } ?? []
    }

    /// Resolves what the target names and allows it in the environment's contact policy: the addresses of an
    /// http(s) target, so `{{addresses}}` checks may ask each; for `smtp://domain`, its MX hosts and their addresses.
    public static func prepare(_ target: Target, environment: RunEnvironment) async -> (Target, RunEnvironment) {
        var target = target
        var environment = environment
        if target.scheme.hasPrefix("http") {
            target.addresses = await addresses(target, environment: environment)
            for address in target.addresses { environment.contacts.allow(address, port: target.port) }
        } else if target.pinnedAddress == nil, !ContactPolicy.isIPLiteral(target.host) {
            for host in await mailHosts(target, environment: environment) {
                // The name first, so that its own addresses may be looked up.
                environment.contacts.allowMailHost(host, addresses: [], port: target.port)
                let outcome = await DNSLookupProbe().run(["name": .string(host)],
                                                         context: environment.context(Facts(target: target)))
                let found = outcome.observations["addresses"]?.listValue.filter { !$0.isEmpty } ?? []
                environment.contacts.allowMailHost(host, addresses: found, port: target.port)
            }
        }
        return (target, environment)
    }

    /// At most this many MX hosts of a mail domain are allowed.
    static let maxMailHosts = 5

    /// The MX hosts of an smtp target's domain, best preference first.
    static func mailHosts(_ target: Target, environment: RunEnvironment) async -> [String] {
        let outcome = await DNSLookupProbe().run(["name": .string(target.host), "type": .list(["MX"])],
                                                 context: environment.context(Facts(target: target)))
        let records = outcome.observations["mx"]?.listValue ?? []
        let ranked = records.compactMap { record -> (Int, String)? in
            let words = record.split(separator: " ")
            guard words.count == 2, let preference = Int(words[0]) else { return nil }
            let host = ContactPolicy.canonical(String(words[1]))
            return host.isEmpty ? nil : (preference, host)
        }.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        return Array(ranked.map(\.1).prefix(maxMailHosts))
    }

    public static func observe(_ target: Target, environment: RunEnvironment) async -> InputText {
        let context = environment.context(Facts(target: target))
        let outcome: ProbeOutcome
        switch target.scheme {
        case "https", "http":
            var parameters: [String: ProbeValue] = ["connect": .string(target.connect), "host": .string(target.host),
                                                   "path": .string(path(of: target.url))]
            if target.scheme == "https" {
                parameters["sni"] = .string(target.host)
            } else {
                parameters["scheme"] = .string("http")
            }
            outcome = await HTTPRequestProbe().run(parameters, context: context)
        default:
            outcome = await SMTPSessionProbe().run(["connect": .string(target.connect)], context: context)
        }
        var lines = outcome.evidence.map(\.text)
        if let text = outcome.observations["text"]?.description, !text.isEmpty, !lines.contains(text) {
            lines.append(text)
        }
        if let error = outcome.error { lines.append("kb could not reach \(target.url): \(error)") }
        return InputText(name: "<live \(target.url)>", text: lines.joined(separator: "\n"))
    }

    static func path(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "/" }
        let rest = url[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...].prefix { $0 != "#" })
    }
}
