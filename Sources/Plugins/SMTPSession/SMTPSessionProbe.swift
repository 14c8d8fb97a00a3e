import Engine
import Foundation
import NIOCore
import NIOSSL

/// What `swaks --quit-after EHLO` shows: banner, EHLO and capabilities, STARTTLS with the certificate, QUIT.
/// It never sends MAIL, RCPT or DATA, and opens exactly one connection.
public struct SMTPSessionProbe: Probe {
    public static let description = ProbeDescription(
        id: "smtp.session",
        summary: "SMTP banner, EHLO, capabilities, STARTTLS with the certificate, QUIT (never sends a message, one connection)",
        live: true,
        parameters: [
            ProbeParameter("connect", .string, required: true, contact: .endpoint,
                           summary: "ADDR:PORT of the SMTP server (port 25 when omitted)"),
            ProbeParameter("helo", .string, summary: "name to give in EHLO (default kb.invalid)"),
            ProbeParameter("starttls", .bool, summary: "do STARTTLS when offered (default true)"),
            ProbeParameter("sni", .string, summary: "SNI for STARTTLS; 'none' sends none (default: the connect host if it is a name)"),
            ProbeParameter("dry_run", .bool, summary: "only report the equivalent command; connect to nothing"),
        ],
        observations: [
            "banner_code": "code of the greeting (0 when the server closed without one)",
            "code": "the first 4xx/5xx reply, or the last reply when all went well",
            "enhanced": "RFC 3463 code of that reply (4.7.0 …), or 'none'",
            "phase": "phase of that reply: connect, helo, starttls or quit",
            "text": "text of that reply, control characters neutralised",
            "capabilities": "EHLO keywords (list)",
            "starttls": "whether STARTTLS was offered",
            "tls_version": "TLS version after STARTTLS, or 'none'",
            "tls_subject": "subject of the certificate shown after STARTTLS, or 'none'",
            "closed_early": "whether the server closed the connection before answering QUIT",
            "dry_run": "true when nothing was sent (dry_run)",
        ],
        examples: [
            ProbeExample("a dry run names the swaks command",
                         parameters: ["connect": .string("192.0.2.25:25"), "dry_run": .bool(true)],
                         expect: ["dry_run": "true"]),
            ProbeExample("an invalid port is an error", parameters: ["connect": .string("192.0.2.25:99999")], expectError: true),
            ProbeExample("a HELO name with spaces is an error",
                         parameters: ["connect": .string("192.0.2.25:25"), "helo": .string("two words")], expectError: true),
        ]
    )

    public init() {}

    struct Step: Sendable {
        var phase: SMTPPhase
        var reply: SMTPWireReply
    }

    public func run(_ parameters: [String: ProbeValue], context: ProbeContext) async -> ProbeOutcome {
        let endpoint: Endpoint
        let helo: String
        let wantTLS: Bool
        let sni: String?
        let dryRun: Bool
        do {
            guard let connect = parameters.string("connect") else { throw ProbeFailure("no 'connect' given; give ADDR:PORT") }
            endpoint = try Endpoint.parse(connect, defaultPort: 25)
            helo = parameters.string("helo") ?? "kb.invalid"
            guard helo.count <= 255, helo.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw ProbeFailure("'helo' must be one printable word")
            }
            wantTLS = try parameters.flag("starttls", default: true)
            if let raw = parameters.string("sni") {
                sni = try TLSSupport.sniValue(raw)
            } else {
                sni = endpoint.isIPLiteral ? nil : try TLSSupport.sniValue(endpoint.host)
            }
            dryRun = try parameters.flag("dry_run", default: false)
        } catch {
            return .failure(error.reason)
        }
        var words = ["swaks", "--server", endpoint.description, "--helo", helo]
        if wantTLS { words.append("--tls-optional") }
        words += ["--quit-after", "EHLO"]
        let command = words.map(Format.shell).joined(separator: " ")
        if dryRun { return ProbeOutcome(observations: ["dry_run": .bool(true)], command: command) }

