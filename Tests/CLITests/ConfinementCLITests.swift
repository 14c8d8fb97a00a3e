import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CLI {
    /// Runs kb with its output in files (no pipe to fill) and ends it after `seconds`; `timedOut` says it had to.
    static func run(_ arguments: [String], within seconds: Double, environment: [String: String] = [:]) throws
        -> (result: Result, timedOut: Bool) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kb-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["KB_PLAYBOOK_PATH"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.currentDirectoryURL = repoRoot
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        let timedOut = process.isRunning
        if timedOut { process.terminate() }
        process.waitUntilExit()
        let out = try String(contentsOf: outURL, encoding: .utf8)
        let err = try String(contentsOf: errURL, encoding: .utf8)
        return (Result(stdout: out, stderr: err, status: process.terminationStatus), timedOut)
    }
}

/// A scratch directory for one test, removed by `remove()`.
struct Scratch {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kb-cli-fixture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    @discardableResult
    func file(_ relative: String, _ text: String) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    @discardableResult
    func link(_ relative: String, to target: String) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
        return full
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("kb reads only what it was given", .serialized)
struct ConfinementCLITests {
    static let marker = "kb-leak-marker-7f3a9c"
    static let shadow = "root:$6$\(marker)$hash:19000:0:99999:7:::\n"

    /// The attack: a customer's config includes /proc/self/environ, and the support person's
    /// environment holds a token. Whatever the roots, the token never reaches the report.
    @Test(arguments: [[String](), ["--config-root", "."], ["--config-root", "/proc/self"], ["--config-root", "/"]])
    func environmentNeverReachesTheReport(_ extra: [String]) throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let conf = try dir.file("nginx.conf", """
            http {
                include /proc/self/environ;
                include /proc/self/cmdline;
                server {
                    listen 443 ssl;
                    server_name shop.example.com;
                    location / { proxy_pass https://127.0.0.1:8443; }
                }
            }

            """)
        let roots = extra.map { $0 == "." ? dir.path : $0 }
        let run = try CLI.run(["diagnose", "--format", "json", "--file", conf] + roots, within: 60,
                              environment: ["KB_TEST_TOKEN": Self.marker])
        #expect(!run.timedOut)
        #expect([0, 1, 2].contains(run.result.status), "\(run.result.stderr)")
        #expect(!run.result.stdout.contains(Self.marker))
        #expect(!run.result.stderr.contains(Self.marker))
        #expect(run.result.stdout.contains("nginx.include-"))
        if roots.isEmpty {
            #expect(run.result.stdout.contains("include outside the given files was not followed: '/proc/self/environ'"))
        }
    }

