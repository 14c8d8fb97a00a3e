import Engine

/// The built-in probes, in one explicit list: adding a probe means adding it here.
public enum BuiltinProbes {
    public static let all: [any Probe.Type] = []
}
