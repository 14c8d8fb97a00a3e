/// The outcome of one check, as the report shows it.
public enum CheckStatus: String, Sendable, Codable, CaseIterable {
    /// The expectation held: this part of the system looks healthy.
    case pass
    /// The expectation did not hold: the symptom of the cause is present.
    case fail
    /// Not run, with the reason (a condition was false, a dependency did not pass, a value was missing).
    case skipped
    /// The probe could not run or could not tell (timeout, reset, unreadable input), with the reason.
    case error
    /// A step only a person can do; the report tells them how.
    case manual
}

/// A parameter value after templating: a probe reads strings, numbers, flags or lists.
public enum ProbeValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([String])

    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        case .list(let l): return l.joined(separator: ",")
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .string(let s): return Int(s)
        default: return nil
        }
    }
    public var boolValue: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return s == "true" ? true : s == "false" ? false : nil
        default: return nil
        }
    }
    public var listValue: [String] {
        switch self {
        case .list(let l): return l
        default: return [description]
        }
    }
}

/// The type a parameter takes; the loader checks playbook values against it.
public enum ProbeParameterKind: String, Sendable, Codable {
    case string, int, bool, list
}

/// What a parameter's value makes a live probe contact. The loader refuses playbooks that fix such a value,
/// and the engine asks the run's `ContactPolicy` about it before the probe starts.
public enum ContactRole: String, Sendable {
    /// ADDR:PORT (or a list of them) to connect to.
    case endpoint
    /// ADDR[:PORT] of a DNS server to ask.
    case dnsServer
    /// A name a DNS query asks about.
    case lookupName
}

public struct ProbeParameter: Sendable {
    public var name: String
    public var kind: ProbeParameterKind
    public var required: Bool
    public var summary: String
    /// Set when the value says where the probe sends packets.
    public var contact: ContactRole?

    public init(_ name: String, _ kind: ProbeParameterKind, required: Bool = false, contact: ContactRole? = nil,
                summary: String) {
        self.name = name
        self.kind = kind
        self.required = required
        self.contact = contact
        self.summary = summary
    }
}

/// A worked example that documents a probe and is run as a test: the probe must report `expect` for it.
public struct ProbeExample: Sendable {
    public var summary: String
    public var parameters: [String: ProbeValue]
    /// Pasted input the probe reads, for offline probes.
    public var input: String
    /// Observations the probe must report (a subset of what it returns).
    public var expect: [String: String]
    /// Whether the probe must end in error for this example.
    public var expectError: Bool

    public init(_ summary: String, parameters: [String: ProbeValue] = [:], input: String = "",
                expect: [String: String] = [:], expectError: Bool = false) {
        self.summary = summary
        self.parameters = parameters
        self.input = input
        self.expect = expect
        self.expectError = expectError
    }
}

/// What a probe is, for `kb probe`, the docs and the playbook loader.
public struct ProbeDescription: Sendable {
    public var id: String
    public var summary: String
    /// Live probes touch the network and run only when the user named a target.
    public var live: Bool
    public var parameters: [ProbeParameter]
    /// The observation keys the probe reports, which checks may name in `expect`.
    public var observations: [String: String]
    public var examples: [ProbeExample]

    public init(id: String, summary: String, live: Bool = false, parameters: [ProbeParameter] = [],
                observations: [String: String] = [:], examples: [ProbeExample] = []) {
        self.id = id
        self.summary = summary
        self.live = live
        self.parameters = parameters
        self.observations = observations
        self.examples = examples
    }
}

/// What a probe saw. Observations are compared with a check's `expect`; evidence is shown to the user.
public struct ProbeOutcome: Sendable {
    public var observations: [String: ProbeValue]
    public var evidence: [Evidence]
    /// Set when the probe could not run or could not tell; the check then has status error.
    public var error: String?
    /// A command a person can run to see the same thing (curl, openssl, dig, swaks).
    public var command: String?

    public init(observations: [String: ProbeValue] = [:], evidence: [Evidence] = [], error: String? = nil, command: String? = nil) {
        self.observations = observations
        self.evidence = evidence
        self.error = error
        self.command = command
    }

    public static func failure(_ reason: String, command: String? = nil) -> ProbeOutcome {
        ProbeOutcome(error: reason, command: command)
    }
}

/// Reads files for probes; tests swap it for an in-memory one.
public protocol FileAccess: Sendable {
    func read(_ path: String, limit: Int) throws(KBError) -> String
}

