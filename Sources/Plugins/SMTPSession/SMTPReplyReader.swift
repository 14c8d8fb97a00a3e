import Engine
import Foundation
import NIOCore

/// One SMTP reply: the code, the lines' texts joined, and the enhanced code when the text starts with one.
struct SMTPWireReply: Sendable {
    var code: Int
    var lines: [String]

    var text: String { lines.joined(separator: " ") }

    /// RFC 3463 `class.subject.detail` at the start of the first line, e.g. `4.7.0`.
    var enhanced: String? {
        guard let first = lines.first else { return nil }
        let word = first.prefix { $0 != " " }
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let c = parts[0].first, "245".contains(c), parts[0].count == 1,
              parts[1].count <= 3, parts[2].count <= 3,
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        return String(word)
    }

    /// The reply as the server sent it, one line per line: `250-a` … `250 z`.
    var wire: String {
        lines.enumerated().map { i, line in "\(code)\(i == lines.count - 1 ? " " : "-")\(line)" }.joined(separator: "\n")
    }
}

/// Splits the byte stream into SMTP replies, within limits on line length, lines per reply and bytes in all.
/// Replies queue up until the probe asks for the next one.
final class SMTPReplyReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    static let maxLineLength = 4096
    static let maxLinesPerReply = 512

    let endpoint: Endpoint
    private var buffer = ByteBuffer()
    private var lines: [String] = []
    private var code: Int?
    private var ready: [SMTPWireReply] = []
    private var waiting: [EventLoopPromise<SMTPWireReply>] = []
    /// Set once the peer closed, reset or broke a limit; every later wait fails with it.
    private(set) var failure: ProbeFailure?
    private(set) var closedByPeer = false

    init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    /// The next reply: one already read, or the promise is kept until it arrives.
    func next(_ promise: EventLoopPromise<SMTPWireReply>) {
        if !ready.isEmpty {
            promise.succeed(ready.removeFirst())
        } else if let failure {
            promise.fail(failure)
        } else {
            waiting.append(promise)
        }
    }

    /// Forgets bytes and replies read ahead: after STARTTLS nothing sent before the handshake may count (RFC 3207).
    func discardReadAhead() -> Int {
        let dropped = buffer.readableBytes + ready.count
        buffer.clear()
        ready.removeAll()
        lines.removeAll()
        code = nil
        return dropped
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while failure == nil, let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex
            guard var line = buffer.readString(length: length) else { break }
            buffer.moveReaderIndex(forwardBy: 1)
            if line.hasSuffix("\r") { line.removeLast() }
            consume(line, context: context)
        }
        if failure == nil, buffer.readableBytes > Self.maxLineLength {
            fail(ProbeFailure("\(endpoint) sent a line longer than \(Self.maxLineLength) bytes"), context: context)
        }
        buffer.discardReadBytes()
    }

    private func consume(_ raw: String, context: ChannelHandlerContext) {
        guard raw.utf8.count <= Self.maxLineLength else {
            fail(ProbeFailure("\(endpoint) sent a line longer than \(Self.maxLineLength) bytes"), context: context)
            return
        }
        let scalars = Array(raw.utf8)
        guard scalars.count >= 3, let lineCode = Int(String(decoding: scalars[0..<3], as: UTF8.self)),
              (200...599).contains(lineCode), scalars.count == 3 || scalars[3] == UInt8(ascii: " ") || scalars[3] == UInt8(ascii: "-")
        else {
            fail(ProbeFailure("\(endpoint) sent a line that is not an SMTP reply: '\(Format.serverText(raw, limit: 120))'"),
                 context: context)
            return
        }
        if let code, code != lineCode {
            fail(ProbeFailure("\(endpoint) changed the reply code within a multi-line reply (\(code) then \(lineCode))"),
                 context: context)
            return
        }
        code = lineCode
        lines.append(scalars.count > 4 ? String(raw.dropFirst(4)) : "")
        let last = scalars.count == 3 || scalars[3] == UInt8(ascii: " ")
        if !last {
            if lines.count >= Self.maxLinesPerReply {
                fail(ProbeFailure("\(endpoint) sent more than \(Self.maxLinesPerReply) continuation lines in one reply; stopped reading"),
                     context: context)
            }
            return
        }
        let reply = SMTPWireReply(code: lineCode, lines: lines)
        lines = []
        code = nil
        if !waiting.isEmpty {
            waiting.removeFirst().succeed(reply)
        } else if ready.count < 16 {
            ready.append(reply)
        } else {
            fail(ProbeFailure("\(endpoint) sent replies nobody asked for; stopped reading"), context: context)
        }
    }

    private func fail(_ error: ProbeFailure, context: ChannelHandlerContext?) {
        if failure == nil { failure = error }
        let pending = waiting
        waiting = []
        for promise in pending { promise.fail(failure!) }
        context?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(ProbeFailure(LiveIO.describe(error, endpoint: endpoint, phase: "reading an SMTP reply")), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if failure == nil { closedByPeer = true }
        fail(ProbeFailure("\(endpoint) closed the connection"), context: nil)
        context.fireChannelInactive()
    }
}
