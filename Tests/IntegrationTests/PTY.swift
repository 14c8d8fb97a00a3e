import Foundation
#if canImport(Glibc)
import Glibc
#endif

// glibc has these in <stdlib.h> only under _XOPEN_SOURCE, which the Glibc module does not set.
@_silgen_name("posix_openpt") private func openPTY(_ flags: Int32) -> Int32
@_silgen_name("grantpt") private func grantPTY(_ fd: Int32) -> Int32
@_silgen_name("unlockpt") private func unlockPTY(_ fd: Int32) -> Int32
@_silgen_name("ptsname_r") private func ptyName(_ fd: Int32, _ buffer: UnsafeMutablePointer<CChar>, _ size: Int) -> Int32

/// A program run under a real pseudo-terminal, as a user at a terminal runs it: its standard input, output and
/// error are the terminal's slave side, and the test reads and types on the master side. Every read is bounded
/// in time and size.
final class PTYProcess: @unchecked Sendable {
    let pid: pid_t
    private let master: Int32
    private(set) var output = ""
    private var consumed = 0
    private var exitStatus: Int32?

    /// glibc's POSIX_SPAWN_SETSID: the child starts its own session, so the terminal can be its controlling one.
    private static let setSID: Int32 = 0x80
    static let outputLimit = 4 << 20

    init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        master = openPTY(O_RDWR | O_NOCTTY)
        var name = [CChar](repeating: 0, count: 128)
        guard master >= 0, grantPTY(master) == 0, unlockPTY(master) == 0, ptyName(master, &name, name.count) == 0 else {
            throw HarnessError("cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        let slave = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, slave, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        posix_spawn_file_actions_addclose(&actions, master)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGHUP, SIGINT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | Self.setSID))
        let env = environment.map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            close(master)
            throw HarnessError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    deinit {
        if exitStatus == nil { kill(pid, SIGKILL); var s: Int32 = 0; waitpid(pid, &s, 0) }
        close(master)
    }

    /// Reads what is there within `milliseconds`; false when the terminal closed (the program ended).
    private func pump(milliseconds: Int32) -> Bool {
        var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let ready = poll(&fds, 1, milliseconds)
        guard ready > 0 else { return true }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let n = read(master, &buffer, buffer.count)
        guard n > 0 else { return false }
        if output.utf8.count < Self.outputLimit { output += String(decoding: buffer[0..<n], as: UTF8.self) }
        return true
    }

    /// The prompt endings of `kb guide`.
    static let promptEndings = ["[b]ack > ", "[s]kip > ", "s to skip) > "]

    /// New output up to the next prompt, or nil when the program ended first. Throws after `timeout` seconds.
    func nextPromptBlocking(timeout: Double = 90) throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let fresh = String(output.dropFirst(consumed))
            if Self.promptEndings.contains(where: { fresh.hasSuffix($0) }) {
                consumed = output.count
                return fresh
            }
            if !pump(milliseconds: 100) {
                return nil
            }
        }
        throw HarnessError("no prompt within \(timeout) s; output so far:\n\(output)")
    }

    func type(_ text: String) {
        // Line by line, so the terminal's line buffer never overflows.
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            _ = pump(milliseconds: 5)
        }
    }

    /// Reads to the end and reaps the program; its exit status, or throws after `timeout` seconds.
    func finishBlocking(timeout: Double = 60) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !pump(milliseconds: 100) { break }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                while pump(milliseconds: 50) && Date() < deadline {}
                exitStatus = status
                return (status >> 8) & 0xFF
            }
        }
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) == pid { exitStatus = status; return (status >> 8) & 0xFF }
            usleep(50_000)
            if Date() > deadline { break }
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        exitStatus = status
        throw HarnessError("kb did not end within \(timeout) s; output:\n\(output)")
    }

    // The waits run on a dispatch thread: blocking one of the few cooperative threads for seconds would starve
    // the other suites' tasks (a server start that polls its ports would miss its deadline).

    func nextPrompt(timeout: Double = 90) async throws -> String? {
        try await Self.offPool { try self.nextPromptBlocking(timeout: timeout) }
    }

    func finish(timeout: Double = 60) async throws -> Int32 {
        try await Self.offPool { try self.finishBlocking(timeout: timeout) }
    }

    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
