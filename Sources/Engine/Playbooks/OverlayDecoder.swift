import Foundation

/// An overlay file as read: the changes it makes to one playbook, decoded when they are applied, because what
/// an added step may refer to (signal ids, check ids) depends on the playbook it extends.
///
/// ```yaml
/// kb: overlay/1
/// extends: http.upstream-sni-missing
/// remediation:
///   add:
///     - id: acme-open-ticket
///       after: nginx-send-sni
///       step: …
/// ```
public struct Overlay: Sendable {
    public var extends: String
    public var file: String
    /// The index of the source (layer) it came from: overlays apply in precedence order, then by file name.
    public var layer: Int
    let root: YAMLNode
    let source: String
    let extendsNode: YAMLNode

    public var location: SourceLocation {
        SourceLocation(file: file, line: extendsNode.mark.line, column: extendsNode.mark.column)
    }

    static let formatVersion = "overlay/1"
    static let topKeys = ["kb", "extends", "threshold", "stacks", "tests"] + OverlayLists.all.map(\.key)

    /// Whether a parsed file is an overlay (`kb: overlay/…`) rather than a playbook.
    static func isOverlay(_ root: YAMLNode) -> Bool { root["kb"]?.scalar?.hasPrefix("overlay/") == true }

    /// Reads the parts every overlay needs before it can be applied: its version and the playbook it extends.
    static func read(_ root: YAMLNode, source: String, file: String, layer: Int) -> (Overlay?, [KBError]) {
        var reader = NodeReader(file: file, source: source)
        guard let f = reader.fields(root, what: "overlay", allowed: topKeys, required: ["kb", "extends"]) else {
            return (nil, reader.errors)
        }
        if let node = f["kb"]?.value, let version = reader.string(node, "'kb'"), version != formatVersion {
            reader.error(.invalidValue, "unsupported format '\(version)'; this kb reads '\(formatVersion)'", at: node)
        }
        guard let node = f["extends"]?.value, let id = reader.nonEmptyString(node, "'extends'"),
              reader.errors.isEmpty else { return (nil, reader.errors) }
        return (Overlay(extends: id, file: file, layer: layer, root: root, source: source, extendsNode: node), [])
    }
}

/// One kind of list an overlay changes by id (`add`, `replace`, `remove`, and `weights` where items have one).
/// Adding a new kind is one entry in `OverlayLists.all`.
struct OverlayList<Item> {
    /// The playbook key: `signals`, `checks`, `remediation`.
    let key: String
    /// For messages: "signal", "check", "remediation step".
    let noun: String
    let items: WritableKeyPath<Playbook, [Item]>
    let id: KeyPath<Item, String>
    let weight: WritableKeyPath<Item, Double>?
    /// Decodes a sequence of items with the playbook's own rules, given the playbook as merged so far.
    let decode: (inout PlaybookDecoder, YAMLNode, Playbook) -> [Item]
}

/// A list kind with its item type erased, so the kinds can sit in one array.
struct AnyOverlayList {
    let key: String
    let hasWeights: Bool
    let merge: (inout OverlayApplier, YAMLNode, inout Playbook) -> Void

    init<Item>(_ list: OverlayList<Item>) {
        key = list.key
        hasWeights = list.weight != nil
        merge = { applier, node, playbook in applier.merge(list, node, into: &playbook) }
    }
}

