import Foundation
import Testing

/// `kb guide` without a terminal: the how-to exit, `--answers` replays, records and transcripts, and the
/// validation of playbook questions.
@Suite("kb guide without a terminal")
struct GuideCLITests {
    func temp() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kb-guide-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func withoutATerminalOrAnswersItExits64AndSaysHow() throws {
        let result = try CLI.run(["guide", "customers see 421 sometimes"])
        #expect(result.status == 64)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("needs a terminal"), "\(result.stderr)")
        #expect(result.stderr.contains("--answers"))
    }

    @Test func answersReplayWithoutATerminalAndTheTranscriptNamesTheCause() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let answers = dir.appendingPathComponent("a.yaml").path
        try """
            kb: guide-answers/1
            answers:
              - question: guide/protocol
                choice: sending or receiving mail (SMTP)
              - question: guide/full-text
                paste: "421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address."
            """.write(toFile: answers, atomically: true, encoding: .utf8)
        let transcript = dir.appendingPathComponent("t.md").path
        let record = dir.appendingPathComponent("r.yaml").path
        let result = try CLI.run(["guide", "--answers", answers, "--transcript", transcript, "--record", record, "421 error"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let text = try String(contentsOfFile: transcript, encoding: .utf8)
        let conclusion = try #require(text.range(of: "## Conclusion"))
        #expect(text[conclusion.upperBound...].contains("`smtp-rate-limit`"), "\(text)")
        #expect(text.contains("## Given") && text.contains("## Questions"))
        // No colour without a terminal.
        #expect(!result.stdout.contains("\u{1B}["))
        // The record replays to the same conclusion.
        let again = dir.appendingPathComponent("t2.md").path
        let replay = try CLI.run(["guide", "--answers", record, "--transcript", again, "421 error"])
        #expect(replay.status == 1)
        let second = try String(contentsOfFile: again, encoding: .utf8)
        #expect(second.contains("Cause: `smtp-rate-limit`"), "\(second)")
    }

    @Test func aJSONReplayKeepsStandardOutputForTheReport() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let answers = dir.appendingPathComponent("a.yaml").path
        try "kb: guide-answers/1\nanswers:\n  - question: guide/protocol\n    choice: \"2\"\n"
            .write(toFile: answers, atomically: true, encoding: .utf8)
        let result = try CLI.run(["guide", "--answers", answers, "--format", "json", "421 4.7.0 Too many concurrent SMTP connections"])
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((report?["diagnoses"] as? [[String: Any]])?.first?["cause"] as? String == "smtp-concurrency", "\(result.stdout)")
        #expect(result.stderr.contains("protocol: smtp"), "\(result.stderr)")
    }

    @Test func aBrokenAnswersFileIsInvalidDataWithItsPosition() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let answers = dir.appendingPathComponent("a.yaml").path
        try "kb: guide-answers/1\nanswers:\n  - question: guide/protocol\n    answer: maybe\n"
            .write(toFile: answers, atomically: true, encoding: .utf8)
        let result = try CLI.run(["guide", "--answers", answers, "421 error"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("a.yaml:4:13"), "\(result.stderr)")
        #expect(result.stderr.contains("answer 'maybe' must be yes, no or skip"))
    }

    @Test func validateChecksQuestions() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shipped = try String(contentsOf: CLI.repoRoot.appendingPathComponent("playbooks/http/h2-coalescing.yaml"), encoding: .utf8)
        let broken = shipped.replacingOccurrences(of: "id: http.h2-coalescing", with: "id: org.h2-questions")
            + """
              - id: typo
                kind: yes-or-no
                text: Is it?
                why: to test
                if-yes:
                  signals: [no-such-signal]

            """
        try broken.write(to: dir.appendingPathComponent("org.yaml"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["playbooks", "validate", dir.path])
        #expect(result.status == 65, "\(result.stdout)\(result.stderr)")
        let all = result.stdout + result.stderr
        #expect(all.contains("unknown question kind 'yes-or-no'"), "\(all)")
        #expect(all.contains("unknown signal 'no-such-signal'"), "\(all)")
        #expect(all.contains("org.yaml:"))
    }
}
