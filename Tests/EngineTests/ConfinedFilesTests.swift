import Engine
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("kb-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    func file(_ relative: String, _ text: String) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    func link(_ relative: String, to target: String) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
        return full
    }

    func fifo(_ relative: String) throws -> String {
        let full = path + "/" + relative
        #expect(mkfifo(full, 0o600) == 0)
        return full
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` on its own thread and returns its result, or nil when it did not finish within `seconds`:
/// a read that blocks on a FIFO must fail the test, not hang it.
func finished<T: Sendable>(within seconds: Double, _ body: @escaping @Sendable () -> T) -> T? {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Thread {
        box.set(body())
        done.signal()
    }.start()
    guard done.wait(timeout: .now() + seconds) == .success else { return nil }
    return box.get()
}

/// One value handed from a thread to the test, under a lock.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T?
    func set(_ new: T) { lock.withLock { value = new } }
    func get() -> T? { lock.withLock { value } }
}

/// The error a throwing read ends with, or nil.
func readError(_ read: () throws(KBError) -> String) -> KBError? {
    do {
        _ = try read()
        return nil
    } catch {
        return error
    }
}

@Suite("confined file access")
struct ConfinedFilesTests {
    @Test func readsAndListsInsideARoot() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.file("conf.d/a.conf", "server {}\n")
        let files = ConfinedFiles(roots: [dir.path])
        #expect(try files.read(dir.path + "/conf.d/a.conf", limit: 1024) == "server {}\n")
        #expect(try files.contents(ofDirectory: dir.path + "/conf.d") == ["a.conf"])
        // A link that stays inside, as sites-enabled/x -> ../sites-available/x, is followed.
        _ = try dir.file("sites-available/x", "listen 80;\n")
        _ = try dir.link("sites-enabled/x", to: "../sites-available/x")
        #expect(try files.read(dir.path + "/sites-enabled/x", limit: 1024) == "listen 80;\n")
    }

    @Test(arguments: ["/etc/passwd", "/proc/self/environ", "/dev/stdin", "/root/.bash_history", "/etc/no-such-file"])
    func pathsOutsideTheRootsAreRefusedByName(_ path: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let error = readError { () throws(KBError) in try ConfinedFiles(roots: [dir.path]).read(path, limit: 1 << 20) }
        #expect(error?.code == .outsideRoots)
        #expect(error?.message == "'\(path)' is outside the directories given to read")
    }

    @Test func dotDotCannotClimbOut() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = ConfinedFiles(roots: [dir.path])
        let up = String(repeating: "../", count: dir.path.split(separator: "/").count)
        for path in [dir.path + "/" + up + "etc/passwd", dir.path + "/../../etc/passwd", dir.path + "/a/../../x"] {
            let error = readError { () throws(KBError) in try files.read(path, limit: 1 << 20) }
            #expect(error?.code == .outsideRoots, "\(path)")
        }
        let listing: KBError?
        do {
            _ = try files.contents(ofDirectory: dir.path + "/..")
            listing = nil
        } catch {
            listing = error
        }
        #expect(listing?.code == .outsideRoots)
    }

    /// A link out is refused with the link's name, whether its target exists or not.
    @Test func symlinksLeadingOutAreRefusedAlike() throws {
        let dir = try TemporaryDirectory()
        let secret = try TemporaryDirectory()
        defer { dir.remove(); secret.remove() }
        let target = try secret.file("shadow", "root:$6$marker-secret:19000:0:99999:7:::\n")
        let existing = try dir.link("evil.conf", to: target)
        let missing = try dir.link("gone.conf", to: secret.path + "/no-such-file")
        let relative = try dir.link("sub/up.conf", to: "../../" + (secret.path as NSString).lastPathComponent + "/shadow")
        let files = ConfinedFiles(roots: [dir.path])
        for link in [existing, missing, relative] {
            let error = readError { () throws(KBError) in try files.read(link, limit: 1 << 20) }
            #expect(error?.code == .outsideRoots)
            #expect(error?.message == "'\(link)' is outside the directories given to read")
        }
        // A directory link out is not listed either.
        let outDir = try dir.link("elsewhere", to: secret.path)
        let listing: KBError?
        do {
            _ = try files.contents(ofDirectory: outDir)
            listing = nil
        } catch {
            listing = error
        }
        #expect(listing?.code == .outsideRoots)
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fifo = try dir.fifo("pipe.conf")
        let files = ConfinedFiles(roots: [dir.path])
        let confined = finished(within: 5) {
            readError { () throws(KBError) in try files.read(fifo, limit: 1 << 20) }
        }
        #expect(confined??.code == .inputUnreadable)
        #expect(confined??.message == "'\(fifo)' is not a regular file; to read standard input, give '-' and pipe the text in")
        let named = finished(within: 5) {
            readError { () throws(KBError) in try TextFile.read(fifo, limit: 1 << 20) }
        }
        #expect(named??.message.contains("is not a regular file") == true)
    }

    /// Even a root that holds them does not make kernel files readable.
    @Test func kernelFilesAreNeverRead() throws {
        #if os(Linux)
        let proc = readError { () throws(KBError) in
            try ConfinedFiles(roots: ["/proc/self"]).read("/proc/self/environ", limit: 1 << 20)
        }
        #expect(proc?.message.contains("never reads") == true)
        let named = readError { () throws(KBError) in try RegularFile.read("/proc/self/environ", limit: 1 << 20) }
        #expect(named?.message == "'/proc/self/environ' is on the proc file system, which kb never reads")
        #endif
        let stdin = readError { () throws(KBError) in try RegularFile.read("/dev/stdin", limit: 1 << 20) }
        #expect(stdin?.message == "'/dev/stdin' is not a regular file; to read standard input, give '-' and pipe the text in")
        let null = readError { () throws(KBError) in try RegularFile.read("/dev/null", limit: 1 << 20) }
        #expect(null?.message == "'/dev/null' is not a regular file; to read standard input, give '-' and pipe the text in")
    }

    @Test func sizeLimitIsAnError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let big = try dir.file("big.conf", String(repeating: "x", count: 2048))
        let error = readError { () throws(KBError) in try ConfinedFiles(roots: [dir.path]).read(big, limit: 1024) }
        #expect(error?.code == .inputTooLarge)
    }

    /// The default environment of a run reads nothing, so a caller that forgets to choose is safe.
    @Test func theDefaultEnvironmentReadsNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try dir.file("a.conf", "x\n")
        let error = readError { () throws(KBError) in try RunEnvironment().files.read(file, limit: 1024) }
        #expect(error?.code == .outsideRoots)
    }
}

@Suite("playbook and article directories stay inside themselves")
struct DataDirectoryTests {
    static let shadow = "root:$6$kb-marker-shadow$hash:19000:0:99999:7:::\n"

    @Test func linksLeadingOutAreProblemsNamingTheLink() throws {
        let dir = try TemporaryDirectory()
        let secret = try TemporaryDirectory()
        defer { dir.remove(); secret.remove() }
        let target = try secret.file("shadow", Self.shadow)
        _ = try secret.file("more/x.yaml", Self.shadow)
        _ = try dir.file("own/a.yaml", "id: a\n")
        _ = try dir.link("inside.yaml", to: "own/a.yaml")
        let file = try dir.link("evil.yaml", to: target)
        let directory = try dir.link("shared", to: secret.path + "/more")
        _ = try dir.link("notes.txt", to: target)
        let (files, problems) = PlaybookLoader.scan(dir.path, extensions: ["yaml"])
        #expect(files == [dir.path + "/inside.yaml", dir.path + "/own/a.yaml"])
        #expect(problems.map(\.message) == [
            "'\(file)' is a link that leads outside '\(dir.path)'; it was not read",
            "'\(directory)' is a link that leads outside '\(dir.path)'; it was not read",
        ])
        #expect(problems.allSatisfy { $0.code == .outsideRoots })
        #expect(!problems.description.contains("kb-marker-shadow"))
        // Articles are loaded the same way.
        _ = try dir.link("evil.md", to: target)
        do {
            _ = try KnowledgeBase.load([dir.path])
            Issue.record("a link out of an article directory was loaded")
        } catch {
            #expect(error.errors.contains { $0.message.hasPrefix("'\(dir.path)/evil.md' is a link that leads outside") })
            #expect(!error.description.contains("kb-marker-shadow"))
        }
    }

    @Test func aFIFONamedLikeAPlaybookIsAnErrorNotAHang() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fifo = try dir.fifo("wait.yaml")
        let loader = PlaybookLoader(context: PlaybookContext(probes: ProbeRegistry([]), articles: []))
        let outcome = finished(within: 5) { Self.loadErrors(loader, dir.path) }
        #expect(outcome == ["'\(fifo)' is not a regular file; to read standard input, give '-' and pipe the text in"])
    }

    static func loadErrors(_ loader: PlaybookLoader, _ path: String) -> [String] {
        do {
            _ = try loader.load([PlaybookSource(path: path, builtin: false)])
            return []
        } catch {
            return error.errors.map(\.message)
        }
    }

    /// The line under an error is cut to a window around the caret and neutralised; the caret stays under
    /// its column even after escapes.
    @Test func sourceLinesAreShortAndNeutralised() {
        let long = String(repeating: "a", count: 300) + "XY" + String(repeating: "b", count: 300)
        let error = KBError(.yamlSyntax, "bad", at: SourceLocation(file: "f.yaml", line: 1, column: 301), sourceLine: long)
        let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1].count <= KBError.sourceLineLimit + 2)
        #expect(lines[1].hasPrefix("…") && lines[1].hasSuffix("…"))
        let caret = lines[2].count - 1
        #expect(Array(lines[1])[caret] == "X")

        let escaped = KBError(.yamlSyntax, "bad", at: SourceLocation(file: "f.yaml", line: 1, column: 3),
                              sourceLine: "\u{1B}\u{202E}x: y")
        let shown = escaped.description.split(separator: "\n").map(String.init)
        #expect(shown[1] == "\\x1b\\u{202e}x: y")
        #expect(shown[2] == String(repeating: " ", count: 12) + "^")
        #expect(!escaped.description.contains("\u{1B}"))

        // A message that quotes a long value from the file is cut too.
        let quoting = KBError(.unknownKey, "unknown key '\(String(repeating: "Q", count: 5000))' in playbook")
        #expect(quoting.description.count == "error: ".count + KBError.messageLimit)
        #expect(quoting.description.hasSuffix("…"))
    }
}
