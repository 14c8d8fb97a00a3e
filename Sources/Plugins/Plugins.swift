import Engine

/// The built-in probes, in one explicit list: adding a probe means adding it here.
public enum BuiltinProbes {
    public static let all: [any Probe.Type] = [
        TextMatchProbe.self,
        HTTPResponseProbe.self,
        SMTPReplyProbe.self,
        DNSLookupProbe.self,
        TLSHandshakeProbe.self,
        HTTPRequestProbe.self,
        HTTPCoalesceProbe.self,
        HTTPNodesProbe.self,
        SMTPSessionProbe.self,
    ]

    public static var registry: ProbeRegistry { ProbeRegistry(all) }
}

/// The analyzers that read attached configs and logs before matching.
/// Detection runs in this order and the first analyzer that recognises an input wins.
public enum BuiltinAnalyzers {
    public static let all: [any InputAnalyzer] = [
        NginxConfigAnalyzer(),
        ApacheConfigAnalyzer(),
        LogScanAnalyzer(),
    ]
}
