import Engine
import Foundation

/// Looks for a pattern in what the user gave kb, and points at the lines where it is.
public struct TextMatchProbe: Probe {
    public static let description = ProbeDescription(
        id: "text.match",
        summary: "search the pasted text, files and logs for a regular expression (case-insensitive)",
        parameters: [
            ProbeParameter("pattern", .string, required: true, summary: "RE2 regular expression, case-insensitive"),
            ProbeParameter("kind", .list, summary: "only inputs of these kinds (text, error-log, mail-log …)"),
        ],
        observations: [
            "found": "whether the pattern occurs",
            "count": "how many lines match (at most 1000 are counted)",
            "match": "the first matching text",
        ],
        examples: [
            ProbeExample("finds an Apache AH02032 line", parameters: ["pattern": .string("AH02032")],
                         input: "[ssl:error] AH02032: Hostname a.example provided via SNI and hostname b.example provided via HTTP have no compatible SSL setup",
                         expect: ["found": "true", "count": "1", "match": "AH02032"]),
            ProbeExample("reports absence", parameters: ["pattern": .string("proxy_ssl_server_name\\s+on")],
                         input: "location / { proxy_pass https://10.0.0.5; }", expect: ["found": "false", "count": "0"]),
            ProbeExample("an invalid pattern is an error", parameters: ["pattern": .string("(unclosed")],
                         input: "anything", expectError: true),
        ]
    )

    static let maxCount = 1000

    public init() {}

    public func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        guard let source = parameters["pattern"]?.stringValue else { return .failure("no pattern given") }
        let regex: Pattern
        do {
            regex = try Pattern(source)
        } catch {
            return .failure(error.message)
        }
        let kinds = parameters["kind"]?.listValue
        var count = 0
        var first: String?
        var evidence: [Evidence] = []
        for input in context.facts.inputs where kinds == nil || kinds!.contains(input.kind) {
            var lineNumber = 0
            for line in input.text.split(separator: "\n", omittingEmptySubsequences: false) {
                lineNumber += 1
                guard count < Self.maxCount else { break }
                let text = String(line)
                guard let m = regex.firstMatch(in: text) else { continue }
                count += 1
                if first == nil { first = String(m) }
                if evidence.count < 5 {
                    evidence.append(Evidence(kind: "line", text: text, detail: "matches '\(source)'",
                                             location: SourceLocation(file: input.name, line: input.originalLine(lineNumber), column: text.distance(from: text.startIndex, to: m.startIndex) + 1)))
                }
            }
        }
        // What the user stated with --stack is part of the input: "no hosting panel is named" must not pass
        // under `--stack cpanel`.
        if kinds == nil || kinds!.contains("text") {
            for (slug, stated) in context.facts.stacks.sorted(by: { $0.key < $1.key }) where stated.kind == "stated" {
                let text = "--stack \(slug)"
                guard count < Self.maxCount, let m = regex.firstMatch(in: text) else { continue }
                count += 1
                if first == nil { first = String(m) }
                if evidence.count < 5 {
                    evidence.append(Evidence(kind: "stated", text: text, detail: "matches '\(source)'",
                                             location: SourceLocation(file: "<command line>", line: 1)))
                }
            }
        }
        var observations: [String: ProbeValue] = ["found": .bool(count > 0), "count": .int(count)]
        if let first { observations["match"] = .string(first) }
        return ProbeOutcome(observations: observations, evidence: evidence,
                            command: "grep -inE '\(source.replacingOccurrences(of: "'", with: "'\\''"))' FILE")
    }
}
