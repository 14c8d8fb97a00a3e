// libFuzzer target: the Apache config parser, the `apachectl -S` listing parser and the rules over them,
// offline as `kb` analyses an attached config: no file access and the production byte limit of 1 MiB.
import Engine
import Plugins

let analyzer = ApacheConfigAnalyzer()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = try? ApacheConfig.parse(text: text, file: "apache2.conf")
    _ = ApacheVHostListing.parse(text: text, file: "apachectl-S.txt")
    for kind in ["apache-config", "apachectl-s"] {
        let input = InputText(name: "apache2.conf", text: text, kind: kind)
        _ = analyzer.detect(input)
        _ = analyzer.findings(inputs: [input], files: nil, byteLimit: 1 << 20)
    }
    return 0
}
