// libFuzzer target: symptom extraction (protocol verdict, codes, phases, hosts, stack hints) as
// `kb diagnose` runs it: the input first goes through `Salience.reduce` (inputs over 256 KiB keep only
// their salient lines), then `SymptomExtractor.extract`, then the one-text `classify`.
import Engine

let extractor = SymptomExtractor()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let (reduced, lineMap) = Salience.reduce(text)
    _ = extractor.extract([InputText(name: "paste", text: reduced, lineMap: lineMap)])
    _ = extractor.classify(reduced)
    return 0
}
