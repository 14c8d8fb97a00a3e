import Engine

/// One nginx directive: `name arg…;` or `name arg… { … }`, with where it was written.
public struct NginxDirective: Sendable, Hashable {
    public var name: String
    public var args: [String]
    /// The file and the 1-based line and column of the directive's name.
    public var location: SourceLocation
    /// The directives inside `{ … }`; nil for a simple directive. Raw blocks (`*_by_lua_block`) are empty.
    public var block: [NginxDirective]?

    public init(name: String, args: [String], location: SourceLocation, block: [NginxDirective]? = nil) {
        self.name = name
        self.args = args
        self.location = location
        self.block = block
    }
}

/// One file of an `nginx -T` dump: the original path and its text, line 1 being the line after the marker.
public struct NginxDumpFile: Sendable, Hashable {
    public var path: String
    public var text: String
    /// The line of the dump that holds line 1 of this file.
    public var dumpLine: Int
}

/// nginx configuration syntax, read the way nginx's own `ngx_conf_read_token` reads it.
public enum NginxConfig {
    /// Deepest block nesting accepted before the parser gives up with an error.
    public static let maxNesting = 64

    /// Parses one file. Errors (unbalanced braces, unterminated quotes, a directive without `;`) carry the
    /// location nginx would report.
    public static func parse(text: String, file: String) throws(KBError) -> [NginxDirective] {
        var parser = NginxTokenReader(text: ConfigText.withoutBOM(text), file: file)
        return try parser.parseAll()
    }

    /// Splits an `nginx -T` dump on its `# configuration file PATH:` markers; nil when there is none.
    public static func splitDump(_ text: String) -> [NginxDumpFile]? {
        let marker = "# configuration file "
        guard text.contains(marker) else { return nil }
        var files: [NginxDumpFile] = []
        var currentPath: String?
        var currentStart = 0
        var lines: [Substring] = []
        var lineNumber = 0
        func flush() {
            if let path = currentPath {
                files.append(NginxDumpFile(path: path, text: lines.joined(separator: "\n"), dumpLine: currentStart))
            }
            lines.removeAll(keepingCapacity: true)
        }
        for rawLine in ConfigText.lines(ConfigText.withoutBOM(text)) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.hasPrefix(marker), line.hasSuffix(":"), line.count > marker.count + 1 {
                flush()
                currentPath = String(line.dropFirst(marker.count).dropLast())
                currentStart = lineNumber + 1
                continue
            }
            if currentPath != nil { lines.append(rawLine) }
        }
        flush()
        return files.isEmpty ? nil : files
    }
}

/// A port of nginx's tokenizer: words, quoted strings, `;`, `{`, `}`, comments from `#` at a token start.
struct NginxTokenReader {
    private let bytes: [UInt8]
    private let file: String
    private let text: String
    private var index = 0
    private var line = 1
    private var column = 1

    init(text: String, file: String) {
        self.text = text
        self.bytes = Array(text.utf8)
        self.file = file
    }

    private enum Token {
        case word(String, line: Int, column: Int)
        case semicolon(line: Int, column: Int)
        case open(line: Int, column: Int)
        case close(line: Int, column: Int)
        case end
    }

    mutating func parseAll() throws(KBError) -> [NginxDirective] {
        try parseBlock(opener: nil, depth: 0)
    }

    private func error(_ message: String, line: Int, column: Int) -> KBError {
        KBError.at(.inputFormat, message, file: file, line: line, column: column, in: text)
    }

    private mutating func parseBlock(opener: NginxDirective?, depth: Int) throws(KBError) -> [NginxDirective] {
        var directives: [NginxDirective] = []
        var words: [(String, Int, Int)] = []
        while true {
            let token = try nextToken()
            switch token {
            case .word(let w, let l, let c):
                words.append((w, l, c))
            case .semicolon(let l, let c):
                guard let first = words.first else {
                    throw error("unexpected ';'", line: l, column: c)
                }
                directives.append(NginxDirective(
                    name: first.0, args: words.dropFirst().map(\.0),
                    location: SourceLocation(file: file, line: first.1, column: first.2)))
                words.removeAll()
            case .open(let l, let c):
                guard let first = words.first else {
                    throw error("unexpected '{'", line: l, column: c)
                }
                if depth + 1 > NginxConfig.maxNesting {
                    throw error("blocks nested deeper than \(NginxConfig.maxNesting) levels", line: l, column: c)
                }
                var directive = NginxDirective(
                    name: first.0, args: words.dropFirst().map(\.0),
                    location: SourceLocation(file: file, line: first.1, column: first.2), block: [])
                words.removeAll()
                if directive.name.hasSuffix("_by_lua_block") {
                    try skipRawBlock(opener: directive)
                } else {
                    directive.block = try parseBlock(opener: directive, depth: depth + 1)
                }
                directives.append(directive)
            case .close(let l, let c):
                if !words.isEmpty {
                    throw error("unexpected '}': directive '\(words[0].0)' is not terminated by ';'", line: l, column: c)
                }
                guard opener != nil else {
                    throw error("unexpected '}' without an open block", line: l, column: c)
                }
                return directives
            case .end:
                if let first = words.first {
                    throw error("unexpected end of file, expecting ';' or '}' after directive '\(first.0)'",
                                line: first.1, column: first.2)
                }
                if let opener {
                    throw error(
                        "unexpected end of file, expecting '}': the '\(opener.name)' block opened here is not closed",
                        line: opener.location.line, column: opener.location.column)
                }
                return directives
            }
        }
    }

