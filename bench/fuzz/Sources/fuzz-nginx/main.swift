// libFuzzer target: the nginx config parser and the rules over its model, offline as `kb` analyses an
// attached config: no file access (includes are not followed) and the production byte limit of 1 MiB.
import Engine
import Plugins

let analyzer = NginxConfigAnalyzer()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = try? NginxConfig.parse(text: text, file: "nginx.conf")
    _ = NginxConfig.splitDump(text)
    let input = InputText(name: "nginx.conf", text: text, kind: "nginx-config")
    _ = analyzer.detect(input)
    _ = analyzer.findings(inputs: [input], files: nil, byteLimit: 1 << 20)
    return 0
}
