import ArgumentParser
import Engine
import Foundation
import Plugins

extension KB {
    struct Guide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find the cause of a 421 step by step: kb asks one question at a time and ranks the causes anew.",
            discussion: """
                Examples:
                  kb guide "customers see 421 on static.example.com sometimes"
                  kb guide --target https://shop.example.com/ --file /etc/nginx/nginx.conf
                  kb guide --transcript ticket-4711.md "421 when sending mail"
                  kb guide --record session.yaml "…"        # saves the answers
                  kb guide --answers session.yaml "…"       # replays them without a terminal
                kb first says what it knows (protocol, leading causes), settles an unknown protocol, then asks the \
                question whose answers would change the ranking most, until a cause stands clear or nothing useful \
                is left to ask; then it prints the report with the fix steps.
                Prompts: a yes/no question ends with '[y]es [n]o [s]kip [?]why [b]ack > ', a choice lists \
                '[1] … [2] … [s]kip > ', a paste request ends with '(paste, then an empty line; s to skip) > '. \
                '?' says why kb asks, 'b' takes back the last answer, Ctrl-D or Ctrl-C ends with what is known.
                kb never runs a command itself: it shows the command for you to run and paste its output. Live \
                checks run only on the --target you named, and only after you say yes.
                Without a terminal, kb guide needs --answers (exit 64 otherwise).
                Exit codes: as kb diagnose (0 no problem found, 1 problem diagnosed, 2 inconclusive, 3 not a 421), \
                64 usage error, 65 invalid data, 130 ended with Ctrl-C.
                """
        )

        @OptionGroup var input: InputOptions
        @OptionGroup var live: LiveOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var data: DataOptions

        @Option(name: .long, help: ArgumentHelp("Write a ticket-ready Markdown record of the session here.", valueName: "file.md"))
        var transcript: String?

        @Option(name: .long, help: ArgumentHelp("Save the answers here, to replay with --answers.", valueName: "file.yaml"))
        var record: String?

        @Option(name: .long, help: ArgumentHelp("Replay answers saved with --record; needs no terminal.", valueName: "file.yaml"))
        var answers: String?

        func run() async throws {
            var replay: GuideRecord?
            if let answers {
                do {
                    replay = try GuideRecord.parse(try TextFile.read(answers, limit: 8 << 20), path: answers)
                } catch let error as KBErrors {
                    throw failWithDataErrors(error)
                } catch let error as KBError {
                    throw failUsage("--answers: \(error.message)")
                }
            } else if isatty(STDIN_FILENO) == 0 || isatty(STDOUT_FILENO) == 0 {
                throw failUsage("""
                    kb guide asks questions and needs a terminal; to run it from a script, replay a session saved \
                    with --record: kb guide --answers FILE.yaml [TEXT …], or use kb diagnose for a one-shot report
                    """)
            }
            let engine = try data.loadEngine()
            let builtin: [Question]
            do {
                let context = PlaybookContext(probes: engine.registry, articles: engine.knowledge.ids)
                builtin = try BuiltinQuestions.load(PlaybookLoader(context: context))
            } catch {
                throw failWithDataErrors(error)
            }
            let target = try live.parsedTarget()
            let environment = live.environment(for: target, files: input.fileAccess)
            let inputs = try input.readInputs(allowEmpty: true)
            var statements = input.statements
            if let target, statements.protocolValue == nil {
                statements.protocolValue = target.scheme.hasPrefix("http") ? .http : .smtp
            }
            let observer: GuideSession.LiveObserver = { target, environment in
                await TerminalProgress.around("checking \(target.url)") {
                    let (t, e) = await LiveSurvey.prepare(target, environment: environment)
                    return (t, e, await LiveSurvey.observe(t, environment: e))
                }
            }
            var session = GuideSession(engine: engine, inputs: inputs, statements: statements, target: target,
                                       environment: environment, builtin: builtin, observer: observer)
            let style = Style(color: output.style.color && replay == nil)
            let prompt = TerminalPrompt(bold: { style.color ? "\u{1B}[1m\($0)\u{1B}[0m" : $0 })
            var record = GuideRecord()
            var script = GuideTranscript(given: inputs, target: target?.url)
            let interrupt = InterruptState()
            let handler = replay == nil ? interrupt.install() : nil
            defer { handler?.cancel() }

            // A replay with --format markdown or json keeps standard output for the report alone, so it can be
            // piped; the conversation goes to standard error.
            let say: (String) -> Void = replay != nil && output.format != .text ? { printError($0) } : { printText($0) }
            var shownSummary = false
            var stopped = false
            var standing: GuideSession.Standing
            loop: while true {
                let step = session.liveChecked
                    ? await TerminalProgress.around("live checks on \(target?.url ?? "")") { await session.next() }
                    : await session.next()
                let current: GuideSession.Standing
                switch step {
                case .ask(_, let s), .conclude(let s): current = s
                }
                standing = current
                if !shownSummary {
                    say(current.summary.joined(separator: "\n"))
                    shownSummary = true
                } else {
                    say("now: \(current.ranking)")
                }
                interrupt.update(summary: "stopped; what is known:\n" + current.summary.joined(separator: "\n") + "\n",
                                 transcript: transcript.map { ($0, script.markdown(conclusion: current, stopped: true)) })
                guard case .ask(let question, _) = step else { break loop }
                let (text, command) = session.render(question, standing: current)
                var reply: TerminalPrompt.Reply
                if var r = replay {
                    reply = .answer(r.take(for: question))
                    replay = r
                    say("\(text)\(command.map { "\n  \($0)" } ?? "")\n> \(Self.describe(reply, question))")
                } else {
                    repeat {
                        reply = prompt.ask(question, text: text, command: command)
                        if reply == .why { say("why: \(question.why)") }
                    } while reply == .why
                }
                switch reply {
                case .why: continue loop
                case .end:
                    stopped = true
                    say("\nended; what is known:")
                    break loop
                case .back:
                    if session.undo() {
                        record.entries.removeLast()
                        script.exchanges.removeLast()
                        say("took back the last answer")
                    } else {
                        say("nothing to take back")
                    }
                case .answer(let answer):
                    await session.answer(answer, to: question)
                    record.entries += GuideRecord(turns: [GuideSession.Turn(question: question, answer: answer)]).entries
                    script.exchanges.append(.init(question: text, command: command, answer: answer,
                                                  described: answer.describe(question)))
                }
            }
            if stopped {
                say(standing.summary.joined(separator: "\n"))
            }
            print(ReportRenderer(style: output.style).render(standing.report, as: output.format.report), terminator: "")
            fflush(nil)
            if let transcript {
                do {
                    try script.markdown(conclusion: standing, stopped: stopped).write(toFile: transcript, atomically: true,
                                                                                       encoding: .utf8)
                } catch {
                    printError("error: --transcript: cannot write '\(transcript)': \(error.localizedDescription)")
                }
            }
            if let recordPath = self.record {
                do {
                    try record.yaml().write(toFile: recordPath, atomically: true, encoding: .utf8)
                } catch {
                    printError("error: --record: cannot write '\(recordPath)': \(error.localizedDescription)")
                }
            }
            throw ExitCode(standing.report.status.exitCode)
        }

        static func describe(_ reply: TerminalPrompt.Reply, _ question: Question) -> String {
            if case .answer(let a) = reply { return a.describe(question) }
            return "skipped"
        }
    }
}
