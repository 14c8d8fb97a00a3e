import ArgumentParser
import Engine
import Foundation

extension KB {
    struct Diagnose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Diagnose a 421 from pasted text, files and logs: which protocol, which cause, how to fix it.",
            discussion: """
                Examples:
                  kb diagnose "HTTP/2 421 Misdirected Request on static.example.com, refresh fixes it"
                  kb diagnose --file ticket.txt --format markdown
                  journalctl -u postfix | kb diagnose --file - --format json
                Exit codes: 0 no problem found, 1 problem diagnosed, 2 inconclusive, 64 usage error, 65 invalid data.
                """
        )

        @OptionGroup var input: InputOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var data: DataOptions

        func run() async throws {
            let engine = try data.loadEngine()
            let inputs = try input.readInputs()
            let report = await engine.diagnose(inputs, statements: input.statements)
            print(ReportRenderer(style: output.style).render(report, as: output.format.report), terminator: "")
            throw ExitCode(report.status.exitCode)
        }
    }
}
