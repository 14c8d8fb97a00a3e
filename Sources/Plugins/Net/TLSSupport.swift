import Engine
import Foundation
import NIOCore
import NIOSSL
import NIOTLS
import X509

/// One certificate as kb reports it: read with swift-certificates, never trusted, always shown.
struct CertificateSummary: Sendable, Hashable {
    var subject: String
    var issuer: String
    /// DNS names and IP addresses of the subjectAltName extension, in order.
    var sans: [String]
    /// The subject's common name, used for coverage only when the certificate has no SAN at all.
    var commonName: String?
    var notBefore: Date
    var notAfter: Date
    var selfSigned: Bool

    init?(der: [UInt8]) {
        guard let cert = try? Certificate(derEncoded: der) else { return nil }
        subject = cert.subject.description
        issuer = cert.issuer.description
        notBefore = cert.notValidBefore
        notAfter = cert.notValidAfter
        selfSigned = cert.subject == cert.issuer
        var names: [String] = []
        if let sanExtension = try? cert.extensions.subjectAlternativeNames {
            for name in sanExtension {
                switch name {
                case .dnsName(let dns): names.append(dns)
                case .ipAddress(let octets):
                    if let text = Self.ipText(Array(octets.bytes)) { names.append(text) }
                default: continue
                }
            }
        }
        sans = names
        commonName = cert.subject.lazy.map { String(describing: $0) }
            .first { $0.hasPrefix("CN=") }.map { String($0.dropFirst(3)) }
    }

    static func ipText(_ bytes: [UInt8]) -> String? {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        guard bytes.count == 4 || bytes.count == 16,
              let address = try? SocketAddress(packedIPAddress: buffer, port: 0) else { return nil }
        return address.ipAddress
    }

    func validNow(_ now: Date = Date()) -> Bool { notBefore <= now && now <= notAfter }

    /// Whether a client checking `name` would accept this certificate's names (RFC 6125: SANs, a wildcard only as
    /// the whole left-most label; the common name only when there is no SAN).
    func covers(_ rawName: String) -> Bool {
        var name = rawName.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if Endpoint.isIPLiteral(name) {
            let normal = (try? SocketAddress(ipAddress: name, port: 0))?.ipAddress ?? name
            return sans.contains { $0 == normal }
        }
        let candidates = sans.isEmpty ? (commonName.map { [$0] } ?? []) : sans
        return candidates.contains { Self.matches(pattern: $0.lowercased(), name: name) }
    }

    static func matches(pattern: String, name: String) -> Bool {
        var pattern = pattern
        if pattern.hasSuffix(".") { pattern.removeLast() }
        if pattern == name { return true }
        guard pattern.hasPrefix("*.") else { return false }
        let suffix = pattern.dropFirst(1)   // ".example.com"
        guard name.hasSuffix(suffix) else { return false }
        let label = name.dropLast(suffix.count)
        return !label.isEmpty && !label.contains(".") && suffix.split(separator: ".").count >= 2
    }

    /// `CN=a.test; SANs a.test, *.a.test; issuer CN=kb test CA; valid 2026-01-01T00:00:00Z to 2027-01-01T00:00:00Z`.
    var line: String {
        let names = sans.isEmpty ? "no SAN" : "SANs " + sans.joined(separator: ", ")
        return "\(subject); \(names); issuer \(selfSigned ? "itself (self-signed)" : issuer); " +
            "valid \(Format.iso8601(notBefore)) to \(Format.iso8601(notAfter))"
    }
}

/// What one TLS handshake showed.
struct HandshakeInfo: Sendable {
    /// `TLSv1.3`, `TLSv1.2` …
    var version: String
    /// The ALPN protocol the server chose, or nil.
    var alpn: String?
    /// The chain as the server sent it, leaf first; empty when nothing could be read.
    var chain: [CertificateSummary]
    /// The SNI kb sent, or nil for none.
    var sni: String?

    var leaf: CertificateSummary? { chain.first }
}

/// Keeps the DER of the chain the server sent; filled in on the event loop by the verification callback.
final class ChainRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var ders: [[UInt8]] = []

    func record(_ certificates: [NIOSSLCertificate]) {
        let bytes = certificates.prefix(16).compactMap { try? $0.toDERBytes() }
        lock.lock()
        ders = bytes
        lock.unlock()
    }

    var chain: [CertificateSummary] {
        lock.lock()
        defer { lock.unlock() }
        return ders.compactMap { CertificateSummary(der: $0) }
    }
}

