import Testing
@testable import Engine

// Documents are written inline rather than as fixture files: the test target declares no
// resources, and an undeclared file under Tests/ makes SwiftPM warn on every build.

private func parse(_ text: String, limits: YAMLLimits = .default) throws(KBError) -> YAMLNode {
    guard let node = try YAML.parse(text, path: "test.yaml", limits: limits) else {
        throw KBError(.invalidValue, "test document is empty")
    }
    return node
}

/// The error `text` produces, or nil if it parses.
private func parseError(_ text: String, limits: YAMLLimits = .default) -> KBError? {
    do {
        _ = try YAML.parse(text, path: "test.yaml", limits: limits)
        return nil
    } catch {
        return error
    }
}

// MARK: - Marks

@Suite struct YAMLMarkTests {
    static let document = """
        name: demo
        items:
          - first
          - key: value
            flow: {a: 1, b: [x, y]}
        "quoted": 'single'
        """

    @Test func marksOfNodes() throws {
        let root = try parse(Self.document)
        #expect(root.mark == Mark(line: 1, column: 1))
        #expect(root.kindName == "mapping")

        let pairs = try #require(root.mapping)
        #expect(pairs.count == 3)
        #expect(pairs[0].key.mark == Mark(line: 1, column: 1))
        #expect(pairs[0].value.mark == Mark(line: 1, column: 7))
        #expect(pairs[1].key.mark == Mark(line: 2, column: 1))
        #expect(pairs[2].key.mark == Mark(line: 6, column: 1))
        #expect(pairs[2].key.scalar == "quoted")
        #expect(pairs[2].value.mark == Mark(line: 6, column: 11))

        let items = try #require(root["items"])
        #expect(items.kindName == "sequence")
        #expect(items.mark == Mark(line: 3, column: 3))
        let sequence = try #require(items.sequence)
        #expect(sequence.count == 2)
        #expect(sequence[0].mark == Mark(line: 3, column: 5))
        #expect(sequence[0].scalar == "first")
        #expect(sequence[1].mark == Mark(line: 4, column: 5))
        #expect(sequence[1]["key"]?.mark == Mark(line: 4, column: 10))

        let flow = try #require(sequence[1]["flow"])
        #expect(flow.mark == Mark(line: 5, column: 11))
        #expect(flow["a"]?.mark == Mark(line: 5, column: 15))
        #expect(flow["a"]?.int == 1)
        let list = try #require(flow["b"])
        #expect(list.mark == Mark(line: 5, column: 21))
        #expect(list.sequence?.map(\.mark) == [Mark(line: 5, column: 22), Mark(line: 5, column: 25)])
        #expect(flow.mapping?.first?.key.mark == Mark(line: 5, column: 12))
    }

    @Test func columnsCountUnicodeScalars() throws {
        let root = try parse("é: ü\n日本: [語, x]\n")
        #expect(root["é"]?.mark == Mark(line: 1, column: 4))
        #expect(root["日本"]?.mark == Mark(line: 2, column: 5))
        #expect(root["日本"]?.sequence?[1].mark == Mark(line: 2, column: 9))
    }

    @Test func byteOrderMarkAndCRLF() throws {
        let root = try parse("\u{FEFF}a: 1\r\nb: 2\r\n")
        // The BOM is a scalar of line 1, as the caret display counts it.
        #expect(root["a"]?.mark == Mark(line: 1, column: 5))
        #expect(root.mapping?[1].key.mark == Mark(line: 2, column: 1))
        #expect(root["b"]?.mark == Mark(line: 2, column: 4))
    }

    @Test func markOrderingAndDescription() {
        #expect(Mark(line: 2, column: 1) > Mark(line: 1, column: 40))
        #expect(Mark(line: 3, column: 2) < Mark(line: 3, column: 10))
        #expect(Mark(line: 12, column: 7).description == "12:7")
    }
}

// MARK: - Scalars

