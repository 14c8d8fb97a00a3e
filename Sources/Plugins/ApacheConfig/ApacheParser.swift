import Engine

/// One Apache directive or section (`<VirtualHost *:443> … </VirtualHost>`), with where it was written.
public struct ApacheDirective: Sendable, Hashable {
    /// The name as written (`SSLEngine`, `VirtualHost`); Apache compares names case-insensitively.
    public var name: String
    public var args: [String]
    /// The file and 1-based line and column of the name (the first physical line of a continued line).
    public var location: SourceLocation
    /// The contents of a section; nil for a directive.
    public var children: [ApacheDirective]?

    public init(name: String, args: [String], location: SourceLocation, children: [ApacheDirective]? = nil) {
        self.name = name
        self.args = args
        self.location = location
        self.children = children
    }

    var key: String { name.lowercased() }
}

/// Apache httpd configuration syntax: directives one per line, `\` continuations, `#` comments, and
/// `<Section args>` … `</Section>` blocks.
public enum ApacheConfig {
    public static let maxNesting = 64

    public static func parse(text: String, file: String) throws(KBError) -> [ApacheDirective] {
        struct Open {
            var directive: ApacheDirective
            var children: [ApacheDirective]
        }
        var stack: [Open] = []
        var top: [ApacheDirective] = []
        func append(_ d: ApacheDirective) {
            if stack.isEmpty { top.append(d) } else { stack[stack.count - 1].children.append(d) }
        }
        func fail(_ message: String, _ line: Int, _ column: Int) -> KBError {
            KBError.at(.inputFormat, message, file: file, line: line, column: column, in: text)
        }

        let physical = ConfigText.lines(ConfigText.withoutBOM(text))
        var index = 0
        while index < physical.count {
            let startLine = index + 1
            var logical = String(Self.dropCR(physical[index]))
            index += 1
            // A backslash at the very end joins the next line.
            while logical.hasSuffix("\\"), index < physical.count {
                logical.removeLast()
                logical += String(Self.dropCR(physical[index]))
                index += 1
            }
            let leading = logical.prefix { $0 == " " || $0 == "\t" }
            let column = leading.count + 1
            let body = ConfigText.trimmed(String(logical.dropFirst(leading.count)))
            if body.isEmpty || body.hasPrefix("#") { continue }

            if body.hasPrefix("</") {
                let name = body.dropFirst(2).prefix { $0 != ">" && $0 != " " && $0 != "\t" }
                guard let open = stack.popLast() else {
                    throw fail("'</\(name)>' closes a section that was never opened", startLine, column)
                }
                guard open.directive.name.lowercased() == name.lowercased() else {
                    throw fail("expected '</\(open.directive.name)>' (opened at line \(open.directive.location.line)) "
                               + "but saw '</\(name)>'", startLine, column)
                }
                var closed = open.directive
                closed.children = open.children
                append(closed)
                continue
            }
            if body.hasPrefix("<") {
                guard body.hasSuffix(">") else {
                    throw fail("section '\(body.prefix(40))' is missing its closing '>'", startLine, column)
                }
                let inner = String(body.dropFirst().dropLast())
                let words = Self.words(inner)
                guard let name = words.first, !name.isEmpty else {
                    throw fail("empty section '<>'", startLine, column)
                }
                guard stack.count < maxNesting else {
                    throw fail("sections nested deeper than \(maxNesting) levels", startLine, column)
                }
                let directive = ApacheDirective(name: name, args: Array(words.dropFirst()),
                                                location: SourceLocation(file: file, line: startLine, column: column),
                                                children: [])
                stack.append(Open(directive: directive, children: []))
                continue
            }
            let words = Self.words(body)
            guard let name = words.first else { continue }
            append(ApacheDirective(name: name, args: Array(words.dropFirst()),
                                   location: SourceLocation(file: file, line: startLine, column: column)))
        }
        if let open = stack.last {
            throw fail("'<\(open.directive.name)>' is never closed: expected '</\(open.directive.name)>' before the end of the file",
                       open.directive.location.line, open.directive.location.column)
        }
        return top
    }

    private static func dropCR(_ line: Substring) -> Substring {
        line.hasSuffix("\r") ? line.dropLast() : line
    }

    /// Splits arguments the way `ap_getword_conf` does: whitespace, with '…' or "…" quoting.
    static func words(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            if let q = quote {
                if c == "\\" {
                    if let next = iterator.next() {
                        if next == q || next == "\\" { current.append(next) } else { current.append(c); current.append(next) }
                    }
                } else if c == q {
                    quote = nil
                } else {
                    current.append(c)
                }
                continue
            }
            if c == " " || c == "\t" {
                if inWord { out.append(current); current = ""; inWord = false }
                continue
            }
            if !inWord && (c == "\"" || c == "'") {
                quote = c
                inWord = true
                continue
            }
            inWord = true
            current.append(c)
        }
        if inWord { out.append(current) }
        return out
    }
}