    @Test func includesAreFollowedOnlyUnderAConfigRoot() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let conf = try dir.file("nginx.conf", "http {\n    include sites-enabled/*;\n}\n")
        try dir.file("sites-enabled/shop", """
            server {
                listen 443 ssl;
                server_name shop.example.com;
                location / { proxy_pass https://127.0.0.1:8443; proxy_ssl_server_name off; }
            }

            """)
        let alone = try CLI.run(["diagnose", "--format", "json", "--file", conf], within: 60)
        #expect(alone.result.stdout.contains("include outside the given files was not followed"))
        #expect(alone.result.stdout.contains("--config-root DIR"))
        #expect(!alone.result.stdout.contains("sites-enabled/shop"))
        let rooted = try CLI.run(["diagnose", "--format", "json", "--file", conf, "--config-root", dir.path], within: 60)
        #expect(!rooted.result.stdout.contains("include outside the given files"))
        #expect(rooted.result.stdout.contains(dir.path + "/sites-enabled/shop"))
        // A named directory is a root too.
        let named = try CLI.run(["diagnose", "--format", "json", "--file", "nginx:" + dir.path], within: 60)
        #expect(named.result.stdout.contains(dir.path + "/sites-enabled/shop"))
        #expect(try CLI.run(["diagnose", "--file", conf, "--config-root", dir.path + "/none"]).status == 64)
    }

    @Test func specialFilesAsNamedFilesAreRefusedWithAHint() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let fifo = dir.path + "/ticket.txt"
        #expect(mkfifo(fifo, 0o600) == 0)
        for arguments in [["diagnose", "--file", "/dev/stdin"], ["diagnose", "--file", fifo], ["classify", "--file", fifo],
                          ["logs", fifo], ["diagnose", "--file", "/proc/self/environ"]] {
            let run = try CLI.run(arguments, within: 30, environment: ["KB_TEST_TOKEN": Self.marker])
            #expect(!run.timedOut, "\(arguments) blocked")
            #expect(run.result.status == 65, "\(arguments)")
            #expect(!run.result.stdout.contains(Self.marker) && !run.result.stderr.contains(Self.marker))
            if arguments.last != "/proc/self/environ" {
                #expect(run.result.stderr.contains("is not a regular file; to read standard input, give '-'"), "\(arguments)")
            }
        }
    }

    @Test func aNamedDirectoryIsNotLeftThroughALink() throws {
        let dir = try Scratch()
        let secret = try Scratch()
        defer { dir.remove(); secret.remove() }
        let target = try secret.file("bash_history", "server { server_name \(Self.marker); }\n")
        try dir.file("sites/a.conf", "server { listen 80; }\n")
        let link = try dir.link("sites/evil.conf", to: target)
        let run = try CLI.run(["diagnose", "--format", "json", "--file", dir.path + "/sites"], within: 60)
        #expect(run.result.status == 64)
        #expect(run.result.stderr.contains("'\(link)' leads outside '\(dir.path)/sites' and was not read"))
        #expect(!run.result.stdout.contains(Self.marker) && !run.result.stderr.contains(Self.marker))
        let allowed = try CLI.run(["diagnose", "--format", "json", "--file", dir.path + "/sites", "--config-root", secret.path],
                                  within: 60)
        #expect(allowed.result.status != 64)
    }

    /// Part 4: a link in a playbook or article directory to a file elsewhere is refused by its name, and its
    /// content (a shadow entry) is never echoed.
    @Test(arguments: [("evil.yaml", "playbooks"), ("evil.md", "playbooks"), ("evil.yaml", "validate")])
    func playbookDirectoryLinksOutAreRefused(_ name: String, _ how: String) throws {
        let dir = try Scratch()
        let secret = try Scratch()
        defer { dir.remove(); secret.remove() }
        let target = try secret.file("shadow", Self.shadow)
        let link = try dir.link(name, to: target)
        let arguments = how == "validate" ? ["playbooks", "validate", dir.path] : ["playbooks", "list", "--playbooks", dir.path]
        let run = try CLI.run(arguments, within: 60)
        #expect(run.result.status == 65)
        #expect(run.result.stderr.contains("error: '\(link)' is a link that leads outside '\(dir.path)'; it was not read"))
        #expect(!run.result.stderr.contains(Self.marker) && !run.result.stdout.contains(Self.marker))
        #expect(!run.result.stderr.contains("root:"))
        let viaEnv = try CLI.run(["playbooks", "list"], within: 60, environment: ["KB_PLAYBOOK_PATH": dir.path])
        #expect(viaEnv.result.status == 65)
        #expect(!viaEnv.result.stderr.contains(Self.marker))
    }

    @Test func aDirectoryLinkOutIsRefusedToo() throws {
        let dir = try Scratch()
        let secret = try Scratch()
        defer { dir.remove(); secret.remove() }
        try secret.file("x.yaml", Self.shadow)
        let link = try dir.link("shared", to: secret.path)
        let run = try CLI.run(["playbooks", "list", "--playbooks", dir.path], within: 60)
        #expect(run.result.status == 65)
        #expect(run.result.stderr.contains("'\(link)' is a link that leads outside"))
        #expect(!run.result.stderr.contains(Self.marker))
    }

    /// A file that is not YAML is shown only as a short neutralised excerpt around the caret.
    @Test func aNonYAMLFileIsNotEchoed() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let line = "x: y: " + String(repeating: "z", count: 4000) + Self.marker
        try dir.file("broken.yaml", line + "\n")
        let run = try CLI.run(["playbooks", "validate", dir.path], within: 60)
        #expect(run.result.status == 65)
        #expect(!run.result.stderr.contains(Self.marker))
        #expect(!run.result.stderr.contains("\u{1B}"))
        let lines = run.result.stderr.split(separator: "\n")
        #expect(lines.count >= 3)
        for shown in lines.dropFirst() { #expect(shown.count <= 122) }
        // Escapes near the caret are shown neutralised, and the caret stays under the column.
        let escaped = try dir.file("escaped.yaml", "\u{1B}[2J: a: b\n")
        let second = try CLI.run(["playbooks", "validate", escaped], within: 60)
        #expect(second.result.stderr.contains("\\x1b[2J: a: b"))
        #expect(!second.result.stderr.contains("\u{1B}"))
    }
}
