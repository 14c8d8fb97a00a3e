// libFuzzer target: the SMTP/FTP reply parser alone (codes, enhanced codes, multi-line continuations,
// phases), through `ReplyScan`, on text of any shape.
import Engine

let scanner = ReplyScan()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let found = scanner.scan(text)
    for reply in found.replies where !(100...999).contains(reply.code) {
        fatalError("reply code \(reply.code) is not three digits")
    }
    return 0
}
