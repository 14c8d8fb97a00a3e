/// A position in a named source: a file, a pasted text or a server reply.
/// Lines and columns are 1-based, as editors show them.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int = 1) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// An error about input data, playbooks or articles, with the place it was found.
///
/// `code` wraps a private enum so that new codes can be added without breaking callers
/// that switch over the public constants.
public struct KBError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case yamlSyntax = "yaml-syntax"
            case yamlLimit = "yaml-limit"
            case yamlDuplicateKey = "yaml-duplicate-key"
            case unknownKey = "unknown-key"
            case missingKey = "missing-key"
            case wrongType = "wrong-type"
            case invalidValue = "invalid-value"
            case invalidPattern = "invalid-pattern"
            case unknownProbe = "unknown-probe"
            case unknownParameter = "unknown-parameter"
            case unknownCause = "unknown-cause"
            case unknownArticle = "unknown-article"
            case unknownCheck = "unknown-check"
            case unknownVariable = "unknown-variable"
            case duplicateID = "duplicate-id"
            case checkCycle = "check-cycle"
            case articleFormat = "article-format"
            case inputUnreadable = "input-unreadable"
            case inputTooLarge = "input-too-large"
            case inputFormat = "input-format"
            case outsideRoots = "outside-roots"
            case notFound = "not-found"
            case testFailed = "test-failed"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        public static let yamlSyntax = Code(.yamlSyntax)
        public static let yamlLimit = Code(.yamlLimit)
        public static let yamlDuplicateKey = Code(.yamlDuplicateKey)
        public static let unknownKey = Code(.unknownKey)
        public static let missingKey = Code(.missingKey)
        public static let wrongType = Code(.wrongType)
        public static let invalidValue = Code(.invalidValue)
        public static let invalidPattern = Code(.invalidPattern)
        public static let unknownProbe = Code(.unknownProbe)
        public static let unknownParameter = Code(.unknownParameter)
        public static let unknownCause = Code(.unknownCause)
        public static let unknownArticle = Code(.unknownArticle)
        public static let unknownCheck = Code(.unknownCheck)
        public static let unknownVariable = Code(.unknownVariable)
        public static let duplicateID = Code(.duplicateID)
        public static let checkCycle = Code(.checkCycle)
        public static let articleFormat = Code(.articleFormat)
        public static let inputUnreadable = Code(.inputUnreadable)
        public static let inputTooLarge = Code(.inputTooLarge)
        public static let inputFormat = Code(.inputFormat)
        /// A path leads outside the directories the user allowed; the message names the path, never what it holds.
        public static let outsideRoots = Code(.outsideRoots)
        public static let notFound = Code(.notFound)
        public static let testFailed = Code(.testFailed)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Lowercase, no final period, values quoted with '…'.
    public var message: String
    public var location: SourceLocation?
    /// The text of the offending line, shown under the message with a caret.
    public var sourceLine: String?

    public init(_ code: Code, _ message: String, at location: SourceLocation? = nil, sourceLine: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.sourceLine = sourceLine
    }

    /// `path:line:column: error: message`, then the source line and a caret under the column.
    public var description: String {
        var out = ""
        // Messages quote values from playbooks, configs and paths: neutralised here, once, for every caller, and
        // cut, so a quoted value from a file that is not what it claims to be is not echoed whole.
        var message = Sanitizer.neutralize(self.message)
        if message.count > Self.messageLimit { message = String(message.prefix(Self.messageLimit - 1)) + "…" }
        if let location {
            out = "\(Sanitizer.neutralize(location.description)): error: \(message)"
        } else {
            out = "error: \(message)"
        }
        if let sourceLine, let location {
            let (shown, pad) = Self.excerpt(sourceLine, column: location.column)
            out += "\n" + shown + "\n" + pad + "^"
        }
        return out
    }

    /// At most this many characters of a source line are shown under a message, around the caret: the line
    /// may come from a file that is not what it claims to be, and an error must not print it whole.
    public static let sourceLineLimit = 120

    /// At most this many characters of a message are shown.
    public static let messageLimit = 300

    /// The neutralised part of `line` around `column` (1-based, in Unicode scalars, as marks count), with '…'
    /// where it was cut, and the padding that puts a caret under that column.
    static func excerpt(_ line: String, column: Int) -> (shown: String, pad: String) {
        let pieces = line.unicodeScalars.map { Sanitizer.neutralize(String($0)) }
        let caret = min(max(0, column - 1), pieces.count)
        let limit = sourceLineLimit
        // Up to half the room before the caret, then the rest after it, then any room left before it again.
        var start = caret
        var end = caret
        var width = 0
        while start > 0, width + pieces[start - 1].count <= limit / 2 {
            start -= 1
            width += pieces[start].count
        }
        while end < pieces.count, width + pieces[end].count <= limit {
            width += pieces[end].count
            end += 1
        }
        while start > 0, width + pieces[start - 1].count <= limit {
            start -= 1
            width += pieces[start].count
        }
        let head = start > 0 ? "…" : ""
        let tail = end < pieces.count ? "…" : ""
        let shown = head + pieces[start..<end].joined() + tail
        // Tabs keep their width so the caret stays under the right character.
        let before = pieces[start..<caret].joined()
        let pad = String(repeating: " ", count: head.count) + String(before.map { $0 == "\t" ? "\t" : " " })
        return (shown, pad)
    }
}

/// Several problems found in one pass, so a user fixes them all in one edit.
public struct KBErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [KBError]
    public init(_ errors: [KBError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension KBError {
    /// Builds an error at a line of `source`, filling in the line text for the caret display.
    public static func at(
        _ code: Code, _ message: String, file: String, line: Int, column: Int, in source: String?
    ) -> KBError {
        let text = source.flatMap { Self.line(line, of: $0) }
        return KBError(code, message, at: SourceLocation(file: file, line: line, column: column), sourceLine: text)
    }

    /// The 1-based `n`th line of `text`, without its terminator.
    public static func line(_ n: Int, of text: String) -> String? {
        guard n >= 1 else { return nil }
        var current = 1
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "\n" || text[index] == "\r\n" {
                if current == n { return String(text[start..<index]) }
                current += 1
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        return current == n ? String(text[start..<text.endIndex]) : nil
    }
}
