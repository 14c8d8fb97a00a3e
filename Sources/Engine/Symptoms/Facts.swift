/// Which of the three 421s a text is about.
public enum WireProtocol: String, Sendable, Codable, CaseIterable, Comparable {
    case http, smtp, ftp, unknown

    public static func < (lhs: WireProtocol, rhs: WireProtocol) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One piece of evidence: what was seen, where, and why it counts.
public struct Evidence: Sendable, Hashable, Codable {
    /// A short machine-readable kind such as "status-line", "enhanced-code", "phrase", "stack", "stated".
    public var kind: String
    /// The text that matched, as found (renderers neutralise control characters).
    public var text: String
    /// Why this counts, in a few words.
    public var detail: String?
    /// How much it moved the verdict, when it was weighed.
    public var weight: Double?
    public var location: SourceLocation?

    public init(kind: String, text: String, detail: String? = nil, weight: Double? = nil, location: SourceLocation? = nil) {
        self.kind = kind
        self.text = text
        self.detail = detail
        self.weight = weight
        self.location = location
    }
}

/// The protocol verdict with the evidence for it and the score of each alternative.
public struct ProtocolVerdict: Sendable, Codable {
    public var value: WireProtocol
    /// 0...1; how sure the verdict is given the evidence.
    public var confidence: Double
    public var evidence: [Evidence]
    /// Raw score per protocol, for explaining why the others lost.
    public var scores: [String: Double]
    /// What would decide it when the verdict is unknown or weak.
    public var missing: [String]

    public init(value: WireProtocol, confidence: Double, evidence: [Evidence] = [], scores: [String: Double] = [:], missing: [String] = []) {
        self.value = value
        self.confidence = confidence
        self.evidence = evidence
        self.scores = scores
        self.missing = missing
    }
}

/// The SMTP command a reply answered, which narrows the cause.
public enum SMTPPhase: String, Sendable, Codable, CaseIterable {
    case connect, helo, starttls, auth, mail, rcpt, data
    case endOfData = "end-of-data"
    case quit
}

/// A numeric reply (SMTP or FTP) found in the text, with its enhanced code (RFC 3463) when present.
public struct Reply: Sendable, Hashable, Codable {
    public var code: Int
    public var enhanced: String?
    /// The reply text with multi-line continuations joined by a space.
    public var text: String
    public var phase: SMTPPhase?
    public var location: SourceLocation?

    public init(code: Int, enhanced: String? = nil, text: String, phase: SMTPPhase? = nil, location: SourceLocation? = nil) {
        self.code = code
        self.enhanced = enhanced
        self.text = text
        self.phase = phase
        self.location = location
    }
}

/// Something an analyzer or probe established about a config or log, e.g. a proxy without SNI.
public struct Finding: Sendable, Hashable, Codable {
    /// Stable id such as "nginx.proxy-ssl-server-name-off"; playbook signals refer to it.
    public var id: String
    public var message: String
    public var location: SourceLocation?
    /// The config or log line it points at, neutralised and at most `excerptLimit` characters: a report
    /// points at a line, it does not carry a file.
    public var excerpt: String?

    public static let excerptLimit = 160

    /// `focus` is the part of a long excerpt to keep in view, such as "AH02032" in an Apache error-log line
    /// whose first hundred characters are timestamp, module and client.
    public init(id: String, message: String, location: SourceLocation? = nil, excerpt: String? = nil,
                focus: String? = nil) {
        self.id = id
        self.message = message
        self.location = location
        self.excerpt = excerpt.map { Self.shortExcerpt($0, focus: focus) }
    }

    /// One neutralised line of at most `excerptLimit` characters, with '…' where it was cut. A long line whose
    /// `focus` lies beyond the first half of the window starts shortly before it.
    public static func shortExcerpt(_ text: String, focus: String? = nil) -> String {
        var line = Substring(text)
        if line.count > excerptLimit, let focus, !focus.isEmpty, let range = line.range(of: focus),
           line.distance(from: line.startIndex, to: range.lowerBound) > excerptLimit / 2 {
            line = Substring("…" + line[line.index(range.lowerBound, offsetBy: -16)...])
        }
        let clean = Sanitizer.neutralize(String(line))
        return clean.count > excerptLimit ? String(clean.prefix(excerptLimit - 1)) + "…" : clean
    }
}

/// A named piece of input: a command-line argument, a file or standard input.
public struct InputText: Sendable, Hashable {
    public var name: String
    public var text: String
    /// Detected or stated kind, e.g. "text", "nginx-config", "apache-config", "error-log", "mail-log".
    public var kind: String
    /// Set when `text` holds only some lines of the original: the original line number of each line.
    public var lineMap: [Int]?