enum OverlayLists {
    /// The lists an overlay may change, in the order they are applied (signals first: checks and steps refer
    /// to signal ids).
    static var all: [AnyOverlayList] {
        [
            AnyOverlayList(OverlayList(key: "signals", noun: "signal", items: \Playbook.signals, id: \Signal.id,
                                       weight: \Signal.weight) { d, node, _ in d.decodeSignals(node) }),
            AnyOverlayList(OverlayList(key: "checks", noun: "check", items: \Playbook.checks, id: \Check.id,
                                       weight: \Check.weight) { d, node, p in
                d.knownCheckIDs = Set(p.checks.map(\.id))
                return d.decodeChecks(node, signalIDs: Set(p.signals.map(\.id)))
            }),
            AnyOverlayList(OverlayList(key: "remediation", noun: "remediation step", items: \Playbook.remediation,
                                       id: \RemediationStep.id, weight: nil) { d, node, p in
                d.decodeRemediation(node, signalIDs: Set(p.signals.map(\.id)))
            }),
            AnyOverlayList(OverlayList(key: "questions", noun: "question", items: \Playbook.questions,
                                       id: \Question.id, weight: nil) { d, node, p in
                d.decodeQuestions(node, owner: p.id, signalIDs: Set(p.signals.map(\.id)))
            }),
        ]
    }
}

/// Applies overlays to playbooks, collecting every problem with its position in the overlay file, and noting
/// where two overlays change the same part.
struct OverlayApplier {
    /// Who changed what first, across the overlays of one playbook: "remediation x" → position.
    var claims: [String: SourceLocation] = [:]
    var warnings: [String] = []
    private(set) var errors: [KBError] = []
    /// Reads the overlay being applied, with the playbook format's own rules and the overlay's positions.
    private var decoder: PlaybookDecoder
    /// Ids the overlay being applied removed, with the node that removed them, to explain a dangling reference.
    private var removed: [String: YAMLNode] = [:]

    init(context: PlaybookContext) {
        decoder = PlaybookDecoder(file: "", source: "", context: context)
    }

    private mutating func error(_ code: KBError.Code, _ message: String, at node: YAMLNode) {
        decoder.reader.error(code, message, at: node)
    }

    private func location(_ node: YAMLNode) -> SourceLocation { decoder.reader.location(node) }

    /// Records that this overlay changes `part`; a second overlay changing it too is a warning with both positions.
    private mutating func claim(_ part: String, at node: YAMLNode, in playbook: inout Playbook) {
        let here = location(node)
        if let first = claims[part], first.file != here.file {
            warnings.append("\(Sanitizer.neutralize(here.description)): warning: overlay changes \(part) of "
                + "'\(playbook.id)', which \(Sanitizer.neutralize(first.description)) changes too; the later one "
                + "('\(Sanitizer.neutralize(here.file))') wins")
        }
        claims[part] = here
        playbook.origins[part] = here
    }

    /// Applies one overlay. When it has a problem, the problems are recorded and the playbook is left as it was.
    mutating func apply(_ overlay: Overlay, to playbook: inout Playbook, context: PlaybookContext) {
        removed = [:]
        decoder = PlaybookDecoder(file: overlay.file, source: overlay.source, context: context)
        let before = playbook
        guard let f = decoder.reader.fields(overlay.root, what: "overlay", allowed: Overlay.topKeys) else {
            errors += decoder.errors
            return
        }
        if let node = f["threshold"]?.value, let value = decoder.reader.number(node, "'threshold'") {
            if !(value > 0 && value <= Playbook.maxThreshold) {
                error(.invalidValue, "threshold must be greater than 0 and at most \(Int(Playbook.maxThreshold))",
                      at: node)
            }
            playbook.threshold = value
            claim("threshold", at: node, in: &playbook)
        }
        if let node = f["stacks"]?.value, let items = decoder.reader.scalarList(node, "'stacks'") {
            let stacks = decoder.reader.vocabulary(items, Vocabulary.stacks, "stack")
            for stack in stacks where !playbook.stacks.contains(stack) {
                playbook.stacks.append(stack)
                playbook.origins["stacks \(stack)"] = location(node)
            }
        }
        for list in OverlayLists.all {
            if let node = f[list.key]?.value { list.merge(&self, node, &playbook) }
        }
        if let node = f["tests"]?.value {
            let tests = decoder.decodeTests(node)
            playbook.tests += tests
        }
        checkReferences(playbook, extends: overlay.extendsNode)
        if decoder.errors.isEmpty {
            playbook.overlays.append(overlay.file)
        } else {
            errors += decoder.errors
            playbook = before
        }
    }

