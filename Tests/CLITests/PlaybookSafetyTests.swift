import Foundation
import Testing

/// Organisation playbooks are hostile input too: weights that overflow and YAML escapes that would
/// reach the terminal raw (issue 7, parts 5 and 6). Each case is the minimal input that showed the defect.
@Suite("hostile organisation playbooks", .serialized)
struct PlaybookSafetyTests {
    /// A valid organisation playbook with one line replaced, written to a fresh directory.
    static func orgDirectory(_ replacements: [String: String] = [:]) throws -> URL {
        var text = """
        kb: playbook/1
        id: acme.limit
        title: ACME relay limit
        protocol: smtp
        cause: smtp-concurrency
        article: smtp-concurrency
        summary: Few parallel sessions per client.
        threshold: 4
        signals:
          - id: too-many
            weight: 8
            any: ["too many connections"]
          - id: other
            weight: 2
            any: ["relay"]
        remediation:
          - step: Ask the mail team
            detail: Raise the limit.
        tests:
          - name: limit
            input: '421 4.7.0 relay.example.com Error: too many connections from 192.0.2.1'
            expect: top
          - name: other
            input: 'HTTP/2 421 Misdirected Request'
            expect: no-match

        """
        for (from, to) in replacements {
            #expect(text.contains(from), "fixture has no '\(from)'")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kb-safety-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try text.write(to: dir.appendingPathComponent("acme.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    static let smtpText = "421 4.7.0 relay.example.com Error: too many connections from 192.0.2.1"

    @Test("weights and thresholds outside their range are refused with their position", arguments: [
        ("weight: 8", "weight: 1e19", "signal weight must be between -100 and 100"),
        ("weight: 8", "weight: 9223372036854775807", "signal weight must be between -100 and 100"),
        ("weight: 2", "weight: -1e308", "signal weight must be between -100 and 100"),
        ("threshold: 4", "threshold: 1e308", "threshold must be greater than 0 and at most 1000"),
    ])
    func outOfRangeIsInvalid(_ from: String, _ to: String, _ message: String) throws {
        let dir = try Self.orgDirectory([from: to])
        defer { try? FileManager.default.removeItem(at: dir) }
        let validate = try CLI.run(["playbooks", "validate", dir.path])
        #expect(validate.status == 65)
        #expect(validate.stderr.contains("acme.yaml:"))
        #expect(validate.stderr.contains(message), "\(validate.stderr)")
        // The same playbook in a diagnosis is a data error, never a crash or an empty report.
        let diagnose = try CLI.run(["diagnose", "--playbooks", dir.path, "--format", "json", Self.smtpText])
        #expect(diagnose.status == 65)
    }

    @Test func twoHugeWeightsCannotMakeAnInfiniteScore() throws {
        let dir = try Self.orgDirectory(["weight: 8": "weight: 1e308", "weight: 2": "weight: 1e308"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["diagnose", "--playbooks", dir.path, "--format", "json", Self.smtpText])
        #expect(result.status == 65)
        #expect(!result.stdout.contains("{}"))
    }

    @Test func weightsAtTheLimitsScoreAndRender() throws {
        let dir = try Self.orgDirectory(["weight: 8": "weight: 100", "weight: 2": "weight: 100", "threshold: 4": "threshold: 200"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try CLI.run(["diagnose", "--playbooks", dir.path, "--no-color", Self.smtpText + " via our relay"])
        #expect([0, 1, 2].contains(text.status), "\(text.stderr)")
        #expect(text.stdout.contains("+100 too-many"))
        let json = try CLI.run(["diagnose", "--playbooks", dir.path, "--format", "json", Self.smtpText])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["status"] != nil)
    }

    /// Every scalar a terminal would act on: C0 but newline, DEL, C1, and bidi controls.
    static func rawControls(in text: String) -> [UInt32] {
        text.unicodeScalars.map(\.value).filter {
            ($0 < 0x20 && $0 != 0x0A) || (0x7F...0x9F).contains($0) || (0x202A...0x202E).contains($0)
                || (0x2066...0x2069).contains($0)
        }
    }

    @Test("YAML escapes are neutralised in every message", arguments: [
        ("protocol: smtp", #"protocol: "smtp\e]0;owned\a""#),
        ("protocol: smtp", #"protocol: "\e[2J""#),
        ("cause: smtp-concurrency", #"cause: "x\x9b31m""#),
        ("article: smtp-concurrency", #"article: "a\u202Eb""#),
        ("threshold: 4", #""thre\0shold": 4"#),
        ("id: acme.limit", #"id: "acme\u2066x""#),
    ])
    func escapesAreNeutralised(_ from: String, _ to: String) throws {
        let dir = try Self.orgDirectory([from: to])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["playbooks", "validate", dir.path])
        #expect(result.status == 65)
        #expect(result.stderr.contains("acme.yaml:"))
        #expect(Self.rawControls(in: result.stderr).isEmpty, "raw controls in: \(result.stderr.debugDescription)")
    }

    @Test func controlsInAValidPlaybookReachNoOutputRaw() throws {
        let dir = try Self.orgDirectory([
            "title: ACME relay limit": #"title: "ACME \u202Eevil\u202C relay \x9b2J limit""#,
            "detail: Raise the limit.": #"detail: "Raise\e[2J the limit.""#,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        for format in ["text", "markdown", "json"] {
            let result = try CLI.run(["diagnose", "--playbooks", dir.path, "--format", format, Self.smtpText])
            #expect(result.status == 1, "\(format): \(result.stderr)")
            #expect(Self.rawControls(in: result.stdout).isEmpty, "\(format): \(result.stdout.debugDescription)")
        }
        // JSON keeps the value: escaped, not altered.
        let json = try CLI.run(["diagnose", "--playbooks", dir.path, "--format", "json", Self.smtpText])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let title = (object?["diagnoses"] as? [[String: Any]])?.first?["title"] as? String
        #expect(title == "ACME \u{202E}evil\u{202C} relay \u{9B}2J limit")
        for command in [["playbooks", "show", "acme.limit"], ["playbooks", "list"]] {
            let shown = try CLI.run(command + ["--playbooks", dir.path])
            #expect(shown.status == 0)
            #expect(Self.rawControls(in: shown.stdout).isEmpty, "\(command): \(shown.stdout.debugDescription)")
        }
    }
}
