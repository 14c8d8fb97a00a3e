/// A position in a YAML text. Both numbers are 1-based.
///
/// `line` counts `\n`-terminated lines (a `\r\n` pair ends one line), the same way
/// `KBError.line(_:of:)` does, so an error built from a mark shows the right source line.
/// `column` counts Unicode scalars from the start of that line (not bytes, not grapheme
/// clusters); a byte order mark at the start of the text counts as one scalar of line 1.
public struct Mark: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }

    public static func < (lhs: Mark, rhs: Mark) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// The text of a scalar, as written after unescaping and folding, and how it was written.
public struct YAMLScalar: Sendable, Hashable {
    public enum Style: Sendable, Hashable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public var value: String
    public var style: Style

    public init(value: String, style: Style = .plain) {
        self.value = value
        self.style = style
    }
}

/// One `key: value` entry of a mapping, in document order.
public struct YAMLPair: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A node of a parsed YAML document. Aliases are already expanded: an alias becomes a copy of
/// its anchored node whose own `mark` is the alias's position (nodes inside the copy keep the
/// marks of the anchored text).
public struct YAMLNode: Sendable {
    public enum Kind: Sendable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public var kind: Kind
    /// Where the node starts; for a collection, its first token (or its anchor or tag).
    public var mark: Mark
    /// The explicit tag, with the standard `tag:yaml.org,2002:` prefix written as `!!`
    /// (so `!!str`, `!!int`), or nil when the node has no tag.
    public var tag: String?

    public init(kind: Kind, mark: Mark, tag: String? = nil) {
        self.kind = kind
        self.mark = mark
        self.tag = tag
    }

    // MARK: Structure

    /// The scalar's text, or nil for a collection.
    public var scalar: String? {
        if case .scalar(let s) = kind { return s.value }
        return nil
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = kind { return pairs }
        return nil
    }

    /// The value of the first pair whose key is the scalar `key`; nil if none or not a mapping.
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = kind else { return nil }
        for pair in pairs {
            if case .scalar(let s) = pair.key.kind, s.value == key { return pair.value }
        }
        return nil
    }

    /// "scalar", "sequence" or "mapping", for messages.
    public var kindName: String {
        switch kind {
        case .scalar: "scalar"
        case .sequence: "sequence"
        case .mapping: "mapping"
        }
    }

    // MARK: YAML 1.2 core schema

    // The typed accessors below read a scalar that is plain and untagged, or one whose explicit
    // tag names the type (`!!bool`, `!!int`, `!!float`, `!!null`) whatever its style. A quoted
    // scalar without a tag is always a string: `"true".bool` is nil.

    /// True for `null`, `Null`, `NULL`, `~` and the empty plain scalar (as in `key:`).
    public var isNull: Bool {
        guard let text = coreText(tags: ["!!null"]) else { return false }
        switch text {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    /// `true`, `True`, `TRUE`, `false`, `False`, `FALSE`. (`yes`, `on` and friends are strings.)
    public var bool: Bool? {
        guard let text = coreText(tags: ["!!bool"]) else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// Decimal with an optional sign (`-12`, `+3`), hexadecimal `0x1F`, octal `0o17`.
    /// Nil when the value does not fit in `Int`.
    public var int: Int? {
        guard let text = coreText(tags: ["!!int"]) else { return nil }
        return Self.parseInt(text)
    }

    /// Anything `int` accepts, decimals and exponents (`1.5`, `.5`, `-2e-3`), `.inf`, `-.inf`,
    /// `+.inf` and `.nan` in their lower, capitalised and upper case forms. Nil for a finite
    /// literal too large for `Double`.
    public var double: Double? {
        guard let text = coreText(tags: ["!!float", "!!int"]) else { return nil }
        if let value = Self.parseInt(text) { return Double(value) }
        return Self.parseFloat(text)
    }

    private func coreText(tags: Set<String>) -> String? {
        guard case .scalar(let s) = kind else { return nil }
        if let tag { return tags.contains(tag) ? s.value : nil }
        return s.style == .plain ? s.value : nil
    }

    private static func isDigit(_ c: UInt8, radix: Int = 10) -> Bool {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "7"): return true
        case UInt8(ascii: "8"), UInt8(ascii: "9"): return radix >= 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): return radix == 16
        default: return false
        }
    }

    static func parseInt(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            let radix: Int? = switch bytes[1] {
            case UInt8(ascii: "x"): 16
            case UInt8(ascii: "o"): 8
            default: nil
            }
            if let radix {
                let digits = bytes[2...]
                guard digits.allSatisfy({ isDigit($0, radix: radix) }) else { return nil }
                return Int(String(decoding: digits, as: UTF8.self), radix: radix)
            }
        }
        var digits = bytes[...]
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ isDigit($0) }) else { return nil }
        return Int(text)
    }

    static func parseFloat(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
        let bytes = Array(text.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            return i - start
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return nil }
        } else {
            guard digits() > 0 else { return nil }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                _ = digits()
            }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == bytes.count, let value = Double(text), value.isFinite else { return nil }
        return value
    }
}
