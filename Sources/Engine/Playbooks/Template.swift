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
        case "recipient-domain": return "RECIPIENT-DOMAIN"
        case "recipient-provider": return "THEIR-PROVIDER"
        case "product": return "YOUR-SERVER-SOFTWARE"
        case "other": return "OTHER-SITE-NAME"
        default: return "YOUR-" + name.uppercased()
        }
    }

    /// What a sentence shows for a value the input does not give: words, not a shell fill-in.
    public static func proseFillIn(_ name: String) -> String {
        switch name {
        case "host": return "the host name"
        case "address", "sender-ip": return "your sending IP address"
        case "origin", "origin-ip": return "the origin server's address"
        case "connect", "target": return "the server"
        case "sender-domain": return "your sending domain"
        case "receiving-mx": return "the receiving mail server"
        case "recipient-domain": return "the recipient's domain"
        case "recipient-provider": return "the recipient's provider"
        case "site-url": return "the site's address"
        case "sni": return "the TLS server name"
        case "host-header": return "the Host header"
        case "cert-names": return "the certificate's names"
        case "mechanism": return "the check the reply names"
        case "product": return "the server software"
        case "version": return "the version in use"
        case "proxy": return "the proxy or CDN in front"
        case "other": return "another site on the same server"
        default: return "the " + name.replacingOccurrences(of: "-", with: " ")
        }
    }

    /// Where a person finds a value the input does not give, said under a step whose command shows its
    /// fill-in. May hold `{{variables}}` of its own, filled like the command.
    public static func whereToFind(_ name: String) -> String? {
        switch name {
        case "host":
            return "the server's host name: for a web site the name in the browser's address bar, for mail or FTP "
                + "the server name in the program's settings"
        case "address", "sender-ip":
            return "the public IP address your mail server sends from: a bounce shows it after 'with ip:' or "
                + "'Messages from', and the hosting provider's panel lists it"
        case "sender-domain":
            return "the domain of the address you send from, the part after the @"
        case "receiving-mx":
            return "the receiving mail server: a bounce names it after 'host', and "
                + "`dig +short MX {{recipient-domain}}` lists it"
        case "recipient-domain":
            return "the part after the @ of the address the mail was for"
        case "origin", "origin-ip":
            return "the address of the server behind the proxy or CDN: the record in the CDN's DNS settings, or "
                + "the address in the proxy's upstream (proxy_pass) line"
        case "connect", "target":
            return "the server's address and port, as given with --target or --resolve"
        case "site-url":
            return "the address visitors should use, exactly as the browser bar shows it, with https:// and www. "
                + "if the site uses them"
        case "sni":
            return "the name the client sent in the TLS handshake: Apache's AH02032 line shows it as 'provided via SNI'"
        case "host-header":
            return "the Host the request carried: Apache's AH02032 line shows it as 'provided via HTTP', and "
                + "nginx's error log as host:"
        case "cert-names":
            return "the names the certificate covers: `openssl s_client -connect {{host}}:443 -servername {{host}} "
                + "</dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName` lists them"
        case "proxy":
            return "the CDN or proxy in front of the site (a cf-ray response header means Cloudflare)"
        case "product", "version":
            return "the server software and its version: `apachectl -v`, `nginx -v`, `postconf mail_version` or "
                + "the Server response header"
        case "port":
            return "the port the service listens on"
        case "other":
            return "the name of another site served by the same server or proxy"
        default:
            return nil
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

extension Template {
    /// Fills text for people (a step or its detail): inside `code spans` and indented code lines a missing value
    /// becomes its shell-safe fill-in, in sentences it becomes words. Text that is not a valid template stays as is.
    public static func fillText(_ text: String, _ values: [String: String]) -> String {
        guard text.contains("{{") else { return text }
        var out: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let code = line.hasPrefix("    ") || line.hasPrefix("\t")
            var pieces: [String] = []
            for (i, piece) in line.split(separator: "`", omittingEmptySubsequences: false).enumerated() {
                let inCode = code || i % 2 == 1
                guard piece.contains("{{"), let template = try? Template(String(piece)) else {
                    pieces.append(String(piece))
                    continue
                }
                pieces.append(template.render(values, placeholder: { inCode ? fillIn($0) : proseFillIn($0) })
                    ?? String(piece))
            }
            out.append(pieces.joined(separator: "`"))
        }
        return out.joined(separator: "\n")
    }

    /// The fill-ins a rendered command or text shows: the variables it uses that have no value.
    public func missing(_ values: [String: String]) -> [String] {
        var seen: Set<String> = []
        return variablesUsed.filter { (values[$0] ?? "").isEmpty && seen.insert($0).inserted }
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
