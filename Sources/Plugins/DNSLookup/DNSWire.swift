import Foundation
import NIOCore

/// The DNS record types kb asks for.
enum DNSType: UInt16, Sendable, CaseIterable {
    case a = 1, cname = 5, mx = 15, txt = 16, aaaa = 28, opt = 41

    var name: String {
        switch self {
        case .a: return "A"
        case .cname: return "CNAME"
        case .mx: return "MX"
        case .txt: return "TXT"
        case .aaaa: return "AAAA"
        case .opt: return "OPT"
        }
    }

    static let queryable: [DNSType] = [.a, .aaaa, .cname, .mx, .txt]

    init?(name: String) {
        guard let t = Self.queryable.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = t
    }
}

/// One answer record, with its data already in text form (`192.0.2.1`, `10 mx.example.`, `"v=spf1 -all"`).
struct DNSRecord: Sendable, Hashable {
    var name: String
    var type: UInt16
    var ttl: UInt32
    var data: String
}

/// A parsed response: what kb needs of the header and the answer section.
struct DNSResponse: Sendable {
    var id: UInt16
    var rcode: Int
    var truncated: Bool
    var authoritative: Bool
    var answers: [DNSRecord]

    var rcodeName: String { DNSWire.rcodeName(rcode) }
}

struct DNSWireError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// RFC 1035 wire format: queries out, responses in, with every loop bounded.
enum DNSWire {
    static let maxPointerHops = 16
    static let maxAnswers = 256
    static let maxNameLength = 255

    static func rcodeName(_ code: Int) -> String {
        switch code {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        default: return "RCODE\(code)"
        }
    }

    /// Checks a name before it goes into a query: labels of 1–63 bytes, 253 in all, letters, digits, '-' and '_'.
    static func validate(_ raw: String) throws(DNSWireError) -> String {
        var name = raw.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { throw DNSWireError("'\(raw)' is not a valid DNS name (length)") }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...63).contains(label.utf8.count) else {
                throw DNSWireError("'\(raw)' is not a valid DNS name (empty or over-long label)")
            }
            guard label.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
            else { throw DNSWireError("'\(raw)' is not a valid DNS name (characters)") }
        }
        return name
    }

    /// A recursive query for one name and type, with an EDNS(0) OPT record offering 1232-byte answers.
    static func query(id: UInt16, name: String, type: DNSType) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(id)
        buffer.writeInteger(UInt16(0x0100))   // RD
        buffer.writeInteger(UInt16(1))        // QDCOUNT
        buffer.writeInteger(UInt16(0))        // ANCOUNT
        buffer.writeInteger(UInt16(0))        // NSCOUNT
        buffer.writeInteger(UInt16(1))        // ARCOUNT: OPT
        for label in name.split(separator: ".") {
            buffer.writeInteger(UInt8(label.utf8.count))
            buffer.writeString(String(label))
        }
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(1))        // IN
        // OPT: root name, type 41, class = UDP payload size, TTL = extended rcode/flags, no data.
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(DNSType.opt.rawValue)
        buffer.writeInteger(UInt16(1232))
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(UInt16(0))
        return buffer
    }

    static func parse(_ bytes: [UInt8]) throws(DNSWireError) -> DNSResponse {
        var reader = Reader(bytes: bytes)
        let id = try reader.u16()
        let flags = try reader.u16()
        guard flags & 0x8000 != 0 else { throw DNSWireError("the packet is a query, not a response") }
        let qd = Int(try reader.u16())
        let an = Int(try reader.u16())
        _ = try reader.u16()
        _ = try reader.u16()
        guard qd <= 4 else { throw DNSWireError("the response has \(qd) questions") }
        for _ in 0..<qd {
            _ = try reader.name()
            _ = try reader.u16()
            _ = try reader.u16()
        }
        var answers: [DNSRecord] = []
        for _ in 0..<min(an, maxAnswers) {
            let name = try reader.name()
            let type = try reader.u16()
            _ = try reader.u16()
            let ttl = try reader.u32()
            let length = Int(try reader.u16())
            let start = reader.offset
            guard start + length <= bytes.count else { throw DNSWireError("a record runs past the end of the packet") }
            let data: String
            switch DNSType(rawValue: type) {
            case .a?:
                guard length == 4 else { throw DNSWireError("an A record has \(length) bytes") }
                data = bytes[start..<start + 4].map(String.init).joined(separator: ".")
            case .aaaa?:
                guard length == 16 else { throw DNSWireError("an AAAA record has \(length) bytes") }
                data = ipv6Text(Array(bytes[start..<start + 16]))
            case .cname?:
                data = try reader.name()
            case .mx?:
                let preference = try reader.u16()
                data = "\(preference) \(try reader.name())"
            case .txt?:
                var parts: [String] = []
                var i = start
                while i < start + length {
                    let n = Int(bytes[i])
                    guard i + 1 + n <= start + length else { throw DNSWireError("a TXT string runs past its record") }
                    parts.append(String(decoding: bytes[(i + 1)..<(i + 1 + n)], as: UTF8.self))
                    i += 1 + n
                }
                data = parts.joined()
            default:
                data = ""
            }
            reader.offset = start + length
            answers.append(DNSRecord(name: name, type: type, ttl: ttl, data: data))
        }
        return DNSResponse(id: id, rcode: Int(flags & 0x000F), truncated: flags & 0x0200 != 0,
                           authoritative: flags & 0x0400 != 0, answers: answers)
    }

    /// RFC 5952 text for an IPv6 address: lower case, the longest run of zero groups (two or more) as `::`.
    static func ipv6Text(_ bytes: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var out = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                out += i == 0 ? "::" : ":"
                i += bestLength
                continue
            }
            out += String(groups[i], radix: 16)
            if i < 7 { out += ":" }
            i += 1
        }
        return out
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func u8() throws(DNSWireError) -> UInt8 {
            guard offset < bytes.count else { throw DNSWireError("the packet ends early") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() throws(DNSWireError) -> UInt16 {
            UInt16(try u8()) << 8 | UInt16(try u8())
        }

        mutating func u32() throws(DNSWireError) -> UInt32 {
            UInt32(try u16()) << 16 | UInt32(try u16())
        }

        /// A possibly compressed name; pointers are followed at most `maxPointerHops` times and only backwards.
        mutating func name() throws(DNSWireError) -> String {
            var labels: [String] = []
            var position = offset
            var jumped = false
            var hops = 0
            var total = 0
            while true {
                guard position < bytes.count else { throw DNSWireError("a name runs past the end of the packet") }
                let length = Int(bytes[position])
                if length & 0xC0 == 0xC0 {
                    guard position + 1 < bytes.count else { throw DNSWireError("a name pointer is cut off") }
                    let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                    hops += 1
                    guard hops <= DNSWire.maxPointerHops, target < position else {
                        throw DNSWireError("a name has a pointer loop")
                    }
                    if !jumped { offset = position + 2 }
                    jumped = true
                    position = target
                    continue
                }
                guard length & 0xC0 == 0 else { throw DNSWireError("a name has an unknown label type") }
                if length == 0 {
                    if !jumped { offset = position + 1 }
                    break
                }
                guard position + 1 + length <= bytes.count else { throw DNSWireError("a label runs past the end of the packet") }
                total += length + 1
                guard total <= DNSWire.maxNameLength else { throw DNSWireError("a name is longer than 255 bytes") }
                labels.append(String(decoding: bytes[(position + 1)..<(position + 1 + length)], as: UTF8.self))
                position += 1 + length
            }
            return labels.joined(separator: ".") + "."
        }
    }
}
