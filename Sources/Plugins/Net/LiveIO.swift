import Engine
import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// The key under which a caller may pass a shared `EventLoopGroup` in `ProbeContext.services`.
public let eventLoopGroupServiceKey = "eventLoopGroup"

/// What a probe may spend: the time it has left (every wait is the read timeout or what remains of the total,
/// whichever is less), and the places it may contact. It is made only from a `ProbeContext`, and every socket
/// is opened by `LiveIO` with one, so no probe can reach a destination the run's `ContactPolicy` refuses.
struct Budget: Sendable {
    let timeouts: Timeouts
    let end: NIODeadline
    let contacts: ContactPolicy
    let requester: String

    init(_ context: ProbeContext) {
        self.timeouts = context.timeouts
        self.end = .now() + TimeAmount(context.timeouts.total)
        self.contacts = context.contacts
        self.requester = context.requester
    }

    /// Throws the refusal when the policy does not allow `contact`; called before any socket is opened.
    func permit(_ contact: ContactPolicy.Contact) throws(ProbeFailure) {
        if let refusal = contacts.refusal(contact, by: requester) { throw ProbeFailure(refusal) }
    }

    /// The timeout for one wait, and the message to give when it runs out.
    func limit(_ phase: Duration, _ what: String) -> (TimeAmount, String) {
        let remaining = end - .now()
        let wanted = TimeAmount(phase)
        if remaining < wanted {
            return (max(remaining, .milliseconds(1)),
                    "timed out: the total limit of \(Format.duration(timeouts.total)) ran out \(what)")
        }
        return (wanted, "timed out after \(Format.duration(phase)) \(what)")
    }

    func read(_ what: String) -> (TimeAmount, String) { limit(timeouts.read, what) }
    func connect(_ what: String) -> (TimeAmount, String) { limit(timeouts.connect, what) }
}

enum LiveIO {
    /// Runs `body` with the shared event loop group from the context, or with one of its own that it shuts down after.
    static func withGroup<T: Sendable>(_ context: ProbeContext,
                                       _ body: (any EventLoopGroup) async -> T) async -> T {
        if let shared = context.services[eventLoopGroupServiceKey] as? any EventLoopGroup {
            return await body(shared)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let result = await body(group)
        try? await group.shutdownGracefully()
        return result
    }

    /// Waits for `future` at most `limit.0`; on time-out it fails with `limit.1` and closes `channel`.
    static func wait<T: Sendable>(_ future: EventLoopFuture<T>, _ limit: (TimeAmount, String),
                                  closing channel: (any Channel)?) async throws -> T {
        let loop = future.eventLoop
        let promise = loop.makePromise(of: T.self)
        let message = limit.1
        let timer = loop.scheduleTask(in: limit.0) {
            promise.fail(ProbeFailure(message, timeout: true))
            channel?.close(promise: nil)
        }
        future.whenComplete { result in
            timer.cancel()
            promise.completeWith(result)
        }
        return try await promise.futureResult.get()
    }

    /// Connects a TCP channel, with the connect timeout, and maps failures to readable reasons.
    /// The one place kb opens a TCP connection: the budget's policy is asked first.
    static func connect(_ endpoint: Endpoint, group: any EventLoopGroup, budget: Budget,
                        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>)
        async throws(ProbeFailure) -> any Channel {
        try budget.permit(.connect(host: endpoint.host, port: endpoint.port))
        let (timeout, _) = budget.connect("")
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer(initializer)
        do {
            if let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) {
                return try await bootstrap.connect(to: address).get()
            }
            return try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw ProbeFailure(describe(error, endpoint: endpoint, phase: "connecting", timeout: timeout))
        }
    }

