// The only file that talks to libyaml. No C type leaves it.
import CYAML

/// Bounds that keep a hostile or broken document from using unbounded time or memory.
public struct YAMLLimits: Sendable {
    /// Size of the text in UTF-8 bytes, checked before parsing.
    public var maxBytes: Int
    /// Nesting of collections; the root collection is level 1. Alias copies count too.
    public var maxDepth: Int
    /// Every node produced: scalars, keys, collections, and every node of each alias copy.
    public var maxNodes: Int
    /// Alias uses in one document.
    public var maxAliases: Int

    public static let `default` = YAMLLimits()

    public init(
        maxBytes: Int = 4 * 1024 * 1024,
        maxDepth: Int = 64,
        maxNodes: Int = 200_000,
        maxAliases: Int = 1_000
    ) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
        self.maxAliases = maxAliases
    }
}

public enum YAML {
    /// Parses one document. `path` names the source in error messages. Empty document -> nil.
    /// More than one document -> error ("expected a single document") at the second document's start.
    ///
    /// A document whose only content is the empty plain scalar (nothing, comments, or a bare
    /// `---`) is empty. Aliases are expanded into copies; anchors must come before their aliases,
    /// and an alias inside the node its anchor names is an error. Merge keys (`<<`) are ordinary keys.
    public static func parse(
        _ text: String, path: String, limits: YAMLLimits = .default
    ) throws(KBError) -> YAMLNode? {
        let size = text.utf8.count
        if size > limits.maxBytes {
            // No source line: the first line of an oversized text can itself be megabytes long.
            throw KBError.at(
                .yamlLimit, "document is \(size) bytes, more than the limit of \(limits.maxBytes)",
                file: path, line: 1, column: 1, in: nil)
        }
        var contiguous = text
        let result: Result<YAMLNode?, KBError> = contiguous.withUTF8 { bytes in
            var builder = Builder(bytes: bytes, text: text, path: path, limits: limits)
            return builder.run()
        }
        return try result.get()
    }
}

// MARK: - Positions

/// Turns libyaml positions into `Mark`s that agree with `KBError.line(_:of:)`.
///
/// libyaml counts a lone `\r`, U+0085, U+2028 and U+2029 as line breaks and does not count a
/// leading byte order mark; its `index` (in Unicode scalars) is reliable, so lines are found
/// from it with a table of `\n` positions instead.
private struct LineTable {
    /// Scalar offset at which each line starts.
    private var starts: [Int] = [0]
    /// 1 when the text starts with a BOM, which libyaml skips without counting.
    private(set) var bomScalars = 0
    private let bytes: UnsafeBufferPointer<UInt8>

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        var scalar = 0
        for byte in bytes where byte & 0xC0 != 0x80 {
            scalar += 1
            if byte == UInt8(ascii: "\n") { starts.append(scalar) }
        }
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { bomScalars = 1 }
    }

    /// The mark of a scalar offset into the text.
    func mark(scalarOffset offset: Int) -> Mark {
        var low = 0
        var high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return Mark(line: low + 1, column: offset - starts[low] + 1)
    }

    func mark(_ m: yaml_mark_t) -> Mark {
        mark(scalarOffset: Int(clamping: m.index) + bomScalars)
    }

    /// The mark of a byte offset (libyaml's reader errors give those).
    func mark(byteOffset: Int) -> Mark {
        let end = min(max(byteOffset, 0), bytes.count)
        var scalars = 0
        for byte in bytes[0..<end] where byte & 0xC0 != 0x80 { scalars += 1 }
        return mark(scalarOffset: scalars)
    }
}

// MARK: - Tree builder

/// An event-driven, iterative builder: no recursion, so nesting depth cannot overflow the stack.
private struct Builder {
    private struct Built {
        var node: YAMLNode
        /// Nodes in this subtree, itself included.
        var count: Int
        /// Collection levels in this subtree: 0 for a scalar, 1 for a flat collection.
        var height: Int
    }