@Suite struct YAMLScalarTests {
    @Test func styles() throws {
        let root = try parse("""
            a: plain
            b: 'single'
            c: "double\\tescape"
            d: |
              line one
              line two
            e: >
              folded
              text
            f: |-
              no final newline
            """)
        #expect(root["a"]?.kind.scalarValue == YAMLScalar(value: "plain", style: .plain))
        #expect(root["b"]?.kind.scalarValue == YAMLScalar(value: "single", style: .singleQuoted))
        #expect(root["c"]?.kind.scalarValue == YAMLScalar(value: "double\tescape", style: .doubleQuoted))
        #expect(root["d"]?.kind.scalarValue == YAMLScalar(value: "line one\nline two\n", style: .literal))
        #expect(root["e"]?.kind.scalarValue == YAMLScalar(value: "folded text\n", style: .folded))
        #expect(root["f"]?.scalar == "no final newline")
        #expect(root["missing"] == nil)
        #expect(root["a"]?["x"] == nil)
    }

    @Test func quotedTrueIsAString() throws {
        let root = try parse("plain: true\nquoted: \"true\"\nsingle: 'false'\n")
        #expect(root["plain"]?.bool == true)
        #expect(root["quoted"]?.bool == nil)
        #expect(root["quoted"]?.scalar == "true")
        #expect(root["single"]?.bool == nil)
    }

    @Test(arguments: [
        ("true", true), ("True", true), ("TRUE", true),
        ("false", false), ("False", false), ("FALSE", false),
    ])
    func bools(text: String, expected: Bool) throws {
        #expect(try parse(text).bool == expected)
    }

    @Test(arguments: ["yes", "no", "on", "off", "tRue", "1", "y", "~"])
    func notBools(text: String) throws {
        #expect(try parse(text).bool == nil)
    }

    @Test(arguments: [
        ("0", 0), ("42", 42), ("-17", -17), ("+3", 3), ("007", 7),
        ("0x1F", 31), ("0xff", 255), ("0o17", 15), ("0o0", 0),
        ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
    ])
    func ints(text: String, expected: Int) throws {
        let node = try parse(text)
        #expect(node.int == expected)
        #expect(node.double == Double(expected))
    }

    @Test(arguments: [
        "1.5", "0x", "0o8", "0xg", "-0x1", "1_000", "9223372036854775808", "12a", "", "- 1", "'1'", "\"1\"",
    ])
    func notInts(text: String) throws {
        let node = try YAML.parse(text, path: "t.yaml")
        #expect(node?.int == nil)
    }

    @Test(arguments: [
        ("1.5", 1.5), ("-2.25", -2.25), (".5", 0.5), ("+.5", 0.5), ("3.", 3.0), ("1e3", 1000.0),
        ("1E-2", 0.01), ("-2.5e+1", -25.0), ("12", 12.0), ("0x10", 16.0),
        (".inf", Double.infinity), ("+.Inf", Double.infinity), ("-.INF", -Double.infinity),
    ])
    func doubles(text: String, expected: Double) throws {
        #expect(try parse(text).double == expected)
    }

    @Test(arguments: [".nan", ".NaN", ".NAN"])
    func nan(text: String) throws {
        #expect(try parse(text).double?.isNaN == true)
    }

    @Test(arguments: ["1.2.3", "e3", "1e", ".", "inf", "nan", "0x1p3", "1e400", "'1.5'", "1,5", "--1"])
    func notDoubles(text: String) throws {
        #expect(try parse(text).double == nil)
    }

    @Test func nulls() throws {
        let root = try parse("""
            empty:
            tilde: ~
            lower: null
            title: Null
            upper: NULL
            quoted: "null"
            quotedEmpty: ""
            word: nil
            list: []
            """)
        for key in ["empty", "tilde", "lower", "title", "upper"] {
            #expect(root[key]?.isNull == true, "\(key)")
        }
        for key in ["quoted", "quotedEmpty", "word", "list"] {
            #expect(root[key]?.isNull == false, "\(key)")
        }
        #expect(root["empty"]?.scalar == "")
    }

