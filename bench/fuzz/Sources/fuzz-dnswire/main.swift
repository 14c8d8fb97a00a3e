// libFuzzer target: the DNS response parser of `dns.lookup` (RFC 1035 names with compression pointers,
// A, AAAA, CNAME, MX, TXT records) on arbitrary packets, through `DNSWireText`.
import Plugins

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let packet = Array(UnsafeRawBufferPointer(start: start, count: count))
    _ = DNSWireText.describe(packet)
    return 0
}