/// `apachectl -S` (`httpd -S`) output: the virtual hosts Apache itself assigned to each address:port.
public struct ApacheVHostListing: Sendable, Hashable {
    public struct VHost: Sendable, Hashable {
        public var name: String
        public var aliases: [String]
        /// Where the `<VirtualHost>` section is, as `apachectl -S` prints it.
        public var configFile: String
        public var configLine: Int
        /// The line of the listing that names this vhost.
        public var location: SourceLocation
    }

    public struct Group: Sendable, Hashable {
        /// `*:443`, `192.0.2.1:443`.
        public var address: String
        /// The vhost a client without SNI (or with an unknown name) gets.
        public var defaultHost: VHost?
        public var vhosts: [VHost]
        public var location: SourceLocation
    }

    public var groups: [Group]
    public var serverRoot: String?

    /// Parses the listing; nil when `text` holds no `apachectl -S` virtual host lines.
    public static func parse(text: String, file: String) -> ApacheVHostListing? {
        var groups: [Group] = []
        var serverRoot: String?
        var lineNumber = 0
        for raw in ConfigText.lines(ConfigText.withoutBOM(text)) {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let trimmed = ConfigText.trimmed(String(line))
            let here = SourceLocation(file: file, line: lineNumber, column: line.count - line.drop { $0 == " " || $0 == "\t" }.count + 1)
            if trimmed.hasSuffix("is a NameVirtualHost") {
                let address = String(trimmed.prefix { $0 != " " && $0 != "\t" })
                groups.append(Group(address: address, defaultHost: nil, vhosts: [], location: here))
                continue
            }
            if trimmed.hasPrefix("ServerRoot:") {
                serverRoot = String(trimmed.dropFirst("ServerRoot:".count)).trimmingQuotesAndSpaces()
                continue
            }
            if trimmed.hasPrefix("default server "), !groups.isEmpty,
               let entry = Self.entry(String(trimmed.dropFirst("default server ".count)), at: here) {
                groups[groups.count - 1].defaultHost = entry
                continue
            }
            if trimmed.hasPrefix("port "), !groups.isEmpty {
                let words = trimmed.split(separator: " ", maxSplits: 3)
                if words.count == 4, words[2] == "namevhost", let entry = Self.entry(String(words[3]), at: here) {
                    groups[groups.count - 1].vhosts.append(entry)
                }
                continue
            }
            if trimmed.hasPrefix("alias ") || trimmed.hasPrefix("wild alias "), !groups.isEmpty,
               !groups[groups.count - 1].vhosts.isEmpty {
                let alias = String(trimmed.split(separator: " ").last ?? "")
                let g = groups.count - 1
                groups[g].vhosts[groups[g].vhosts.count - 1].aliases.append(alias)
                continue
            }
            // `192.0.2.1:443   www.example.com (/etc/apache2/sites-enabled/www.conf:1)`: one vhost on the address.
            if let first = trimmed.split(separator: " ", maxSplits: 1).first, first.contains(":"),
               !trimmed.hasPrefix("VirtualHost"), !line.hasPrefix(" "), !line.hasPrefix("\t"),
               let last = first.split(separator: ":").last, ConfigText.isDigits(last),
               let entry = Self.entry(String(trimmed.dropFirst(first.count)).trimmingQuotesAndSpaces(), at: here) {
                groups.append(Group(address: String(first), defaultHost: entry, vhosts: [entry], location: here))
            }
        }
        guard !groups.isEmpty else { return nil }
        for index in groups.indices where groups[index].defaultHost == nil {
            groups[index].defaultHost = groups[index].vhosts.first
        }
        return ApacheVHostListing(groups: groups, serverRoot: serverRoot)
    }

    /// `www.example.com (/etc/apache2/sites-enabled/default-ssl.conf:2)`
    private static func entry(_ text: String, at location: SourceLocation) -> VHost? {
        guard let open = text.lastIndex(of: "("), text.hasSuffix(")") else { return nil }
        let name = ConfigText.trimmed(String(text[..<open]))
        let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
        guard let colon = inside.lastIndex(of: ":"), let line = Int(inside[inside.index(after: colon)...]) else { return nil }
        return VHost(name: name, aliases: [], configFile: String(inside[..<colon]), configLine: line, location: location)
    }
}

extension String {
    fileprivate func trimmingQuotesAndSpaces() -> String {
        var s = ConfigText.trimmed(self)
        if s.hasPrefix("\""), s.hasSuffix("\""), s.count >= 2 { s = String(s.dropFirst().dropLast()) }
        return s
    }
}
