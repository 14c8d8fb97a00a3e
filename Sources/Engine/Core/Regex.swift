import CRE2
import Synchronization

/// A regular expression in RE2 syntax: matching time is linear in the input whatever the pattern,
/// so neither a pasted text nor an organisation's playbook can make kb hang (issue 7).
///
/// The pattern is compiled on first use, once, under a lock: most built-in patterns wait behind a
/// literal that is rarely present, and `kb classify` should not pay for them at start-up.
/// Offsets are UTF-8 byte offsets into the searched text.
public final class RegexPattern: Sendable {
    public struct Options: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let caseInsensitive = Options(rawValue: 1)
        /// `^` and `$` match at every line.
        public static let multiline = Options(rawValue: 2)
    }

    /// Memory for one compiled pattern and its caches; a bigger pattern fails to compile instead.
    public static let maxMemory: Int64 = 8 << 20

    public let source: String
    public let options: Options
    private let state = Mutex<State>(.pending)

    private enum State: Sendable {
        case pending
        case ready(Program)
        case failed(RegexSyntaxError)
    }

    public init(_ source: String, options: Options = [.caseInsensitive]) {
        self.source = source
        self.options = options
    }

    /// Compiles now (validation wants the error); later calls reuse the result.
    @discardableResult
    public func check() -> RegexSyntaxError? {
        switch program() {
        case .success: return nil
        case .failure(let error): return error
        }
    }

    /// Number of capturing groups, 0 when the pattern does not compile.
    public var groupCount: Int {
        guard case .success(let program) = program() else { return 0 }
        return Int(kb_re2_groups(program.pointer))
    }

    private func program() -> Result<Program, RegexSyntaxError> {
        state.withLock { state in
            switch state {
            case .ready(let program): return .success(program)
            case .failed(let error): return .failure(error)
            case .pending:
                let result = Program.compile(source, options: options)
                switch result {
                case .success(let program): state = .ready(program)
                case .failure(let error): state = .failed(error)
                }
                return result
            }
        }
    }

    /// The first match starting at or after byte `start`; with `anchored`, only a match at `start`.
    /// A pattern that does not compile matches nothing.
    public func firstMatch(in text: String, from start: Int = 0, anchored: Bool = false) -> RegexMatch? {
        guard case .success(let program) = program() else { return nil }
        return Self.withBytes(text) { program.match($0, from: start, anchored: anchored) }
    }

    /// Matches in order, each search starting after the previous match (one byte further after an
    /// empty match), so the total work stays linear in the text; at most `limit`.
    public func matches(in text: String, limit: Int = 500) -> [RegexMatch] {
        guard case .success(let program) = program() else { return [] }
        return Self.withBytes(text) { bytes in
            var out: [RegexMatch] = []
            var from = 0
            while out.count < limit, from <= bytes.count, let m = program.match(bytes, from: from, anchored: false) {
                out.append(m)
                from = m.range.isEmpty ? Self.nextScalar(after: m.range.upperBound, in: bytes) : m.range.upperBound
            }
            return out
        }
    }

    /// The first match whose groups satisfy `accept`; rejected matches are stepped over whole, never
    /// re-searched from inside, so the work stays linear. At most `limit` candidates are looked at.
    public func firstMatch(in text: String, limit: Int = 1_000, where accept: (RegexMatch) -> Bool) -> RegexMatch? {
        guard case .success(let program) = program() else { return nil }
        return Self.withBytes(text) { bytes in
            var from = 0
            var tries = 0
            while tries < limit, from <= bytes.count, let m = program.match(bytes, from: from, anchored: false) {
                if accept(m) { return m }
                tries += 1
                from = m.range.isEmpty ? Self.nextScalar(after: m.range.upperBound, in: bytes) : m.range.upperBound
            }
            return nil
        }
    }

    private static func nextScalar(after offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var next = offset + 1
        while next < bytes.count, bytes[next] & 0xC0 == 0x80 { next += 1 }
        return next
    }

    private static func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        let copy = Array(text.utf8)
        return copy.withUnsafeBufferPointer(body)
    }
}