    /// Opens a UDP socket for questions to one DNS server. The one place kb sends a DNS query of its own: the
    /// budget's policy is asked about the server and the name first. `system` says the server came from
    /// /etc/resolv.conf rather than from a parameter.
    static func dnsSocket(to server: SocketAddress, endpoint: Endpoint, name: String, system: Bool, loop: any EventLoop,
                          budget: Budget, handler: @escaping @Sendable () -> any ChannelHandler)
        async throws(ProbeFailure) -> any Channel {
        try budget.permit(system ? .systemResolver(host: endpoint.host, port: endpoint.port)
                                 : .dnsServer(host: endpoint.host, port: endpoint.port))
        try budget.permit(.lookup(name))
        do {
            return try await DatagramBootstrap(group: loop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(handler())
                    }
                }
                .bind(host: server.protocol == .inet6 ? "::" : "0.0.0.0", port: 0).get()
        } catch {
            throw ProbeFailure("could not open a UDP socket for DNS: \(error)")
        }
    }

    /// A reason a person can act on: what happened, with whom, and while doing what.
    static func describe(_ error: any Error, endpoint: Endpoint, phase: String, timeout: TimeAmount? = nil) -> String {
        if let failure = error as? ProbeFailure { return failure.message }
        if let channelError = error as? ChannelError {
            switch channelError {
            case .connectTimeout(let t):
                return "timed out after \(Format.duration(t)) connecting to \(endpoint)"
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed:
                return "\(endpoint) closed the connection while \(phase)"
            default:
                return "connection to \(endpoint) failed while \(phase): \(channelError)"
            }
        }
        if let connectionError = error as? NIOConnectionError {
            if let dns = connectionError.dnsAAAAError ?? connectionError.dnsAError {
                return "could not resolve '\(endpoint.host)': \(dns)"
            }
            if let first = connectionError.connectionErrors.first {
                return describe(first.error, endpoint: endpoint, phase: phase, timeout: timeout)
            }
            return "could not connect to \(endpoint): no address for '\(endpoint.host)'"
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused by \(endpoint)"
            case ECONNRESET: return "connection reset by \(endpoint) while \(phase)"
            case ETIMEDOUT: return "timed out \(phase) \(endpoint)"
            case ENETUNREACH, EHOSTUNREACH: return "no route to \(endpoint)"
            case EPIPE: return "\(endpoint) closed the connection while \(phase)"
            default: return "network error with \(endpoint) while \(phase): \(io.description)"
            }
        }
        if let ssl = error as? NIOSSLError {
            switch ssl {
            case .handshakeFailed(let inner):
                return "TLS handshake with \(endpoint) failed: \(Format.serverText(String(describing: inner), limit: 300))"
            case .uncleanShutdown:
                return "\(endpoint) closed the connection without a TLS close_notify while \(phase)"
            default:
                return "TLS error with \(endpoint) while \(phase): \(ssl)"
            }
        }
        if let extra = error as? NIOSSLExtraError {
            return "TLS error with \(endpoint) while \(phase): \(extra)"
        }
        if let parser = error as? HTTPParserError {
            return "\(endpoint) sent an invalid HTTP response while \(phase): \(parser)"
        }
        if error is NIOHTTP2Errors.StreamClosed {
            return "\(endpoint) reset the HTTP/2 stream while \(phase)"
        }
        if error is any NIOHTTP2Error {
            return "HTTP/2 error with \(endpoint) while \(phase): \(Format.serverText(String(describing: error), limit: 300))"
        }
        return "error with \(endpoint) while \(phase): \(Format.serverText(String(describing: error), limit: 300))"
    }
}

/// Counts every byte the peer sends; past the limit it stops reading and fails the channel, so a peer
/// that sends megabytes of headers or endless lines costs at most the limit in memory.
final class ByteLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let limit: Int
    let endpoint: Endpoint
    private(set) var count = 0
    private var tripped = false

    init(limit: Int, endpoint: Endpoint) {
        self.limit = limit
        self.endpoint = endpoint
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !tripped else { return }
        let buffer = unwrapInboundIn(data)
        count += buffer.readableBytes
        if count > limit {
            tripped = true
            context.fireErrorCaught(ProbeFailure("\(endpoint) sent more than the byte limit of \(limit) bytes; stopped reading"))
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
