import Engine
import Foundation
import NIOCore
import NIOPosix

/// What `dig @server name TYPE` shows, for several types at once and, when the resolver configuration lists
/// several servers, from each of them, so that differing A/AAAA answers (split or stale DNS) show.
public struct DNSLookupProbe: Probe {
    public static let description = ProbeDescription(
        id: "dns.lookup",
        summary: "ask a DNS server for A, AAAA, CNAME, MX and TXT records, with TTLs; compares the answers of several servers",
        live: true,
        parameters: [
            ProbeParameter("name", .string, required: true, contact: .lookupName, summary: "the name to look up"),
            ProbeParameter("type", .list, summary: "record types among A, AAAA, CNAME, MX, TXT (default A,AAAA)"),
            ProbeParameter("server", .string, contact: .dnsServer,
                           summary: "ADDR[:PORT] of the server to ask, or several separated by commas "
                               + "(default: the --dns-server the user named, else the nameservers of /etc/resolv.conf; at most 3)"),
            ProbeParameter("dry_run", .bool, summary: "only report the equivalent command; send nothing"),
        ],
        observations: [
            "a": "IPv4 addresses (list)",
            "aaaa": "IPv6 addresses (list)",
            "cname": "the CNAME chain, 'x. -> y.', or 'none'",
            "mx": "MX records as 'preference host.' (list)",
            "txt": "TXT records, strings joined (list)",
            "ttl": "the smallest TTL among the answers (0 when there is none)",
            "addresses": "A and AAAA together (list)",
            "rcode": "NOERROR, NXDOMAIN, SERVFAIL, REFUSED … (the first that is not NOERROR)",
            "dual_stack": "whether the name has both A and AAAA records",
            "servers": "the servers asked (list)",
            "differs": "whether the servers gave different A/AAAA sets",
            "dry_run": "true when nothing was sent (dry_run)",
        ],
        examples: [
            ProbeExample("an address needs no lookup", parameters: ["name": .string("192.0.2.7")],
                         expect: ["a": "192.0.2.7", "addresses": "192.0.2.7", "rcode": "NOERROR", "ttl": "0"]),
            ProbeExample("a dry run names the dig command",
                         parameters: ["name": .string("shop.example.com"), "server": .string("192.0.2.53"), "dry_run": .bool(true)],
                         expect: ["dry_run": "true", "servers": "192.0.2.53:53"]),
            ProbeExample("an empty label is an error", parameters: ["name": .string("shop..example.com")], expectError: true),
            ProbeExample("an unknown type is an error", parameters: ["name": .string("example.com"), "type": .list(["SOA"])],
                         expectError: true),
        ]
    )

    static let maxServers = 3

    public init() {}

