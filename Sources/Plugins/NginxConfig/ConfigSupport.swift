import Engine
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Pieces shared by the nginx and Apache config analyzers: include globs, paths, source lines and
// findings that remember which input they belong to. They live here because both config plugins use
// them; nothing outside the Plugins module sees the internal ones.

/// read(2), named apart from `FileAccess.read`.
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, buffer, count)
    #else
    return Darwin.read(fd, buffer, count)
    #endif
}

/// POSIX-style paths without touching the file system.
enum ConfigPath {
    static func isAbsolute(_ path: String) -> Bool { path.hasPrefix("/") }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func lastComponent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func join(_ base: String, _ relative: String) -> String {
        if isAbsolute(relative) || base.isEmpty { return normalize(relative) }
        return normalize(base.hasSuffix("/") ? base + relative : base + "/" + relative)
    }

    /// Removes `.` and `..` components and repeated slashes.
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." { parts.removeLast(); continue }
                if absolute { continue }
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}

/// Shell-style globs (`*`, `?`, `[a-z]`, `[!a]`) as nginx and Apache use them for includes.
enum ConfigGlob {
    static func hasMagic(_ pattern: String) -> Bool {
        pattern.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// Whether `name` (one path component) matches `pattern` (one component). A leading dot must be matched
    /// explicitly, as glob(3) does.
    static func matchComponent(_ pattern: Substring, _ name: Substring) -> Bool {
        let p = Array(pattern.utf8)
        let n = Array(name.utf8)
        if n.first == UInt8(ascii: "."), p.first != UInt8(ascii: ".") { return false }
        return match(p, 0, n, 0, budget: 10_000)
    }

    private static func match(_ p: [UInt8], _ pi: Int, _ n: [UInt8], _ ni: Int, budget: Int) -> Bool {
        var pi = pi
        var ni = ni
        var starP = -1
        var starN = 0
        var steps = 0
        while ni < n.count {
            steps += 1
            if steps > budget { return false }
            if pi < p.count {
                let c = p[pi]
                if c == UInt8(ascii: "*") {
                    starP = pi
                    starN = ni
                    pi += 1
                    continue
                }
                if c == UInt8(ascii: "?") {
                    pi += 1
                    ni += 1
                    continue
                }
                if c == UInt8(ascii: "["), let (matched, next) = matchClass(p, pi, n[ni]) {
                    if matched {
                        pi = next
                        ni += 1
                        continue
                    }
                } else if c == n[ni] {
                    pi += 1
                    ni += 1
                    continue
                }
            }
            if starP >= 0 {
                pi = starP + 1
                starN += 1
                ni = starN
                continue
            }
            return false
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Matches a `[...]` class at `p[start]`; nil when the bracket is not closed (then it is a literal).
    private static func matchClass(_ p: [UInt8], _ start: Int, _ c: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count, p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^") {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < p.count {
            if p[i] == UInt8(ascii: "]"), !first {
                return (matched != negate, i + 1)
            }
            first = false
            if i + 2 < p.count, p[i + 1] == UInt8(ascii: "-"), p[i + 2] != UInt8(ascii: "]") {
                if p[i] <= c && c <= p[i + 2] { matched = true }
                i += 3
            } else {
                if p[i] == c { matched = true }
                i += 1
            }
        }
        return nil
    }

    /// Whether a whole path matches a whole pattern, component by component (`*` never crosses `/`).
    static func matchPath(_ pattern: String, _ path: String) -> Bool {
        let pp = pattern.split(separator: "/", omittingEmptySubsequences: true)
        let pn = path.split(separator: "/", omittingEmptySubsequences: true)
        guard pp.count == pn.count, pattern.hasPrefix("/") == path.hasPrefix("/") else { return false }
        for (a, b) in zip(pp, pn) where !matchComponent(a, b) { return false }
        return true
    }

    /// Expands an absolute pattern with directory listings, sorted as glob(3) sorts. Returns nil when the
    /// pattern needs a listing that cannot be had (no lister, or the directory cannot be listed), and throws
    /// the lister's `outsideRoots` error when the directory is not one the user allowed.
    static func expand(_ pattern: String, lister: (any DirectoryListing)?, limit: Int) throws(KBError) -> [String]? {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true)
        var current: [String] = [pattern.hasPrefix("/") ? "" : "."]
        for (index, part) in parts.enumerated() {
            let isLast = index == parts.count - 1
            var next: [String] = []
            var listedAny = true
            if !hasMagic(String(part)) {
                next = current.map { $0 == "" ? "/" + part : $0 + "/" + part }
            } else {
                guard let lister else { return nil }
                listedAny = false
                for dir in current {
                    let listed = dir == "" ? "/" : dir
                    let names: [String]
                    do {
                        names = try lister.contents(ofDirectory: listed)
                    } catch {
                        if error.code == .outsideRoots { throw error }
                        continue
                    }
                    listedAny = true
                    for name in names.sorted() where matchComponent(part, Substring(name)) {
                        next.append(dir == "" ? "/" + name : dir + "/" + name)
                        if next.count > limit { break }
                    }
                }
            }
            if hasMagic(String(part)), !listedAny { return nil }
            current = next
            if current.isEmpty { return [] }
            _ = isLast
        }
        return current.map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : $0 }
    }
}

/// The text of one config file with fast access to its lines, for excerpts and error carets.
struct ConfigSourceLines: Sendable {
    let text: String
    private let starts: [String.Index]

