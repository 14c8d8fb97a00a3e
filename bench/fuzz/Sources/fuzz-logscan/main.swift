// libFuzzer target: the streaming log scanner and the log analyzer's kind detection and findings.
//
// The input is scanned twice: with kb's default options, and with the smallest chunk and line sizes the
// scanner allows (4 KiB, 256 bytes), so that chunk boundaries and line truncation, which real logs reach
// only at megabytes, are hit by small inputs. An input whose first line starts with `FORMAT:` gives the
// rest of that line as the access-log format, as `kb logs --access-format` does.
import Engine
import Plugins

let analyzer = LogScanAnalyzer()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    var body = Array(bytes)
    var format: String?
    let prefix = Array("FORMAT:".utf8)
    if body.starts(with: prefix) {
        let end = body.firstIndex(of: 0x0A) ?? body.endIndex
        format = String(decoding: body[prefix.count..<end], as: UTF8.self)
        body = Array(body[min(end + 1, body.endIndex)...])
    }
    for options in [
        LogScanOptions(accessFormat: format),
        LogScanOptions(accessFormat: format, chunkSize: 4096, maxLineLength: 256, maxKeys: 16, top: 3),
    ] {
        if let report = try? LogScanner(options: options).scan(bytes: body, name: "fuzz.log") {
            _ = LogScanAnalyzer.findings(from: report)
        }
    }
    let text = String(decoding: body, as: UTF8.self)
    _ = analyzer.detect(InputText(name: "fuzz.log", text: text))
    return 0
}