    private mutating func advance() {
        let b = bytes[index]
        index += 1
        if b == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if b & 0xC0 != 0x80 {
            column += 1
        }
    }

    private static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
    }

    private mutating func nextToken() throws(KBError) -> Token {
        // Skip spaces and comments.
        while index < bytes.count {
            let b = bytes[index]
            if Self.isSpace(b) {
                advance()
            } else if b == UInt8(ascii: "#") {
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { advance() }
            } else {
                break
            }
        }
        guard index < bytes.count else { return .end }
        let startLine = line
        let startColumn = column
        let b = bytes[index]
        switch b {
        case UInt8(ascii: ";"):
            advance()
            return .semicolon(line: startLine, column: startColumn)
        case UInt8(ascii: "{"):
            advance()
            return .open(line: startLine, column: startColumn)
        case UInt8(ascii: "}"):
            advance()
            return .close(line: startLine, column: startColumn)
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            let quote = b
            advance()
            var value: [UInt8] = []
            while true {
                guard index < bytes.count else {
                    throw error("unexpected end of file, expecting the closing \(quote == UInt8(ascii: "\"") ? "'\"'" : "\"'\"")",
                                line: startLine, column: startColumn)
                }
                let c = bytes[index]
                if c == UInt8(ascii: "\\"), index + 1 < bytes.count {
                    advance()
                    value.append(contentsOf: Self.unescape(bytes[index]))
                    advance()
                    continue
                }
                advance()
                if c == quote { break }
                value.append(c)
            }
            // nginx wants a separator right after a quoted string.
            if index < bytes.count {
                let next = bytes[index]
                if !(Self.isSpace(next) || next == UInt8(ascii: ";") || next == UInt8(ascii: "{")
                     || next == UInt8(ascii: "}") || next == UInt8(ascii: ")")) {
                    throw error("unexpected '\(Character(Unicode.Scalar(next)))' after a quoted string",
                                line: line, column: column)
                }
            }
            return .word(String(decoding: value, as: UTF8.self), line: startLine, column: startColumn)
        default:
            var value: [UInt8] = []
            var variable = false
            while index < bytes.count {
                let c = bytes[index]
                if c == UInt8(ascii: "{") && variable {
                    // `${name}`: the brace belongs to the variable.
                    value.append(c)
                    advance()
                    while index < bytes.count, bytes[index] != UInt8(ascii: "}"), !Self.isSpace(bytes[index]) {
                        value.append(bytes[index])
                        advance()
                    }
                    if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                        value.append(bytes[index])
                        advance()
                    }
                    variable = false
                    continue
                }
                variable = false
                if Self.isSpace(c) || c == UInt8(ascii: ";") || c == UInt8(ascii: "{") { break }
                if c == UInt8(ascii: "\\"), index + 1 < bytes.count {
                    advance()
                    value.append(contentsOf: Self.unescape(bytes[index]))
                    advance()
                    continue
                }
                if c == UInt8(ascii: "$") { variable = true }
                value.append(c)
                advance()
            }
            return .word(String(decoding: value, as: UTF8.self), line: startLine, column: startColumn)
        }
    }

    private static func unescape(_ c: UInt8) -> [UInt8] {
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "\\"): return [c]
        case UInt8(ascii: "t"): return [0x09]
        case UInt8(ascii: "r"): return [0x0D]
        case UInt8(ascii: "n"): return [0x0A]
        default: return [UInt8(ascii: "\\"), c]
        }
    }

    /// The number of `=` in a Lua opening long bracket (`[[`, `[==[`) at `position`, nil when there is none.
    private func longBracketLevel(at position: Int) -> Int? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { return nil }
        var cursor = position + 1
        while cursor < bytes.count, bytes[cursor] == UInt8(ascii: "=") { cursor += 1 }
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "[") else { return nil }
        return cursor - position - 1
    }

    /// Skips from an opening long bracket of `level` past its matching `]=…=]`, or to the end of the text.
    private mutating func skipLongBracket(level: Int) {
        for _ in 0..<(level + 2) { advance() }
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "]") {
                var cursor = index + 1
                while cursor < bytes.count, bytes[cursor] == UInt8(ascii: "=") { cursor += 1 }
                if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "]"), cursor - index - 1 == level {
                    while index <= cursor { advance() }
                    return
                }
            }
            advance()
        }
    }

    /// Skips the body of a `*_by_lua_block { … }`, which holds Lua, not nginx syntax.
    private mutating func skipRawBlock(opener: NginxDirective) throws(KBError) {
        var depth = 1
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                advance()
                while index < bytes.count, bytes[index] != c, bytes[index] != UInt8(ascii: "\n") {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { advance() }
                    advance()
                }
                if index < bytes.count { advance() }
                continue
            }
            if c == UInt8(ascii: "-"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "-") {
                advance()
                advance()
                // `--[[ … ]]` is a block comment; `-- …` runs to the end of the line.
                if let level = longBracketLevel(at: index) {
                    skipLongBracket(level: level)
                } else {
                    while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { advance() }
                }
                continue
            }
            // Long strings `[[ … ]]` and `[=[ … ]=]` may hold braces, quotes and newlines.
            if c == UInt8(ascii: "["), let level = longBracketLevel(at: index) {
                skipLongBracket(level: level)
                continue
            }
            advance()
            if c == UInt8(ascii: "{") { depth += 1 }
            if c == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return }
            }
        }
        throw error("unexpected end of file, expecting '}': the '\(opener.name)' block opened here is not closed",
                    line: opener.location.line, column: opener.location.column)
    }
}