    private struct Frame {
        var isMapping: Bool
        var mark: Mark
        var tag: String?
        var anchor: String?
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?
        var keyMarks: [String: Mark] = [:]
        var count = 1
        var height = 1
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let text: String
    private let path: String
    private let limits: YAMLLimits
    private let lines: LineTable

    private var stack: [Frame] = []
    private var anchors: [String: Built] = [:]
    private var root: Built?
    private var documents = 0
    private var nodes = 0
    private var aliases = 0

    init(bytes: UnsafeBufferPointer<UInt8>, text: String, path: String, limits: YAMLLimits) {
        self.bytes = bytes
        self.text = text
        self.path = path
        self.limits = limits
        self.lines = LineTable(bytes: bytes)
    }

    mutating func run() -> Result<YAMLNode?, KBError> {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .success(nil) }

        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        // libyaml keeps a pointer to the parser inside it, so it must not move: heap, not a local.
        parser.initialize(to: yaml_parser_t())
        guard yaml_parser_initialize(parser) == 1 else {
            return .failure(error(.yamlSyntax, "cannot start the YAML parser (out of memory)", at: Mark(line: 1, column: 1)))
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_input_string(parser, base, bytes.count)

        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        event.initialize(to: yaml_event_t())
        defer { event.deallocate() }

        while true {
            guard yaml_parser_parse(parser, event) == 1 else {
                return .failure(syntaxError(parser.pointee))
            }
            defer { yaml_event_delete(event) }
            do throws(KBError) {
                if try handle(event.pointee) { break }
            } catch {
                return .failure(error)
            }
        }

        guard let root else { return .success(nil) }
        if case .scalar(let s) = root.node.kind, s.value.isEmpty, s.style == .plain, root.node.tag == nil {
            return .success(nil)
        }
        return .success(root.node)
    }

    /// Handles one event; true at the end of the stream.
    private mutating func handle(_ event: yaml_event_t) throws(KBError) -> Bool {
        let mark = lines.mark(event.start_mark)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return true

        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                throw error(.yamlSyntax, "expected a single document", at: mark)
            }

        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            try countNodes(1, at: mark)
            let value: String
            if let pointer = data.value {
                value = String(decoding: UnsafeBufferPointer(start: pointer, count: Int(clamping: data.length)), as: UTF8.self)
            } else {
                value = ""
            }
            let node = YAMLNode(
                kind: .scalar(YAMLScalar(value: value, style: Self.style(data.style))),
                mark: mark, tag: Self.tag(data.tag))
            let built = Built(node: node, count: 1, height: 0)
            if let anchor = Self.string(data.anchor) { anchors[anchor] = built }
            try attach(built)

        case YAML_SEQUENCE_START_EVENT:
            let data = event.data.sequence_start
            try open(isMapping: false, at: mark, tag: Self.tag(data.tag), anchor: Self.string(data.anchor))

        case YAML_MAPPING_START_EVENT:
            let data = event.data.mapping_start
            try open(isMapping: true, at: mark, tag: Self.tag(data.tag), anchor: Self.string(data.anchor))

        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { break }
            let kind: YAMLNode.Kind = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items)
            let built = Built(node: YAMLNode(kind: kind, mark: frame.mark, tag: frame.tag),
                              count: frame.count, height: frame.height)
            if let anchor = frame.anchor { anchors[anchor] = built }
            try attach(built)

        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            if stack.contains(where: { $0.anchor == name }) {
                throw error(.yamlSyntax,
                            "alias \(quoted(name)) refers to a node that contains it (recursive aliases are not supported)",
                            at: mark)
            }
            guard var built = anchors[name] else {
                throw error(.yamlSyntax, "alias to unknown anchor \(quoted(name))", at: mark)
            }
            aliases += 1
            if aliases > limits.maxAliases {
                throw error(.yamlLimit, "more than \(limits.maxAliases) aliases in one document", at: mark)
            }
            if stack.count + built.height > limits.maxDepth {
                throw error(.yamlLimit, "nesting deeper than \(limits.maxDepth) levels", at: mark)
            }
            try countNodes(built.count, at: mark)
            built.node.mark = mark
            try attach(built)

