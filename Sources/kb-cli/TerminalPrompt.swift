import Engine
import Foundation

/// Reads answers at a terminal in the prompt grammar scripts can drive:
/// yes/no `… [y]es [n]o [s]kip [?]why [b]ack > `, choices `[1] … [2] … [s]kip > `, pastes
/// `(paste, then an empty line; s to skip) > `. `?` and `b` work at every prompt.
struct TerminalPrompt {
    enum Reply: Equatable {
        case answer(Answer)
        case why
        case back
        /// Ctrl-D: the user ends the session.
        case end
    }

    var bold: (String) -> String

    /// At most this much of a paste is kept; the rest is read and dropped.
    static let pasteLimit = 1 << 20

    /// Writes a prompt whose parts were neutralised by the caller, so that only our own bold sequence remains.
    func write(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }

    func clean(_ text: String) -> String { Sanitizer.neutralize(text, keepNewlines: true) }

    func ask(_ question: Question, text raw: String, command: String?) -> Reply {
        let text = clean(raw)
        switch question.kind {
        case .yesNo:
            write(bold(text) + " [y]es [n]o [s]kip [?]why [b]ack > ")
            while true {
                guard let line = readLine() else { return .end }
                switch line.trimmingCharacters(in: .whitespaces).lowercased() {
                case "y", "yes": return .answer(.yes)
                case "n", "no": return .answer(.no)
                case "s", "skip": return .answer(.skip)
                case "?": return .why
                case "b", "back": return .back
                default: write("answer y, n, s, ? or b > ")
                }
            }
        case .choice:
            let options = question.choices.enumerated()
                .map { "[\($0.offset + 1)] \(clean($0.element.label))" }.joined(separator: " ")
            write(bold(text) + "\n" + options + " [s]kip > ")
            while true {
                guard let line = readLine() else { return .end }
                let word = line.trimmingCharacters(in: .whitespaces).lowercased()
                if let n = Int(word), n >= 1, n <= question.choices.count { return .answer(.choice(n - 1)) }
                if let i = question.choices.firstIndex(where: { $0.label.lowercased() == word }) { return .answer(.choice(i)) }
                switch word {
                case "s", "skip": return .answer(.skip)
                case "?": return .why
                case "b", "back": return .back
                default: write("answer 1 to \(question.choices.count), s, ? or b > ")
                }
            }
        case .paste, .commandOutput:
            var prompt = bold(text) + "\n"
            if let command { prompt += "  \(clean(command))\n" }
            write(prompt + "(paste, then an empty line; s to skip) > ")
            var lines: [String] = []
            var size = 0
            while let line = readLine() {
                if lines.isEmpty {
                    switch line.trimmingCharacters(in: .whitespaces).lowercased() {
                    case "s", "skip": return .answer(.skip)
                    case "?": return .why
                    case "b", "back": return .back
                    default: break
                    }
                }
                if line.trimmingCharacters(in: .whitespaces).isEmpty {
                    if lines.isEmpty { continue }
                    return .answer(.paste(lines.joined(separator: "\n")))
                }
                if size < Self.pasteLimit { lines.append(line); size += line.utf8.count + 1 }
            }
            return lines.isEmpty ? .end : .answer(.paste(lines.joined(separator: "\n")))
        }
    }
}

/// What Ctrl-C prints and saves: kept current after every step, read by the signal handler.
final class InterruptState: @unchecked Sendable {
    private let lock = NSLock()
    private var summary = ""
    private var transcript: (path: String, text: String)?

    func update(summary: String, transcript: (path: String, text: String)?) {
        lock.lock()
        defer { lock.unlock() }
        self.summary = summary
        self.transcript = transcript
    }

    /// On SIGINT: the summary of what is known, the transcript so far, then exit 130.
    func install() -> DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in
            lock.lock()
            let text = summary
            let saved = transcript
            lock.unlock()
            FileHandle.standardOutput.write(Data(("\n" + text).utf8))
            if let saved { try? saved.text.write(toFile: saved.path, atomically: true, encoding: .utf8) }
            exit(130)
        }
        source.resume()
        return source
    }
}
