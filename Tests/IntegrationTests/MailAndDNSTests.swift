import Engine
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Plugins

/// Postfix with a private configuration on a loopback port, run by its own master in the foreground.
final class PostfixServer: @unchecked Sendable {
    let dir: TempDir
    let port: Int
    private(set) var master: ServerProcess?

    init() throws {
        _ = try ServerBinary.postfix.require()
        _ = try ServerBinary.postfixMaster.require()
        dir = try TempDir("postfix")
        port = try Harness.freePort()
    }

    func start() async throws {
        let postfix = try ServerBinary.postfix.require()
        let masterBinary = try ServerBinary.postfixMaster.require()
        let d = dir.path
        try dir.mkdir("conf")
        try dir.mkdir("queue")
        try dir.mkdir("data")
        _ = try Harness.run("/bin/chown", ["postfix", dir.file("data")])
        try Harness.certificate(dir, "conf/mx", names: ["mx.kb.test"])
        try dir.write("conf/main.cf", """
            compatibility_level = 3.6
            queue_directory = \(d)/queue
            data_directory = \(d)/data
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = mx.kb.test
            mydestination =
            alias_maps =
            alias_database =
            local_recipient_maps =
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            maillog_file_prefixes = /tmp, /var
            maillog_file = \(d)/maillog
            # One connection per client; loopback is in $mynetworks, which is exempt by default, so no exceptions.
            smtpd_client_connection_count_limit = 1
            smtpd_client_event_limit_exceptions =
            smtpd_tls_security_level = may
            smtpd_tls_chain_files = \(d)/conf/mx.key, \(d)/conf/mx.pem
            smtpd_banner = $myhostname ESMTP kb-test

            """)
        try dir.write("conf/master.cf", """
            127.0.0.1:\(port) inet n - n - - smtpd
            anvil     unix  -       -       n       -       1       anvil
            tlsmgr    unix  -       -       n       1000?   1       tlsmgr
            proxymap  unix  -       -       n       -       -       proxymap
            postlog   unix-dgram n  -       n       -       1       postlogd

            """)
        // `postfix check` creates the queue's subdirectories with the right owners.
        let (status, output) = try Harness.run(postfix, ["-c", dir.file("conf"), "check"])
        guard status == 0 else { throw HarnessError("postfix check failed (\(status)): \(output) \(dir.read("maillog"))") }
        master = try ServerProcess("postfix master", masterBinary, ["-c", dir.file("conf"), "-d"], log: dir.file("master.out"))
        try await Harness.waitForPorts([port], processes: [master!])
    }

    func remove() {
        master?.stop()
        dir.remove()
    }

    deinit { master?.stop() }
}

/// dnsmasq answering for test names only, on a loopback port, without reading resolv.conf or /etc/hosts.
final class DnsmasqServer: @unchecked Sendable {
    let dir: TempDir
    let port: Int
    private(set) var process: ServerProcess?

    init() throws {
        _ = try ServerBinary.dnsmasq.require()
        dir = try TempDir("dns")
        port = try Harness.freePort()
    }

