// libFuzzer target: the YAML loader (libyaml through CYAML) and the playbook decoder, as `kb` loads an
// organisation playbook: default YAML limits (4 MiB, depth 64, 200,000 nodes, 1,000 aliases), the built-in
// probe registry, the repository's knowledge article ids and its cause taxonomy.
import Engine
import Foundation
import Plugins

/// Built once: the context every decoded playbook is checked against.
let loader: PlaybookLoader = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../../knowledge").standardized.path
    let ids = (try? KnowledgeBase.load([root]))?.ids ?? []
    let causes = (try? CauseCatalog.load([PlaybookSource(path: root + "/../playbooks/causes.yaml", builtin: true)]))
        ?? CauseCatalog()
    return PlaybookLoader(context: PlaybookContext(probes: BuiltinProbes.registry, articles: ids, causes: causes),
                          limits: .default)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // Files are read this way: bytes up to the limit, invalid UTF-8 repaired.
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    do {
        let playbook = try loader.decode(text, path: "fuzz.yaml")
        _ = playbook.id
    } catch {
        // Every message must render: the caret line is built from the source text.
        for e in error.errors { _ = e.description }
    }
    return 0
}
