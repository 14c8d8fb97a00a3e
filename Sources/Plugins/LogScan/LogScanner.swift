import Engine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams a log of any size through fixed buffers and aggregates its 421s: access-log status 421 by host,
/// vhost, client and minute; Apache AH02031/AH02032/AH02033; nginx's SNI mismatch; mail 421 replies by
/// recipient domain, provider, enhanced code and phase; FTP 421s.
///
/// Memory does not grow with the file: the buffer is `chunkSize + maxLineLength` bytes and every table is
/// bounded by `maxKeys`. The bytes are searched with libc's `strstr` and `memchr`; a String is built only
/// for the parts of lines that matter.
public struct LogScanner: Sendable {
    public var options: LogScanOptions

    public init(options: LogScanOptions = LogScanOptions()) {
        self.options = options
    }

    /// Scans a file; `-` reads standard input.
    public func scan(path: String) throws(KBError) -> LogReport {
        if path == "-" { return try scan(fileDescriptor: 0, name: options.name ?? "<stdin>") }
        // Only a regular file: a FIFO would block and a device may act on being opened; '-' is for pipes.
        let fd = try RegularFile.open(path)
        defer { close(fd) }
        return try scan(fileDescriptor: fd, name: options.name ?? path)
    }

    /// Scans from an open descriptor until end of file. The descriptor is not closed.
    public func scan(fileDescriptor fd: Int32, name: String) throws(KBError) -> LogReport {
        var reader = ChunkReader(options: options)
        return try reader.run(name: name) { buffer, count throws(KBError) -> Int in
            while true {
                let n = read(fd, buffer, count)
                if n >= 0 { return n }
                if errno == EINTR { continue }
                throw KBError(.inputUnreadable, "cannot read '\(name)': \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Scans text already in memory (a pasted or attached log).
    public func scan(text: String, name: String) throws(KBError) -> LogReport {
        var result: Result<LogReport, KBError>?
        _ = text.utf8.withContiguousStorageIfAvailable { bytes in
            result = Result { () throws(KBError) in try scan(bytes: bytes, name: name) }
        }
        if let result { return try result.get() }
        return try scan(bytes: Array(text.utf8), name: name)
    }

    /// Scans bytes in memory.
    public func scan(bytes: some Collection<UInt8>, name: String) throws(KBError) -> LogReport {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer throws(KBError) in
            try scan(bytes: buffer, name: name)
        }
    }

    private func scan(bytes: UnsafeBufferPointer<UInt8>, name: String) throws(KBError) -> LogReport {
        var offset = 0
        var reader = ChunkReader(options: options)
        return try reader.run(name: name) { buffer, count in
            let n = min(count, bytes.count - offset)
            if n > 0, let base = bytes.baseAddress {
                buffer.copyMemory(from: base + offset, byteCount: n)
            }
            offset += n
            return n
        }
    }
}

/// The read loop: fill the buffer, find the byte patterns that can start a 421 record, walk the lines with
/// memchr, hand each line to the state, keep the unfinished last line for the next round.
struct ChunkReader {
    let options: LogScanOptions

    /// Byte patterns whose presence makes a line worth parsing.
    static let needles: [[CChar]] = [" 421", "AH0203", "attempted to request", "\"421", ",421", ":421"].map {
        Array($0.utf8CString)
    }

    init(options: LogScanOptions) {
        self.options = options
    }

    mutating func run(name: String, read: (UnsafeMutableRawPointer, Int) throws(KBError) -> Int) throws(KBError) -> LogReport {
        let format: AccessLogFormat? = try options.accessFormat.map { spec throws(KBError) in try AccessLogFormat(spec) }
        var state = LogScanState(options: options, format: format)
        let capacity = options.chunkSize + options.maxLineLength
        // One spare byte for the NUL that strstr needs.
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + 1)
        defer { buffer.deallocate() }
        var candidates: [Int] = []
        candidates.reserveCapacity(4096)
        var fill = 0
        var total = 0
        var lineNumber = 0
        var skipping = false
        var first = true
        var eof = false

        while !eof {
            let n = try read(UnsafeMutableRawPointer(buffer + fill), capacity - fill)
            if n == 0 { eof = true }
            total += n
            fill += n
            if first, fill > 0 {
                first = false
                try Self.checkText(buffer, fill, name: name)
            }
            buffer[fill] = 0
            Self.findCandidates(buffer, fill, into: &candidates)
            var start = 0
            var next = 0
            while start < fill {
                if skipping {
                    guard let nl = memchr(buffer + start, 0x0A, fill - start) else {
                        start = fill
                        break
                    }
                    skipping = false
                    start = UnsafeRawPointer(nl) - UnsafeRawPointer(buffer) + 1
                    continue
                }
                var end: Int
                var after: Int
                if let nl = memchr(buffer + start, 0x0A, fill - start) {
                    end = UnsafeRawPointer(nl) - UnsafeRawPointer(buffer)
                    after = end + 1
                    if end - start > options.maxLineLength {
                        end = start + options.maxLineLength
                        state.truncated += 1
                    }
                } else if eof {
                    end = fill
                    after = fill
                    if end - start > options.maxLineLength {
                        end = start + options.maxLineLength
                        state.truncated += 1
                    }
                } else if fill - start > options.maxLineLength {
                    // A line longer than the limit: analyse its start, skip the rest up to the next newline.
                    end = start + options.maxLineLength
                    after = fill
                    skipping = true
                    state.truncated += 1
                } else {
                    break
                }
                lineNumber += 1
                var length = end - start
                if length > 0, buffer[end - 1] == 0x0D { length -= 1 }
                while next < candidates.count, candidates[next] < start { next += 1 }
                let interesting = (next < candidates.count && candidates[next] < start + length)
                    || (length >= 3 && buffer[start] == 0x34 && buffer[start + 1] == 0x32 && buffer[start + 2] == 0x31)
                state.line(ByteLine(base: UnsafePointer(buffer + start), count: length), number: lineNumber,
                           interesting: interesting)
                start = after
            }
            // Keep the unfinished line for the next read.
            if start < fill {
                memmove(buffer, buffer + start, fill - start)
                fill -= start
            } else {
                fill = 0
            }
        }
        return state.report(source: name, bytes: total)
    }

    /// Offsets of every needle in `buffer[0..<count]` (NUL-terminated at `count`), sorted. Embedded NUL bytes
    /// end a strstr early, so the search resumes after each one.
    static func findCandidates(_ buffer: UnsafeMutablePointer<UInt8>, _ count: Int, into out: inout [Int]) {
        out.removeAll(keepingCapacity: true)
        let base = UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: CChar.self)
        let end = base + count
        for needle in needles {
            needle.withUnsafeBufferPointer { n in
                var p = base
                while p < end {
                    if let hit = strstr(p, n.baseAddress!) {
                        out.append(hit - base)
                        p = hit + 1
                    } else {
                        let length = strlen(p)
                        p = p + length + 1
                    }
                }
            }
        }
        if out.count > 1 { out.sort() }
    }

    /// Refuses compressed and binary input with a clear message instead of scanning noise.
    static func checkText(_ buffer: UnsafeMutablePointer<UInt8>, _ count: Int, name: String) throws(KBError) {
        if count >= 2, buffer[0] == 0x1F, buffer[1] == 0x8B {
            throw KBError(.inputFormat, "'\(name)' is gzip-compressed; decompress it first (zcat '\(name)' | kb logs -)")
        }
        if count >= 3, buffer[0] == 0x42, buffer[1] == 0x5A, buffer[2] == 0x68 {
            throw KBError(.inputFormat, "'\(name)' is bzip2-compressed; decompress it first (bzcat '\(name)' | kb logs -)")
        }
        if count >= 4, buffer[0] == 0x28, buffer[1] == 0xB5, buffer[2] == 0x2F, buffer[3] == 0xFD {
            throw KBError(.inputFormat, "'\(name)' is zstd-compressed; decompress it first (zstdcat '\(name)' | kb logs -)")
        }
        // Control bytes, and U+FFFD from text that was decoded from non-UTF-8 bytes, suggest binary data.
        let sample = min(count, 64 * 1024)
        var suspicious = 0
        var replacements = 0
        var i = 0
        while i < sample {
            let b = buffer[i]
            if b < 0x09 || (b > 0x0D && b < 0x20) || b == 0x7F {
                suspicious += 1
            } else if b == 0xEF, i + 2 < sample, buffer[i + 1] == 0xBF, buffer[i + 2] == 0xBD {
                suspicious += 1
                replacements += 1
                i += 2
            }
            i += 1
        }
        let characters = sample - 2 * replacements
        if characters >= 64, suspicious * 10 > characters {
            throw KBError(.inputFormat,
                          "'\(name)' looks like binary data, not a text log (\(suspicious * 100 / characters)% of its first "
                          + "\(characters) characters are control bytes or invalid UTF-8)")
        }
    }
}