    public init(name: String, text: String, kind: String = "text", lineMap: [Int]? = nil) {
        self.name = name
        self.text = text
        self.kind = kind
        self.lineMap = lineMap
    }

    /// The line number in the original input of line `n` (1-based) of `text`.
    public func originalLine(_ n: Int) -> Int {
        guard let lineMap, n >= 1, n <= lineMap.count else { return n }
        return lineMap[n - 1]
    }
}

/// Everything kb knows about the problem, in typed form. Signals and checks read only this.
public struct Facts: Sendable {
    public var inputs: [InputText]
    /// All input texts joined, for pattern signals.
    public var text: String
    public var protocolVerdict: ProtocolVerdict
    /// HTTP status codes seen (status lines, `:status`, log fields, "error 421").
    public var httpStatuses: [Int]
    /// SMTP or FTP replies seen.
    public var replies: [Reply]
    /// RFC 3463 codes such as "4.7.0", in order of appearance, without duplicates.
    public var enhancedCodes: [String]
    public var phases: [SMTPPhase]
    /// HTTP versions in use: "1.0", "1.1", "2", "3".
    public var httpVersions: [String]
    /// Host names mentioned, best first.
    public var hosts: [String]
    /// Stack slug (nginx, apache, cloudflare, cpanel, postfix …) to the evidence for it.
    public var stacks: [String: Evidence]
    /// Mail or service provider slug (gmail, microsoft, yahoo, icloud …) to the evidence for it.
    public var providers: [String: Evidence]
    /// Server signatures of response bodies and headers (apache-421-page, nginx-421-page, cloudfront, cf-ray …).
    public var signatures: [String: Evidence]
    /// nil when the text does not say.
    public var intermittent: Bool?
    public var intermittentEvidence: [Evidence]
    public var fileKinds: [String]
    public var findings: [Finding]
    /// A live target was named, so live checks may run.
    public var target: Target?
    /// Inputs too large to match whole; only their salient lines were read.
    public var reducedInputs: [String] = []
    /// Which codes the input shows: a 421, other errors, or none.
    public var census = CodeCensus()
    /// What each analyzer checked in each config or log, so a clean analysis can say so.
    public var checked: [CheckedInput] = []
    /// Which name plays which part: sender, recipient, MX, origin, SNI, Host, mechanism … (issue 9).
    public var roles = CaseRoles()

    public init(
        inputs: [InputText] = [], text: String = "", protocolVerdict: ProtocolVerdict = ProtocolVerdict(value: .unknown, confidence: 0),
        httpStatuses: [Int] = [], replies: [Reply] = [], enhancedCodes: [String] = [], phases: [SMTPPhase] = [],
        httpVersions: [String] = [], hosts: [String] = [], stacks: [String: Evidence] = [:],
        providers: [String: Evidence] = [:], signatures: [String: Evidence] = [:], intermittent: Bool? = nil,
        intermittentEvidence: [Evidence] = [], fileKinds: [String] = [], findings: [Finding] = [], target: Target? = nil
    ) {
        self.inputs = inputs
        self.text = text
        self.protocolVerdict = protocolVerdict
        self.httpStatuses = httpStatuses
        self.replies = replies
        self.enhancedCodes = enhancedCodes
        self.phases = phases
        self.httpVersions = httpVersions
        self.hosts = hosts
        self.stacks = stacks
        self.providers = providers
        self.signatures = signatures
        self.intermittent = intermittent
        self.intermittentEvidence = intermittentEvidence
        self.fileKinds = fileKinds
        self.findings = findings
        self.target = target
    }
}

/// What the user asked kb to probe live; nil means nothing touches the network.
public struct Target: Sendable, Hashable {
    public var url: String
    public var scheme: String
    public var host: String
    public var port: Int
    /// HOST:PORT:ADDR pins, as curl's --resolve.
    public var resolve: [String]
    /// The server behind a proxy or CDN, ADDR[:PORT].
    public var origin: String?
    /// Every address the name resolved to, so checks can ask each one separately.
    public var addresses: [String] = []