    func start() async throws {
        let binary = try ServerBinary.dnsmasq.require()
        process = try ServerProcess("dnsmasq", binary, [
            "--no-daemon", "--conf-file=/dev/null", "--port=\(port)", "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--no-poll", "--pid-file=\(dir.file("dnsmasq.pid"))", "--user=root",
            "--host-record=shop.kb.test,192.0.2.10,2001:db8::10",
            "--host-record=v4only.kb.test,192.0.2.11",
            "--cname=www.kb.test,shop.kb.test",
            "--mx-host=kb.test,mx.kb.test,10",
            "--txt-record=kb.test,v=spf1 -all",
            "--local-ttl=300",
        ], log: dir.file("dnsmasq.out"))
        // dnsmasq is ready when it answers.
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let outcome = await DNSLookupProbe().run(["name": .string("shop.kb.test"), "type": .string("A"),
                                                      "server": .string("127.0.0.1:\(port)")],
                                                     context: Harness.context(read: .milliseconds(300), total: .seconds(1)))
            if outcome.error == nil { return }
            if let p = process, !p.running { throw HarnessError("dnsmasq exited: \(dir.read("dnsmasq.out"))") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("dnsmasq did not answer within 15s: \(dir.read("dnsmasq.out"))")
    }

    func remove() {
        process?.stop()
        dir.remove()
    }

    deinit { process?.stop() }
}

/// A TCP connection the test holds open, as another client of the server would.
final class HeldConnection: @unchecked Sendable {
    let fd: Int32
    let greeting: String

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { close(fd); throw HarnessError("cannot connect to 127.0.0.1:\(port)") }
        // Generous: on a loaded machine Postfix may take a while to spawn smtpd; a hang detector, not a timing test.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buffer, buffer.count)
        greeting = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    func release() { close(fd) }
}

@Suite("Postfix and dnsmasq", .serialized)
struct MailAndDNSTests {
    @Test func postfixRefusesASecondConnectionWith421() async throws {
        let server = try PostfixServer()
        defer { server.remove() }
        try await server.start()
        let connect: [String: ProbeValue] = ["connect": .string("127.0.0.1:\(server.port)")]

        // Alone, the session is healthy: banner, EHLO with STARTTLS, TLS, QUIT.
        let healthy = await SMTPSessionProbe().run(connect, context: Harness.context())
        #expect(healthy.error == nil, "\(healthy.error ?? "")")
        #expect(healthy.observations["banner_code"]?.description == "220")
        #expect(healthy.observations["code"]?.description == "221")
        #expect(healthy.observations["starttls"]?.description == "true")
        #expect(healthy.observations["tls_subject"]?.description == "CN=mx.kb.test")
        #expect(healthy.observations["capabilities"]?.description.contains("ENHANCEDSTATUSCODES") == true)

        // While the test holds one connection, anvil counts two and smtpd answers the real 421.
        let held = try HeldConnection(port: server.port)
        defer { held.release() }
        #expect(held.greeting.hasPrefix("220 mx.kb.test ESMTP"))
        let refused = await SMTPSessionProbe().run(connect, context: Harness.context())
        #expect(refused.error == nil, "\(refused.error ?? "")")
        #expect(refused.observations["banner_code"]?.description == "421")
        #expect(refused.observations["code"]?.description == "421")
        #expect(refused.observations["enhanced"]?.description == "4.7.0")
        #expect(refused.observations["phase"]?.description == "connect")
        #expect(refused.observations["text"]?.description == "4.7.0 mx.kb.test Error: too many connections from 127.0.0.1",
                "\(refused.observations["text"]?.description ?? "")")
        #expect(refused.observations["closed_early"]?.description == "true")
        #expect(refused.command == "swaks --server 127.0.0.1:\(server.port) --helo kb.invalid --tls-optional --quit-after EHLO")
    }

    @Test func dnsmasqAnswersTestNames() async throws {
        let server = try DnsmasqServer()
        defer { server.remove() }
        try await server.start()
        let dns = "127.0.0.1:\(server.port)"
        let shop = await DNSLookupProbe().run(["name": .string("shop.kb.test"), "type": .list(["A", "AAAA"]), "server": .string(dns)],
                                              context: Harness.context())
        #expect(shop.error == nil, "\(shop.error ?? "")")
        #expect(shop.observations["a"]?.description == "192.0.2.10")
        #expect(shop.observations["aaaa"]?.description == "2001:db8::10")
        #expect(shop.observations["addresses"]?.description == "192.0.2.10,2001:db8::10")
        #expect(shop.observations["dual_stack"]?.description == "true")
        #expect(shop.observations["ttl"]?.description == "300")
        #expect(shop.observations["rcode"]?.description == "NOERROR")

        let mail = await DNSLookupProbe().run(["name": .string("kb.test"), "type": .list(["MX", "TXT"]), "server": .string(dns)],
                                              context: Harness.context())
        #expect(mail.error == nil, "\(mail.error ?? "")")
        #expect(mail.observations["mx"]?.description == "10 mx.kb.test.")
        #expect(mail.observations["txt"]?.description == "v=spf1 -all")

        let alias = await DNSLookupProbe().run(["name": .string("www.kb.test"), "type": .string("A"), "server": .string(dns)],
                                               context: Harness.context())
        #expect(alias.observations["cname"]?.description == "www.kb.test. -> shop.kb.test.")
        #expect(alias.observations["a"]?.description == "192.0.2.10")

        let v4 = await DNSLookupProbe().run(["name": .string("v4only.kb.test"), "server": .string(dns)], context: Harness.context())
        #expect(v4.observations["dual_stack"]?.description == "false")
        #expect(v4.observations["aaaa"]?.description == "")
    }
}
