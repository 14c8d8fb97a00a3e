import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One input prepared for scanning: ASCII-lowercased UTF-8 bytes for phrase search, and line tables
/// in UTF-8 byte offsets, the unit of both phrase hits and RE2 matches, so that hits map to 1-based lines.
///
/// Everything here is linear in the size of the input; the tables are built in one pass.
struct SymptomText {
    let name: String
    let string: String
    /// ASCII-lowercased UTF-8 of `string`; byte offsets equal those of the original.
    let lower: [UInt8]
    /// Byte offset of the start of each line.
    private let lineStarts8: [Int]

    init(name: String, string: String) {
        self.name = name
        self.string = string
        var bytes = Array(string.utf8)
        var starts8 = [0]
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<buffer.count {
                let byte = buffer[index]
                if byte >= 0x41 && byte <= 0x5A {
                    buffer[index] = byte | 0x20
                } else if byte == 0x0A {
                    starts8.append(index + 1)
                }
            }
        }
        lower = bytes
        lineStarts8 = starts8
    }

    var lineCount: Int { lineStarts8.count }

    // MARK: phrases

    /// Byte offset of the first occurrence of `needle` (already lowercase) at or after `start`.
    /// With `word`, a hit must not touch a letter, digit or underscore on either side.
    func find(_ needle: [UInt8], from start: Int = 0, before end: Int? = nil, word: Bool = false) -> Int? {
        guard !needle.isEmpty, start >= 0 else { return nil }
        var from = start
        while let hit = rawFind(needle, from: from, before: end) {
            if !word || (!isWordByte(at: hit - 1) && !isWordByte(at: hit + needle.count)) { return hit }
            from = hit + 1
        }
        return nil
    }

    func contains(_ needle: [UInt8]) -> Bool { rawFind(needle, from: 0, before: nil) != nil }

    /// A hit that starts at or after `start` and ends at or before `end`.
    private func rawFind(_ needle: [UInt8], from start: Int, before end: Int?) -> Int? {
        let count = min(lower.count, end ?? lower.count)
        let n = needle.count
        guard n > 0, start <= count - n else { return nil }
        return lower.withUnsafeBufferPointer { hay -> Int? in
            needle.withUnsafeBufferPointer { pin -> Int? in
                guard let hayBase = hay.baseAddress, let pinBase = pin.baseAddress else { return nil }
                let first = Int32(pinBase[0])
                var position = start
                let last = count - n
                while position <= last {
                    guard let found = memchr(hayBase + position, first, last - position + 1) else { return nil }
                    let at = hayBase.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if n == 1 || memcmp(hayBase + at + 1, pinBase + 1, n - 1) == 0 { return at }
                    position = at + 1
                }
                return nil
            }
        }
    }

    private func isWordByte(at index: Int) -> Bool {
        guard index >= 0, index < lower.count else { return false }
        let byte = lower[index]
        return (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
    }

    /// The original text of a byte range found by `find`; phrase hits are whole UTF-8 sequences.
    func text(bytes range: Range<Int>) -> String {
        let utf8 = string.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
        let end = utf8.index(start, offsetBy: range.count)
        return String(string[start..<end])
    }

    // MARK: regular expressions

    func firstMatch(_ regex: RegexPattern, from start: Int = 0) -> RegexMatch? {
        regex.firstMatch(in: string, from: start)
    }

    /// Matches in order, at most `limit` of them, so a huge log cannot flood the facts.
    func matches(_ regex: RegexPattern, limit: Int = 500) -> [RegexMatch] {
        regex.matches(in: string, limit: limit)
    }

    /// Matches that `accept` keeps, in order; a rejected match is searched again from its next scalar,
    /// which is how a look-around (RE2 has none) would have let the search go on. Keep patterns used
    /// this way short, so a retry costs little; `tries` bounds the retries.
    func matches(_ regex: RegexPattern, limit: Int = 500, tries: Int = 20_000,
                 accept: (RegexMatch) -> Bool) -> [RegexMatch] {
        var out: [RegexMatch] = []
        var from = 0
        var left = tries
        while out.count < limit, left > 0, let m = regex.firstMatch(in: string, from: from) {
            if accept(m) {
                out.append(m)
                from = m.range.isEmpty ? nextScalar(after: m.range.upperBound) : m.range.upperBound
            } else {
                left -= 1
                from = nextScalar(after: m.range.lowerBound)
            }
        }
        return out
    }

    func firstMatch(_ regex: RegexPattern, accept: (RegexMatch) -> Bool) -> RegexMatch? {
        matches(regex, limit: 1, accept: accept).first
    }

    private func nextScalar(after offset: Int) -> Int {
        var next = offset + 1
        while next < lower.count, lower[next] & 0xC0 == 0x80 { next += 1 }
        return next
    }

    /// The lowercased byte at `offset`, nil outside the text.
    func byte(at offset: Int) -> UInt8? { offset >= 0 && offset < lower.count ? lower[offset] : nil }

    /// Whether the lowercased text has `needle` (lowercase ASCII) starting at `offset`.
    func has(_ needle: String, at offset: Int) -> Bool {
        let bytes = Array(needle.utf8)
        guard offset >= 0, offset + bytes.count <= lower.count else { return false }
        return lower[offset..<(offset + bytes.count)].elementsEqual(bytes)
    }

    /// Whether the lowercased text has `needle` (lowercase ASCII) ending right before `offset`.
    func has(_ needle: String, before offset: Int) -> Bool { has(needle, at: offset - needle.utf8.count) }

    /// Whether the scalar ending right before `offset` is a word character as ICU's `\w` counts
    /// them (letters, marks, digits, underscore), so look-behinds rewritten in Swift keep their meaning.
    func isWordScalar(before offset: Int) -> Bool {
        guard offset > 0, offset <= lower.count else { return false }
        var start = offset - 1
        while start > 0, lower[start] & 0xC0 == 0x80 { start -= 1 }
        guard let scalar = text(start..<offset).unicodeScalars.first else { return false }
        return Self.isWord(scalar)
    }

    /// Whether the scalar starting at `offset` is a word character.
    func isWordScalar(at offset: Int) -> Bool {
        guard offset >= 0, offset < lower.count else { return false }
        var end = offset + 1
        while end < lower.count, lower[end] & 0xC0 == 0x80 { end += 1 }
        guard let scalar = text(offset..<end).unicodeScalars.first else { return false }
        return Self.isWord(scalar)
    }

    static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39) || v == 0x5F
        }
        let p = scalar.properties
        return p.isAlphabetic || p.generalCategory == .decimalNumber || p.generalCategory == .nonspacingMark
            || p.generalCategory == .spacingMark || p.generalCategory == .enclosingMark
            || p.generalCategory == .connectorPunctuation || scalar.value == 0x200C || scalar.value == 0x200D
    }

    /// The text of a byte range, widened or narrowed to whole UTF-8 sequences; "" when empty.
    func text(_ range: Range<Int>) -> String {
        var start = max(0, min(range.lowerBound, lower.count))
        var end = max(start, min(range.upperBound, lower.count))
        while start < end, lower[start] & 0xC0 == 0x80 { start += 1 }
        while end < lower.count, end > start, lower[end] & 0xC0 == 0x80 { end -= 1 }
        guard start < end else { return "" }
        return text(bytes: start..<end)
    }

    func group(_ match: RegexMatch, _ index: Int) -> String? {
        guard let range = match[index] else { return nil }
        return text(range)
    }

    // MARK: lines and locations

    /// 1-based line of a byte offset.
    func line(ofByte offset: Int) -> Int { Self.lineIndex(of: offset, in: lineStarts8) + 1 }

    func location(ofByte offset: Int) -> SourceLocation {
        let index = Self.lineIndex(of: offset, in: lineStarts8)
        let column = column(ofByte: offset, lineStart: lineStarts8[index])
        return SourceLocation(file: name, line: index + 1, column: column)
    }

    /// The byte range of a 1-based line, without its terminator.
    func range(ofLine line: Int) -> Range<Int> {
        guard line >= 1, line <= lineStarts8.count else { return 0..<0 }
        let start = lineStarts8[line - 1]
        var end = line < lineStarts8.count ? lineStarts8[line] - 1 : lower.count
        if end > start, lower[end - 1] == 0x0D { end -= 1 }
        return start..<max(start, end)
    }

    /// Byte offset where a 1-based line starts.
    func start(ofLine line: Int) -> Int {
        guard line >= 1, line <= lineStarts8.count else { return lower.count }
        return lineStarts8[line - 1]
    }

    /// The text of a 1-based line, cut to about `limit` bytes so a huge line stays cheap.
    func lineText(_ line: Int, limit: Int = 4_000) -> String {
        let range = range(ofLine: line)
        return text(range.lowerBound..<min(range.upperBound, range.lowerBound + limit))
    }

    /// The column as editors count it (UTF-16 units), counted from the line start; very long
    /// prefixes fall back to bytes so that a 1 MB line stays linear.
    private func column(ofByte offset: Int, lineStart: Int) -> Int {
        let distance = offset - lineStart
        guard distance < 20_000 else { return distance + 1 }
        var units = 0
        for index in lineStart..<offset {
            let byte = lower[index]
            if byte & 0xC0 != 0x80 { units += 1 }
            if byte >= 0xF0 { units += 1 }
        }
        return units + 1
    }

    private static func lineIndex(of offset: Int, in starts: [Int]) -> Int {
        var low = 0
        var high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }
}
