/// The DNS response parser of `dns.lookup`, reachable from outside the module.
///
/// Public only so that the fuzz target in bench/fuzz and tests can feed `DNSWire.parse` arbitrary packets
/// (release builds cannot use `@testable import`); the probe calls `DNSWire.parse` itself.
public enum DNSWireText {
    /// The response as text: the rcode name, then one `name type ttl data` line per answer; or the parse error.
    public static func describe(_ packet: [UInt8]) -> Result<[String], any Error> {
        do {
            let response = try DNSWire.parse(packet)
            return .success([response.rcodeName]
                + response.answers.map { "\($0.name) \($0.type) \($0.ttl) \($0.data)" })
        } catch {
            return .failure(error)
        }
    }
}
