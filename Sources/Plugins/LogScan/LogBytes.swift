#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A view of one log line's bytes inside the scanner's buffer. Valid only while the buffer holds the line;
/// parsers copy out the few Strings they keep.
struct ByteLine {
    let base: UnsafePointer<UInt8>
    let count: Int

    @inline(__always) subscript(_ i: Int) -> UInt8 { base[i] }

    @inline(__always) func byte(_ i: Int) -> UInt8 { i < count ? base[i] : 0 }

    /// The first index of `byte` in `from..<count`.
    @inline(__always) func index(of byte: UInt8, from: Int = 0) -> Int? {
        guard from < count else { return nil }
        guard let hit = memchr(base + from, Int32(byte), count - from) else { return nil }
        return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
    }

    /// The first index of `needle` in `from..<count`.
    func find(_ needle: [UInt8], from: Int = 0) -> Int? {
        guard let first = needle.first, needle.count <= count else { return nil }
        var i = from
        while i + needle.count <= count {
            guard let hit = index(of: first, from: i), hit + needle.count <= count else { return nil }
            let matches = needle.withUnsafeBufferPointer { memcmp(base + hit, $0.baseAddress!, needle.count) == 0 }
            if matches { return hit }
            i = hit + 1
        }
        return nil
    }

    func hasPrefix(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
        guard offset >= 0, offset + prefix.count <= count else { return false }
        return prefix.withUnsafeBufferPointer { memcmp(base + offset, $0.baseAddress!, prefix.count) == 0 }
    }

    /// Whether the bytes at `offset` match `lowercase` ignoring ASCII case.
    func hasPrefixIgnoringCase(_ lowercase: [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset + lowercase.count <= count else { return false }
        for (k, b) in lowercase.enumerated() {
            let c = base[offset + k]
            if c != b && (c | 0x20) != b { return false }
        }
        return true
    }

    /// The first index of `lowercase` in `from..<to`, ignoring ASCII case.
    func findIgnoringCase(_ lowercase: [UInt8], from: Int = 0, to: Int? = nil) -> Int? {
        let limit = min(to ?? count, count) - lowercase.count
        guard !lowercase.isEmpty, from <= limit else { return nil }
        for i in from...limit where hasPrefixIgnoringCase(lowercase, at: i) { return i }
        return nil
    }

    /// A host token without a trailing `:port` (IPv6 in brackets is kept whole).
    func host(_ start: Int, _ end: Int) -> String {
        var e = min(end, count)
        if start < e, base[start] != UInt8(ascii: "[") {
            var i = e - 1
            while i > start, ByteLine.isDigit(base[i]) { i -= 1 }
            if i > start, i < e - 1, base[i] == UInt8(ascii: ":"), index(of: UInt8(ascii: ":"), from: start) == i {
                e = i
            }
        }
        return string(start, e)
    }

    func string(_ start: Int, _ end: Int) -> String {
        let s = max(0, min(start, count)), e = max(s, min(end, count))
        return String(decoding: UnsafeBufferPointer(start: base + s, count: e - s), as: UTF8.self)
    }

    var text: String { string(0, count) }

    /// The token starting at `start` and ending before any byte in `stops` (or the end).
    func token(from start: Int, stops: (UInt8) -> Bool) -> (String, Int) {
        var i = start
        while i < count, !stops(base[i]) { i += 1 }
        return (string(start, i), i)
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 97 < 26 }

    func digits(at i: Int, count n: Int) -> Int? {
        guard i >= 0, i + n <= count else { return nil }
        var v = 0
        for k in 0..<n {
            let b = base[i + k]
            guard ByteLine.isDigit(b) else { return nil }
            v = v * 10 + Int(b - 48)
        }
        return v
    }

    /// A month abbreviation (`Jan` … `Dec`, any case) at `i`, as 1…12.
    func month(at i: Int) -> Int? {
        guard i + 3 <= count else { return nil }
        let a = base[i] | 0x20, b = base[i + 1] | 0x20, c = base[i + 2] | 0x20
        switch (a, b, c) {
        case (0x6A, 0x61, 0x6E): return 1   // jan
        case (0x66, 0x65, 0x62): return 2   // feb
        case (0x6D, 0x61, 0x72): return 3   // mar
        case (0x61, 0x70, 0x72): return 4   // apr
        case (0x6D, 0x61, 0x79): return 5   // may
        case (0x6A, 0x75, 0x6E): return 6   // jun
        case (0x6A, 0x75, 0x6C): return 7   // jul
        case (0x61, 0x75, 0x67): return 8   // aug
        case (0x73, 0x65, 0x70): return 9   // sep
        case (0x6F, 0x63, 0x74): return 10  // oct
        case (0x6E, 0x6F, 0x76): return 11  // nov
        case (0x64, 0x65, 0x63): return 12  // dec
        default: return nil
        }
    }

    func isWeekday(at i: Int) -> Bool {
        guard i + 3 <= count else { return false }
        let a = base[i] | 0x20, b = base[i + 1] | 0x20, c = base[i + 2] | 0x20
        switch (a, b, c) {
        case (0x6D, 0x6F, 0x6E), (0x74, 0x75, 0x65), (0x77, 0x65, 0x64), (0x74, 0x68, 0x75),
             (0x66, 0x72, 0x69), (0x73, 0x61, 0x74), (0x73, 0x75, 0x6E):
            return true
        default:
            return false
        }
    }
}