        default:
            break
        }
        return false
    }

    private mutating func open(isMapping: Bool, at mark: Mark, tag: String?, anchor: String?) throws(KBError) {
        if let top = stack.last, top.isMapping, top.pendingKey == nil {
            throw error(.wrongType, "mapping keys must be scalars", at: mark)
        }
        if stack.count + 1 > limits.maxDepth {
            throw error(.yamlLimit, "nesting deeper than \(limits.maxDepth) levels", at: mark)
        }
        try countNodes(1, at: mark)
        stack.append(Frame(isMapping: isMapping, mark: mark, tag: tag, anchor: anchor))
    }

    private mutating func countNodes(_ n: Int, at mark: Mark) throws(KBError) {
        nodes += n
        if nodes > limits.maxNodes {
            throw error(.yamlLimit, "more than \(limits.maxNodes) nodes (alias expansion included)", at: mark)
        }
    }

    /// Adds a finished node to the open collection, or makes it the root.
    private mutating func attach(_ built: Built) throws(KBError) {
        guard !stack.isEmpty else {
            root = built
            return
        }
        let top = stack.count - 1
        stack[top].count += built.count
        stack[top].height = max(stack[top].height, built.height + 1)
        guard stack[top].isMapping else {
            stack[top].items.append(built.node)
            return
        }
        if let key = stack[top].pendingKey {
            stack[top].pairs.append(YAMLPair(key: key, value: built.node))
            stack[top].pendingKey = nil
            return
        }
        guard case .scalar(let key) = built.node.kind else {
            throw error(.wrongType, "mapping keys must be scalars", at: built.node.mark)
        }
        if let first = stack[top].keyMarks[key.value] {
            throw error(.yamlDuplicateKey, "duplicate key \(quoted(key.value)) (first at \(first))", at: built.node.mark)
        }
        stack[top].keyMarks[key.value] = built.node.mark
        stack[top].pendingKey = built.node
    }

    // MARK: Errors

    private func error(_ code: KBError.Code, _ message: String, at mark: Mark) -> KBError {
        KBError.at(code, message, file: path, line: mark.line, column: mark.column, in: text)
    }

    /// A value for a message: terminal-safe, shortened if long, in '…'.
    private func quoted(_ value: String) -> String {
        let limit = 60
        var shown = Sanitizer.neutralize(value)
        if shown.count > limit { shown = String(shown.prefix(limit)) + "…" }
        return "'\(shown)'"
    }

    private func syntaxError(_ parser: yaml_parser_t) -> KBError {
        var message = Self.sentence(Self.string(parser.problem) ?? "")
        if message.isEmpty {
            message = parser.error == YAML_MEMORY_ERROR ? "out of memory while parsing" : "invalid YAML"
        }
        let mark: Mark
        if parser.error == YAML_READER_ERROR {
            mark = lines.mark(byteOffset: Int(clamping: parser.problem_offset))
            if parser.problem_value >= 0 {
                let hex = String(parser.problem_value, radix: 16, uppercase: true)
                message += " (U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + ")"
            }
        } else {
            mark = lines.mark(parser.problem_mark)
        }
        if let context = Self.string(parser.context), !context.isEmpty {
            message += " " + Self.sentence(context) + " at \(lines.mark(parser.context_mark))"
        }
        return error(.yamlSyntax, message, at: mark)
    }

    // MARK: C conversions

    /// libyaml's text with a lower-case first letter and no final period.
    private static func sentence(_ text: String) -> String {
        var text = Substring(text)
        while text.last == "." { text = text.dropLast() }
        guard let first = text.first else { return "" }
        return first.lowercased() + text.dropFirst()
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafePointer(pointer))
    }

    private static func tag(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let tag = string(pointer) else { return nil }
        let core = "tag:yaml.org,2002:"
        return tag.hasPrefix(core) ? "!!" + tag.dropFirst(core.count) : tag
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLScalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }
}
