import Foundation
import Testing

/// `kb guide` under a real pseudo-terminal: the test reads each prompt and types an answer as a user would,
/// then replays the recorded answers with `--answers` (no terminal) and expects the same conclusion.
@Suite("kb guide in a pseudo-terminal", .serialized)
struct GuidePTYTests {
    struct Session {
        var output: String
        var status: Int32
        var prompts: [String]
        var transcript: String
        var record: String
    }

    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["KB_PLAYBOOK_PATH"] = nil
        env["NO_COLOR"] = "1"
        env["TERM"] = "xterm"
        return env
    }

    /// Runs `kb guide ARGS` under a terminal; `answer` gets each prompt's text and returns what to type
    /// (a paste ends with an empty line).
    func converse(_ arguments: [String], answer: (String) -> String) async throws -> Session {
        let dir = try TempDir("guide")
        defer { dir.remove() }
        let kb = PTYProcess.self
        let process = try kb.init(CLILiveTests.binary, ["guide", "--timeout", "5", "--transcript", dir.file("t.md"),
                                                        "--record", dir.file("r.yaml")] + arguments,
                                  environment: Self.environment)
        var prompts: [String] = []
        while let prompt = try await process.nextPrompt() {
            prompts.append(prompt)
            #expect(prompts.count <= 15, "the session does not end: \(process.output)")
            if prompts.count > 15 { break }
            process.type(answer(prompt))
        }
        let status = try await process.finish()
        return Session(output: process.output, status: status, prompts: prompts, transcript: dir.read("t.md"),
                       record: dir.read("r.yaml"))
    }

    /// `kb guide --answers` with the recorded answers and no terminal: its transcript.
    func replay(_ record: String, _ arguments: [String]) async throws -> (transcript: String, status: Int32) {
        let dir = try TempDir("replay")
        defer { dir.remove() }
        try dir.write("r.yaml", record)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLILiveTests.binary)
        process.arguments = ["guide", "--timeout", "5", "--answers", dir.file("r.yaml"), "--transcript", dir.file("t.md")]
            + arguments
        process.environment = Self.environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let status = try await PTYProcess.offPool {
            process.waitUntilExit()
            return process.terminationStatus
        }
        return (dir.read("t.md"), status)
    }

    /// The cause slug the transcript's last section names.
    func conclusion(_ transcript: String) -> String? {
        guard let range = transcript.range(of: "## Conclusion") else { return nil }
        let rest = transcript[range.upperBound...]
        guard let cause = rest.range(of: "Cause: `") else { return nil }
        return String(rest[cause.upperBound...].prefix { $0 != "`" })
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func httpCaseEndsAtCoalescingAfterTheHTTP11Question() async throws {
        let args = ["customers see 421 on static.example.com sometimes"]
        var askedHTTP11 = false
        let session = try await converse(args) { prompt in
            if prompt.contains("--http1.1") { askedHTTP11 = true; return "n\n" }
            if prompt.contains("Where does the 421 show up?") { return "1\n" }
            return "s\n"
        }
        #expect(askedHTTP11, "\(session.output)")
        #expect(session.prompts.allSatisfy { p in PTYProcess.promptEndings.contains { p.hasSuffix($0) } })
        #expect(session.status == 1, "\(session.output)")
        #expect(conclusion(session.transcript) == "h2-coalescing", "\(session.output)")
        // The first screen says what is known in at most five lines before the first question.
        let first = try #require(session.prompts.first)
        #expect(first.contains("protocol:") && first.contains("leading:"))
        let replayed = try await replay(session.record, args)
        #expect(conclusion(replayed.transcript) == "h2-coalescing", "\(replayed.transcript)")
        #expect(replayed.status == session.status)
    }

    @Test func smtpLogQuestionSeparatesAConnectionLimitFromARateLimit() async throws {
        let args = ["postfix log: host mx.example.net[198.51.100.7] said: 421 4.7.0 Try again later, closing connection"]
        for (says, cause) in [("connections", "smtp-concurrency"), ("burst", "smtp-rate-limit")] {
            var asked: [String] = []
            let session = try await converse(args) { prompt in
                if prompt.contains("many deliveries to that host run at the same time") {
                    asked.append("connections")
                    return says == "connections" ? "y\n" : "n\n"
                }
                if prompt.contains("after a burst of messages") {
                    asked.append("burst")
                    return says == "burst" ? "y\n" : "n\n"
                }
                return "s\n"
            }
            #expect(!asked.isEmpty, "no log question was asked: \(session.output)")
            #expect(conclusion(session.transcript) == cause, "\(says): \(session.output)")
            let replayed = try await replay(session.record, args)
            #expect(conclusion(replayed.transcript) == cause, "\(replayed.transcript)")
        }
    }

    @Test func bare421SettlesTheProtocolFirst() async throws {
        let args = ["421 error"]
        let paste = "421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address.\n\n"
        let session = try await converse(args) { prompt in
            if prompt.contains("Where does the 421 show up?") { return "2\n" }
            if prompt.hasSuffix("s to skip) > ") && prompt.contains("full error") { return paste }
            return "s\n"
        }
        let first = try #require(session.prompts.first)
        #expect(first.contains("Where does the 421 show up?"), "\(first)")
        #expect(first.contains("[1] a web page") && first.hasSuffix("[s]kip > "))
        #expect(session.output.contains("protocol: smtp") || session.transcript.contains("smtp"), "\(session.output)")
        #expect(conclusion(session.transcript) == "smtp-rate-limit", "\(session.output)")
        let replayed = try await replay(session.record, args)
        #expect(conclusion(replayed.transcript) == "smtp-rate-limit", "\(replayed.transcript)")
    }

    @Test func nginxInFrontOfApacheEndsAtUpstreamSNIMissing() async throws {
        let stack = try WebStack()
        defer { stack.remove() }
        try await stack.start()
        let args = ["--target", "https://b.kb.test:\(stack.proxyPort)/", "--resolve", "b.kb.test:\(stack.proxyPort):127.0.0.1",
                    "--origin", "127.0.0.1:\(stack.originPort)", "customers get 421 since the update"]
        // What `nginx -T | grep -vE '^\s*(#|$)'` prints for this proxy.
        let dump = lines(WebStack.nginxConfig(stack.dir.path, proxy: stack.proxyPort, origin: stack.originPort, fixed: false))
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
            .map { $0.replacingOccurrences(of: "# no proxy_ssl_server_name: nginx sends no SNI", with: "") }
            .joined(separator: "\n")
        var probed = false, pasted = false
        let session = try await converse(args) { prompt in
            if prompt.contains("May I probe https://b.kb.test") { probed = true; return "y\n" }
            if prompt.contains("nginx -T") { pasted = true; return dump + "\n\n" }
            return "s\n"
        }
        #expect(probed, "\(session.output)")
        #expect(pasted, "\(session.output)")
        // On a terminal, live checks show what is checked and for how long.
        #expect(session.output.contains("checking https://b.kb.test:\(stack.proxyPort)/"), "\(session.output)")
        #expect(conclusion(session.transcript) == "upstream-sni-missing", "\(session.output)")
        #expect(session.status == 1)
        let replayed = try await replay(session.record, args)
        #expect(conclusion(replayed.transcript) == "upstream-sni-missing", "\(replayed.transcript)")
    }

    @Test func backTakesTheLastAnswerBackAndQuestionMarkSaysWhy() async throws {
        var step = 0
        let session = try await converse(["421 error"]) { prompt in
            step += 1
            switch step {
            case 1: return "?\n"                 // why, then the same prompt again
            case 2: return "1\n"                 // HTTP
            case 3: return "b\n"                 // take it back: the protocol question comes again
            case 4: return "3\n"                 // FTP
            default: return "s\n"
            }
        }
        #expect(session.prompts.count >= 4)
        #expect(session.output.contains("why: A 421 means three different things"), "\(session.output)")
        #expect(session.prompts[3].contains("Where does the 421 show up?"), "\(session.prompts)")
        #expect(session.record.contains("guide/protocol") && session.record.contains("FTP"), "\(session.record)")
        #expect(!session.record.contains("(HTTP)"), "\(session.record)")
    }

    @Test func ctrlDEndsWithASummary() async throws {
        let process = try PTYProcess(CLILiveTests.binary, ["guide", "421 error"], environment: Self.environment)
        _ = try await process.nextPrompt()
        process.type("\u{4}\n")
        _ = try await process.finish()
        #expect(process.output.contains("ended; what is known"), "\(process.output)")
        #expect(process.output.contains("protocol:"))
    }

    @Test func ctrlCEndsWithASummaryAndSavesTheTranscript() async throws {
        let dir = try TempDir("guide-int")
        defer { dir.remove() }
        let process = try PTYProcess(CLILiveTests.binary, ["guide", "--transcript", dir.file("t.md"), "421 error"],
                                     environment: Self.environment)
        _ = try await process.nextPrompt()
        process.type("\u{3}\n")
        let status = try await process.finish()
        #expect(status == 130, "\(process.output)")
        #expect(process.output.contains("stopped; what is known"), "\(process.output)")
        #expect(dir.read("t.md").contains("## Conclusion"))
    }

    @Test func colourOnlyOnATerminalAndNeverWithNO_COLOR() async throws {
        for noColor in [false, true] {
            var env = Self.environment
            env["NO_COLOR"] = noColor ? "1" : nil
            let process = try PTYProcess(CLILiveTests.binary, ["guide", "421 error"], environment: env)
            let prompt = try #require(try await process.nextPrompt())
            #expect(prompt.contains("\u{1B}[1m") == !noColor, "NO_COLOR \(noColor): \(prompt)")
            process.type("\u{4}\n")
            _ = try await process.finish()
        }
    }
}
