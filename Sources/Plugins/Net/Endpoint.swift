import Engine
import Foundation
import NIOCore

/// Why a live probe stopped: the message is what the report shows as the check's error reason.
struct ProbeFailure: Error, CustomStringConvertible, Sendable {
    var message: String
    /// Set for a time limit that ran out, as opposed to something the peer did.
    var isTimeout: Bool
    init(_ message: String, timeout: Bool = false) {
        self.message = message
        self.isTimeout = timeout
    }
    var description: String { message }
}

/// An address to connect to, as the user wrote it: `ADDR:PORT`, `[v6]:PORT`, or a host name and port.
struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    /// `127.0.0.1:8443`, `[::1]:8443`, `mx.example.com:25`.
    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether `host` is an IPv4 or IPv6 literal (no SNI may be sent for it, no lookup is needed for it).
    var isIPLiteral: Bool { Self.isIPLiteral(host) }

    static func isIPLiteral(_ text: String) -> Bool {
        (try? SocketAddress(ipAddress: text, port: 0)) != nil
    }

    /// Parses `ADDR:PORT`; `defaultPort` applies when the text has no port.
    static func parse(_ text: String, defaultPort: Int? = nil, what: String = "connect") throws(ProbeFailure) -> Endpoint {
        let raw = text.trimmingCharacters(in: .whitespaces)
        guard !raw.isEmpty else { throw ProbeFailure("'\(what)' is empty; give ADDR:PORT") }
        var host: Substring
        var portText: Substring?
        if raw.hasPrefix("[") {
            guard let close = raw.firstIndex(of: "]") else { throw ProbeFailure("'\(raw)' has no closing ']'") }
            host = raw[raw.index(after: raw.startIndex)..<close]
            let rest = raw[raw.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw ProbeFailure("'\(raw)' must look like [ADDR]:PORT") }
                portText = rest.dropFirst()
            }
        } else if raw.filter({ $0 == ":" }).count > 1 {
            // A bare IPv6 address: no port unless bracketed.
            host = Substring(raw)
        } else if let colon = raw.lastIndex(of: ":") {
            host = raw[..<colon]
            portText = raw[raw.index(after: colon)...]
        } else {
            host = Substring(raw)
        }
        guard !host.isEmpty, host.count <= 253,
              host.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "/" && $0 != "@" })
        else { throw ProbeFailure("'\(raw)' is not a valid address for '\(what)'") }
        let port: Int
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw ProbeFailure("'\(raw)' has an invalid port; give ADDR:PORT with a port from 1 to 65535")
            }
            port = p
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw ProbeFailure("'\(raw)' has no port; give ADDR:PORT")
        }
        return Endpoint(host: String(host), port: port)
    }
}

/// Reading parameters the way playbooks and `kb probe --param` pass them (templates give strings).
extension Dictionary where Key == String, Value == ProbeValue {
    func string(_ name: String) -> String? {
        guard let v = self[name] else { return nil }
        let s = v.description.trimmingCharacters(in: .whitespaces)
        return s.isEmpty ? nil : s
    }

    func flag(_ name: String, default value: Bool) throws(ProbeFailure) -> Bool {
        guard let v = self[name] else { return value }
        if let b = v.boolValue { return b }
        switch v.description.lowercased() {
        case "yes", "1", "on": return true
        case "no", "0", "off": return false
        default: throw ProbeFailure("'\(name)' must be true or false, not '\(v.description)'")
        }
    }

    /// A list parameter; a string is split on commas, so `A,AAAA` and ["A", "AAAA"] mean the same.
    func list(_ name: String) -> [String]? {
        guard let v = self[name] else { return nil }
        let items: [String]
        switch v {
        case .list(let l): items = l.flatMap { $0.split(separator: ",").map(String.init) }
        default: items = v.description.split(separator: ",").map(String.init)
        }
        let trimmed = items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return trimmed
    }
}

enum Format {
    /// `5s`, `0.5s`, `250ms`.
    static func duration(_ d: Duration) -> String {
        let ms = Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        if ms < 1000 { return "\(ms)ms" }
        return String(format: "%.1fs", Double(ms) / 1000)
    }

    static func duration(_ t: TimeAmount) -> String { duration(Duration.nanoseconds(t.nanoseconds)) }

    /// Server text made safe to show, and cut to `limit` characters.
    static func serverText(_ text: String, limit: Int = 400) -> String {
        let clean = Sanitizer.neutralize(text)
        return clean.count > limit ? String(clean.prefix(limit)) + "…" : clean
    }

    /// Quotes a word for a shell command line when it needs it.
    static func shell(_ word: String) -> String {
        let safe = word.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "-_./:@,=[]%+".unicodeScalars.contains($0)
        }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func iso8601(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}

extension Error {
    /// The reason to report for a failure a probe caught.
    var reason: String { (self as? ProbeFailure)?.message ?? String(describing: self) }
}
