import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file access of a config analysis: reads and lists only inside the directories the user named
/// (`--file DIR`, `--config-root DIR`), so a hostile config's `include /proc/self/environ;` or
/// `include ../../root/.bash_history;` cannot put the reader's own files into a report.
///
/// A path is resolved one component at a time, `..` and symlinks included. A link whose target leaves the
/// roots is refused before the target is looked at, so the refusal says nothing about it, not even whether
/// it exists. Only regular files are opened, never on a kernel file system such as /proc or /sys.
public struct ConfinedFiles: FileAccess, DirectoryListing {
    /// The allowed directories, as real paths (symlinks resolved).
    public let roots: [String]
    /// The allowed directories as written (made absolute), so a path spelled through a symlinked root
    /// such as /tmp on macOS is not refused before it is resolved.
    private let spelled: [String]

    /// Links followed while resolving one path before giving up, as the kernel's ELOOP does.
    static let maxLinks = 40

    /// `roots` may be relative (to the current directory); an empty list allows nothing.
    public init(roots: [String]) {
        var real: [String] = []
        var spelled: [String] = []
        for root in roots {
            let absolute = Self.normalize(Self.absolute(root))
            spelled.append(absolute)
            real.append(Self.realPath(absolute) ?? absolute)
        }
        self.roots = Array(Set(real)).sorted()
        self.spelled = Array(Set(spelled + real)).sorted()
    }

    public func read(_ path: String, limit: Int) throws(KBError) -> String {
        let real = try resolve(path)
        return try RegularFile.read(real, limit: limit, name: path, followLinks: false)
    }