    public func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        guard let rawName = parameters.string("name") else { return .failure("no 'name' given") }
        // An address answers itself, as getaddrinfo does: nothing to ask.
        if let literal = try? SocketAddress(ipAddress: rawName, port: 0), let ip = literal.ipAddress {
            let v6 = rawName.contains(":")
            return ProbeOutcome(observations: [
                "a": .list(v6 ? [] : [ip]), "aaaa": .list(v6 ? [ip] : []), "cname": .string("none"), "mx": .list([]),
                "txt": .list([]), "ttl": .int(0), "addresses": .list([ip]), "rcode": .string("NOERROR"),
                "dual_stack": .bool(false), "servers": .list([]), "differs": .bool(false),
            ], evidence: [Evidence(kind: "address", text: ip, detail: "an address literal; no DNS query is needed")])
        }
        let name: String
        do { name = try DNSWire.validate(rawName) } catch { return .failure(error.description) }
        var types: [DNSType] = []
        for t in parameters.list("type") ?? ["A", "AAAA"] {
            guard let type = DNSType(name: t) else { return .failure("unknown record type '\(t)'; use A, AAAA, CNAME, MX or TXT") }
            if !types.contains(type) { types.append(type) }
        }
        var servers: [Endpoint] = []
        // Servers from /etc/resolv.conf are the system resolver; the policy tells them from ones a value named.
        var system = false
        let dryRun: Bool
        do {
            dryRun = try parameters.flag("dry_run", default: false)
            if let given = parameters.list("server"), !given.isEmpty {
                for s in given.prefix(Self.maxServers) { servers.append(try Endpoint.parse(s, defaultPort: 53, what: "server")) }
            } else if !context.contacts.dnsServers.isEmpty {
                // The servers the user named with --dns-server replace the system resolver.
                servers = context.contacts.dnsServers.prefix(Self.maxServers).map { Endpoint(host: $0.host, port: $0.port) }
            } else {
                servers = try Self.systemServers(context)
                system = true
            }
            for s in servers where !s.isIPLiteral {
                throw ProbeFailure("the DNS server '\(s.host)' must be an IP address")
            }
        } catch {
            return .failure(error.reason)
        }
        let command = Self.command(servers[0], name: name, types: types)
        if dryRun {
            return ProbeOutcome(observations: ["dry_run": .bool(true), "servers": .list(servers.map(\.description))],
                                command: command)
        }
        let budget = Budget(context)
        let fromSystem = system
        return await LiveIO.withGroup(context) { group in
            // Every (server, type) pair is an independent query: all run at once.
            let answers = await withTaskGroup(of: (Int, DNSType, Result<DNSResponse, ProbeFailure>).self) { tasks in
                for (index, server) in servers.enumerated() {
                    for type in types {
                        tasks.addTask {
                            (index, type, await Self.ask(server, name: name, type: type, system: fromSystem, group: group,
                                                         budget: budget))
                        }
                    }
                }
                var out: [Int: [DNSType: Result<DNSResponse, ProbeFailure>]] = [:]
                for await (index, type, result) in tasks { out[index, default: [:]][type] = result }
                return out
            }
            return Self.outcome(name: name, types: types, servers: servers, answers: answers, command: command)
        }
    }

    static func outcome(name: String, types: [DNSType], servers: [Endpoint],
                        answers: [Int: [DNSType: Result<DNSResponse, ProbeFailure>]], command: String) -> ProbeOutcome {
        // The first server that answered every query is the one reported; the others are compared with it.
        var primary: [DNSType: DNSResponse]?
        var primaryIndex = 0
        var errors: [String] = []
        var addressSets: [Set<String>] = []
        for index in servers.indices {
            var responses: [DNSType: DNSResponse] = [:]
            for type in types {
                switch answers[index]?[type] {
                case .success(let r)?: responses[type] = r
                case .failure(let f)?: errors.append(f.message)
                case nil: errors.append("no answer from \(servers[index])")
                }
            }
            guard responses.count == types.count else { continue }
            let set = Set(responses.values.flatMap { $0.answers }.filter { $0.type == 1 || $0.type == 28 }.map(\.data))
            addressSets.append(set)
            if primary == nil {
                primary = responses
                primaryIndex = index
            }
        }
        guard let primary else {
            return .failure(errors.first ?? "no DNS server answered", command: command)
        }
        let records = types.flatMap { primary[$0]!.answers }
        func data(_ type: DNSType) -> [String] {
            var seen: Set<String> = []
            return records.filter { $0.type == type.rawValue }.map(\.data).filter { seen.insert($0).inserted }
        }
        let a = data(.a), aaaa = data(.aaaa)
        var chain: [String] = []
        for record in records where record.type == DNSType.cname.rawValue {
            let link = "\(record.name) -> \(record.data)"
            if !chain.contains(link) { chain.append(link) }
        }
        let rcode = types.map { primary[$0]!.rcodeName }.first { $0 != "NOERROR" } ?? "NOERROR"
        let ttl = records.filter { $0.type != DNSType.opt.rawValue }.map(\.ttl).min().map(Int.init) ?? 0
        let differs = Set(addressSets).count > 1
        var evidence: [Evidence] = []
        for record in records.prefix(40) {
            let typeName = DNSType(rawValue: record.type)?.name ?? "TYPE\(record.type)"
            evidence.append(Evidence(kind: "dns-record",
                                     text: Format.serverText("\(record.name) \(record.ttl) IN \(typeName) \(record.data)"),
                                     detail: "from \(servers[primaryIndex])"))
        }
        if rcode != "NOERROR" {
            evidence.append(Evidence(kind: "rcode", text: rcode, detail: "\(servers[primaryIndex]) answered \(rcode) for '\(name)'"))
        }
        if differs {
            let sets = addressSets.map { $0.sorted().joined(separator: ",") }.joined(separator: " vs ")
            let names = servers.map(\.description).joined(separator: ", ")
            evidence.append(Evidence(kind: "dns-differs", text: sets, detail: "the servers \(names) give different addresses"))
        }
        for error in errors { evidence.append(Evidence(kind: "dns-error", text: error)) }
        return ProbeOutcome(observations: [
            "a": .list(a), "aaaa": .list(aaaa),
            "cname": .string(chain.isEmpty ? "none" : chain.joined(separator: ", ")),
            "mx": .list(data(.mx).map { Format.serverText($0) }),
            "txt": .list(data(.txt).map { Format.serverText($0) }),
            "ttl": .int(ttl), "addresses": .list(a + aaaa), "rcode": .string(rcode),
            "dual_stack": .bool(!a.isEmpty && !aaaa.isEmpty),
            "servers": .list(servers.map(\.description)), "differs": .bool(differs),
        ], evidence: evidence, command: command)
    }

    /// The nameservers of /etc/resolv.conf. It is read directly, not through the context's file access: that
    /// one holds only what the user gave to analyse, and the system resolver is not part of it.
    static func systemServers(_ context: ProbeContext) throws(ProbeFailure) -> [Endpoint] {
        let text: String
        do {
            text = try RegularFile.read("/etc/resolv.conf", limit: 64 * 1024)
        } catch {
            throw ProbeFailure("no 'server' given and /etc/resolv.conf is unreadable: \(error)")
        }
        var servers: [Endpoint] = []
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver", Endpoint.isIPLiteral(String(words[1])) else { continue }
            servers.append(Endpoint(host: String(words[1]), port: 53))
            if servers.count == maxServers { break }
        }
        guard !servers.isEmpty else { throw ProbeFailure("no 'server' given and /etc/resolv.conf lists no nameserver") }
        return servers
    }

    static func command(_ server: Endpoint, name: String, types: [DNSType]) -> String {
        var words = ["dig", "@\(server.host)"]
        if server.port != 53 { words += ["-p", String(server.port)] }
        words.append(name)
        words += types.map(\.name)
        return words.map(Format.shell).joined(separator: " ") + " +noall +answer +comments"
    }

    /// One query over UDP, retried once, with the read timeout for the whole exchange.
    static func ask(_ server: Endpoint, name: String, type: DNSType, system: Bool, group: any EventLoopGroup,
                    budget: Budget) async -> Result<DNSResponse, ProbeFailure> {
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: server.host, port: server.port)
        } catch {
            return .failure(ProbeFailure("'\(server)' is not an IP address and port"))
        }
        let id = UInt16.random(in: 0...UInt16.max)
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt8].self)
        let channel: any Channel
        do {
            channel = try await LiveIO.dnsSocket(to: address, endpoint: server, name: name, system: system, loop: loop,
                                                 budget: budget) {
                DNSResponseHandler(server: address, id: id, promise: promise)
            }
        } catch {
            promise.fail(error)
            return .failure(error)
        }
        defer { channel.close(promise: nil) }
        let query = DNSWire.query(id: id, name: name, type: type)
        let send: @Sendable () -> Void = { channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: query), promise: nil) }
        send()
        // One retransmission after a third of the read timeout, for a lost datagram.
        let (timeout, message) = budget.read("waiting for the \(type.name) answer for '\(name)' from \(server)")
        let resend = loop.scheduleTask(in: .nanoseconds(timeout.nanoseconds / 3)) { send() }
        defer { resend.cancel() }
        let bytes: [UInt8]
        do {
            bytes = try await LiveIO.wait(promise.futureResult, (timeout, message), closing: channel)
        } catch {
            return .failure(ProbeFailure(error.reason))
        }
        do {
            let response = try DNSWire.parse(bytes)
            if response.truncated {
                return .failure(ProbeFailure("\(server) truncated the \(type.name) answer for '\(name)' (TC set); "
                                             + "kb does not retry over TCP: use dig +tcp"))
            }
            return .success(response)
        } catch {
            return .failure(ProbeFailure("\(server) sent an invalid \(type.name) answer for '\(name)': \(error.description)"))
        }
    }
}

/// Takes the first datagram from the server with the query's id; ignores others, up to a bound.
final class DNSResponseHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let server: SocketAddress
    let id: UInt16
    let promise: EventLoopPromise<[UInt8]>
    private var ignored = 0

    init(server: SocketAddress, id: UInt16, promise: EventLoopPromise<[UInt8]>) {
        self.server = server
        self.id = id
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        guard envelope.remoteAddress == server, bytes.count >= 12, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == id else {
            ignored += 1
            if ignored > 64 {
                promise.fail(ProbeFailure("too many stray datagrams while waiting for \(server)"))
                context.close(promise: nil)
            }
            return
        }
        promise.succeed(bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable shows up as ECONNREFUSED on the next read.
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED {
            promise.fail(ProbeFailure("\(server) refused the query (nothing listens on that UDP port)"))
        } else {
            promise.fail(ProbeFailure("DNS query to \(server) failed: \(error)"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ProbeFailure("the DNS socket closed"))
        context.fireChannelInactive()
    }
}
