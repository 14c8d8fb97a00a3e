import Engine

/// Reads the SMTP reply in a pasted bounce or mail log: code, enhanced code, phase, provider.
public struct SMTPReplyProbe: Probe {
    public static let description = ProbeDescription(
        id: "smtp.reply",
        summary: "read the SMTP reply in a pasted bounce or mail log: code, enhanced code, phase and provider",
        parameters: [
            ProbeParameter("code", .int, summary: "prefer replies with this code (default 421)"),
        ],
        observations: [
            "code": "the reply code",
            "enhanced": "the RFC 3463 enhanced status code, or 'none'",
            "phase": "the SMTP command the reply answered (connect, helo, mail, rcpt, data, end-of-data …) or 'unknown'",
            "provider": "the receiving provider when recognised (gmail, microsoft, yahoo …) or 'unknown'",
            "closing": "whether the server said it is closing the channel",
            "text": "the reply text",
        ],
        examples: [
            ProbeExample("a Postfix deferral from Gmail after the message body",
                         input: "postfix/smtp[123]: 4F2: to=<a@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.1.26]:25, status=deferred (host gmail-smtp-in.l.google.com[142.250.1.26] said: 421-4.7.28 Gmail has detected an unusual rate of mail 421 4.7.28 originating from your IP. - gsmtp (in reply to end of DATA command))",
                         expect: ["code": "421", "enhanced": "4.7.28", "phase": "end-of-data", "provider": "gmail"]),
            ProbeExample("a greeting refused with 421",
                         input: "host mx.example.net[192.0.2.7] refused to talk to me: 421 4.7.0 mx.example.net Error: too many connections from 198.51.100.4",
                         expect: ["code": "421", "enhanced": "4.7.0", "phase": "connect"]),
            ProbeExample("an HTTP response has no SMTP reply", input: "HTTP/2 421\nserver: nginx", expectError: true),
        ]
    )

    public init() {}

    public func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        let facts = context.facts
        let wanted = parameters["code"]?.intValue ?? 421
        guard let reply = facts.replies.first(where: { $0.code == wanted })
            ?? facts.replies.first(where: { $0.code >= 400 }) else {
            return .failure("no SMTP reply in the input")
        }
        let provider = facts.providers.min { a, b in
            (a.value.location?.line ?? .max, a.key) < (b.value.location?.line ?? .max, b.key)
        }?.key ?? "unknown"
        let closing = reply.text.lowercased().contains("closing")
        let evidence = Evidence(kind: "reply", text: "\(reply.code) \(reply.enhanced.map { $0 + " " } ?? "")\(reply.text)",
                                detail: "SMTP reply", location: reply.location)
        return ProbeOutcome(
            observations: ["code": .int(reply.code), "enhanced": .string(reply.enhanced ?? "none"),
                           "phase": .string((reply.phase ?? facts.phases.first)?.rawValue ?? "unknown"),
                           "provider": .string(provider), "closing": .bool(closing), "text": .string(reply.text)],
            evidence: [evidence])
    }
}
