import ArgumentParser
import Engine
import Foundation
import Plugins

/// Where playbooks and articles come from.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("playbooks"), help: ArgumentHelp(
        "A directory of your own playbooks and overlays (*.yaml), articles (*.md) and causes (causes.yaml); "
            + "repeatable, after KB_PLAYBOOK_PATH; a later playbook with the same id replaces an earlier one.",
        valueName: "dir"))
    var playbookDirectories: [String] = []

    /// The built-in data: KB_DATA_DIR, else the nearest ancestor of the executable holding playbooks/ and knowledge/,
    /// else <prefix>/share/kb.
    func dataRoot() throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["KB_DATA_DIR"], !dir.isEmpty { return dir }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()
        for start in [executable, dir].compactMap({ $0 }) {
            dir = start
            for _ in 0..<8 {
                let playbooks = dir.appendingPathComponent("playbooks").path
                let knowledge = dir.appendingPathComponent("knowledge").path
                if FileManager.default.fileExists(atPath: playbooks), FileManager.default.fileExists(atPath: knowledge) {
                    return dir.path
                }
                let share = dir.appendingPathComponent("share/kb").path
                if FileManager.default.fileExists(atPath: share + "/playbooks") { return share }
                dir = dir.deletingLastPathComponent()
            }
        }
        throw failUsage("cannot find kb's playbooks and knowledge directories; set KB_DATA_DIR to the directory that holds them")
    }

    /// Organisation directories: KB_PLAYBOOK_PATH first, then each --playbooks in order, so flags win.
    var extraDirectories: [String] {
        let env = ProcessInfo.processInfo.environment["KB_PLAYBOOK_PATH"] ?? ""
        return env.split(separator: ":").map(String.init).filter { !$0.isEmpty } + playbookDirectories
    }

    /// Loads causes, then articles, then playbooks and overlays checked against them and the probe registry.
    /// Built-in patterns are compiled on first use unless `checkingBuiltinPatterns` (validate and test check
    /// them all). `adding` names more directories or files, after the others (`kb playbooks validate DIR`).
    func loadEngine(checkingBuiltinPatterns: Bool = false, adding more: [String] = []) throws -> Engine {
        let root = try dataRoot()
        var extra = extraDirectories
        for dir in extra where !FileManager.default.fileExists(atPath: dir) {
            throw failUsage("--playbooks: no such directory '\(Sanitizer.neutralize(dir))'")
        }
        let standard = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
        for path in more where !extra.map(standard).contains(standard(path)) { extra.append(path) }
        // The shipped data named as a directory ('kb playbooks validate playbooks' in a checkout) is the
        // built-in data, with its own rules (unprefixed cause slugs), not an organisation's directory.
        let shipped = Set([root, root + "/playbooks", root + "/knowledge"].map(standard))
        extra.removeAll { shipped.contains(standard($0)) }
        let registry = BuiltinProbes.registry
        let knowledge: KnowledgeBase
        let catalog: PlaybookCatalog
        let sources = [PlaybookSource(path: root + "/playbooks", builtin: true)]
            + extra.map { PlaybookSource(path: $0, builtin: false) }
        do {
            let causes = try CauseCatalog.load(sources)
            // A single playbook file named on the command line holds no articles.
            let articleDirectories = extra.filter { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            }
            knowledge = try KnowledgeBase.load([root + "/knowledge"] + articleDirectories, causes: causes.slugs)
            var loader = PlaybookLoader(context: PlaybookContext(probes: registry, articles: knowledge.ids, causes: causes))
            loader.checksBuiltinPatterns = checkingBuiltinPatterns
            catalog = try loader.load(sources)
        } catch {
            throw failWithDataErrors(error)
        }
        return Engine(catalog: catalog, knowledge: knowledge, registry: registry, analyzers: BuiltinAnalyzers.all)
    }
}

struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text, markdown or json.")
    var format: Format = .text

    @Flag(name: .customLong("no-color"), help: "Never colour the text output (NO_COLOR does the same).")
    var noColor = false

    @Option(name: .long, help: ArgumentHelp(
        "Who reads it: admin (the full report) or customer (a reply of at most 25 lines in plain words: what happened, what they can do, what to send back; no server-side steps or evidence).",
        valueName: "admin|customer"))
    var audience: Reader = .admin

    @Flag(name: .long, help: "Replace IP addresses, e-mail addresses and the customer's host names with stable stand-ins (192.0.2.1, user-1@domain-1.example, www.domain-1.example), for a vendor's or a public thread; provider names such as gmail.com stay.")
    var redact = false

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, markdown, json
        var report: ReportFormat { ReportFormat(rawValue: rawValue)! }
    }

    enum Reader: String, ExpressibleByArgument, CaseIterable {
        case admin, customer
        var audience: Audience { self == .admin ? .admin : .customer }
    }

    /// The report as the chosen reader gets it, redacted when asked. The inputs are read first for redaction,
    /// so every format of one ticket gets the same stand-ins.
    func render(_ report: Report, inputs: [InputText]) throws -> String {
        let renderer = ReportRenderer(style: style, audience: audience.audience)
        guard redact else { return renderer.render(report, as: format.report) }
        var redactor = makeRedactor(inputs, keeping: report.diagnoses.flatMap(\.references).compactMap {
            URL(string: $0.url)?.host
        })
        return renderer.render(try redacted(report, with: &redactor), as: format.report)
    }

    /// Redacts every string of a report value; a value that cannot be redacted is an error, never printed as is.
    func redacted<T: Codable>(_ value: T, with redactor: inout Redactor) throws -> T {
        guard let clean = redactor.redact(value) else {
            printError("error: --redact: the report could not be redacted, so it is not printed")
            throw ExitCode(Exit.data)
        }
        return clean
    }

    func makeRedactor(_ inputs: [InputText], keeping: [String] = []) -> Redactor {
        var redactor = Redactor(keeping: keeping)
        redactor.learn(inputs.map(\.text))
        return redactor
    }

    /// Colour only on a terminal, never when NO_COLOR is set or TERM is dumb.
    var style: Style {
        let env = ProcessInfo.processInfo.environment
        let color = !noColor && format == .text && isatty(STDOUT_FILENO) == 1
            && (env["NO_COLOR"] ?? "").isEmpty && env["TERM"] != "dumb"
        return Style(color: color)
    }
}

