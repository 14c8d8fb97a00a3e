import ArgumentParser
import Engine
import Foundation
import Plugins

extension KB {
    struct ProbeCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "probe",
            abstract: "List the probes, or run one by hand on pasted text.",
            discussion: """
                Examples:
                  kb probe --list
                  kb probe text.match --param pattern=AH02032 --file error.log
                  kb probe tls.handshake --host b.example.com --connect 203.0.113.7:443 --sni none
                  kb probe http.request --connect 127.0.0.1:8443 --host b.example.com --sni a.example.com
                  kb probe dns.lookup --param name=example.com --param type=A,MX --param server=127.0.0.1:5353
                A live probe contacts only what this command line names: --connect, --host and the probe's \
                destination parameters (connect, addresses, server, name); a redirect elsewhere is refused.
                """
        )

        @Flag(name: .long, help: "List the probes with their parameters and observations.") var list = false
        @Argument(help: "The probe id.") var id: String?
        @Option(name: .customLong("param"), help: ArgumentHelp("A parameter as name=value; repeatable.", valueName: "name=value"))
        var parameters: [String] = []
        @Option(name: .long, help: ArgumentHelp("Shorthand for --param connect=ADDR:PORT.", valueName: "addr:port")) var connect: String?
        @Option(name: .long, help: ArgumentHelp("Shorthand for --param sni=NAME ('none' sends no SNI).", valueName: "name")) var sni: String?
        @Option(name: .long, help: ArgumentHelp("The host name: the probe's 'host' parameter, or 'name' where it has none.", valueName: "name")) var host: String?
        @Option(name: .long, help: ArgumentHelp("Seconds to wait to connect and for each read.", valueName: "seconds")) var timeout: Int = 5
        @OptionGroup var input: InputOptions

        func validate() throws {
            if !list && id == nil { throw ValidationError("give a probe id, or --list") }
            for p in parameters where !p.contains("=") { throw ValidationError("--param '\(p)' must look like name=value") }
        }

        func run() async throws {
            let registry = BuiltinProbes.registry
            if list {
                for probe in registry.probes {
                    let d = probe.description
                    printText("\(d.id)\(d.live ? " (live)" : "")  \(d.summary)")
                    for p in d.parameters { printText("    with \(p.name) (\(p.kind.rawValue)\(p.required ? ", required" : "")): \(p.summary)") }
                    for (k, v) in d.observations.sorted(by: { $0.key < $1.key }) { printText("    reports \(k): \(v)") }
                }
                return
            }
            guard let id, let probe = registry.probe(id) else {
                var message = "unknown probe '\(id ?? "")'"
                if let near = Suggest.closest(to: id ?? "", in: registry.ids) { message += "; did you mean '\(near)'?" }
                throw failUsage(message)
            }
            var values: [String: ProbeValue] = [:]
            for p in parameters {
                let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
                guard let spec = probe.description.parameters.first(where: { $0.name == parts[0] }) else {
                    throw failUsage("probe '\(id)' has no parameter '\(parts[0])'")
                }
                let raw = parts.count > 1 ? parts[1] : ""
                switch spec.kind {
                case .string: values[spec.name] = .string(raw)
                case .int:
                    guard let i = Int(raw) else { throw failUsage("--param \(spec.name) must be an integer") }
                    values[spec.name] = .int(i)
                case .bool: values[spec.name] = .bool(raw == "true" || raw == "yes" || raw == "1")
                case .list: values[spec.name] = .list(raw.split(separator: ",").map(String.init))
                }
            }
            let names = Set(probe.description.parameters.map(\.name))
            if let connect { values["connect"] = .string(connect) }
            if let sni { values["sni"] = .string(sni) }
            if let host { values[names.contains("host") ? "host" : "name"] = .string(host) }
            for key in values.keys where !names.contains(key) {
                throw failUsage("probe '\(id)' takes no '\(key)'; it takes \(names.sorted().joined(separator: ", "))")
            }
            for spec in probe.description.parameters where spec.required && values[spec.name] == nil {
                throw failUsage("probe '\(id)' needs --param \(spec.name)=…")
            }
            let inputs = try input.readInputs(allowEmpty: true)
            let facts = SymptomExtractor().extract(inputs, statements: input.statements)
            let t = Duration.seconds(max(1, min(120, timeout)))
            let environment = RunEnvironment(files: input.fileAccess, timeouts: Timeouts(connect: t, read: t, total: t * 4),
                                             contacts: Self.named(values, probe: probe.description, host: host))
            let outcome = await probe.init().run(values, context: environment.context(facts, requester: "probe '\(id)'"))
            if let error = outcome.error {
                print("error: \(Sanitizer.neutralize(error))")
                throw ExitCode(Exit.inconclusive)
            }
            for (k, v) in outcome.observations.sorted(by: { $0.key < $1.key }) { print("\(k): \(Sanitizer.neutralize(v.description))") }
            for e in outcome.evidence {
                print("  evidence: \(Sanitizer.neutralize(e.text))" + (e.location.map { " [\($0.file):\($0.line)]" } ?? ""))
            }
            if let c = outcome.command { print("rerun: \(Sanitizer.neutralize(c))") }
        }

        /// By hand the user names every destination: what --connect, --host and the --param values of the probe's
        /// destination parameters give may be contacted, and nothing else (a redirect elsewhere is refused).
        static func named(_ values: [String: ProbeValue], probe: ProbeDescription, host: String?) -> ContactPolicy {
            var policy = ContactPolicy()
            var servers: [ContactPolicy.Destination] = []
            var ports = Set(Target.defaultPorts.values)
            for spec in probe.parameters {
                guard let role = spec.contact, let value = values[spec.name] else { continue }
                let items = value.listValue.flatMap { $0.split(separator: ",").map(String.init) }
                for raw in items.map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
                    switch role {
                    case .lookupName: policy.allowLookups(under: raw)
                    case .dnsServer:
                        if let d = ContactPolicy.parse(raw, defaultPort: 53) { servers.append(d) }
                    case .endpoint:
                        if let d = ContactPolicy.parse(raw, defaultPort: nil) {
                            policy.allow(d.host, port: d.port)
                            ports.insert(d.port)
                        } else {
                            // No port: the probe's default port, which is one of the usual ones.
                            for port in Target.defaultPorts.values { policy.allow(raw, port: port) }
                        }
                    }
                }
            }
            if let host, let d = ContactPolicy.parse(host, defaultPort: 443) {
                policy.allowLookups(under: d.host)
                for port in ports.union([d.port]) { policy.allow(d.host, port: port) }
            }
            policy.useDNSServers(servers)
            return policy
        }
    }
}
