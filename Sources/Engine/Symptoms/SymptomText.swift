import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One input prepared for scanning: ASCII-lowercased UTF-8 bytes for phrase search, and line tables
/// in both UTF-8 and UTF-16 offsets so that phrase hits and regular-expression hits map to 1-based lines.
///
/// Everything here is linear in the size of the input; the tables are built in one pass.
struct SymptomText {
    let name: String
    let string: String
    /// ASCII-lowercased UTF-8 of `string`; byte offsets equal those of the original.
    let lower: [UInt8]
    /// Byte offset of the start of each line.
    private let lineStarts8: [Int]
    /// UTF-16 offset of the start of each line.
    private let lineStarts16: [Int]
    /// Length of `string` in UTF-16 code units, the unit of `NSRange`.
    let length16: Int

    init(name: String, string: String) {
        self.name = name
        self.string = string
        var bytes = Array(string.utf8)
        var starts8 = [0]
        var starts16 = [0]
        var offset16 = 0
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<buffer.count {
                let byte = buffer[index]
                if byte & 0xC0 != 0x80 { offset16 += 1 }
                if byte >= 0xF0 { offset16 += 1 }
                if byte >= 0x41 && byte <= 0x5A {
                    buffer[index] = byte | 0x20
                } else if byte == 0x0A {
                    starts8.append(index + 1)
                    starts16.append(offset16)
                }
            }
        }
        lower = bytes
        lineStarts8 = starts8
        lineStarts16 = starts16
        length16 = offset16
    }

    var lineCount: Int { lineStarts8.count }
    var fullRange: NSRange { NSRange(location: 0, length: length16) }

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

    func firstMatch(_ regex: NSRegularExpression, in range: NSRange? = nil) -> NSTextCheckingResult? {
        regex.firstMatch(in: string, options: [], range: range ?? fullRange)
    }

    /// Matches in order, at most `limit` of them, so a huge log cannot flood the facts.
    func matches(_ regex: NSRegularExpression, in range: NSRange? = nil, limit: Int = 500) -> [NSTextCheckingResult] {
        var out: [NSTextCheckingResult] = []
        regex.enumerateMatches(in: string, options: [], range: range ?? fullRange) { match, _, stop in
            if let match { out.append(match) }
            if out.count >= limit { stop.pointee = true }
        }
        return out
    }

    /// The text of a UTF-16 range, or "" when the range is empty or not found.
    func text(_ range: NSRange) -> String {
        guard range.location != NSNotFound, range.length > 0, range.location + range.length <= length16,
              let r = Range(range, in: string) else { return "" }
        return String(string[r])
    }

    func group(_ match: NSTextCheckingResult, _ index: Int) -> String? {
        guard index < match.numberOfRanges else { return nil }
        let range = match.range(at: index)
        guard range.location != NSNotFound else { return nil }
        return text(range)
    }

    // MARK: lines and locations

    /// 1-based line of a byte offset.
    func line(ofByte offset: Int) -> Int { Self.lineIndex(of: offset, in: lineStarts8) + 1 }

    /// 1-based line of a UTF-16 offset.
    func line(ofUTF16 offset: Int) -> Int { Self.lineIndex(of: offset, in: lineStarts16) + 1 }

    func location(ofUTF16 offset: Int) -> SourceLocation {
        let index = Self.lineIndex(of: offset, in: lineStarts16)
        return SourceLocation(file: name, line: index + 1, column: offset - lineStarts16[index] + 1)
    }

    func location(ofByte offset: Int) -> SourceLocation {
        let index = Self.lineIndex(of: offset, in: lineStarts8)
        let column = column(ofByte: offset, lineStart: lineStarts8[index])
        return SourceLocation(file: name, line: index + 1, column: column)
    }

    /// The UTF-16 range of a 1-based line, without its terminator.
    func range(ofLine line: Int) -> NSRange {
        guard line >= 1, line <= lineStarts16.count else { return NSRange(location: 0, length: 0) }
        let start = lineStarts16[line - 1]
        var end = line < lineStarts16.count ? lineStarts16[line] - 1 : length16
        let endByte = line < lineStarts8.count ? lineStarts8[line] - 1 : lower.count
        if endByte > lineStarts8[line - 1], lower[endByte - 1] == 0x0D { end -= 1 }
        return NSRange(location: start, length: max(0, end - start))
    }

    /// UTF-16 offset where a 1-based line starts.
    func start16(ofLine line: Int) -> Int {
        guard line >= 1, line <= lineStarts16.count else { return length16 }
        return lineStarts16[line - 1]
    }

    /// The text of a 1-based line, cut to `limit` UTF-16 units so a huge line stays cheap.
    func lineText(_ line: Int, limit: Int = 4_000) -> String {
        var range = range(ofLine: line)
        range.length = min(range.length, limit)
        return text(range)
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
