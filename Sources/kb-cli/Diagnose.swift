import ArgumentParser
import Engine
import Foundation
import Plugins

extension KB {
    struct Diagnose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Diagnose a 421 from pasted text, files and logs: which protocol, which cause, how to fix it.",
            discussion: """
                Examples:
                  kb diagnose "HTTP/2 421 Misdirected Request on static.example.com, refresh fixes it"
                  kb diagnose --file ticket.txt --format markdown
                  kb diagnose --file ticket.txt --format markdown --audience customer   # the reply to paste
                  kb diagnose --file ticket.txt --format markdown --redact              # for a vendor or forum
                  kb diagnose --file /etc/nginx/nginx.conf --config-root /etc/nginx   # follows its includes
                  journalctl -u postfix | kb diagnose --file - --format json
                  kb diagnose --target https://shop.example.com/ "customers get 421 since the update"
                  kb diagnose --target https://b.example.com:8443/ --resolve b.example.com:8443:203.0.113.7 --origin 10.0.0.5:443
                  kb diagnose --target smtp://mx.example.com --file bounce.txt
                  kb diagnose --target smtp://example.com --dns-server 192.0.2.53
                Live checks contact only what the command line names: the target and the addresses it resolves to \
                (for smtp://domain also its MX hosts), --resolve addresses, --origin, and the system resolver or \
                --dns-server; a check that wants anything else is an error and sends nothing.
                Exit codes: 0 no problem found, 1 problem diagnosed, 2 inconclusive, 3 not a 421 (the input shows another error code), 64 usage error, 65 invalid data.
                """
        )

        @OptionGroup var input: InputOptions
        @OptionGroup var live: LiveOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var data: DataOptions

        func run() async throws {
            let engine = try data.loadEngine()
            var target = try live.parsedTarget()
            var environment = live.environment(for: target, files: input.fileAccess)
            if let t = target { (target, environment) = await LiveSurvey.prepare(t, environment: environment) }
            // With a target, the text is optional: kb can go and look on its own.
            var inputs = try input.readInputs(allowEmpty: target != nil)
            if let target {
                let survey = environment
                inputs.append(await TerminalProgress.around("checking \(target.url)") {
                    await LiveSurvey.observe(target, environment: survey)
                })
            }
            var statements = input.statements
            if let target, statements.protocolValue == nil {
                statements.protocolValue = target.scheme.hasPrefix("http") ? .http : .smtp
            }
            let report = target == nil
                ? await engine.diagnose(inputs, statements: statements, target: target, environment: environment)
                : await TerminalProgress.around("live checks on \(target?.url ?? "")") {
                    await engine.diagnose(inputs, statements: statements, target: target, environment: environment)
                }
            print(try output.render(report, inputs: inputs), terminator: "")
            throw ExitCode(report.status.exitCode)
        }
    }
}