    public func contents(ofDirectory directory: String) throws(KBError) -> [String] {
        let real = try resolve(directory)
        var info = stat()
        guard lstat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw KBError(.inputUnreadable, "cannot list '\(directory)'")
        }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: real)
        } catch {
            throw KBError(.inputUnreadable, "cannot list '\(directory)'")
        }
    }

    /// Whether `path` names a directory inside the roots (for a named directory's subdirectories, which are skipped).
    public func isDirectory(_ path: String) throws(KBError) -> Bool {
        let real = try resolve(path)
        var info = stat()
        return lstat(real, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The real path of `path` when it lies under a root; otherwise an `outsideRoots` error naming `path`
    /// as given.
    public func resolve(_ path: String) throws(KBError) -> String {
        let outside = KBError(.outsideRoots, "'\(Self.shown(path))' is outside the directories given to read")
        let absolute = Self.absolute(path)
        // Refused without touching the file system when even its spelling leaves the roots.
        guard onTheWay(Self.normalize(absolute)) else { throw outside }
        var pending = absolute.split(separator: "/").reversed().map(String.init)
        var current = ""
        var links = 0
        while let part = pending.popLast() {
            if part.isEmpty || part == "." { continue }
            if part == ".." {
                current = Self.parent(current)
                continue
            }
            let next = current + "/" + part
            guard onTheWay(next) else { throw outside }
            var info = stat()
            guard lstat(next, &info) == 0 else {
                throw KBError(.inputUnreadable, "cannot read '\(Self.shown(path))'")
            }
            guard (info.st_mode & S_IFMT) == S_IFLNK else {
                current = next
                continue
            }
            links += 1
            guard links <= Self.maxLinks, let target = Self.readLink(next) else {
                throw KBError(.inputUnreadable, "cannot resolve '\(Self.shown(path))'")
            }
            let base = target.hasPrefix("/") ? "" : current
            // The link's target is judged by its spelling before anything there is looked at.
            guard onTheWay(Self.normalize(base + "/" + target)) else { throw outside }
            if target.hasPrefix("/") { current = "" }
            pending += target.split(separator: "/").reversed().map(String.init)
        }
        let real = current.isEmpty ? "/" : current
        guard roots.contains(where: { Self.isWithin(real, $0) }) else { throw outside }
        return real
    }

    /// Whether `path` lies under a root, or on the way down to one (an ancestor such as /etc for /etc/nginx).
    private func onTheWay(_ path: String) -> Bool {
        spelled.contains { Self.isWithin(path, $0) || Self.isWithin($0, path) }
    }

    static func isWithin(_ path: String, _ root: String) -> Bool {
        if root == "/" { return path.hasPrefix("/") }
        return path == root || path.hasPrefix(root + "/")
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let cwd = FileManager.default.currentDirectoryPath
        return (cwd.hasSuffix("/") ? cwd : cwd + "/") + path
    }

    /// Removes `.`, `..` and repeated slashes by spelling alone.
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A path as it may appear in a message: neutralised and short.
    static func shown(_ path: String) -> String {
        let clean = Sanitizer.neutralize(path)
        return clean.count > 160 ? String(clean.prefix(159)) + "…" : clean
    }
}

/// Opens only regular files, never on a kernel file system, with a size limit: a FIFO cannot block kb,
/// a device is never opened (opening some has effects), and /proc/self/environ is never read.
public enum RegularFile {
    /// Reads a UTF-8 text file; invalid UTF-8 is repaired, as logs and pastes often carry stray bytes.
    /// `name` is the path as the user or config spelled it, for messages.
    public static func read(_ path: String, limit: Int, name: String? = nil, followLinks: Bool = true) throws(KBError)
        -> String {
        let fd = try open(path, name: name, followLinks: followLinks)
        defer { close(fd) }
        let shown = ConfinedFiles.shown(name ?? path)
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while data.count <= limit {
            let wanted = min(chunk.count, limit + 1 - data.count)
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, wanted) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw KBError(.inputUnreadable, "cannot read '\(shown)': \(String(cString: strerror(errno)))")
            }
            data.append(contentsOf: chunk[0..<n])
        }
        if data.count > limit {
            throw KBError(.inputTooLarge, "'\(shown)' is larger than the limit of \(limit) bytes")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// An open descriptor of a regular file (the caller closes it). The file's type is checked before it is
    /// opened and again on the descriptor, so a file swapped in between is refused too.
    public static func open(_ path: String, name: String? = nil, followLinks: Bool = true) throws(KBError) -> Int32 {
        let shown = ConfinedFiles.shown(name ?? path)
        // By spelling first: /dev/stdin may stand for a regular file, and /proc/self/fd/0 for anything.
        if let system = kernelPath(ConfinedFiles.normalize(ConfinedFiles.absolute(path))) {
            throw refusal(shown, system)
        }
        var before = stat()
        let found = followLinks ? stat(path, &before) : lstat(path, &before)
        guard found == 0 else {
            throw KBError(.inputUnreadable, "cannot read '\(shown)': \(String(cString: strerror(errno)))")
        }
        try requireRegular(before.st_mode, shown)
        let flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW)
        let fd = systemOpen(path, flags)
        guard fd >= 0 else {
            throw KBError(.inputUnreadable, "cannot read '\(shown)': \(String(cString: strerror(errno)))")
        }
        var after = stat()
        guard fstat(fd, &after) == 0, after.st_dev == before.st_dev, after.st_ino == before.st_ino else {
            close(fd)
            throw KBError(.inputUnreadable, "'\(shown)' changed while it was being opened")
        }
        if let system = kernelFileSystem(fd) ?? kernelPath(ConfinedFiles.realPath(path) ?? path) {
            close(fd)
            throw refusal(shown, system)
        }
        return fd
    }

    private static func refusal(_ shown: String, _ system: String) -> KBError {
        if system == "dev" {
            return KBError(.inputUnreadable,
                           "'\(shown)' is not a regular file; to read standard input, give '-' and pipe the text in")
        }
        return KBError(.inputUnreadable, "'\(shown)' is on the \(system) file system, which kb never reads")
    }

    private static func requireRegular(_ mode: mode_t, _ shown: String) throws(KBError) {
        switch mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw KBError(.inputUnreadable, "'\(shown)' is a directory")
        case S_IFIFO, S_IFCHR, S_IFSOCK:
            throw KBError(.inputUnreadable,
                          "'\(shown)' is not a regular file; to read standard input, give '-' and pipe the text in")
        default: throw KBError(.inputUnreadable, "'\(shown)' is not a regular file")
        }
    }

    /// The name of the kernel file system `fd` lies on (proc, sysfs …), or nil for an ordinary one. Told by
    /// device: a file on the same file system as /proc (a bind mount of it, say) is on proc wherever it is.
    private static func kernelFileSystem(_ fd: Int32) -> String? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return kernelDevices.first { $0.device == info.st_dev }?.name
    }

    /// The devices of the kernel's file systems where this system mounts them.
    private static let kernelDevices: [(device: dev_t, name: String)] = {
        let mounts = [
            "/proc": "proc", "/sys": "sysfs", "/dev": "dev", "/dev/pts": "devpts", "/dev/mqueue": "mqueue",
            "/sys/kernel/debug": "debugfs", "/sys/kernel/tracing": "tracefs", "/sys/kernel/security": "securityfs",
            "/sys/fs/cgroup": "cgroup", "/sys/fs/bpf": "bpf", "/sys/firmware/efi/efivars": "efivarfs",
        ]
        return mounts.sorted { $0.key < $1.key }.compactMap { path, name in
            var info = stat()
            return stat(path, &info) == 0 ? (info.st_dev, name) : nil
        }
    }()

    /// The kernel's own trees by path (proc, sysfs, dev), also for systems where the file system type says nothing.
    private static func kernelPath(_ path: String) -> String? {
        let trees = ["/proc": "proc", "/sys": "sysfs", "/dev": "dev"]
        return trees.first { ConfinedFiles.isWithin(path, $0.key) }?.value
    }

    private static func systemOpen(_ path: String, _ flags: Int32) -> Int32 {
        #if canImport(Glibc)
        return Glibc.open(path, flags)
        #else
        return Darwin.open(path, flags)
        #endif
    }

    private static func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.read(fd, buffer, count)
        #else
        return Darwin.read(fd, buffer, count)
        #endif
    }
}