    init(_ text: String) {
        self.text = text
        var starts = [text.startIndex]
        var index = text.startIndex
        let utf8 = text.utf8
        while let newline = utf8[index...].firstIndex(of: UInt8(ascii: "\n")) {
            index = utf8.index(after: newline)
            starts.append(index)
        }
        self.starts = starts
    }

    var count: Int { starts.count }

    /// The 1-based line `n` without its terminator, or nil.
    func line(_ n: Int) -> String? {
        guard n >= 1, n <= starts.count else { return nil }
        let start = starts[n - 1]
        let end = n < starts.count ? text.utf8.index(before: starts[n]) : text.endIndex
        var line = Substring(text[start..<end])
        if line.hasSuffix("\r") { line = line.dropLast() }
        return String(line)
    }

    func excerpt(_ n: Int) -> String? {
        line(n).map { ConfigText.trimmed($0) }
    }
}

/// A finding together with the input it belongs to, so that analysing several inputs together
/// reports each finding once, under the input that holds (or includes) its file.
struct ConfigOwnedFinding: Sendable {
    var owner: String
    var finding: Finding
}

enum ConfigText {
    /// Splits on LF and CRLF. Swift treats "\r\n" as one `Character`, so splitting a String on "\n" alone
    /// leaves a CRLF file as a single line.
    static func lines(_ text: some StringProtocol) -> [Substring] {
        Substring(text).split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    }

    /// The text without a leading UTF-8 byte order mark, which editors on Windows write and servers skip.
    static func withoutBOM(_ text: String) -> String {
        text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    }

    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, scalars[start] == " " || scalars[start] == "\t" || scalars[start] == "\r" {
            start = scalars.index(after: start)
        }
        while end > start {
            let before = scalars.index(before: end)
            let c = scalars[before]
            guard c == " " || c == "\t" || c == "\r" || c == "\n" else { break }
            end = before
        }
        return String(scalars[start..<end])
    }
}

/// Host-name helpers shared by the config analyzers.
enum ConfigHostNames {
    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            part.count <= 3 && ConfigText.isDigits(part) && (Int(part) ?? 256) <= 255
        }
    }

    static func isIPLiteral(_ s: String) -> Bool {
        if s.hasPrefix("[") { return true }
        if isIPv4(s) { return true }
        return s.contains(":") && s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }

    /// Whether `pattern` (a name, `*.example.com` or nginx's `.example.com`) covers `name`.
    static func covers(_ pattern: String, _ name: String) -> Bool {
        let p = pattern.lowercased()
        let n = name.lowercased()
        if p == n { return true }
        if p.hasPrefix("*.") {
            let suffix = p.dropFirst(1) // ".example.com"
            guard n.hasSuffix(suffix) else { return false }
            let label = n.dropLast(suffix.count)
            return !label.isEmpty && !label.contains(".")
        }
        if p.hasPrefix(".") {
            return n == String(p.dropFirst()) || n.hasSuffix(p)
        }
        return false
    }

    static func isWildcard(_ s: String) -> Bool { s.hasPrefix("*.") || s.hasPrefix(".") }
}

extension ConfigText {
    /// The finding for an include that leads outside the directories the user allowed: the path as the config
    /// spells it (resolved against its prefix), nothing of what is there, and how to allow it.
    static func notFollowed(_ path: String) -> String {
        "include outside the given files was not followed: '\(Finding.shortExcerpt(path))'; "
            + "to follow it, add --config-root DIR for the directory that holds it"
    }

    static func tooLarge(_ directive: String, _ path: String, _ limit: Int) -> String {
        "\(directive) '\(Finding.shortExcerpt(path))' is larger than the limit of \(limit) bytes and was not read; "
            + "findings may miss what it holds"
    }

    /// Joins a list of names as `'a', 'b' and 3 more`.
    static func quotedList(_ items: [String], max: Int = 4) -> String {
        let shown = items.prefix(max).map { "'\($0)'" }.joined(separator: ", ")
        return items.count > max ? shown + " and \(items.count - max) more" : shown
    }

    static func isDigits(_ s: Substring) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}

/// Host names read from a certificate file, never guessed from its path: `acme_corp.crt` may hold any name.
enum CertificateFileNames {
    /// The DNS names of the first certificate in the PEM file at `path` (its subject CN when it has no SAN);
    /// nil when the file cannot be read through `files` (outside the named roots, missing, not PEM), so the
    /// names are unknown.
    static func names(_ path: String, files: (any FileAccess)?) -> [String]? {
        guard let files, path.hasPrefix("/"), !path.contains("$"),
              let text = try? files.read(path, limit: 256 << 10) else { return nil }
        return names(pem: text)
    }

    static func names(pem text: String) -> [String]? {
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        guard let start = text.firstRange(of: begin), let stop = text[start.upperBound...].firstRange(of: end),
              let certificate = try? Certificate(pemEncoded: String(text[start.lowerBound..<stop.upperBound]))
        else { return nil }
        var names: [String] = []
        if let sans = try? certificate.extensions.subjectAlternativeNames {
            for case .dnsName(let name) in sans { names.append(name.lowercased()) }
        }
        if names.isEmpty, let cn = certificate.subject.lazy.map({ String(describing: $0) }).first(where: { $0.hasPrefix("CN=") }) {
            names.append(String(cn.dropFirst(3)).lowercased())
        }
        return names.isEmpty ? nil : names
    }
}
