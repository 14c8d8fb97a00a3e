import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where live probes may send packets during one run.
///
/// Playbooks come from other teams and probes follow redirects, so nothing that a playbook or a server says
/// can widen this: the CLI builds it from what the user named (the target, its resolved addresses, `--resolve`
/// pins, `--origin`, `--dns-server`) and the connection layer asks it before any socket is opened.
///
/// - Endpoints are an address (or a host name resolved by the system resolver) with a port; any other port
///   of an allowed address is another service and is refused.
/// - DNS questions go to the system resolver or to a `--dns-server`, and only for a name the user named or a
///   name under one (`_dmarc.example.com` for `smtp://example.com`); parent domains are not allowed, since kb
///   cannot tell `example.com` from `co.uk` without the public suffix list.
/// - SNI, Host and `:authority` are not destinations: they go only to an allowed endpoint, so any value is fine.
public struct ContactPolicy: Sendable, Hashable {
    /// A host (canonical IP literal or lowercase name without a final dot) and a port.
    public struct Destination: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(_ host: String, port: Int) {
            self.host = ContactPolicy.canonical(host)
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        public static func < (a: Destination, b: Destination) -> Bool {
            a.host != b.host ? a.host < b.host : a.port < b.port
        }
    }

    /// What a probe is about to do, for `refusal(_:by:)`.
    public enum Contact: Sendable, Hashable {
        /// A TCP connection to an address or a host name (resolved by the system resolver).
        case connect(host: String, port: Int)
        /// A DNS query sent to this server.
        case dnsServer(host: String, port: Int)
        /// A DNS query sent to the system resolver, i.e. the nameservers of /etc/resolv.conf.
        case systemResolver(host: String, port: Int)
        /// A name a DNS query asks about.
        case lookup(String)
    }

    /// TCP endpoints a probe may connect to.
    public private(set) var endpoints: Set<Destination> = []
    /// Names that may be looked up, each with everything under it.
    public private(set) var names: Set<String> = []
    /// DNS servers the user named with `--dns-server`.
    public private(set) var dnsServers: [Destination] = []
    /// Whether the system resolver's nameservers may be asked (not when the user named a DNS server).
    public private(set) var systemResolver = false
    /// Tests and benchmarks only: any port on 127.0.0.0/8 and ::1, any name asked of a loopback server named
    /// explicitly (never the system resolver, which may forward off the machine).
    public private(set) var loopbackOnly = false

    /// Nothing at all: offline runs, and any context built without a policy.
    public init() {}

    /// Nothing leaves the machine: any loopback port, lookups only at loopback DNS servers. For tests.
    public static let loopback: ContactPolicy = {
        var policy = ContactPolicy()
        policy.loopbackOnly = true
        return policy
    }()

    /// What a `kb diagnose --target` names: the target's host and port (by name unless a pin gives its address),
    /// every `--resolve` pin, `--origin`, and the DNS servers (the user's, else the system resolver).
    public static func named(by target: Target, dnsServers: [Destination] = []) -> ContactPolicy {
        var policy = ContactPolicy()
        policy.allowLookups(under: target.host)
        if let pinned = target.pinnedAddress {
            policy.allow(pinned, port: target.port)
        } else {
            policy.allow(target.host, port: target.port)
        }
        for pin in target.resolve {
            let parts = pin.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count == 3, let port = Int(parts[1]) else { continue }
            policy.allowLookups(under: parts[0])
            policy.allow(parts[2], port: port)
        }
        if let origin = target.origin, let destination = Self.parse(origin, defaultPort: 443) {
            policy.allow(destination.host, port: destination.port)
            if !Self.isIPLiteral(destination.host) { policy.allowLookups(under: destination.host) }
        }
        policy.useDNSServers(dnsServers)
        return policy
    }

    /// Allows one endpoint; a host name is resolved by the system resolver when a probe connects to it.
    public mutating func allow(_ host: String, port: Int) {
        endpoints.insert(Destination(host, port: port))
    }

