import Engine
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Plugins

/// Starts real Debian servers on 127.0.0.1 high ports from temporary directories, and always stops them.
/// A missing server binary fails the test with the apt package to install; nothing is skipped silently.

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The binaries the integration tests need, with the Debian package that ships each.
enum ServerBinary: String {
    case nginx = "/usr/sbin/nginx"
    case apache = "/usr/sbin/apache2"
    case postfix = "/usr/sbin/postfix"
    case postfixMaster = "/usr/lib/postfix/sbin/master"
    case dnsmasq = "/usr/sbin/dnsmasq"
    case openssl = "/usr/bin/openssl"

    var package: String {
        switch self {
        case .nginx: return "nginx"
        case .apache: return "apache2"
        case .postfix, .postfixMaster: return "postfix"
        case .dnsmasq: return "dnsmasq"
        case .openssl: return "openssl"
        }
    }

    /// Fails with a message that names the package, so CI shows what to install.
    func require() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: rawValue) else {
            let message = "\(rawValue) is missing: install the Debian package '\(package)' (scripts/install-test-servers.sh installs all of them)"
            Issue.record(Comment(rawValue: message))
            throw HarnessError(message)
        }
        return rawValue
    }
}

/// A directory under /tmp that servers running as other users can read; removed by `remove()`.
final class TempDir: Sendable {
    let path: String

    init(_ label: String) throws {
        path = NSTemporaryDirectory() + "kb-it-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ text: String) throws {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target)
    }

    func mkdir(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
    }

    func read(_ name: String) -> String { (try? String(contentsOfFile: file(name), encoding: .utf8)) ?? "" }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A child process started with posix_spawn and reaped with waitpid, so its end is always seen
/// (Foundation's Process can miss it when waited on from a concurrency thread).
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String], output: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // The test process's threads block signals; a server must start with none blocked and default handlers,
        // or it ignores SIGTERM. Its own process group lets stop() reach the workers too.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw HarnessError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        pid = child
    }

    /// Whether the child still runs; reaps it when it has ended.
    var running: Bool {
        lock.lock()
        defer { lock.unlock() }
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid || r < 0 { exitStatus = status; return false }
        return true
    }

    /// Waits at most `seconds` for the child to end; true when it did.
    func wait(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while running {
            if Date() > deadline { return false }
            usleep(20_000)
        }
        return true
    }

    var status: Int32 { lock.lock(); defer { lock.unlock() }; return exitStatus ?? -1 }

    /// SIGTERM, then SIGKILL after `grace` seconds; always reaps.
    func stop(grace: Double = 5) {
        if running {
            kill(pid, SIGTERM)
            if !wait(seconds: grace) {
                kill(pid, SIGKILL)
                _ = wait(seconds: 5)
            }
        }
        // Whatever the server left behind in its process group (workers) goes too.
        kill(-pid, SIGKILL)
    }
}

/// A server process in the foreground; `stop()` (also run by deinit) sends SIGTERM, then SIGKILL after 5 s.
final class ServerProcess: @unchecked Sendable {
    let name: String
    let child: ChildProcess
    let log: String

    init(_ name: String, _ executable: String, _ arguments: [String], log: String) throws {
        self.name = name
        self.log = log
        child = try ChildProcess(executable, arguments, output: log)
    }

    var running: Bool { child.running }
    var pid: pid_t { child.pid }

    func stop() { child.stop() }

    deinit { stop() }
}

enum Harness {
    /// Runs a command to completion with a time bound; returns its status and output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 30) throws -> (Int32, String) {
        let output = NSTemporaryDirectory() + "kb-it-run-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child = try ChildProcess(executable, arguments, output: output)
        if !child.wait(seconds: timeout) { child.stop(grace: 1) }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let status = child.status
        // waitpid's status: the exit code is in the second byte.
        return ((status >> 8) & 0xFF, text)
    }

    /// A port nothing listens on right now, from the kernel's ephemeral range.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw HarnessError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:port.
    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Polls until every port accepts, at most `seconds`; the error carries the server logs.
    /// Bounded, with room for a loaded machine: a slow start is not what these tests are about.
    static func waitForPorts(_ ports: [Int], processes: [ServerProcess], seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if ports.allSatisfy(accepts) { return }
            if let dead = processes.first(where: { !$0.running }) {
                let log = (try? String(contentsOfFile: dead.log, encoding: .utf8)) ?? ""
                throw HarnessError("\(dead.name) exited at start: \(log.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let logs = processes.map { "\($0.name): " + ((try? String(contentsOfFile: $0.log, encoding: .utf8)) ?? "") }
        throw HarnessError("servers did not listen on \(ports) within \(Int(seconds))s; \(logs.joined(separator: "\n").suffix(3000))")
    }

    /// A self-signed P-256 certificate for `names` (the first is the CN) at `dir/base.pem` and `dir/base.key`.
    static func certificate(_ dir: TempDir, _ base: String, names: [String]) throws {
        let openssl = try ServerBinary.openssl.require()
        let (status, output) = try run(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", dir.file(base + ".key"), "-out", dir.file(base + ".pem"), "-days", "2",
            "-subj", "/CN=\(names[0])", "-addext", "subjectAltName=" + names.map { "DNS:\($0)" }.joined(separator: ","),
        ])
        guard status == 0 else { throw HarnessError("openssl req failed: \(output)") }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.file(base + ".key"))
    }

    static func context(read: Duration = .seconds(5), total: Duration = .seconds(15)) -> ProbeContext {
        ProbeContext(facts: Facts(), files: ConfinedFiles(roots: []), timeouts: Timeouts(connect: .seconds(3), read: read, total: total),
                     contacts: .loopback)
    }
}
