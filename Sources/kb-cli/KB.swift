import ArgumentParser
import Engine
import Foundation

@main
struct KB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb",
        abstract: "Tell which 421 it is (HTTP, SMTP or FTP), why it happens and how to fix it.",
        discussion: """
            Exit codes: 0 no problem found, 1 problem diagnosed, 2 inconclusive, 3 not a 421 (another error code), \
            64 usage error, \
            65 invalid playbook, article or input data.
            Data: built-in playbooks and articles are found next to the kb executable or in KB_DATA_DIR; \
            --playbooks DIR and KB_PLAYBOOK_PATH (colon-separated) add an organisation's own; a link in them \
            that leads outside is refused.
            Files: kb reads the files you name; a config's includes only under a directory given with \
            --file DIR or --config-root DIR, and never /proc, /sys, /dev, FIFOs or sockets ('-' is standard input).
            """,
        version: "0.1.0",
        subcommands: [Diagnose.self, Guide.self, Classify.self, Logs.self, Playbooks.self, Explain.self, Search.self, ProbeCommand.self]
    )
}

/// Exit codes shared by every subcommand (documented in README.md and `kb --help`).
enum Exit {
    static let healthy: Int32 = 0
    static let problem: Int32 = 1
    static let inconclusive: Int32 = 2
    static let usage: Int32 = 64
    static let data: Int32 = 65
}

/// Writes to standard error; only the CLI writes anywhere. Messages quote playbooks, paths and
/// server text, so control and bidi characters are neutralised (neutralising is idempotent).
func printError(_ text: String) {
    let clean = Sanitizer.neutralize(text, keepNewlines: true)
    FileHandle.standardError.write(Data((clean.hasSuffix("\n") ? clean : clean + "\n").utf8))
}

/// Prints plain text that quotes playbooks, articles or inputs (not the styled report, which
/// neutralises each value itself and keeps its own colour sequences).
func printText(_ text: String, terminator: String = "\n") {
    print(Sanitizer.neutralize(text, keepNewlines: true), terminator: terminator)
}

/// Prints data problems with their locations and ends with exit code 65.
func failWithDataErrors(_ errors: KBErrors) -> ExitCode {
    printError(errors.description)
    printError("\(errors.errors.count) problem\(errors.errors.count == 1 ? "" : "s") found")
    return ExitCode(Exit.data)
}

func failUsage(_ message: String) -> ExitCode {
    printError("error: \(message)")
    return ExitCode(Exit.usage)
}