/// What the user pasted or attached, and what they state about it.
struct InputOptions: ParsableArguments {
    @Argument(help: "The error text as pasted (quote it). Without text or --file, standard input is read when piped.")
    var text: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "A file to read: a ticket, log or config; '-' is standard input; a directory reads its files and lets a config's includes read under it. Prefix a kind to state it: nginx:, apache:, apachectl:, error-log:, access-log:, mail-log:, ftp-log:, text:.",
        valueName: "path"))
    var file: [String] = []

    @Option(name: .customLong("config-root"), help: ArgumentHelp(
        "A directory a config's include (nginx include, Apache Include) may read under; repeatable. Includes that lead elsewhere are reported, not read; an nginx -T dump is read alone.",
        valueName: "dir"))
    var configRoots: [String] = []

    @Option(name: .long, help: ArgumentHelp("The stack, when the text does not say (comma-separated: nginx,apache,cpanel …).", valueName: "names"))
    var stack: [String] = []

    @Option(name: .long, help: ArgumentHelp("Whether it happens only sometimes: yes or no.", valueName: "yes|no"))
    var intermittent: YesNo?

    @Option(name: .customLong("protocol"), help: ArgumentHelp("State the protocol when you know it: http, smtp or ftp.", valueName: "protocol"))
    var protocolValue: StatedProtocol?

    enum YesNo: String, ExpressibleByArgument, CaseIterable { case yes, no }
    enum StatedProtocol: String, ExpressibleByArgument, CaseIterable { case http, smtp, ftp }

    static let kindPrefixes: [String: String] = [
        "nginx": "nginx-config", "apache": "apache-config", "apachectl": "apachectl-s", "error-log": "error-log",
        "access-log": "access-log", "mail-log": "mail-log", "ftp-log": "ftp-log", "text": "text",
    ]

    /// Per-input limit: bigger logs belong to `kb logs`, which streams.
    static let inputLimit = 32 << 20

    var stackList: [String] {
        stack.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    func validate() throws {
        for root in configRoots {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--config-root: no such directory '\(Sanitizer.neutralize(root))'")
            }
        }
        for name in stackList where !Vocabulary.stacks.contains(name) && !Vocabulary.providers.contains(name) {
            var message = "--stack: unknown stack '\(name)'"
            if let near = Suggest.closest(to: name, in: Vocabulary.stacks + Vocabulary.providers) { message += "; did you mean '\(near)'?" }
            throw ValidationError(message)
        }
    }

    var statements: Statements {
        Statements(protocolValue: protocolValue.flatMap { WireProtocol(rawValue: $0.rawValue) }, stacks: stackList,
                   intermittent: intermittent.map { $0 == .yes })
    }

    /// Each `--file` as (kind, path), the kind prefix taken off.
    private var fileSpecs: [(kind: String, path: String)] {
        file.map { spec in
            if let colon = spec.firstIndex(of: ":"), let known = Self.kindPrefixes[String(spec[..<colon])] {
                return (known, String(spec[spec.index(after: colon)...]))
            }
            return ("text", spec)
        }
    }

    /// What a config analysis may read: under the `--config-root` directories and the directories given with
    /// `--file`. A file given alone does not open its directory.
    var fileAccess: ConfinedFiles {
        let named = fileSpecs.map(\.path).filter { path in
            var isDirectory: ObjCBool = false
            guard path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                return false
            }
            return isDirectory.boolValue
        }
        return ConfinedFiles(roots: configRoots + named)
    }

    /// Reads every input; an unreadable one is an error with its name, never silently skipped.
    func readInputs(allowEmpty: Bool = false) throws -> [InputText] {
        var inputs: [InputText] = []
        if !text.isEmpty { inputs.append(InputText(name: "<text>", text: text.joined(separator: " "))) }
        let access = fileAccess
        for (kind, path) in fileSpecs {
            if path == "-" {
                inputs.append(InputText(name: "<stdin>", text: try readStandardInput(), kind: kind))
                continue
            }
            let shown = Sanitizer.neutralize(path)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw failUsage("--file: no such file '\(shown)'")
            }
            do {
                if isDirectory.boolValue {
                    inputs += try readDirectory(path, kind: kind, access: access)
                } else {
                    // A file the user named is read wherever it is, if it is a regular file.
                    let text = try TextFile.read(path, limit: Self.inputLimit)
                    inputs.append(InputText(name: path, text: text, kind: kind))
                }
            } catch {
                if error.code == .outsideRoots { throw failUsage("--file: \(error.message)") }
                printError("error: --file: \(error.message)")
                throw ExitCode(Exit.data)
            }
        }
        if inputs.isEmpty && isatty(STDIN_FILENO) == 0 && file.isEmpty {
            let piped = try readStandardInput()
            if !piped.isEmpty { inputs.append(InputText(name: "<stdin>", text: piped)) }
        }
        if inputs.isEmpty && !allowEmpty {
            throw failUsage("nothing to read: give the error text as an argument, --file PATH, or pipe it on standard input")
        }
        return inputs
    }

    /// A directory such as sites-enabled/: its files, not its subdirectories, and only those whose real path
    /// stays inside it or another allowed directory.
    private func readDirectory(_ path: String, kind: String, access: ConfinedFiles) throws(KBError) -> [InputText] {
        var inputs: [InputText] = []
        for name in try access.contents(ofDirectory: path).sorted() {
            let entry = (path as NSString).appendingPathComponent(name)
            do {
                if try access.isDirectory(entry) { continue }
                inputs.append(InputText(name: entry, text: try access.read(entry, limit: Self.inputLimit), kind: kind))
            } catch where error.code == .outsideRoots {
                throw KBError(.outsideRoots, "'\(Sanitizer.neutralize(entry))' leads outside "
                    + "'\(Sanitizer.neutralize(path))' and was not read; to read it, add --config-root with the "
                    + "directory it lives in")
            }
        }
        return inputs
    }

    private func readStandardInput() throws -> String {
        var data = Data()
        while true {
            let chunk = FileHandle.standardInput.readData(ofLength: 1 << 16)
            if chunk.isEmpty { break }
            data.append(chunk)
            if data.count > Self.inputLimit {
                printError("error: standard input is larger than \(Self.inputLimit >> 20) MiB; use 'kb logs' for large logs")
                throw ExitCode(Exit.data)
            }
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// What to probe live; without `--target` nothing touches the network.
struct LiveOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Probe this live: https://, http://, smtp://, smtps:// or submission:// URL. Without it nothing touches the network.",
        valueName: "url"))
    var target: String?

    @Option(name: .long, help: ArgumentHelp("Pin an address as curl does: HOST:PORT:ADDR (repeatable).", valueName: "host:port:addr"))
    var resolve: [String] = []

    @Option(name: .long, help: ArgumentHelp("The server behind the proxy or CDN: ADDR[:PORT] (default port 443).", valueName: "addr"))
    var origin: String?

    @Option(name: .customLong("dns-server"), help: ArgumentHelp(
        "A DNS server live checks ask instead of the system resolver: ADDR[:PORT] (default port 53; repeatable).",
        valueName: "addr"))
    var dnsServers: [String] = []

    @Option(name: .long, help: ArgumentHelp("Seconds a live probe may wait to connect and for each read.", valueName: "seconds"))
    var timeout: Int = 5

    func validate() throws {
        for pin in resolve where pin.split(separator: ":", maxSplits: 2).count != 3 || Int(pin.split(separator: ":")[1]) == nil {
            throw ValidationError("--resolve '\(pin)' must look like HOST:PORT:ADDR")
        }
        if target == nil && (!resolve.isEmpty || origin != nil || !dnsServers.isEmpty) {
            throw ValidationError("--resolve, --origin and --dns-server need a --target")
        }
        for server in dnsServers {
            guard let d = ContactPolicy.parse(server, defaultPort: 53), ContactPolicy.isIPLiteral(d.host) else {
                throw ValidationError(
                    "--dns-server '\(server)' must be an IP address with an optional port: ADDR[:PORT] or [V6]:PORT")
            }
        }
        if !(1...120).contains(timeout) { throw ValidationError("--timeout must be between 1 and 120 seconds") }
    }

    func parsedTarget() throws -> Target? {
        guard let target else { return nil }
        // ADDR, [V6] or a bare IPv6 address get the default port 443; ADDR:PORT and [V6]:PORT stay as given.
        var originValue = origin
        if let o = origin {
            let colons = o.filter { $0 == ":" }.count
            if o.hasPrefix("[") {
                if !o.contains("]:") { originValue = o + ":443" }
            } else if colons == 0 {
                originValue = o + ":443"
            } else if colons > 1 {
                originValue = "[\(o)]:443"
            }
        }
        switch Target.parse(target, resolve: resolve, origin: originValue) {
        case .success(let t): return t
        case .failure(let error): throw failUsage(error.message)
        }
    }

    /// The run's services: `files` is what a config analysis may read (`InputOptions.fileAccess`), and the
    /// contact policy is exactly what these options name: live probes may reach nothing else (the target's
    /// resolved addresses are added once they are known).
    func environment(for target: Target?, files: ConfinedFiles) -> RunEnvironment {
        let t = Duration.seconds(timeout)
        let servers = dnsServers.compactMap { ContactPolicy.parse($0, defaultPort: 53) }
        return RunEnvironment(files: files, timeouts: Timeouts(connect: t, read: t, total: t * 4),
                              contacts: target.map { ContactPolicy.named(by: $0, dnsServers: servers) } ?? ContactPolicy())
    }
}
