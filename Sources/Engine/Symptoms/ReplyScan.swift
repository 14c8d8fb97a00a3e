/// The SMTP/FTP reply parser on its own, without the rest of symptom extraction.
///
/// Public so that the fuzz target in bench/fuzz and tests can drive `ReplyParser` directly (release builds
/// cannot use `@testable import`); kb itself reaches the parser through `SymptomExtractor`.
public struct ReplyScan: Sendable {
    private let parser = ReplyParser()

    public init() {}

    /// The replies, enhanced status codes and SMTP phases found in `text`, in order of appearance.
    public func scan(_ text: String, name: String = "<input>") -> (replies: [Reply], enhanced: [String], phases: [SMTPPhase]) {
        let output = parser.parse(SymptomText(name: name, string: text), index: 0)
        return (output.replies.map(\.reply), output.enhanced.map(\.code), output.textPhases.map(\.phase))
    }
}
