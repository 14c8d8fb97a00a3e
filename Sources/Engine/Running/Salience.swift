/// Cuts a large input down to the lines that can matter for a 421, keeping line numbers.
///
/// Hundreds of regular expressions over megabytes of log would take seconds; the lines that can
/// carry a 421 are few. Lines far from any of them become empty lines, so every location that
/// evidence points at stays true. Whole-file statistics are the log analyzers' job, which stream.
public enum Salience {
    /// Inputs up to this size are read whole.
    public static let wholeLimit = 256 * 1024
    /// At most this many bytes of kept lines per input.
    public static let keptLimit = 256 * 1024
    static let context = 3
    static let head = 50

    /// Lowercase needles; a line containing one is salient. They are the cues a 421 line itself carries
    /// (the code, the phrase, Apache's and nginx's SNI messages), not words every line of a log has.
    static let needles: [[UInt8]] = [
        "421", "misdirect", "ah0203", "server name", "sni",
    ].map { Array($0.utf8) }

    /// Returns the input unchanged when small; else only the salient lines (a run of dropped lines
    /// becomes one empty line) and, for each kept line, its line number in the original.
    public static func reduce(_ text: String) -> (text: String, lineMap: [Int]?) {
        guard text.utf8.count > wholeLimit else { return (text, nil) }
        let bytes = Array(text.utf8)
        var lines: [Range<Int>] = []
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            lines.append(start..<i)
            start = i + 1
        }
        lines.append(start..<bytes.count)
        var keep = [Bool](repeating: false, count: lines.count)
        for i in 0..<min(head, lines.count) { keep[i] = true }
        for (n, range) in lines.enumerated() where isSalient(bytes, range) {
            for j in max(0, n - context)...min(lines.count - 1, n + context) { keep[j] = true }
        }
        var out: [UInt8] = []
        var map: [Int] = []
        var kept = 0
        var droppedRun = false
        for (n, range) in lines.enumerated() {
            // Over-long lines are clipped: a 1 MB line of a paste is noise, not evidence.
            guard keep[n], kept < keptLimit else {
                if !droppedRun {
                    if !map.isEmpty { out.append(0x0A) }
                    map.append(n + 1)
                    droppedRun = true
                }
                continue
            }
            droppedRun = false
            if !map.isEmpty { out.append(0x0A) }
            let clipped = range.lowerBound..<min(range.upperBound, range.lowerBound + 4096)
            out.append(contentsOf: bytes[clipped])
            map.append(n + 1)
            kept += clipped.count
        }
        return (String(decoding: out, as: UTF8.self), map)
    }

    static func isSalient(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        let end = min(range.upperBound, range.lowerBound + 4096)
        guard end > range.lowerBound else { return false }
        var i = range.lowerBound
        while i < end {
            let b = lower(bytes[i])
            guard b == 0x34 || b == 0x6D || b == 0x61 || b == 0x73 else { i += 1; continue }  // 4 m a s
            for needle in needles where needle[0] == b && i + needle.count <= end {
                var k = 1
                while k < needle.count && lower(bytes[i + k]) == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }
}