    @Test func tags() throws {
        let root = try parse("""
            a: !!str 12
            b: !!int "12"
            c: !custom x
            d: !!bool "true"
            e: !!float 1
            f: 12
            g: !!map {x: 1}
            """)
        #expect(root["a"]?.tag == "!!str")
        #expect(root["a"]?.int == nil)
        #expect(root["a"]?.scalar == "12")
        #expect(root["b"]?.int == 12)
        #expect(root["c"]?.tag == "!custom")
        #expect(root["d"]?.bool == true)
        #expect(root["e"]?.double == 1.0)
        #expect(root["e"]?.int == nil)
        #expect(root["f"]?.tag == nil)
        #expect(root["g"]?.tag == "!!map")
        #expect(root["g"]?.kindName == "mapping")
    }

    @Test func escapesAndUnicode() throws {
        let root = try parse("a: \"x\\0y\\u00e9\"\nb: 'it''s'\n")
        #expect(root["a"]?.scalar == "x\u{0}yé")
        #expect(root["b"]?.scalar == "it's")
    }

    @Test func mergeKeysAreOrdinaryKeys() throws {
        let root = try parse("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
        let other = try #require(root["other"])
        #expect(other.mapping?.map { $0.key.scalar } == ["<<", "y"])
        #expect(other["x"] == nil)
        #expect(other["<<"]?["x"]?.int == 1)
    }
}

extension YAMLNode.Kind {
    fileprivate var scalarValue: YAMLScalar? {
        if case .scalar(let s) = self { return s }
        return nil
    }
}

// MARK: - Documents

@Suite struct YAMLDocumentTests {
    @Test(arguments: ["", "   ", "\n\n", "# only a comment\n", "# one\n\n   # two", "---\n", "---\n...\n", "\u{FEFF}"])
    func emptyDocumentIsNil(text: String) throws {
        #expect(try YAML.parse(text, path: "empty.yaml") == nil)
    }

    @Test func explicitNullIsNotEmpty() throws {
        let node = try YAML.parse("~\n", path: "t.yaml")
        #expect(node?.isNull == true)
        #expect(try YAML.parse("''", path: "t.yaml")?.scalar == "")
    }

    @Test func explicitDocumentMarkers() throws {
        let root = try parse("%YAML 1.2\n---\na: 1\n...\n")
        #expect(root["a"]?.int == 1)
        #expect(root.mark == Mark(line: 3, column: 1))
    }

    @Test func aliasesAreCopied() throws {
        let root = try parse("""
            base: &b
              x: 1
              y: [p, q]
            use: *b
            name: &n hello
            again: *n
            """)
        let use = try #require(root["use"])
        #expect(use.mark == Mark(line: 4, column: 6))
        #expect(use["x"]?.int == 1)
        #expect(use["x"]?.mark == Mark(line: 2, column: 6))
        #expect(use["y"]?.sequence?.compactMap(\.scalar) == ["p", "q"])
        #expect(root["again"]?.scalar == "hello")
        #expect(root["again"]?.mark == Mark(line: 6, column: 8))
    }

