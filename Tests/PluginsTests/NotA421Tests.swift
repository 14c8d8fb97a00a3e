import Engine
import Foundation
import Testing

/// Issue 8 part 1: before any cause, kb settles whether the input shows a 421 at all.
@Suite("is it a 421 at all")
struct NotA421Tests {
    struct Case: Sendable, CustomTestStringConvertible {
        var id: String
        var text: String
        var proto: String
        var code: String
        var related: String?
        var testDescription: String { id }
    }

    static func cases(_ file: String) -> [Case] {
        let path = Shipped.root + "/" + file
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let root = try? YAML.parse(text, path: path), let items = root.sequence else { return [] }
        return items.compactMap { item in
            guard let id = item["id"]?.scalar, let text = item["text"]?.scalar else { return nil }
            return Case(id: id, text: text, proto: item["protocol"]?.scalar ?? "", code: item["code"]?.scalar ?? "",
                        related: item["related"]?.scalar)
        }
    }

    @Test func theSetIsThere() {
        #expect(Self.cases("Tests/Cases/not421.yaml").count >= 40)
    }

    @Test("other errors are not a 421", arguments: cases("Tests/Cases/not421.yaml"))
    func notA421(_ c: Case) async throws {
        let engine = try Shipped.engine()
        let report = await engine.diagnose([InputText(name: "t", text: c.text)])
        #expect(report.status == .not421, "\(c.id): \(report.status) \(report.verdict)")
        #expect(report.status.exitCode == 3)
        #expect(report.codes.others.contains { $0.code == c.code && ($0.protocol == c.proto || $0.protocol == "smtp or ftp") },
                "\(c.id): \(report.codes.others)")
        #expect(report.verdict.hasPrefix("not a 421"), "\(report.verdict)")
        for d in report.diagnoses {
            let allowed = (c.related ?? "").split(separator: " ").map(String.init)
            #expect(d.related == true && allowed.contains(d.cause), "\(c.id): \(d.cause) listed")
        }
    }

    @Test("no labelled 421 case is called not-421", arguments: ["../shared/cases/public.yaml", "Tests/Cases/dev.yaml", "Tests/Cases/holdout.yaml"])
    func labelledCasesAre421(_ file: String) async throws {
        let engine = try Shipped.engine()
        let cases = Self.cases(file)
        #expect(cases.count >= 20, "\(file) not found or empty")
        for c in cases {
            let report = await engine.diagnose([InputText(name: "t", text: c.text)])
            #expect(report.status != .not421, "\(file) \(c.id): \(report.verdict)")
        }
    }

    @Test("numbers that are not a 421 code", arguments: [
        ("File \"app.py\", line 421, in handler", false), ("fixes #421", false), ("node v4.2.1", false),
        ("issue 421 is closed", false), ("took 4210 ms", false), ("listening on host:421", false),
        ("PR 421 merged", false), ("1,421 requests", false), ("421.5 MB", false),
        ("HTTP/2 421", true), ("error 421", true), ("\"code\":421", true), ("421-4.7.0 try later", true),
        ("status: 421.", true), ("(421) Misdirected", true), ("关于登录和421与图片400错误", true),
    ])
    func tokens(_ text: String, _ is421: Bool) {
        #expect(CodeCensus.has421Token(text) == is421, "\(text)")
    }

    @Test func a502WithA421IsStillA421() async throws {
        let engine = try Shipped.engine()
        let report = await engine.diagnose([InputText(name: "t", text: "HTTP/2 421 Misdirected Request, and later HTTP/1.1 502 Bad Gateway")])
        #expect(report.status != .not421)
        #expect(report.codes.shows421)
    }

    /// A 502 page with someone calling it "a 421 problem": the 502 is shown, the 421 only named.
    @Test func a421OnlyNamedNextToAnotherCodeIsNotCalledA421() async throws {
        let engine = try Shipped.engine()
        let text = "Our shop shows '502 Bad Gateway nginx/1.24.0' since this morning. A colleague says it is a 421 problem."
        let report = await engine.diagnose([InputText(name: "t", text: text)])
        #expect(report.status == .inconclusive)
        #expect(report.verdict.hasPrefix("the input shows HTTP 502 (Bad Gateway); 421 is only mentioned"), "\(report.verdict)")
        #expect(report.next.first?.hasPrefix("the 421 itself") == true, "\(report.next)")
        // A 421 that is shown keeps its verdict.
        let shown = await engine.diagnose([InputText(name: "t", text: "HTTP/2 421 Misdirected Request, and later HTTP/1.1 502 Bad Gateway")])
        #expect(!shown.verdict.contains("only mentioned"), "\(shown.verdict)")
    }

    @Test func noCodeAtAllStaysInconclusiveAndSaysWhatWouldDecide() async throws {
        let engine = try Shipped.engine()
        let report = await engine.diagnose([InputText(name: "t", text: "the site is broken since this morning")])
        #expect(report.status == .inconclusive)
        #expect(report.verdict.hasPrefix("no error code in the input"))
        #expect(report.next.contains { $0.contains("exact error text") }, "\(report.next)")
    }

    @Test func aRelatedCauseIsMarked() async throws {
        let engine = try Shipped.engine()
        let text = "451 4.7.1 <bob@example.net>: Recipient address rejected: Greylisted for 300 seconds, please retry later"
        let report = await engine.diagnose([InputText(name: "t", text: text)])
        #expect(report.status == .not421)
        #expect(report.diagnoses.allSatisfy { $0.related == true })
        #expect(report.diagnoses.contains { $0.cause == "smtp-greylisting" }, "\(report.diagnoses.map(\.cause))")
        let md = ReportRenderer(style: Style(color: false)).render(report, as: .markdown)
        #expect(md.hasPrefix("## This is not a 421 error"))
        #expect(!md.contains("This is an **HTTP 421**"))
    }
}