/// One match: byte ranges of the whole match (group 0) and of each group that took part.
public struct RegexMatch: Sendable {
    public let groups: [Range<Int>?]

    public var range: Range<Int> { groups[0] ?? 0..<0 }

    public subscript(group: Int) -> Range<Int>? { group < groups.count ? groups[group] : nil }

    /// The text of a group in the string that was searched.
    public func text(_ group: Int = 0, in string: String) -> Substring? {
        guard let r = self[group] else { return nil }
        let utf8 = string.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: r.lowerBound)
        let end = utf8.index(start, offsetBy: r.count)
        return string[start..<end]
    }
}

/// What RE2 said about a pattern it cannot run, and where in the pattern (a UTF-8 byte offset).
public struct RegexSyntaxError: Error, Sendable {
    public let message: String
    public let fragment: String
    /// Byte offset of `fragment` in the pattern, when found.
    public let offset: Int?
}

/// Owns the C program; freed with the last reference.
private final class Program: @unchecked Sendable {
    let pointer: OpaquePointer
    let slots: Int32

    private init(_ pointer: OpaquePointer) {
        self.pointer = pointer
        slots = kb_re2_groups(pointer) + 1
    }

    deinit { kb_re2_free(pointer) }

    static func compile(_ source: String, options: RegexPattern.Options) -> Result<Program, RegexSyntaxError> {
        var copy = source
        let compiled = copy.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                kb_re2_compile(chars.baseAddress, chars.count, options.rawValue, RegexPattern.maxMemory)
            }
        }
        guard let compiled else {
            return .failure(RegexSyntaxError(message: "out of memory", fragment: "", offset: nil))
        }
        guard kb_re2_ok(compiled) != 0 else {
            let message = String(cString: kb_re2_error(compiled))
            let raw = String(cString: kb_re2_error_fragment(compiled))
            kb_re2_free(compiled)
            var fragment = raw
            if options.contains(.multiline), fragment.hasPrefix("(?m)") { fragment.removeFirst(4) }
            let offset = fragment.isEmpty ? nil : Self.offset(of: fragment, in: source)
            return .failure(RegexSyntaxError(message: Self.explain(message, fragment: raw), fragment: fragment,
                                             offset: offset))
        }
        return .success(Program(compiled))
    }

    /// RE2's message without the fragment it ends with (the caller quotes the fragment itself).
    private static func explain(_ message: String, fragment: String) -> String {
        var text = message
        if !fragment.isEmpty, text.hasSuffix(": " + fragment) { text.removeLast(fragment.utf8.count + 2) }
        if text.lowercased().contains("pattern too large") {
            text += " (more than \(RegexPattern.maxMemory >> 20) MiB compiled)"
        }
        return text
    }

    private static func offset(of fragment: String, in source: String) -> Int? {
        let hay = Array(source.utf8), needle = Array(fragment.utf8)
        guard needle.count <= hay.count else { return nil }
        for start in 0...(hay.count - needle.count) where hay[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    func match(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, anchored: Bool) -> RegexMatch? {
        guard start >= 0, start <= bytes.count else { return nil }
        let count = Int(slots)
        return withUnsafeTemporaryAllocation(of: Int64.self, capacity: count * 2) { offsets -> RegexMatch? in
            let found = bytes.withMemoryRebound(to: CChar.self) { chars in
                kb_re2_match(pointer, chars.baseAddress, chars.count, start,
                             anchored ? Int32(KB_RE2_ANCHOR_START) : Int32(KB_RE2_UNANCHORED), offsets.baseAddress, slots)
            }
            guard found != 0 else { return nil }
            var groups: [Range<Int>?] = []
            groups.reserveCapacity(count)
            for i in 0..<count {
                let lower = offsets[2 * i], upper = offsets[2 * i + 1]
                groups.append(lower < 0 ? nil : Int(lower)..<Int(upper))
            }
            return RegexMatch(groups: groups)
        }
    }
}