enum TLSSupport {
    /// A client context that accepts any certificate: kb reads the chain and judges it itself.
    static func context(alpn: [String]) throws(ProbeFailure) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([])
        configuration.minimumTLSVersion = .tlsv1
        configuration.applicationProtocols = alpn
        configuration.shutdownTimeout = .milliseconds(300)
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ProbeFailure("could not set up TLS: \(error)")
        }
    }

    /// A client handler that sends `sni` (none when nil) and records the chain instead of verifying it.
    static func handler(context: NIOSSLContext, sni: String?, recorder: ChainRecorder) throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: sni, customVerificationCallback: { certificates, promise in
            recorder.record(certificates)
            promise.succeed(.certificateVerified)
        })
    }

    /// Checks an SNI value before it goes on the wire: NIOSSL refuses IP literals, and so do real clients.
    static func sniValue(_ raw: String?) throws(ProbeFailure) -> String? {
        guard let raw, raw.lowercased() != "none", !raw.isEmpty else { return nil }
        guard !Endpoint.isIPLiteral(raw) else {
            throw ProbeFailure("'\(raw)' is an IP address, which is never sent as SNI; use sni=none to send none")
        }
        guard raw.utf8.count <= 253, raw.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ProbeFailure("'\(Format.serverText(raw, limit: 80))' is not a valid SNI host name")
        }
        return raw
    }

    static func versionName(_ version: TLSVersion?) -> String {
        switch version {
        case .tlsv1: return "TLSv1.0"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        case nil: return "unknown"
        }
    }
}

/// Fulfils a promise when the TLS handshake completes, or fails it with the reason it did not.
/// With `hold`, it keeps what the server sends after the handshake (HTTP/2 SETTINGS, say) until the
/// application handlers are in place and it is removed, so nothing reaches the pipeline's end unread.
final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let promise: EventLoopPromise<HandshakeInfo>
    let recorder: ChainRecorder
    let sni: String?
    let endpoint: Endpoint
    let hold: Bool
    private var held: [NIOAny] = []
    private var inactive = false

    init(promise: EventLoopPromise<HandshakeInfo>, recorder: ChainRecorder, sni: String?, endpoint: Endpoint, hold: Bool = false) {
        self.promise = promise
        self.recorder = recorder
        self.sni = sni
        self.endpoint = endpoint
        self.hold = hold
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if hold { held.append(data) } else { context.fireChannelRead(data) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !hold { context.fireChannelReadComplete() }
    }

    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        let pending = held
        held = []
        for data in pending { context.fireChannelRead(data) }
        if !pending.isEmpty { context.fireChannelReadComplete() }
        if inactive { context.fireChannelInactive() }
        context.leavePipeline(removalToken: removalToken)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = tls {
            let version = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).tlsVersion
            promise.succeed(HandshakeInfo(version: TLSSupport.versionName(version ?? nil), alpn: negotiated,
                                          chain: recorder.chain, sni: sni))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(ProbeFailure(LiveIO.describe(error, endpoint: endpoint, phase: "in the TLS handshake")))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ProbeFailure("\(endpoint) closed the connection during the TLS handshake" +
                                  (sni == nil ? " (no SNI was sent)" : " (SNI '\(sni!)')")))
        // Held data goes first; the close follows it when the waiter is removed.
        if hold && !held.isEmpty { inactive = true } else { context.fireChannelInactive() }
    }
}

enum TLSClient {
    /// Connects, does one handshake and closes: what `openssl s_client` shows, without verifying.
    static func handshake(_ endpoint: Endpoint, sni: String?, alpn: [String], group: any EventLoopGroup,
                          budget: Budget, byteLimit: Int) async -> Result<HandshakeInfo, ProbeFailure> {
        let sslContext: NIOSSLContext
        do { sslContext = try TLSSupport.context(alpn: alpn) } catch { return .failure(error) }
        let loop = group.next()
        let promise = loop.makePromise(of: HandshakeInfo.self)
        let recorder = ChainRecorder()
        let channel: any Channel
        do {
            channel = try await LiveIO.connect(endpoint, group: loop, budget: budget) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try TLSSupport.handler(context: sslContext, sni: sni, recorder: recorder)
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteLimitHandler(limit: byteLimit, endpoint: endpoint), tls,
                        HandshakeWaiter(promise: promise, recorder: recorder, sni: sni, endpoint: endpoint),
                    ])
                }
            }
        } catch {
            promise.fail(error)
            return .failure(error)
        }
        defer { channel.close(promise: nil) }
        do {
            let info = try await LiveIO.wait(promise.futureResult,
                                             budget.read("waiting for the TLS handshake with \(endpoint)"),
                                             closing: channel)
            return .success(info)
        } catch {
            return .failure(ProbeFailure(LiveIO.describe(error, endpoint: endpoint, phase: "in the TLS handshake")))
        }
    }
}