    /// `add`, `replace`, `remove` and `weights` of one list.
    mutating func merge<Item>(_ list: OverlayList<Item>, _ node: YAMLNode, into playbook: inout Playbook) {
        let allowed = ["add", "replace", "remove"] + (list.weight != nil ? ["weights"] : [])
        guard let f = decoder.reader.fields(node, what: "'\(list.key)' changes", allowed: allowed) else { return }
        if f.isEmpty {
            let keys = allowed.map { "'\($0)'" }.joined(separator: ", ")
            error(.invalidValue, "'\(list.key)' changes nothing; use \(keys)", at: node)
        }
        func ids() -> [String] { playbook[keyPath: list.items].map { $0[keyPath: list.id] } }
        func unknown(_ id: String, at node: YAMLNode) {
            var message = "'\(playbook.id)' has no \(list.noun) '\(id)'"
            if let by = claims["removed \(list.key) \(id)"] {
                message += " (\(Sanitizer.neutralize(by.description)) removed it)"
            } else if let near = Suggest.closest(to: id, in: ids()) {
                message += "; did you mean '\(near)'?"
            } else if ids().isEmpty {
                message += "; it has no \(list.key)"
            } else {
                message += "; its \(list.key) are \(ids().map { "'\($0)'" }.joined(separator: ", "))"
            }
            error(.unknownKey, message, at: node)
        }
        if let node = f["remove"]?.value, let items = decoder.reader.scalarList(node, "'remove'") {
            for (id, item) in items {
                guard let index = ids().firstIndex(of: id) else { unknown(id, at: item); continue }
                playbook[keyPath: list.items].remove(at: index)
                removed[id] = item
                claim("\(list.key) \(id)", at: item, in: &playbook)
                claims["removed \(list.key) \(id)"] = location(item)
                playbook.origins["removed \(list.key) \(id)"] = location(item)
            }
        }
        if let node = f["replace"]?.value, let items = decoder.reader.list(node, "'replace'") {
            for item in items {
                guard let (id, idNode) = itemID(item, list) else { continue }
                guard let index = ids().firstIndex(of: id) else {
                    unknown(id, at: idNode)
                    continue
                }
                guard let decoded = decode(list, item, playbook) else { continue }
                playbook[keyPath: list.items][index] = decoded
                claim("\(list.key) \(id)", at: idNode, in: &playbook)
            }
        }
        if let node = f["add"]?.value, let items = decoder.reader.list(node, "'add'") {
            for item in items {
                guard let (id, idNode) = itemID(item, list) else { continue }
                if ids().contains(id) {
                    error(.duplicateID,
                          "'\(playbook.id)' already has a \(list.noun) '\(id)'; use 'replace' to change it", at: idNode)
                    continue
                }
                var position = playbook[keyPath: list.items].count
                var stripped = item
                if case .mapping(let pairs) = item.kind {
                    let anchors = pairs.filter { ["after", "before"].contains($0.key.scalar ?? "") }
                    stripped.kind = .mapping(pairs.filter { !["after", "before"].contains($0.key.scalar ?? "") })
                    if anchors.count > 1 {
                        error(.invalidValue, "an added \(list.noun) takes 'after' or 'before', not both",
                              at: anchors[1].key)
                    }
                    if let anchor = anchors.first, let key = anchor.key.scalar,
                       let target = decoder.reader.nonEmptyString(anchor.value, "'\(key)'") {
                        if let index = ids().firstIndex(of: target) {
                            position = key == "after" ? index + 1 : index
                        } else {
                            unknown(target, at: anchor.value)
                        }
                    }
                }
                guard let decoded = decode(list, stripped, playbook) else { continue }
                playbook[keyPath: list.items].insert(decoded, at: position)
                playbook.origins["\(list.key) \(id)"] = location(idNode)
            }
        }
        if let node = f["weights"]?.value, let weight = list.weight {
            guard let pairs = node.mapping else {
                error(.wrongType, "'weights' must be a mapping of \(list.noun) id to weight, not a \(node.kindName)",
                      at: node)
                return
            }
            for pair in pairs {
                guard let id = pair.key.scalar, let value = decoder.reader.number(pair.value, "weight of '\(id)'") else {
                    continue
                }
                guard let index = ids().firstIndex(of: id) else { unknown(id, at: pair.key); continue }
                let limit = Playbook.maxWeight
                if list.key == "signals" ? (value == 0 || abs(value) > limit) : !(0...limit).contains(value) {
                    let range = list.key == "signals" ? "a non-zero number from -\(Int(limit)) to \(Int(limit))"
                        : "from 0 to \(Int(limit))"
                    error(.invalidValue, "\(list.noun) weight must be \(range)", at: pair.value)
                    continue
                }
                playbook[keyPath: list.items][index][keyPath: weight] = value
                claim("weight of \(list.key) \(id)", at: pair.key, in: &playbook)
            }
        }
    }

