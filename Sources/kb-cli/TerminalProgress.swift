import Engine
import Foundation

/// What live checks are doing and for how long, on standard error, only when it is a terminal: a piped run
/// gets nothing extra. The line is redrawn in place and cleared when the work ends.
enum TerminalProgress {
    static var enabled: Bool { isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb" }

    static func around<T: Sendable>(_ label: String, _ body: () async -> T) async -> T {
        guard enabled else { return await body() }
        let shown = Sanitizer.neutralize(label)
        let start = ContinuousClock.now
        let ticker = Task {
            while !Task.isCancelled {
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                FileHandle.standardError.write(Data("\r\u{1B}[K\(shown) \(String(format: "%.1f", seconds))s".utf8))
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let result = await body()
        ticker.cancel()
        _ = await ticker.result
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        return result
    }
}
