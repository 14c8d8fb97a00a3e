import Engine
import Foundation
import Testing
@testable import Plugins

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A scratch directory with real files, links and FIFOs, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kb-confine-\(UUID().uuidString)")
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

/// A file access that only records what it was asked for: an `nginx -T` dump must ask for nothing.
final class RecordingFiles: FileAccess, DirectoryListing, @unchecked Sendable {
    private let lock = NSLock()
    private var asked: [String] = []
    var requests: [String] { lock.withLock { asked } }

    func read(_ path: String, limit: Int) throws(KBError) -> String {
        lock.withLock { asked.append(path) }
        throw KBError(.inputUnreadable, "cannot read '\(path)'")
    }

    func contents(ofDirectory directory: String) throws(KBError) -> [String] {
        lock.withLock { asked.append(directory) }
        throw KBError(.inputUnreadable, "cannot list '\(directory)'")
    }
}

@Suite("config analysis reads only what was given")
struct ConfinementTests {
    let nginx = NginxConfigAnalyzer()
    let apache = ApacheConfigAnalyzer()

    static let outside = "include outside the given files was not followed"

    /// The includes, each on line 2 of an nginx.conf whose directory is not a root.
    @Test(arguments: ["/proc/self/environ", "/etc/passwd", "/root/.bash_history", "../../../../../../etc/passwd",
                      "/dev/stdin", "/etc/*", "/proc/self/*"])
    func nginxIncludeOutsideIsAFindingWithNothingOfTheTarget(_ include: String) async throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let path = try dir.file("conf/nginx.conf", "events {}\ninclude \(include);\n")
        let main = InputText(name: path, text: try String(contentsOfFile: path, encoding: .utf8), kind: "nginx-config")
        // The conf directory is not a root (a file named alone does not open its directory); a sibling is.
        let files = ConfinedFiles(roots: [dir.path + "/other"])
        let findings = await nginx.analyze(main, context: analyzerContext(inputs: [main], files: files))
        #expect(findings.map(\.id) == ["nginx.include-outside"])
        let finding = try #require(findings.first)
        #expect(finding.location?.file == path && finding.location?.line == 2)
        #expect(finding.message.hasPrefix(Self.outside + ": '"))
        #expect(finding.message.hasSuffix("; to follow it, add --config-root DIR for the directory that holds it"))
        #expect(finding.excerpt == "include \(include);")
        #expect(!findings.description.contains("root:x:0:0"))
    }

    /// With the conf directory as a root, includes under it are read and one that leaves it by a link is not.
    @Test func includesUnderARootAreReadAndLinksOutAreNot() async throws {
        let dir = try ScratchDirectory()
        let secret = try ScratchDirectory()
        defer { dir.remove(); secret.remove() }
        let target = try secret.file("history", "server { listen 443 ssl; server_name leaked-marker.example; }\n")
        let path = try dir.file("nginx.conf", "http {\n    include sites-enabled/*;\n}\n")
        try dir.file("sites-available/shop", "server {\n    listen 443 ssl;\n    server_name shop.example.com;\n"
            + "    location / { proxy_pass https://127.0.0.1:8443; }\n}\n")
        try dir.link("sites-enabled/shop", to: "../sites-available/shop")
        let evil = try dir.link("sites-enabled/zz-evil", to: target)
        let main = InputText(name: path, text: try String(contentsOfFile: path, encoding: .utf8), kind: "nginx-config")
        let findings = await nginx.analyze(main, context: analyzerContext(inputs: [main], files: ConfinedFiles(roots: [dir.path])))
        let out = try #require(findings.first { $0.id == "nginx.include-outside" })
        #expect(out.message == Self.outside + ": '\(evil)'; to follow it, add --config-root DIR for the directory that holds it")
        #expect(out.location?.line == 2)
        // The file inside was read: its proxy_pass without SNI is found there.
        #expect(findings.contains { $0.location?.file == dir.path + "/sites-enabled/shop" })
        #expect(!findings.description.contains("leaked-marker"))
    }

    @Test func anIncludedFIFOIsNotOpened() async throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        #expect(mkfifo(dir.path + "/pipe.conf", 0o600) == 0)
        let path = try dir.file("nginx.conf", "include pipe.conf;\n")
        let main = InputText(name: path, text: "include pipe.conf;\n", kind: "nginx-config")
        let started = ContinuousClock.now
        let findings = await nginx.analyze(main, context: analyzerContext(inputs: [main], files: ConfinedFiles(roots: [dir.path])))
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(findings.map(\.id) == ["nginx.include-unresolved"])
    }

    @Test func anIncludeOverTheSizeLimitIsAFinding() async throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        try dir.file("big.conf", String(repeating: "# padding\n", count: 200))
        let path = try dir.file("nginx.conf", "include big.conf;\n")
        let main = InputText(name: path, text: "include big.conf;\n", kind: "nginx-config")
        let findings = nginx.findings(inputs: [main], files: ConfinedFiles(roots: [dir.path]), byteLimit: 1000)
        #expect(findings.map(\.id) == ["nginx.include-too-large"])
        #expect(findings.first?.message == "include '\(dir.path)/big.conf' is larger than the limit of 1000 bytes and was not "
            + "read; findings may miss what it holds")
        let apacheMain = InputText(name: dir.path + "/apache2.conf", text: "Include big.conf\n", kind: "apache-config")
        let apacheFindings = apache.findings(inputs: [apacheMain], files: ConfinedFiles(roots: [dir.path]), byteLimit: 1000)
        #expect(apacheFindings.map(\.id) == ["apache.include-too-large"])
    }

    /// An `nginx -T` dump is read alone: its includes are matched against its own sections, never the disk.
    @Test func aDumpReadsNothingFromDisk() async throws {
        let dump = """
        nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
        nginx: configuration file /etc/nginx/nginx.conf test is successful
        # configuration file /etc/nginx/nginx.conf:
        events {}
        http {
            include /proc/self/environ;
            include /etc/nginx/conf.d/*.conf;
            include /etc/passwd;
        }

        # configuration file /etc/nginx/conf.d/a.conf:
        server { listen 80; }

        """
        let input = InputText(name: "nginx-T.txt", text: dump, kind: "nginx-config")
        let files = RecordingFiles()
        let findings = await nginx.analyze(input, context: analyzerContext(inputs: [input], files: files))
        #expect(files.requests.isEmpty)
        #expect(findings.findingKeys(["nginx.include-unresolved"]) == [
            "nginx.include-unresolved@/etc/nginx/nginx.conf:3", "nginx.include-unresolved@/etc/nginx/nginx.conf:5",
        ])
        let missing = try #require(findings.first { $0.id == "nginx.include-unresolved" })
        #expect(missing.message == "include '/proc/self/environ' names a file that is not in the dump; nothing is read "
            + "from disk for an nginx -T dump")
    }

    /// Apache's Include, IncludeOptional, a directory Include and a ServerRoot moved to `/` all stay inside.
    @Test func apacheIncludesOutsideAreFindings() async throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let text = """
        Include /etc/passwd
        IncludeOptional /proc/self/environ
        Include /etc/apache2/
        ServerRoot "/"
        Include root/.bash_history
        Include ../../../../../../etc/passwd
        """
        let path = try dir.file("apache2.conf", text)
        let main = InputText(name: path, text: text, kind: "apache-config")
        let findings = await apache.analyze(main, context: analyzerContext(inputs: [main], files: ConfinedFiles(roots: [dir.path])))
        #expect(findings.findingKeys(["apache.include-outside"]) == [1, 2, 3, 5, 6].map { "apache.include-outside@\(path):\($0)" })
        for finding in findings where finding.id == "apache.include-outside" {
            #expect(finding.message.hasPrefix(Self.outside))
        }
        #expect(!findings.description.contains("root:x:0:0"))
    }

    /// Excerpts are one short, neutralised line however long and strange the config line is.
    @Test func excerptsAreShortAndNeutralised() async throws {
        let long = "include /etc/" + String(repeating: "a", count: 500) + "\u{1B}[2J\u{202E};"
        let input = InputText(name: "n.conf", text: long + "\n", kind: "nginx-config")
        let findings = nginx.findings(inputs: [input], files: ConfinedFiles(roots: []))
        let excerpt = try #require(findings.first?.excerpt)
        #expect(excerpt.count == Finding.excerptLimit)
        #expect(excerpt.hasSuffix("…"))
        let marked = Finding(id: "x", message: "m", excerpt: "a\u{1B}[2J\u{202E}b").excerpt
        #expect(marked == "a\\x1b[2J\\u{202e}b")
    }
}
