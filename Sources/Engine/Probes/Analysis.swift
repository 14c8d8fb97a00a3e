/// What one analyzer made of one input: its findings, what it looked at, and the host names its
/// directives name. A clean run still says what was checked, so "no finding" reads as a result.
public struct Analysis: Sendable {
    public var findings: [Finding]
    /// What was checked, or nil when the analyzer does not say.
    public var checked: CheckedInput?
    /// Host names from directives (server_name, ServerName, proxy_pass targets), never from comments.
    public var hosts: [String]

    public init(findings: [Finding], checked: CheckedInput? = nil, hosts: [String] = []) {
        self.findings = findings
        self.checked = checked
        self.hosts = hosts
    }
}

/// A linter-style summary of one analysed input: "3 server blocks", "2 proxy_pass to HTTPS upstreams,
/// SNI sent on both".
public struct CheckedInput: Sendable, Codable, Hashable {
    /// The input's name as given (a path, `<stdin>`).
    public var input: String
    public var kind: String
    /// The analyzer id, e.g. "nginx.config".
    public var analyzer: String
    /// Short phrases, each a count of what was examined and how it stood.
    public var checked: [String]
    /// How many findings the analyzer reported about the config or log itself (includes not followed and
    /// unreadable parts are in `notFollowed` and `incomplete` instead).
    public var findings: Int
    /// Set when the input itself could not be read whole (a syntax error, an include over the size limit): a
    /// clean result then says nothing, and the run is inconclusive.
    public var incomplete: [String]
    /// Includes that were not followed (outside the roots given, not found): a clean result covers the files
    /// read, as a linter's does, and the report says how to read the rest.
    public var notFollowed: [String]

    public init(input: String, kind: String, analyzer: String, checked: [String], findings: Int = 0,
                incomplete: [String] = [], notFollowed: [String] = []) {
        self.input = input
        self.kind = kind
        self.analyzer = analyzer
        self.checked = checked
        self.findings = findings
        self.incomplete = incomplete
        self.notFollowed = notFollowed
    }
}

extension CheckedInput {
    /// Read whole, every include followed, and no finding.
    public var isClean: Bool { findings == 0 && incomplete.isEmpty && notFollowed.isEmpty }
}

extension InputAnalyzer {
    /// Analyzers that do not summarise what they checked still report their findings.
    public func examine(_ input: InputText, context: ProbeContext) async -> Analysis {
        Analysis(findings: await analyze(input, context: context))
    }

    /// By default an input's whole text is evidence (logs are lines of what happened).
    public func prose(_ input: InputText) -> String { input.text }
}
