import ArgumentParser
import Engine
import Foundation
import Plugins

extension KB {
    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count the 421s in large logs: access, Apache/nginx error, mail and FTP logs, streamed in constant memory.",
            discussion: """
                Examples:
                  kb logs /var/log/mail.log --format json     # 421s by recipient domain, provider, code and phase
                  kb logs access.log --by host --by minute      # 421 spikes per host and per minute
                  zcat old.log.gz | kb logs -                   # '-' reads standard input
                Access-log layouts are recognised from the lines themselves: common, combined, vhost_combined,
                any of them with extra fields (%v, the SNI, request times), the time first or in ISO form, JSON
                lines and Nginx Proxy Manager's proxy log. Lines in a layout kb cannot read are counted and shown;
                pass --access-format with the server's LogFormat or log_format string to read them:
                  kb logs access.log --access-format '%v %h %l %u %t "%r" %>s %b %{SSL_TLS_SNI}x'
                Exit codes: 0 no 421 found, 1 421s found, 2 inconclusive (unread lines contain '421'),
                64 usage error, 65 unreadable input.
                """
        )

        @Argument(help: ArgumentHelp("Log files to scan (regular files only); '-' is standard input.",
                                     valueName: "path"))
        var paths: [String]

        @Option(name: .long, help: "Output format: text or json.")
        var format: LogReportFormat = .text

        @Option(name: .long, help: ArgumentHelp("Show these tables (repeatable): \(LogGrouping.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "table"))
        var by: [LogGrouping] = []

        @Option(name: .customLong("access-format"), help: ArgumentHelp(
            "The access-log format: common, combined, vhost_combined, an Apache LogFormat or an nginx log_format string.",
            valueName: "format"))
        var accessFormat: String?

        @Option(name: .long, help: "Rows per table.")
        var top = 20

        @Flag(name: .long, help: "Replace IP addresses, e-mail addresses and host names with stable stand-ins, as 'kb diagnose --redact' does.")
        var redact = false

        func validate() throws {
            if top < 1 { throw ValidationError("--top must be at least 1") }
        }

        func run() async throws {
            var any421 = false
            var unknown = false
            // One redactor for every file, so a host gets the same stand-in in each table.
            var redactor = Redactor()
            for (i, path) in paths.enumerated() {
                let scanner = LogScanner(options: LogScanOptions(accessFormat: accessFormat, top: top, name: path == "-" ? "<stdin>" : path))
                var report: LogReport
                do {
                    report = try scanner.scan(path: path)
                } catch {
                    printError(error.description)
                    throw ExitCode(Exit.data)
                }
                let a = report.apache, n = report.nginx
                if report.access.status421 + report.mail.replies421 + report.ftp.replies421 + a.ah02032NoSNI
                    + a.ah02032SNIMismatch + a.ah02032Different + n.sniMismatch + n.protocolDisabled > 0 { any421 = true }
                // Never "no 421" over lines that could be 421s but could not be read.
                if report.unread.with421 > 0 { unknown = true }
                if redact {
                    guard let clean = redactor.redact(report) else {
                        printError("error: --redact: the report could not be redacted, so it is not printed")
                        throw ExitCode(Exit.data)
                    }
                    report = clean
                }
                if i > 0 && format == .text { print("") }
                print(scanner.render(report, format: format, by: by), terminator: "")
            }
            throw ExitCode(any421 ? Exit.problem : unknown ? Exit.inconclusive : Exit.healthy)
        }
    }
}

extension LogReportFormat: ExpressibleByArgument {}
extension LogGrouping: ExpressibleByArgument {}
