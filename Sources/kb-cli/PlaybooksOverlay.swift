import ArgumentParser
import Engine
import Foundation

extension KB.Playbooks {
    struct OverlayCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "overlay",
            abstract: "Write a commented overlay of a playbook: change its steps, signals, checks and threshold by id.",
            discussion: """
                Writes DIR/overlays/ID.yaml (refusing to overwrite it). As written it changes nothing and validates; \
                uncomment what you need. 'kb playbooks show ID --effective --playbooks DIR' shows the result.
                """
        )
        @OptionGroup var data: DataOptions
        @Argument(help: "The playbook to change (see 'kb playbooks list').") var id: String
        @Option(name: .long, help: ArgumentHelp("Your playbook directory.", valueName: "dir")) var dir: String

        func run() async throws {
            let engine = try data.loadEngine(adding: FileManager.default.fileExists(atPath: dir) ? [dir] : [])
            let p = try KB.Playbooks.playbook(id, in: engine)
            let path = "\(dir)/overlays/\(id).yaml"
            if FileManager.default.fileExists(atPath: path) {
                throw failUsage("'\(Sanitizer.neutralize(path))' exists; kb does not overwrite it")
            }
            try FileManager.default.createDirectory(atPath: "\(dir)/overlays", withIntermediateDirectories: true)
            try Self.text(p).write(toFile: path, atomically: false, encoding: .utf8)
            printText("wrote \(path)")
            printText("next: uncomment what you change, then 'kb playbooks validate \(dir)' and 'kb playbooks test \(dir)'")
        }

        static func text(_ p: Playbook) -> String {
            func list(_ ids: [String]) -> String { ids.map { "#   \($0)" }.joined(separator: "\n") }
            func number(_ n: Double) -> String { KB.Playbooks.Show.format(n) }
            let firstStep = p.remediation.first?.id ?? "step-1"
            let firstSignal = p.signals.first?.id ?? "signal-1"
            return """
                # Overlay of \(p.id), written by 'kb playbooks overlay'. It changes the playbook by id and repeats
                # nothing else, so later fixes of \(p.id) still reach you. As written it changes nothing.
                # Overlays apply in precedence order (KB_PLAYBOOK_PATH, then each --playbooks), then by file name.
                # docs/playbooks.md#overlays describes every key.
                kb: overlay/1
                extends: \(p.id)

                # threshold: \(number(p.threshold))
                # stacks: [traefik]              # stacks to add

                # Remediation steps of \(p.id):
                \(list(p.remediation.map(\.id)))
                # remediation:
                #   add:
                #     - id: our-runbook              # a new id
                #       after: \(firstStep)  # or before: ID; default: at the end
                #       step: Open a ticket with the platform team
                #       detail: |
                #         Quote the host name and the time of the error.
                #       audience: admin
                #   replace:
                #     - id: \(firstStep)
                #       step: …                      # the whole step, as in a playbook
                #       detail: …
                #   remove: [\(firstStep)]

                # Signals of \(p.id) (weight):
                \(list(p.signals.map { "\($0.id) (\(number($0.weight)))" }))
                # signals:
                #   weights: {\(firstSignal): \(number(p.signals.first?.weight ?? 1))}
                #   add:
                #     - id: our-waf-page
                #       weight: 4
                #       text: 'blocked by acme waf'
                #   remove: [\(firstSignal)]

                # Checks of \(p.id):
                \(list(p.checks.map(\.id)))
                # checks:
                #   add: [ … ]   replace: [ … ]   remove: [ … ]   weights: {ID: N}

                # More test cases, run with the playbook's own:
                # tests:
                #   - name: our error page
                #     input: '…'
                #     expect: top

                """
        }
    }
}
