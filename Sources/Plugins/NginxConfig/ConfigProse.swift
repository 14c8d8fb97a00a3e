import Engine

/// Which lines of a config-looking input are prose a person wrote around it (a ticket that pastes a server
/// block between sentences) and which are the config itself. Comments and directives are blanked, so text
/// signals never read "sites-enabled" or a host name from a comment, and line numbers stay those of the input.
enum ConfigProse {
    /// nginx: comments, lines that end a directive or open or close a block, and the continuation lines of a
    /// directive written over several lines.
    static func nginx(_ text: String) -> String {
        var continuing = false
        return mapLines(text) { line in
            let t = ConfigText.trimmed(line)
            if t.isEmpty { continuing = false; return true }
            let code = withoutTrailingComment(t)
            let ends = code.hasSuffix(";") || code.hasSuffix("{") || code.hasSuffix("}")
            // A directive continues over lines of values (`'…'`, `"…"`, `$var`); any other line ends it.
            if continuing, ends || t.hasPrefix("'") || t.hasPrefix("\"") || t.hasPrefix("$") {
                continuing = !ends
                return true
            }
            continuing = false
            if t.hasPrefix("#") || ends { return true }
            // `nginx -t` / `nginx -T` report lines are the tool's, not the person's.
            if t.hasPrefix("nginx: ") { return true }
            let word = t.prefix { $0 != " " && $0 != "\t" }
            let identifier = word.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
            if word.contains("_"), identifier, word == word.lowercased() {
                continuing = true
                return true
            }
            return false
        }
    }

    /// Apache: comments, `<Section>` tags, lines that start with a directive name, `\` continuations, and the
    /// lines `apachectl -S` prints.
    static func apache(_ text: String) -> String {
        var continuing = false
        return mapLines(text) { line in
            let t = ConfigText.trimmed(line)
            if t.isEmpty { continuing = false; return true }
            if continuing { continuing = t.hasSuffix("\\"); return true }
            if t.hasPrefix("#") { return true }
            if t.hasPrefix("<"), t.hasSuffix(">"), !t.contains("</html"), !t.lowercased().hasPrefix("<!doctype") {
                return true
            }
            if isListingLine(t) { return true }
            let word = t.prefix { $0 != " " && $0 != "\t" }
            if isDirectiveName(word) {
                continuing = t.hasSuffix("\\")
                return true
            }
            return false
        }
    }

    /// Apache directive names are CamelCase words (`ServerName`, `SSLEngine`) or one of the few single words.
    static func isDirectiveName(_ word: Substring) -> Bool {
        guard let first = word.first, first.isUppercase, word.count >= 4,
              word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return false }
        let uppers = word.filter(\.isUppercase).count
        let lowers = word.filter(\.isLowercase).count
        if uppers >= 2, lowers >= 1 { return true }
        return singleWordDirectives.contains(word.lowercased())
    }

    static let singleWordDirectives: Set<String> = [
        "listen", "include", "includeoptional", "require", "options", "header", "alias", "redirect", "user",
        "group", "timeout", "define", "mutex", "protocols", "order", "allow", "deny", "satisfy", "action",
        "use", "undefine", "scriptalias",
    ]

    /// Lines of `apachectl -S` output: addresses with their vhosts, and the settings it dumps.
    static func isListingLine(_ t: String) -> Bool {
        let lower = t.lowercased()
        if lower.contains(" namevhost ") || lower.contains("is a namevirtualhost") || lower.hasPrefix("alias ")
            || lower.hasPrefix("default server ") || lower.hasPrefix("virtualhost configuration:")
            || lower.hasPrefix("wildcard namevirtualhosts") || lower == "syntax ok" {
            return true
        }
        for key in ["serverroot:", "main documentroot:", "main errorlog:", "mutex ", "pidfile:", "define:", "user:",
                    "group:", "serverroot ", "loaded modules:"] where lower.hasPrefix(key) {
            return true
        }
        // `*:443  example.com (/etc/apache2/sites-enabled/x.conf:2)`
        if let first = t.split(separator: " ").first, first.contains(":"), first.last?.isNumber == true,
           t.hasSuffix(")"), t.contains(".conf:") {
            return true
        }
        return false
    }

    /// The part of a trimmed line before a `#` comment that follows whitespace or a terminator.
    private static func withoutTrailingComment(_ t: String) -> String {
        var previous: Character = " "
        var quote: Character?
        for (offset, c) in t.enumerated() {
            if let q = quote {
                if c == q, previous != "\\" { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#", offset > 0, previous == " " || previous == "\t" || previous == ";" || previous == "{"
                        || previous == "}" {
                return ConfigText.trimmed(String(t.prefix(offset)))
            }
            previous = c
        }
        return t
    }

    /// Keeps each line for which `isConfig` is false and empties the others, keeping every line break.
    private static func mapLines(_ text: String, _ isConfig: (String) -> Bool) -> String {
        var out: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var s = String(line)
            if s.hasPrefix("\u{FEFF}") { s.removeFirst() }
            out.append(isConfig(s) ? "" : line)
        }
        return out.joined(separator: "\n")
    }
}
