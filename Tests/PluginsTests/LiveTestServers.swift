import Engine
import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
@testable import Plugins

/// In-process peers on 127.0.0.1 ephemeral ports, well-behaved and hostile, for the live probes' tests.
/// Nothing here talks to any address but loopback.

enum TestError: Error, CustomStringConvertible {
    case setup(String)
    var description: String { if case .setup(let s) = self { return s }; return "" }
}

/// A self-signed certificate made with the openssl CLI, once per test process.
struct TestCertificate: Sendable {
    let certPath: String
    let keyPath: String

    static let shared: Result<TestCertificate, TestError> = make(cn: "a.test", sans: ["a.test", "*.a.test", "b.test"])

    static func make(cn: String, sans: [String]) -> Result<TestCertificate, TestError> {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kb-live-\(UUID().uuidString)")
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            return .failure(.setup("cannot create \(dir.path)"))
        }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=\(cn)",
                             "-addext", "subjectAltName=" + sans.map { "DNS:\($0)" }.joined(separator: ",")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(.setup("openssl is missing (apt-get install openssl): \(error)")) }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return .failure(.setup("openssl req failed")) }
        return .success(TestCertificate(certPath: cert, keyPath: key))
    }

    func serverContext(alpn: [String]) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
        configuration.applicationProtocols = alpn
        return try NIOSSLContext(configuration: configuration)
    }
}

/// A listening server; `stop()` closes it and every connection it accepted.
final class TestServer: Sendable {
    let channel: any Channel
    let port: Int
    var connect: String { "127.0.0.1:\(port)" }

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    static func start(_ initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) async throws -> TestServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer(initializer)
            .bind(host: "127.0.0.1", port: 0).get()
        return TestServer(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// Context for probes in tests: short timeouts so a hang shows in seconds.
func liveContext(read: Duration = .seconds(2), total: Duration = .seconds(6), byteLimit: Int = 1 << 20) -> ProbeContext {
    ProbeContext(facts: Facts(), files: NoFiles(), timeouts: Timeouts(connect: .seconds(2), read: read, total: total),
                 byteLimit: byteLimit, contacts: .loopback)
}

// MARK: hostile peers

/// Accepts and never says a word.
final class SilentHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Sends bytes that are no protocol at all, then waits.
final class GarbageHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelActive(context: ChannelHandlerContext) {
        var rng = SystemRandomNumberGenerator()
        var buffer = context.channel.allocator.buffer(capacity: 4096)
        for _ in 0..<4096 { buffer.writeInteger(UInt8.random(in: 0...255, using: &rng)) }
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Writes `chunk` again and again, each write after the last one finished, until the client goes or `maxBytes`.
final class FloodHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let prefix: String
    let chunk: String
    let maxBytes: Int
    let waitForRequest: Bool
    private var sent = 0
    private var started = false

    init(prefix: String, chunk: String, maxBytes: Int = 64 << 20, waitForRequest: Bool) {
        self.prefix = prefix
        self.chunk = chunk
        self.maxBytes = maxBytes
        self.waitForRequest = waitForRequest
    }

    func channelActive(context: ChannelHandlerContext) {
        if !waitForRequest { start(context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if waitForRequest && !started { start(context) }
    }

    private func start(_ context: ChannelHandlerContext) {
        started = true
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: prefix)), promise: nil)
        pump(context)
    }

    private func pump(_ context: ChannelHandlerContext) {
        guard context.channel.isActive, sent < maxBytes else { return }
        let block = String(repeating: chunk, count: max(1, 16384 / chunk.utf8.count))
        sent += block.utf8.count
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: block))).whenSuccess {
            loopBound.value.0.pump(loopBound.value.1)
        }
    }
}

// MARK: well-behaved peers

/// A TLS server that answers HTTP/1.1 or HTTP/2 (by ALPN). Like a server that serves only the name a
/// connection was opened for, it answers 421 with Apache's page to a request whose Host differs from the first
/// request's on the same connection; `/421` always gets that page.
final class TestHTTPResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let connectionState: ConnectionHost
    private var host = ""
    private var path = "/"

    init(connectionState: ConnectionHost) { self.connectionState = connectionState }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            host = head.headers.first(name: "host") ?? head.headers.first(name: ":authority") ?? ""
            path = head.uri
        case .body: break
        case .end:
            let first = connectionState.claim(host)
            let misdirected = path == "/421" || first != host
            var headers = HTTPHeaders()
            headers.add(name: "server", value: misdirected ? "Apache/2.4.71 (Debian)" : "kb-test")
            let body = misdirected ? Self.apache421 : "ok \(host)\n"
            headers.add(name: "content-type", value: misdirected ? "text/html; charset=iso-8859-1" : "text/plain")
            headers.add(name: "content-length", value: String(body.utf8.count))
            let status: HTTPResponseStatus = misdirected ? .misdirectedRequest : .ok
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    static let apache421 = """
        <!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
        <html><head>
        <title>421 Misdirected Request</title>
        </head><body>
        <h1>Misdirected Request</h1>
        <p>The client needs a new connection for this request as the requested host name does not match the Server Name Indication (SNI) in use for this connection.</p>
        </body></html>
        """
}

/// The host the first request on a connection named; shared by the HTTP/2 streams of one connection.
final class ConnectionHost: @unchecked Sendable {
    private let lock = NSLock()
    private var first: String?

    func claim(_ host: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        if first == nil { first = host }
        return first!
    }
}