/// Lists a directory's entries so `include` globs can be expanded. A `FileAccess` that also conforms
/// lets the config analyzers follow `include sites-enabled/*;`; without it, globs match only the files
/// that were given as inputs or found in an `nginx -T` dump.
public protocol DirectoryListing: Sendable {
    /// The names (not paths) of the entries of `directory`, in any order.
    func contents(ofDirectory directory: String) throws(KBError) -> [String]
}

/// Where a probe's log lines go; the CLI decides whether to show them.
public protocol LogSink: Sendable {
    func log(_ level: LogLevel, _ message: String)
}

public enum LogLevel: String, Sendable, Comparable {
    case debug, info, warning

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        let order: [LogLevel] = [.debug, .info, .warning]
        return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
    }
}

/// A small value-type logger over a sink, so nothing global holds state.
public struct Logger: Sendable {
    public var label: String
    public var sink: (any LogSink)?

    public init(label: String, sink: (any LogSink)? = nil) {
        self.label = label
        self.sink = sink
    }

    public func debug(_ message: @autoclosure () -> String) { sink?.log(.debug, "\(label): \(message())") }
    public func info(_ message: @autoclosure () -> String) { sink?.log(.info, "\(label): \(message())") }
    public func warning(_ message: @autoclosure () -> String) { sink?.log(.warning, "\(label): \(message())") }
}

/// Time limits every probe honours.
public struct Timeouts: Sendable {
    public var connect: Duration
    public var read: Duration
    public var total: Duration

    public init(connect: Duration = .seconds(5), read: Duration = .seconds(10), total: Duration = .seconds(30)) {
        self.connect = connect
        self.read = read
        self.total = total
    }
}

/// Everything a probe may use from outside: passed in, never reached through globals.
public struct ProbeContext: Sendable {
    public var facts: Facts
    public var files: any FileAccess
    public var timeouts: Timeouts
    /// Upper bound on bytes a probe reads from one peer or file.
    public var byteLimit: Int
    public var logger: Logger
    /// Extra services (resolver, connection factory) that live probes look up by key; offline probes ignore it.
    public var services: [String: any Sendable]
    /// Where live probes may send packets; without one, nowhere.
    public var contacts: ContactPolicy
    /// Who runs the probe, for refusals: "check 'live-target'", "kb probe".
    public var requester: String

    public init(facts: Facts, files: any FileAccess, timeouts: Timeouts = Timeouts(), byteLimit: Int = 1 << 20,
                logger: Logger = Logger(label: "probe"), services: [String: any Sendable] = [:],
                contacts: ContactPolicy = ContactPolicy(), requester: String = "kb") {
        self.facts = facts
        self.files = files
        self.timeouts = timeouts
        self.byteLimit = byteLimit
        self.logger = logger
        self.services = services
        self.contacts = contacts
        self.requester = requester
    }
}

/// A probe plugin: a value type with a static description, run with templated parameters.
public protocol Probe: Sendable {
    static var description: ProbeDescription { get }
    init()
    func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome
}

/// The probes a run may use, in the explicit order they were registered.
public struct ProbeRegistry: Sendable {
    public let probes: [any Probe.Type]
    private let byID: [String: any Probe.Type]

    public init(_ probes: [any Probe.Type]) {
        self.probes = probes
        var map: [String: any Probe.Type] = [:]
        for probe in probes { map[probe.description.id] = probe }
        self.byID = map
    }

    public func probe(_ id: String) -> (any Probe.Type)? { byID[id] }
    public var ids: [String] { probes.map { $0.description.id } }
}

/// Reads a pasted or attached input into findings before matching (config parsers, log scanners).
public protocol InputAnalyzer: Sendable {
    /// A short id such as "nginx.config".
    var id: String { get }
    /// The file kinds this analyzer reads, e.g. ["nginx-config"].
    var kinds: [String] { get }
    /// Returns the kind of `input` if this analyzer recognises it from its content, else nil.
    func detect(_ input: InputText) -> String?
    func analyze(_ input: InputText, context: ProbeContext) async -> [Finding]
    /// Findings plus what was checked and the host names directives name; defaults to `analyze`.
    func examine(_ input: InputText, context: ProbeContext) async -> Analysis
    /// The part of `input` that text signals and symptom cues may read, with line numbers kept: a config's
    /// comments and directives are not prose; a log's lines are.
    func prose(_ input: InputText) -> String
}