    /// Allows DNS questions about `name` and every name under it.
    public mutating func allowLookups(under name: String) {
        let n = Self.canonical(name)
        guard !n.isEmpty, !Self.isIPLiteral(n) else { return }
        names.insert(n)
    }

    /// The target's mail hosts (its MX) for `smtp://domain`: each by name, its addresses, on the target's port.
    public mutating func allowMailHost(_ name: String, addresses: [String], port: Int) {
        allowLookups(under: name)
        allow(name, port: port)
        for address in addresses { allow(address, port: port) }
    }

    /// The DNS servers the user named; without any, the system resolver.
    public mutating func useDNSServers(_ servers: [Destination]) {
        dnsServers = servers
        systemResolver = servers.isEmpty
    }

    /// Why `contact` is refused, as the check's error; nil when it is allowed.
    /// `requester` says who asked: "check 'live-target'", "kb probe".
    public func refusal(_ contact: Contact, by requester: String) -> String? {
        switch contact {
        case .connect(let host, let port):
            let d = Destination(host, port: port)
            if endpoints.contains(d) || (loopbackOnly && Self.isLoopback(d.host)) { return nil }
            return "\(requester) wants to contact '\(Sanitizer.neutralize(d.description))', "
                + "which was not named on the command line"
        case .dnsServer(let host, let port):
            let d = Destination(host, port: port)
            if dnsServers.contains(d) || (loopbackOnly && Self.isLoopback(d.host)) { return nil }
            return "\(requester) wants to contact the DNS server '\(Sanitizer.neutralize(d.description))', "
                + "which was not named on the command line (name one with --dns-server)"
        case .systemResolver(let host, let port):
            let d = Destination(host, port: port)
            if systemResolver || dnsServers.contains(d) { return nil }
            // The system resolver is refused when the user named DNS servers, or when nothing may be contacted.
            return "\(requester) wants to contact the DNS server '\(Sanitizer.neutralize(d.description))', "
                + "which was not named on the command line"
                + (dnsServers.isEmpty ? ""
                    : " (--dns-server names " + dnsServers.map { "'\($0)'" }.joined(separator: ", ") + ")")
        case .lookup(let name):
            let n = Self.canonical(name)
            if Self.isIPLiteral(n) || loopbackOnly || Self.isUnder(n, names) { return nil }
            return "\(requester) wants to look up '\(Sanitizer.neutralize(n))', which was not named on the command line "
                + "and is not under a name that was"
        }
    }

    /// Whether `name` is one of `roots` or under one of them.
    static func isUnder(_ name: String, _ roots: Set<String>) -> Bool {
        if roots.contains(name) { return true }
        var rest = Substring(name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            if roots.contains(String(rest)) { return true }
        }
        return false
    }

    /// `ADDR:PORT`, `[v6]:PORT` or `name:PORT`; nil when it has no valid form.
    public static func parse(_ text: String, defaultPort: Int?) -> Destination? {
        var host = Substring(text)
        var port = defaultPort
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") { port = Int(rest.dropFirst()) } else if !rest.isEmpty { return nil }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.lastIndex(of: ":") {
            port = Int(host[host.index(after: colon)...])
            host = host[..<colon]
        }
        guard let port, (1...65535).contains(port), !host.isEmpty else { return nil }
        return Destination(String(host), port: port)
    }

    /// The one spelling of an address or name, so `::1`, `0:0::1` and `[::1]` compare equal, as do `A.b.` and `a.b`.
    public static func canonical(_ host: String) -> String {
        var h = host.trimmingCharacters(in: .whitespaces)
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if let ip = canonicalIP(h) { return ip }
        h = h.lowercased()
        while h.hasSuffix(".") { h.removeLast() }
        return h
    }

    public static func isIPLiteral(_ host: String) -> Bool { canonicalIP(host) != nil }

    static func canonicalIP(_ text: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }

    /// 127.0.0.0/8, ::1 and `localhost`.
    static func isLoopback(_ canonicalHost: String) -> Bool {
        canonicalHost == "::1" || canonicalHost == "localhost"
            || (canonicalHost.hasPrefix("127.") && canonicalIP(canonicalHost) == canonicalHost)
    }
}
