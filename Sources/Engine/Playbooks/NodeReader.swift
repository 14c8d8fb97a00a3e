import Foundation

/// Strict, error-collecting access to a YAML tree: every problem is recorded with its position
/// and reading goes on, so one run reports everything that is wrong with a file.
struct NodeReader {
    let file: String
    let source: String
    private(set) var errors: [KBError] = []

    init(file: String, source: String) {
        self.file = file
        self.source = source
    }

    func location(_ node: YAMLNode) -> SourceLocation {
        SourceLocation(file: file, line: node.mark.line, column: node.mark.column)
    }

    mutating func error(_ code: KBError.Code, _ message: String, at node: YAMLNode) {
        errors.append(.at(code, message, file: file, line: node.mark.line, column: node.mark.column, in: source))
    }

    mutating func error(_ code: KBError.Code, _ message: String, line: Int, column: Int) {
        errors.append(.at(code, message, file: file, line: line, column: column, in: source))
    }

    /// The pairs of a mapping, checking that every key is allowed and every required key is present.
    mutating func fields(
        _ node: YAMLNode, what: String, allowed: [String], required: [String] = []
    ) -> [String: (key: YAMLNode, value: YAMLNode)]? {
        guard let pairs = node.mapping else {
            error(.wrongType, "\(what) must be a mapping, not a \(node.kindName)", at: node)
            return nil
        }
        var out: [String: (key: YAMLNode, value: YAMLNode)] = [:]
        for pair in pairs {
            guard let key = pair.key.scalar else { continue }
            if !allowed.contains(key) {
                var message = "unknown key '\(key)' in \(what)"
                if let near = Suggest.closest(to: key, in: allowed) { message += "; did you mean '\(near)'?" }
                error(.unknownKey, message, at: pair.key)
                continue
            }
            out[key] = (pair.key, pair.value)
        }
        for key in required where out[key] == nil {
            error(.missingKey, "\(what) is missing required key '\(key)'", at: node)
        }
        return out
    }

    mutating func string(_ node: YAMLNode, _ what: String) -> String? {
        guard let value = node.scalar, !node.isNull || node.tag != nil else {
            error(.wrongType, "\(what) must be a string, not a \(node.isNull ? "null" : node.kindName)", at: node)
            return nil
        }
        return value
    }

    mutating func nonEmptyString(_ node: YAMLNode, _ what: String) -> String? {
        guard let value = string(node, what) else { return nil }
        if value.allSatisfy(\.isWhitespace) {
            error(.invalidValue, "\(what) must not be empty", at: node)
            return nil
        }
        return value
    }

    /// Text for people: folded YAML scalars end in a newline that must not reach the report.
    mutating func prose(_ node: YAMLNode, _ what: String) -> String? {
        nonEmptyString(node, what)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    mutating func number(_ node: YAMLNode, _ what: String) -> Double? {
        guard case .scalar(let scalar) = node.kind, scalar.style == .plain, let value = node.double, value.isFinite else {
            error(.wrongType, "\(what) must be a number", at: node)
            return nil
        }
        return value
    }

    mutating func int(_ node: YAMLNode, _ what: String) -> Int? {
        guard case .scalar(let scalar) = node.kind, scalar.style == .plain, let value = node.int else {
            error(.wrongType, "\(what) must be an integer", at: node)
            return nil
        }
        return value
    }

    mutating func bool(_ node: YAMLNode, _ what: String) -> Bool? {
        guard case .scalar(let scalar) = node.kind, scalar.style == .plain, let value = node.bool else {
            error(.wrongType, "\(what) must be true or false", at: node)
            return nil
        }
        return value
    }

    /// A list of scalars; a single scalar is accepted as a one-item list, as people write `stack: nginx`.
    mutating func scalarList(_ node: YAMLNode, _ what: String) -> [(String, YAMLNode)]? {
        if node.scalar != nil, !node.isNull {
            return [(node.scalar!, node)]
        }
        guard let items = node.sequence else {
            error(.wrongType, "\(what) must be a list, not a \(node.kindName)", at: node)
            return nil
        }
        var out: [(String, YAMLNode)] = []
        for item in items {
            guard let value = item.scalar, !item.isNull else {
                error(.wrongType, "items of \(what) must be scalars, not a \(item.kindName)", at: item)
                continue
            }
            out.append((value, item))
        }
        if out.isEmpty && items.isEmpty {
            error(.invalidValue, "\(what) must not be empty", at: node)
        }
        return out
    }

    mutating func list(_ node: YAMLNode, _ what: String) -> [YAMLNode]? {
        guard let items = node.sequence else {
            error(.wrongType, "\(what) must be a list, not a \(node.kindName)", at: node)
            return nil
        }
        return items
    }

    /// Checks values against a closed vocabulary, with a suggestion for near misses.
    mutating func vocabulary(_ items: [(String, YAMLNode)], _ known: [String], _ what: String) -> [String] {
        var out: [String] = []
        for (value, node) in items {
            if known.contains(value) {
                out.append(value)
            } else {
                var message = "unknown \(what) '\(value)'"
                if let near = Suggest.closest(to: value, in: known) { message += "; did you mean '\(near)'?" }
                error(.invalidValue, message, at: node)
            }
        }
        return out
    }

    /// Reports a template problem at the right column when the template sits on one line.
    mutating func template(_ node: YAMLNode, _ what: String) -> Template? {
        guard let text = string(node, what) else { return nil }
        do {
            return try Template(text)
        } catch {
            var column = node.mark.column
            if case .scalar(let scalar) = node.kind, scalar.style != .literal, scalar.style != .folded,
               !text.prefix(error.offset).contains("\n") {
                column += error.offset + (scalar.style == .plain ? 0 : 1)
            }
            self.error(.unknownVariable, error.message, line: node.mark.line, column: column)
            return nil
        }
    }
}