        let budget = Budget(context)
        let byteLimit = context.byteLimit
        return await LiveIO.withGroup(context) { group in
            await Self.session(endpoint, helo: helo, wantTLS: wantTLS, sni: sni, group: group, budget: budget,
                               byteLimit: byteLimit, command: command)
        }
    }

    struct PeerClosed: Error {}

    /// One connection on one event loop; every read is bounded by the read timeout and the total deadline.
    struct Conversation: Sendable {
        let channel: any Channel
        /// The reader outlives the pipeline: a reply read just before the peer closed is still there.
        let reader: NIOLoopBound<SMTPReplyReader>
        let endpoint: Endpoint
        let budget: Budget

        func read(_ phase: SMTPPhase) async throws -> SMTPWireReply {
            let channel = self.channel
            let reader = self.reader
            let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<SMTPWireReply> in
                let promise = channel.eventLoop.makePromise(of: SMTPWireReply.self)
                reader.value.next(promise)
                return promise.futureResult
            }
            do {
                return try await LiveIO.wait(future, budget.read("waiting for the \(phase.rawValue) reply from \(endpoint)"),
                                             closing: channel)
            } catch {
                // Tell a clean close by the peer from a timeout, a reset or a broken limit.
                if (error as? ProbeFailure)?.isTimeout == true { throw error }
                let closed = (try? await channel.eventLoop.submit { reader.value.closedByPeer }.get()) ?? false
                if closed || error is PeerClosed { throw PeerClosed() }
                throw error
            }
        }

        func send(_ line: String) {
            var buffer = channel.allocator.buffer(capacity: line.utf8.count + 2)
            buffer.writeString(line + "\r\n")
            channel.writeAndFlush(buffer, promise: nil)
        }

        /// Upgrades to TLS in place, after the byte counter, and waits for the handshake.
        func startTLS(sni: String?) async throws -> HandshakeInfo {
            let sslContext = try TLSSupport.context(alpn: [])
            let channel = self.channel
            let endpoint = self.endpoint
            let recorder = ChainRecorder()
            let reader = self.reader
            let promise = channel.eventLoop.makePromise(of: HandshakeInfo.self)
            do {
                try await channel.eventLoop.submit {
                    let sync = channel.pipeline.syncOperations
                    _ = reader.value.discardReadAhead()
                    let limit = try sync.handler(type: ByteLimitHandler.self)
                    let tls = try TLSSupport.handler(context: sslContext, sni: sni, recorder: recorder)
                    try sync.addHandler(tls, position: .after(limit))
                    try sync.addHandler(HandshakeWaiter(promise: promise, recorder: recorder, sni: sni, endpoint: endpoint),
                                        position: .after(tls))
                }.get()
            } catch {
                promise.fail(error)
                throw error
            }
            return try await LiveIO.wait(promise.futureResult,
                                         budget.read("waiting for the TLS handshake after STARTTLS with \(endpoint)"),
                                         closing: channel)
        }
    }

    static func session(_ endpoint: Endpoint, helo: String, wantTLS: Bool, sni: String?, group: any EventLoopGroup,
                        budget: Budget, byteLimit: Int, command: String) async -> ProbeOutcome {
        let channel: any Channel
        let loop = group.next()
        let reader: NIOLoopBound<SMTPReplyReader>
        do {
            reader = try await loop.submit { NIOLoopBound(SMTPReplyReader(endpoint: endpoint), eventLoop: loop) }.get()
            channel = try await LiveIO.connect(endpoint, group: loop, budget: budget) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteLimitHandler(limit: byteLimit, endpoint: endpoint), reader.value,
                    ])
                }
            }
        } catch {
            return .failure(error.reason, command: command)
        }
        defer { channel.close(promise: nil) }
        let talk = Conversation(channel: channel, reader: reader, endpoint: endpoint, budget: budget)
        var steps: [Step] = []
        var phase = SMTPPhase.connect
        var closedEarly = false
        var capabilities: [String] = []
        var offered = false
        var handshake: HandshakeInfo?
        var failure: String?
        var lostReason: String?

        func refused(_ reply: SMTPWireReply) -> Bool { reply.code >= 400 }

        do {
            let banner = try await talk.read(.connect)
            steps.append(Step(phase: .connect, reply: banner))
            if !refused(banner) {
                phase = .helo
                talk.send("EHLO \(helo)")
                var ehlo = try await talk.read(.helo)
                if ehlo.code == 500 || ehlo.code == 502 {
                    steps.append(Step(phase: .helo, reply: ehlo))
                    talk.send("HELO \(helo)")
                    ehlo = try await talk.read(.helo)
                }
                steps.append(Step(phase: .helo, reply: ehlo))
                if !refused(ehlo) {
                    capabilities = ehlo.lines.dropFirst().compactMap { $0.split(separator: " ").first.map { String($0).uppercased() } }
                    offered = capabilities.contains("STARTTLS")
                    if wantTLS && offered {
                        phase = .starttls
                        talk.send("STARTTLS")
                        let ready = try await talk.read(.starttls)
                        steps.append(Step(phase: .starttls, reply: ready))
                        if ready.code == 220 {
                            handshake = try await talk.startTLS(sni: sni)
                            phase = .helo
                            talk.send("EHLO \(helo)")
                            let again = try await talk.read(.helo)
                            steps.append(Step(phase: .helo, reply: again))
                            if !refused(again) {
                                capabilities = again.lines.dropFirst().compactMap {
                                    $0.split(separator: " ").first.map { String($0).uppercased() }
                                }
                            }
                        }
                    }
                }
            }
            phase = .quit
            talk.send("QUIT")
            let bye = try await talk.read(.quit)
            steps.append(Step(phase: .quit, reply: bye))
        } catch is PeerClosed {
            closedEarly = true
        } catch {
            // After a 421 the server closes the channel (RFC 5321 3.8), and a QUIT may then meet a reset:
            // that is the close the 421 announced, not a failure of the probe. Time limits always are.
            let announced = steps.contains { $0.reply.code == 421 } || phase == .quit
            if announced, (error as? ProbeFailure)?.isTimeout != true {
                closedEarly = true
                lostReason = error.reason
            } else {
                failure = error.reason
            }
        }

        let decisive = steps.first { $0.reply.code >= 400 } ?? steps.last
        var evidence = steps.map { step in
            Evidence(kind: "smtp-reply", text: Format.serverText(step.reply.wire, limit: 600),
                     detail: "reply in phase \(step.phase.rawValue)")
        }
        if closedEarly {
            evidence.append(Evidence(kind: "connection", text: lostReason ?? "\(endpoint) closed the connection",
                                     detail: "closed in phase \(phase.rawValue), before QUIT was answered"))
        }
        if let handshake, let leaf = handshake.leaf {
            evidence.append(Evidence(kind: "certificate", text: Format.serverText(leaf.line, limit: 600),
                                     detail: "certificate after STARTTLS, \(handshake.version)"))
        }
        if let failure {
            return ProbeOutcome(evidence: evidence, error: failure, command: command)
        }
        // A close with no reply at all still says something: where it happened.
        let decisivePhase = decisive.map { $0.reply.code >= 400 || !closedEarly ? $0.phase : phase } ?? phase
        return ProbeOutcome(observations: [
            "banner_code": .int(steps.first { $0.phase == .connect }?.reply.code ?? 0),
            "code": .int(decisive?.reply.code ?? 0),
            "enhanced": .string(decisive?.reply.enhanced ?? "none"),
            "phase": .string(decisivePhase.rawValue),
            "text": .string(Format.serverText(decisive?.reply.text ?? "", limit: 600)),
            "capabilities": .list(capabilities.map { Format.serverText($0, limit: 40) }),
            "starttls": .bool(offered),
            "tls_version": .string(handshake?.version ?? "none"),
            "tls_subject": .string(handshake?.leaf.map { Format.serverText($0.subject) } ?? "none"),
            "closed_early": .bool(closedEarly),
        ], evidence: evidence, command: command)
    }
}
