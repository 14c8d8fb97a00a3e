import Engine
import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL

/// One HTTP response as kb reports it.
struct HTTPResult: Sendable {
    var status: Int
    var reason: String
    /// "1.1" or "2".
    var version: String
    var headers: [(String, String)]
    /// The first bytes of the body (enough for a server's error page).
    var body: [UInt8]
    var bodyBytes: Int

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The response as curl -i would show it, for the symptom extractor and the evidence.
    var text: String {
        var lines = ["HTTP/\(version == "2" ? "2" : "1.1") \(status) \(reason)"]
        for (name, value) in headers { lines.append("\(name): \(value)") }
        lines.append("")
        // HTML ignores line breaks, and servers wrap their pages (Apache 2.4.71 breaks its 421 sentence over
        // three lines): the body goes on one line so that phrases match whatever the wrapping.
        let page = String(decoding: body, as: UTF8.self)
        lines.append(page.split(whereSeparator: { $0.isWhitespace }).joined(separator: " "))
        return lines.joined(separator: "\n")
    }
}

/// How much of a body kb keeps to recognise an error page; the rest is counted and dropped.
let bodyKeepLimit = 64 * 1024

/// Collects HTTP responses (HTTP/1.1 on a connection, or one HTTP/2 stream) for waiting requests, in order.
final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    let endpoint: Endpoint
    let version: String
    private var waiting: [EventLoopPromise<HTTPResult>] = []
    private var current: HTTPResult?
    private var failure: ProbeFailure?
    private let keep: Int

    init(endpoint: Endpoint, version: String, byteLimit: Int, first: EventLoopPromise<HTTPResult>? = nil) {
        self.endpoint = endpoint
        self.version = version
        self.keep = min(byteLimit, bodyKeepLimit)
        if let first { waiting.append(first) }
    }

    /// Registers the promise for the next response; fails at once when the connection is already gone.
    func expect(_ promise: EventLoopPromise<HTTPResult>) {
        if let failure {
            promise.fail(failure)
        } else {
            waiting.append(promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // An interim 1xx response is not the answer.
            if head.status.code >= 100 && head.status.code < 200 && head.status.code != 101 { return }
            current = HTTPResult(status: Int(head.status.code), reason: head.status.reasonPhrase, version: version,
                                 headers: head.headers.map { ($0.name, $0.value) }, body: [], bodyBytes: 0)
        case .body(var buffer):
            guard current != nil else { return }
            current!.bodyBytes += buffer.readableBytes
            let room = keep - current!.body.count
            if room > 0, let bytes = buffer.readBytes(length: min(room, buffer.readableBytes)) {
                current!.body.append(contentsOf: bytes)
            }
        case .end:
            guard let result = current else { return }
            current = nil
            if !waiting.isEmpty { waiting.removeFirst().succeed(result) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(ProbeFailure(LiveIO.describe(error, endpoint: endpoint, phase: "waiting for the HTTP response")))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ProbeFailure("\(endpoint) closed the connection before the HTTP response was complete"))
        context.fireChannelInactive()
    }

    private func fail(_ error: ProbeFailure) {
        if failure == nil { failure = error }
        let pending = waiting
        waiting = []
        for promise in pending { promise.fail(failure!) }
    }
}

/// Which HTTP version to speak: by ALPN, or forced.
enum HTTPVersionChoice: String, Sendable {
    case auto, http1 = "1.1", http2 = "2"

    static func parse(_ raw: String?) throws(ProbeFailure) -> HTTPVersionChoice {
        switch raw?.lowercased() {
        case nil, "auto", "": return .auto
        case "1.1", "1", "http/1.1", "http1": return .http1
        case "2", "h2", "http/2", "http2": return .http2
        default: throw ProbeFailure("'version' must be auto, 1.1 or 2, not '\(raw!)'")
        }
    }

    var alpn: [String] {
        switch self {
        case .auto: return ["h2", "http/1.1"]
        case .http1: return ["http/1.1"]
        case .http2: return ["h2"]
        }
    }
}

/// One open HTTP connection (TLS or not, HTTP/1.1 or HTTP/2) that can carry several requests in turn.
struct HTTPConnection: Sendable {
    let channel: any Channel
    let endpoint: Endpoint
    /// "1.1" or "2".
    let version: String
    let tls: HandshakeInfo?
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer?
    let byteLimit: Int

    /// Connects to `endpoint`, with TLS unless `plain`, and sets up HTTP/1.1 or HTTP/2 as negotiated.
    static func open(_ endpoint: Endpoint, sni: String?, plain: Bool, choice: HTTPVersionChoice,
                     group: any EventLoopGroup, budget: Budget, byteLimit: Int) async throws(ProbeFailure) -> HTTPConnection {
        let loop = group.next()
        let handshake = loop.makePromise(of: HandshakeInfo.self)
        let recorder = ChainRecorder()
        let sslContext: NIOSSLContext? = plain ? nil : try TLSSupport.context(alpn: choice.alpn)
        let channel: any Channel
        do {
            channel = try await LiveIO.connect(endpoint, group: loop, budget: budget) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteLimitHandler(limit: byteLimit, endpoint: endpoint))
                    if let sslContext {
                        try sync.addHandler(TLSSupport.handler(context: sslContext, sni: sni, recorder: recorder))
                        try sync.addHandler(HandshakeWaiter(promise: handshake, recorder: recorder, sni: sni, endpoint: endpoint,
                                                            hold: true))
                    }
                }
            }
        } catch {
            handshake.fail(error)
            throw error
        }
        var info: HandshakeInfo?
        if plain {
            handshake.fail(ProbeFailure("no TLS"))
        } else {
            do {
                info = try await LiveIO.wait(handshake.futureResult,
                                             budget.read("waiting for the TLS handshake with \(endpoint)"), closing: channel)
            } catch {
                channel.close(promise: nil)
                throw ProbeFailure(LiveIO.describe(error, endpoint: endpoint, phase: "in the TLS handshake"))
            }
        }
        let useHTTP2: Bool
        switch choice {
        case .http1: useHTTP2 = false
        case .http2:
            // Over TLS the server must agree by ALPN; in clear text HTTP/2 means prior knowledge.
            if let info, info.alpn != "h2" {
                channel.close(promise: nil)
                throw ProbeFailure("\(endpoint) did not negotiate HTTP/2 (ALPN: \(info.alpn ?? "none"))")
            }
            useHTTP2 = true
        case .auto: useHTTP2 = info?.alpn == "h2"
        }
        do {
            if useHTTP2 {
                let multiplexer = try await channel.eventLoop.submit {
                    let sync = channel.pipeline.syncOperations
                    let multiplexer = try sync.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: .init(), streamConfiguration: .init(),
                        inboundStreamInitializer: { $0.eventLoop.makeSucceededVoidFuture() })
                    try Self.release(sync)
                    return multiplexer
                }.get()
                return HTTPConnection(channel: channel, endpoint: endpoint, version: "2", tls: info,
                                      multiplexer: multiplexer, byteLimit: byteLimit)
            }
            try await channel.eventLoop.submit {
                let sync = channel.pipeline.syncOperations
                try sync.addHTTPClientHandlers()
                try sync.addHandler(ResponseCollector(endpoint: endpoint, version: "1.1", byteLimit: byteLimit))
                try Self.release(sync)
            }.get()
        } catch {
            channel.close(promise: nil)
            throw ProbeFailure(LiveIO.describe(error, endpoint: endpoint, phase: "setting up HTTP"))
        }
        return HTTPConnection(channel: channel, endpoint: endpoint, version: "1.1", tls: info, multiplexer: nil,
                              byteLimit: byteLimit)
    }

    /// Removes the handshake waiter, which hands on what the server sent since the handshake.
    static func release(_ sync: ChannelPipeline.SynchronousOperations) throws {
        if let waiter = try? sync.handler(type: HandshakeWaiter.self) {
            sync.removeHandler(waiter, promise: nil)
        }
    }

    /// Sends `GET path` with `authority` as Host (HTTP/1.1) or :authority (HTTP/2) and waits for the response.
    func get(authority: String, path: String, keepAlive: Bool, budget: Budget) async throws(ProbeFailure) -> HTTPResult {
        var headers = HTTPHeaders()
        headers.add(name: "host", value: authority)
        headers.add(name: "user-agent", value: "kb/1 (421 diagnosis)")
        headers.add(name: "accept", value: "*/*")
        if version == "1.1" { headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close") }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        let what = budget.read("waiting for the response to GET \(path) (Host \(authority)) from \(endpoint)")
        let endpoint = self.endpoint
        let byteLimit = self.byteLimit
        do {
            if let multiplexer {
                let promise = channel.eventLoop.makePromise(of: HTTPResult.self)
                let stream: any Channel
                do {
                    stream = try await multiplexer.createStreamChannel { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandlers([
                                HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: tls == nil ? .http : .https),
                                ResponseCollector(endpoint: endpoint, version: "2", byteLimit: byteLimit, first: promise),
                            ])
                        }
                    }.get()
                } catch {
                    promise.fail(error)
                    throw error
                }
                stream.write(HTTPClientRequestPart.head(head), promise: nil)
                stream.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                return try await LiveIO.wait(promise.futureResult, what, closing: stream)
            }
            let promise = channel.eventLoop.makePromise(of: HTTPResult.self)
            let channel = self.channel
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.handler(type: ResponseCollector.self).expect(promise)
            }.get()
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            return try await LiveIO.wait(promise.futureResult, what, closing: channel)
        } catch {
            throw ProbeFailure(LiveIO.describe(error, endpoint: endpoint, phase: "waiting for the HTTP response"))
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}

enum HTTPSignature {
    /// Who wrote the response: the symptom extractor knows every signature; this keeps it to this response.
    static func of(_ result: HTTPResult) -> (String, Evidence?) {
        let facts = SymptomExtractor().extract([InputText(name: "response", text: result.text)])
        let signature = HTTPResponseProbe.signaturePriority.first { facts.signatures[$0] != nil } ?? "none"
        return (signature, facts.signatures[signature])
    }
}