    @Test func aliasAsKey() throws {
        let root = try parse("a: &k name\n*k : value\n")
        #expect(root["name"]?.scalar == "value")
    }
}

// MARK: - Pinned error texts

@Suite struct YAMLErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var code: KBError.Code
        var description: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "syntax", text: "a: b: c\n", code: .yamlSyntax, description: """
            test.yaml:1:5: error: mapping values are not allowed in this context
            a: b: c
                ^
            """),
        Case(name: "syntax with context", text: "a: 1\nb: \"abc\n", code: .yamlSyntax, description: """
            test.yaml:3:1: error: found unexpected end of stream while scanning a quoted scalar at 2:4
            
            ^
            """),
        Case(name: "flow sequence", text: "list: [1, 2\nnext: 3\n", code: .yamlSyntax, description: """
            test.yaml:2:5: error: did not find expected ',' or ']' while parsing a flow sequence at 1:7
            next: 3
                ^
            """),
        Case(name: "tab indentation", text: "a:\n\tb: 1\n", code: .yamlSyntax, description: """
            test.yaml:2:1: error: found character that cannot start any token while scanning for the next token at 2:1
            \tb: 1
            ^
            """),
        Case(name: "control character", text: "a: b\u{1}c\n", code: .yamlSyntax, description: """
            test.yaml:1:5: error: control characters are not allowed (U+0001)
            a: b\\x01c
                ^
            """),
        Case(name: "NUL byte", text: "é: x\u{0}\n", code: .yamlSyntax, description: """
            test.yaml:1:5: error: control characters are not allowed (U+0000)
            é: x\\x00
                ^
            """),
        Case(name: "duplicate key", text: "id: 1\nname: x\nid: 2\n", code: .yamlDuplicateKey, description: """
            test.yaml:3:1: error: duplicate key 'id' (first at 1:1)
            id: 2
            ^
            """),
        Case(name: "nested duplicate key", text: "outer:\n  k: 1\n  'k': 2\n", code: .yamlDuplicateKey, description: """
            test.yaml:3:3: error: duplicate key 'k' (first at 2:3)
              'k': 2
              ^
            """),
        Case(name: "unknown alias", text: "a: 1\nb: *nowhere\n", code: .yamlSyntax, description: """
            test.yaml:2:4: error: alias to unknown anchor 'nowhere'
            b: *nowhere
               ^
            """),
        Case(name: "recursive alias", text: "a: &x [1, *x]\n", code: .yamlSyntax, description: """
            test.yaml:1:11: error: alias 'x' refers to a node that contains it (recursive aliases are not supported)
            a: &x [1, *x]
                      ^
            """),
        Case(name: "non-scalar key", text: "? [a, b]\n: c\n", code: .wrongType, description: """
            test.yaml:1:3: error: mapping keys must be scalars
            ? [a, b]
              ^
            """),
        Case(name: "flow mapping key", text: "x: {{a: 1}: 2}\n", code: .wrongType, description: """
            test.yaml:1:5: error: mapping keys must be scalars
            x: {{a: 1}: 2}
                ^
            """),
        Case(name: "alias to a collection as key", text: "a: &s [1]\n*s : 2\n", code: .wrongType, description: """
            test.yaml:2:1: error: mapping keys must be scalars
            *s : 2
            ^
            """),
        Case(name: "two documents", text: "a: 1\n---\nb: 2\n", code: .yamlSyntax, description: """
            test.yaml:2:1: error: expected a single document
            ---
            ^
            """),
        Case(name: "two explicit documents", text: "--- a\n--- b\n", code: .yamlSyntax, description: """
            test.yaml:2:1: error: expected a single document
            --- b
            ^
            """),
    ]

    @Test(arguments: cases)
    func pinnedDescription(_ c: Case) throws {
        let error = try #require(parseError(c.text))
        #expect(error.code == c.code)
        #expect(error.description == c.description)
    }

    @Test func keyInMessageIsNeutralizedAndShortened() throws {
        let text = "\"\\e[31m\(String(repeating: "k", count: 100))\": 1\n\"\\e[31m\(String(repeating: "k", count: 100))\": 2\n"
        let error = try #require(parseError(text))
        #expect(error.code == .yamlDuplicateKey)
        #expect(!error.message.contains("\u{1B}"))
        #expect(error.message.hasPrefix("duplicate key '\\x1b[31mkkk"))
        #expect(error.message.contains("…' (first at 1:1)"))
    }
}

// MARK: - Limits

@Suite struct YAMLLimitTests {
    enum Bomb: String, CaseIterable, Sendable {
        case billionLaughs, deepFlow, deepBlock, deepMixed, tooLarge, manyNodes, manyAliases, aliasDepth

        var text: String {
            switch self {
            case .billionLaughs:
                var lines = ["a: &a [\"lol\"" + String(repeating: ", \"lol\"", count: 9) + "]"]
                let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
                for (previous, name) in zip(names, names.dropFirst()) {
                    let refs = Array(repeating: "*\(previous)", count: 10).joined(separator: ", ")
                    lines.append("\(name): &\(name) [\(refs)]")
                }
                return lines.joined(separator: "\n") + "\n"
            case .deepFlow:
                return String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
            case .deepBlock:
                return (0..<100).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n") + " v\n"
            case .deepMixed:
                return String(repeating: "{a: [", count: 5_000)
            case .tooLarge:
                return "k: " + String(repeating: "x", count: 5 * 1024 * 1024) + "\n"
            case .manyNodes:
                return "[" + Array(repeating: "0", count: 250_000).joined(separator: ",") + "]"
            case .manyAliases:
                return "a: &a x\nb: [" + Array(repeating: "*a", count: 1_001).joined(separator: ", ") + "]\n"
            case .aliasDepth:
                // 40 levels anchored, used 30 levels deep: 70 levels in the expanded tree.
                let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
                let use = String(repeating: "[", count: 29) + "*d" + String(repeating: "]", count: 29)
                return "- &d \(deep)\n- \(use)\n"
            }
        }

