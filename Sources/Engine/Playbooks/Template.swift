import Foundation

/// Text with `{{variable}}` holes, checked when the playbook loads so typos fail early.
public struct Template: Sendable, CustomStringConvertible {
    enum Part: Sendable {
        case literal(String)
        case variable(String)
    }

    /// The variables a playbook may use; values come from the facts and the target.
    public static let variables: [String] = [
        "host", "other", "addresses", "port", "scheme", "target", "connect", "origin", "address", "status", "enhanced", "reply", "provider", "stack",
    ] + roles

    /// Names with a role in the case, read from the input (issue 9): remediation text and verify commands
    /// use the ticket's own names instead of example.com.
    public static let roles: [String] = [
        "sender-domain", "sender-ip", "recipient-domain", "recipient-provider", "receiving-mx", "origin-ip",
        "proxy", "sni", "host-header", "cert-names", "mechanism", "product", "version", "site-url",
    ]

    /// What a command shows for a value the input does not give: an obvious fill-in that a shell takes
    /// as one plain word (never `<origin>`, which a shell reads as a redirection).
    public static func fillIn(_ name: String) -> String {
        switch name {
        case "host": return "YOUR-HOST-NAME"
        case "address", "sender-ip": return "YOUR-SENDING-IP"
        case "origin", "origin-ip": return "YOUR-ORIGIN-IP"
        case "connect", "target": return "YOUR-SERVER"
        case "sender-domain": return "YOUR-DOMAIN"
        case "receiving-mx": return "THEIR-MX-HOST"
        case "site-url": return "https://YOUR-SITE"
        default: return "YOUR-" + name.uppercased()
        }
    }

    public let source: String
    let parts: [Part]

    public var description: String { source }

    public var variablesUsed: [String] {
        parts.compactMap { if case .variable(let v) = $0 { return v }; return nil }
    }

    /// Parses the holes; the error names the unknown variable or the unclosed brace, and its offset in `source`.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        var parts: [Part] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                throw TemplateError(message: "unclosed '{{' in template",
                                    offset: source.distance(from: source.startIndex, to: open.lowerBound))
            }
            let name = afterOpen[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard Self.variables.contains(name) else {
                var message = "unknown template variable '\(name)'"
                if let near = Suggest.closest(to: name, in: Self.variables) { message += "; did you mean '\(near)'?" }
                throw TemplateError(message: message, offset: source.distance(from: source.startIndex, to: open.lowerBound))
            }
            parts.append(.variable(name))
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    /// The variables that hold a destination the user named: the only values a playbook may give a parameter
    /// that says where a probe connects.
    public static let destinationVariables: Set<String> = ["connect", "origin", "addresses"]

    /// Whether the text is exactly one `{{variable}}` among `allowed`, with nothing around it.
    public func isExactly(oneOf allowed: Set<String>) -> Bool {
        guard parts.count == 1, case .variable(let name) = parts[0] else { return false }
        return allowed.contains(name)
    }

    /// Whether the text ends with `{{name}}`, alone or after a label ending in '.', so it stays at or under that name.
    public func ends(under name: String) -> Bool {
        guard case .variable(let last)? = parts.last, last == name else { return false }
        guard parts.count > 1 else { return true }
        if case .literal(let text) = parts[parts.count - 2] { return text.hasSuffix(".") }
        return false
    }

    /// Fills the holes; a missing value is replaced by `placeholder(name)`, or the result is nil when that returns nil.
    public func render(_ values: [String: String], placeholder: (String) -> String? = { Template.fillIn($0) }) -> String? {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .variable(let name):
                if let value = values[name], !value.isEmpty {
                    out += value
                } else if let filler = placeholder(name) {
                    out += filler
                } else {
                    return nil
                }
            }
        }
        return out
    }
}

public struct TemplateError: Error, Sendable {
    public var message: String
    public var offset: Int
}

/// "Did you mean" suggestions by edit distance.
public enum Suggest {
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        var best: (String, Int)?
        let limit = max(2, word.count / 3)
        for candidate in candidates {
            let d = distance(word.lowercased(), candidate.lowercased())
            if d <= limit, best == nil || d < best!.1 { best = (candidate, d) }
        }
        return best?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
