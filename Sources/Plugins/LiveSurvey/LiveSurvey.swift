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