    /// The `id` an overlay item must carry, so it can be named by later overlays and tests.
    private mutating func itemID<Item>(_ item: YAMLNode, _ list: OverlayList<Item>) -> (String, YAMLNode)? {
        guard item.mapping != nil else {
            error(.wrongType, "a \(list.noun) must be a mapping, not a \(item.kindName)", at: item)
            return nil
        }
        guard let node = item["id"] else {
            error(.missingKey, "a \(list.noun) in an overlay needs an 'id'", at: item)
            return nil
        }
        guard let id = decoder.reader.nonEmptyString(node, "\(list.noun) 'id'") else { return nil }
        return (id, node)
    }

    private mutating func decode<Item>(_ list: OverlayList<Item>, _ item: YAMLNode, _ playbook: Playbook) -> Item? {
        let before = decoder.errors.count
        let decoded = list.decode(&decoder, YAMLNode(kind: .sequence([item]), mark: item.mark), playbook)
        guard decoder.errors.count == before else { return nil }
        return decoded.first
    }

    /// What the merged playbook refers to must still exist, and it must still be a playbook kb can use.
    private mutating func checkReferences(_ playbook: Playbook, extends root: YAMLNode) {
        let signalIDs = Set(playbook.signals.map(\.id))
        let checkIDs = Set(playbook.checks.map(\.id))
        func dangling(_ id: String, _ kind: String, usedBy: String) {
            if let node = removed[id] {
                error(.unknownKey, "\(kind) '\(id)' is still used by \(usedBy); remove or replace that too", at: node)
            }
        }
        for check in playbook.checks {
            for need in check.needs where !checkIDs.contains(need) {
                dangling(need, "check", usedBy: "check '\(check.id)'")
            }
            for signal in check.when.signals where !signalIDs.contains(signal) {
                dangling(signal, "signal", usedBy: "check '\(check.id)'")
            }
        }
        for step in playbook.remediation {
            for signal in step.when.signals where !signalIDs.contains(signal) {
                dangling(signal, "signal", usedBy: "remediation step '\(step.id)'")
            }
        }
        if let cycle = PlaybookDecoder.findCycle(playbook.checks) {
            let path = cycle.joined(separator: " -> ")
            error(.checkCycle, "with this overlay, checks depend on each other in a cycle: \(path)", at: root)
        }
        if !playbook.signals.contains(where: { $0.weight > 0 }) {
            error(.invalidValue, "with this overlay, '\(playbook.id)' has no signal with a positive weight left",
                  at: root)
        }
        if playbook.remediation.isEmpty {
            error(.invalidValue, "with this overlay, '\(playbook.id)' has no remediation step left", at: root)
        }
    }
}