enum TestServers {
    static func certificate() throws -> TestCertificate {
        switch TestCertificate.shared {
        case .success(let c): return c
        case .failure(let e): throw e
        }
    }

    static func https(alpn: [String] = ["h2", "http/1.1"]) async throws -> TestServer {
        let context = try certificate().serverContext(alpn: alpn)
        return try await TestServer.start { channel in
            let state = ConnectionHost()
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            }.flatMap {
                channel.configureCommonHTTPServerPipeline { stream in
                    stream.eventLoop.makeCompletedFuture {
                        try stream.pipeline.syncOperations.addHandler(TestHTTPResponder(connectionState: state))
                    }
                }
            }
        }
    }

    static func tcp(_ make: @escaping @Sendable () -> any ChannelHandler & Sendable) async throws -> TestServer {
        try await TestServer.start { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(make()) }
        }
    }

    static func flood(prefix: String, chunk: String, waitForRequest: Bool) async throws -> TestServer {
        try await TestServer.start { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(FloodHandler(prefix: prefix, chunk: chunk,
                                                                            waitForRequest: waitForRequest))
            }
        }
    }

    /// An SMTP server following `script`: the greeting, then per command what to do.
    static func smtp(_ script: SMTPScript) async throws -> TestServer {
        let context = try certificate().serverContext(alpn: [])
        return try await TestServer.start { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(TestSMTPHandler(script: script, tls: context))
            }
        }
    }
}

struct SMTPScript: Sendable {
    var greeting: String = "220 mx.a.test ESMTP kb-test"
    var closeAfterGreeting = false
    var closeOnEHLO = false
    var offerSTARTTLS = true
}

/// A line-at-a-time SMTP server: EHLO, STARTTLS (with a real TLS upgrade), QUIT.
final class TestSMTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let script: SMTPScript
    let tls: NIOSSLContext
    private var pending = ""

    init(script: SMTPScript, tls: NIOSSLContext) {
        self.script = script
        self.tls = tls
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context, script.greeting)
        if script.closeAfterGreeting { context.close(promise: nil) }
        context.fireChannelActive()
    }

    private func send(_ context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text + "\r\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readString(length: buffer.readableBytes) ?? ""
        while let range = pending.range(of: "\r\n") {
            let line = String(pending[..<range.lowerBound])
            pending.removeSubrange(..<range.upperBound)
            let verb = line.split(separator: " ").first.map { $0.uppercased() } ?? ""
            switch verb {
            case "EHLO":
                if script.closeOnEHLO { context.close(promise: nil); return }
                var lines = ["250-mx.a.test", "250-PIPELINING", "250-SIZE 10240000"]
                if script.offerSTARTTLS { lines.append("250-STARTTLS") }
                lines.append("250 ENHANCEDSTATUSCODES")
                send(context, lines.joined(separator: "\r\n"))
            case "STARTTLS":
                send(context, "220 2.0.0 Ready to start TLS")
                let handler = NIOSSLServerHandler(context: tls)
                try? context.pipeline.syncOperations.addHandler(handler, position: .first)
            case "QUIT":
                send(context, "221 2.0.0 Bye")
                context.close(promise: nil)
                return
            default:
                send(context, "502 5.5.2 Error: command not recognized")
            }
        }
    }
}

/// A DNS server for tests: answers from a table, or with canned bytes.
final class TestDNSHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let answer: @Sendable (_ id: UInt16, _ question: [UInt8], _ type: UInt16) -> [UInt8]?

    init(answer: @escaping @Sendable (UInt16, [UInt8], UInt16) -> [UInt8]?) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        guard bytes.count > 17 else { return }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        var end = 12
        while end < bytes.count && bytes[end] != 0 { end += Int(bytes[end]) + 1 }
        guard end + 4 < bytes.count else { return }
        let question = Array(bytes[12...(end + 4)])
        let type = UInt16(bytes[end + 1]) << 8 | UInt16(bytes[end + 2])
        guard let reply = answer(id, question, type) else { return }
        let out = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: context.channel.allocator.buffer(bytes: reply))
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }
}

final class TestDNSServer: Sendable {
    let channel: any Channel
    var server: String { "127.0.0.1:\(channel.localAddress?.port ?? 0)" }

    init(answer: @escaping @Sendable (UInt16, [UInt8], UInt16) -> [UInt8]?) async throws {
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TestDNSHandler(answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async { try? await channel.close() }
}

/// Builds DNS responses for the test server: header, the question echoed, then answers with compression.
enum DNSBuilder {
    static func response(id: UInt16, question: [UInt8], rcode: UInt8 = 0, truncated: Bool = false,
                         answers: [(type: UInt16, ttl: UInt32, rdata: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        func u16(_ v: UInt16) { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
        func u32(_ v: UInt32) { u16(UInt16(v >> 16)); u16(UInt16(v & 0xFFFF)) }
        u16(id)
        u16(0x8180 | (truncated ? 0x0200 : 0) | UInt16(rcode))
        u16(1); u16(UInt16(answers.count)); u16(0); u16(0)
        out += question
        for a in answers {
            out += [0xC0, 12]  // pointer to the question name
            u16(a.type); u16(1); u32(a.ttl); u16(UInt16(a.rdata.count))
            out += a.rdata
        }
        return out
    }

    static func name(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for label in text.split(separator: ".") { out.append(UInt8(label.utf8.count)); out += Array(label.utf8) }
        return out + [0]
    }
}