    public init(url: String, scheme: String, host: String, port: Int, resolve: [String] = [], origin: String? = nil) {
        self.url = url
        self.scheme = scheme
        self.host = host
        self.port = port
        self.resolve = resolve
        self.origin = origin
    }

    /// The address a `--resolve HOST:PORT:ADDR` pins for this target's host and port, if any.
    public var pinnedAddress: String? {
        for pin in resolve {
            let parts = pin.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count == 3, parts[0].lowercased() == host.lowercased(), Int(parts[1]) == port else { continue }
            var addr = parts[2]
            if addr.hasPrefix("["), addr.hasSuffix("]") { addr = String(addr.dropFirst().dropLast()) }
            return addr
        }
        return nil
    }

    /// Where probes connect: the pinned address, else the host name (resolved by the probe), with the port.
    public var connect: String {
        let addr = pinnedAddress ?? host
        return addr.contains(":") ? "[\(addr)]:\(port)" : "\(addr):\(port)"
    }

    /// Default ports of the schemes `--target` accepts.
    public static let defaultPorts = ["https": 443, "http": 80, "smtp": 25, "smtps": 465, "submission": 587]

    /// Parses `--target URL`: scheme, host and port; the message says what is wrong otherwise.
    public static func parse(_ url: String, resolve: [String] = [], origin: String? = nil) -> Result<Target, KBError> {
        guard let schemeEnd = url.range(of: "://") else {
            return .failure(KBError(.invalidValue, "--target '\(url)' needs a scheme: https://, http://, smtp://, smtps:// or submission://"))
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard let defaultPort = defaultPorts[scheme] else {
            return .failure(KBError(.invalidValue, "--target scheme '\(scheme)' is not one of https, http, smtp, smtps, submission"))
        }
        var authority = url[schemeEnd.upperBound...]
        if let slash = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { authority = authority[..<slash] }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = String(authority)
        var port = defaultPort
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return .failure(KBError(.invalidValue, "--target '\(url)' has an unclosed '['"))
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let p = Int(rest.dropFirst()), (1...65535).contains(p) else {
                    return .failure(KBError(.invalidValue, "--target '\(url)' has an invalid port"))
                }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                return .failure(KBError(.invalidValue, "--target '\(url)' has an invalid port"))
            }
            port = p
            host = String(authority[..<colon])
        }
        guard !host.isEmpty, host.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            return .failure(KBError(.invalidValue, "--target '\(url)' has no valid host name"))
        }
        return .success(Target(url: url, scheme: scheme, host: host.lowercased(), port: port, resolve: resolve, origin: origin))
    }
}

/// What the user stated on the command line; it outranks what the text suggests.
public struct Statements: Sendable {
    public var protocolValue: WireProtocol?
    public var stacks: [String]
    public var intermittent: Bool?

    public init(protocolValue: WireProtocol? = nil, stacks: [String] = [], intermittent: Bool? = nil) {
        self.protocolValue = protocolValue
        self.stacks = stacks
        self.intermittent = intermittent
    }
}

extension Facts {
    /// Points every location into a reduced input back at the original line.
    mutating func remapLines() {
        var maps: [String: InputText] = [:]
        for input in inputs where input.lineMap != nil && maps[input.name] == nil { maps[input.name] = input }
        guard !maps.isEmpty else { return }
        func fix(_ location: SourceLocation?) -> SourceLocation? {
            guard var location, let input = maps[location.file] else { return location }
            location.line = input.originalLine(location.line)
            return location
        }
        func fix(_ evidence: Evidence) -> Evidence {
            var e = evidence
            e.location = fix(e.location)
            return e
        }
        protocolVerdict.evidence = protocolVerdict.evidence.map(fix)
        replies = replies.map { var r = $0; r.location = fix(r.location); return r }
        stacks = stacks.mapValues(fix)
        providers = providers.mapValues(fix)
        signatures = signatures.mapValues(fix)
        intermittentEvidence = intermittentEvidence.map(fix)
        roles.mapEvidence(fix)
    }
}