        var message: String {
            switch self {
            case .billionLaughs, .manyNodes: "more than 200000 nodes (alias expansion included)"
            case .deepFlow, .deepBlock, .deepMixed, .aliasDepth: "nesting deeper than 64 levels"
            case .tooLarge: "document is 5242884 bytes, more than the limit of 4194304"
            case .manyAliases: "more than 1000 aliases in one document"
            }
        }
    }

    @Test(arguments: Bomb.allCases)
    func boundsFailFast(_ bomb: Bomb) throws {
        let text = bomb.text
        let clock = ContinuousClock()
        let start = clock.now
        let error = #expect(throws: KBError.self) {
            try YAML.parse(text, path: "bomb.yaml")
        }
        let elapsed = clock.now - start
        #expect(error?.code == .yamlLimit)
        #expect(error?.message == bomb.message)
        // A hang detector with room for a loaded machine; speed is measured in bench/.
        #expect(elapsed < .seconds(20), "took \(elapsed)")
    }

    @Test func depthErrorIsAtTheCollectionTooDeep() throws {
        let error = try #require(parseError(String(repeating: "[", count: 10_000)))
        #expect(error.location?.line == 1)
        #expect(error.location?.column == 65)
    }

    @Test func depthAtTheLimitIsAccepted() throws {
        let text = String(repeating: "[", count: 64) + "x" + String(repeating: "]", count: 64)
        var node = try parse(text)
        var depth = 1
        while let inner = node.sequence?.first, inner.sequence != nil {
            node = inner
            depth += 1
        }
        #expect(depth == 64)
        #expect(parseError("[" + text + "]")?.code == .yamlLimit)
    }

    @Test func customLimits() throws {
        let bytes = YAMLLimits(maxBytes: 10)
        #expect(parseError("0123456789", limits: bytes) == nil)
        #expect(parseError("0123456789a", limits: bytes)?.description
                == "test.yaml:1:1: error: document is 11 bytes, more than the limit of 10")
        let small = YAMLLimits(maxDepth: 2, maxNodes: 5, maxAliases: 1)
        #expect(parseError("[[x]]", limits: small) == nil)
        #expect(parseError("[[[x]]]", limits: small)?.message == "nesting deeper than 2 levels")
        #expect(parseError("[1,2,3,4]", limits: small) == nil)
        #expect(parseError("[1,2,3,4,5]", limits: small)?.message == "more than 5 nodes (alias expansion included)")
        #expect(parseError("[&a x,*a]", limits: small) == nil)
        #expect(parseError("[&a x,*a,*a]", limits: small)?.message == "more than 1 aliases in one document")
        // A 3-node alias copy counts 3.
        #expect(parseError("[&a [x, y], *a]", limits: YAMLLimits(maxNodes: 7)) == nil)
        #expect(parseError("[&a [x, y], *a]", limits: YAMLLimits(maxNodes: 6))?.code == .yamlLimit)
        #expect(YAMLLimits.default.maxBytes == 4 * 1024 * 1024)
        #expect(YAMLLimits.default.maxDepth == 64)
        #expect(YAMLLimits.default.maxNodes == 200_000)
        #expect(YAMLLimits.default.maxAliases == 1_000)
    }

    @Test func manyNodesJustUnderTheLimitParse() throws {
        let text = "[" + Array(repeating: "0", count: 199_999).joined(separator: ",") + "]"
        let node = try parse(text)
        #expect(node.sequence?.count == 199_999)
    }
}
