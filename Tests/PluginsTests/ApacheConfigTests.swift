import Engine
import Foundation
import Testing
@testable import Plugins

@Suite("Apache parser")
struct ApacheParserTests {
    @Test func sectionsContinuationsAndQuotes() throws {
        let text = """
        # comment
        <VirtualHost *:443 [::]:443>
            ServerName "www.example.com"
          SSLProtocol -all \\
              +TLSv1.2 +TLSv1.3
            <Directory "/var/www/with space">
                Require all granted
            </Directory>
        </virtualhost>
        Header always set X-Quote 'it\\'s'
        """
        let top = try ApacheConfig.parse(text: text, file: "a.conf")
        #expect(top.map(\.name) == ["VirtualHost", "Header"])
        let vhost = top[0]
        #expect(vhost.args == ["*:443", "[::]:443"])
        #expect(vhost.location == SourceLocation(file: "a.conf", line: 2, column: 1))
        let children = try #require(vhost.children)
        #expect(children.map(\.name) == ["ServerName", "SSLProtocol", "Directory"])
        #expect(children[0].args == ["www.example.com"])
        #expect(children[1].args == ["-all", "+TLSv1.2", "+TLSv1.3"])
        #expect(children[1].location.line == 4 && children[1].location.column == 3)
        #expect(children[2].args == ["/var/www/with space"])
        #expect(children[2].children?.first?.location.line == 7)
        #expect(top[1].args == ["always", "set", "X-Quote", "it's"])
        #expect(top[1].location.line == 10)
    }

    @Test(arguments: [
        ("unclosed.conf", "never closed"),
        ("mismatched.conf", "expected '</Directory>'"),
        ("stray-close.conf", "never opened"),
        ("no-gt.conf", "missing its closing '>'"),
    ])
    func syntaxErrorsHaveLocations(file: String, message: String) throws {
        let path = Fixtures.path("apache/malformed/\(file)")
        let text = try Fixtures.text("apache/malformed/\(file)")
        let line = try #require(Fixtures.line(of: "v-- error", in: text)) + 1
        do {
            _ = try ApacheConfig.parse(text: text, file: path)
            Issue.record("parsing \(file) should fail")
        } catch {
            #expect(error.code == .inputFormat)
            #expect(error.location?.file == path)
            #expect(error.location?.line == line)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func apachectlListing() throws {
        let path = Fixtures.path("apache/apachectl-S.txt")
        let listing = try #require(ApacheVHostListing.parse(text: try Fixtures.text("apache/apachectl-S.txt"), file: path))
        #expect(listing.serverRoot == "/etc/apache2")
        #expect(listing.groups.map(\.address) == ["*:443", "*:80"])
        let tls = listing.groups[0]
        #expect(tls.defaultHost?.configFile == "/etc/apache2/sites-enabled/default-ssl.conf")
        #expect(tls.defaultHost?.configLine == 2)
        #expect(tls.defaultHost?.location.line == 4)
        #expect(tls.vhosts.map(\.name) == ["127.0.1.1", "shop.example.com", "www.example.com", "app.example.com"])
        #expect(tls.vhosts[2].aliases == ["example.com"])
        #expect(listing.groups[1].vhosts.first?.configFile == "/etc/apache2/sites-enabled/000-default.conf")
        #expect(ApacheVHostListing.parse(text: "<VirtualHost *:443>\n</VirtualHost>", file: "x") == nil)
    }

    @Test func crlfSectionsCloseAndBOMKeepsTheFirstBlock() throws {
        let text = "<VirtualHost *:443>\r\n    ServerName a.example.com\r\n</VirtualHost>\r\n"
            + "<VirtualHost *:443>\r\n    ServerName b.example.com\r\n</VirtualHost>\r\n"
        let top = try ApacheConfig.parse(text: text, file: "crlf.conf")
        #expect(top.map(\.name) == ["VirtualHost", "VirtualHost"])
        #expect(top[1].location.line == 4)
        #expect(top[1].children?.first?.args == ["b.example.com"])
        let bom = try ApacheConfig.parse(text: "\u{FEFF}" + text, file: "bom.conf")
        #expect(bom.count == 2 && bom[0].name == "VirtualHost")
        #expect(ApacheConfigAnalyzer().detect(InputText(name: "x", text: text)) == "apache-config")
    }

    @Test func crlfApachectlListingKeepsFileAndLine() throws {
        let text = try Fixtures.text("apache/apachectl-S.txt")
        let crlf = text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        let listing = try #require(ApacheVHostListing.parse(text: crlf, file: "S.txt"))
        #expect(listing.groups.map(\.address) == ["*:443", "*:80"])
        #expect(listing.groups[0].defaultHost?.configFile == "/etc/apache2/sites-enabled/default-ssl.conf")
        #expect(listing.groups[0].defaultHost?.configLine == 2)
        #expect(listing.groups[0].vhosts.map(\.name) == ["127.0.1.1", "shop.example.com", "www.example.com", "app.example.com"])
    }

    @Test func certificateNamesComeFromTheCertificate() {
        #expect(CertificateFileNames.names(pem: Self.wildcardPEM) == ["*.example.com", "example.com"])
        #expect(CertificateFileNames.names(pem: "not a certificate") == nil)
        // Unreadable: the names are unknown, never guessed from 'acme_corp.crt'.
        #expect(CertificateFileNames.names("/etc/ssl/acme_corp.crt", files: FixtureFiles(files: [:])) == nil)
        #expect(CertificateFileNames.names("/etc/ssl/acme_corp.crt",
                                           files: FixtureFiles(files: ["/etc/ssl/acme_corp.crt": Self.shopPEM]))
                == ["shop.example.org"])
    }

    /// Self-signed test certificates: `*.example.com` with `example.com`, and `shop.example.org`.
    static let wildcardPEM = """
    -----BEGIN CERTIFICATE-----
    MIIBrTCCAVSgAwIBAgIUKems+lu9mGT1R6J7FSPeqbcT4BowCgYIKoZIzj0EAwIw
    GDEWMBQGA1UEAwwNKi5leGFtcGxlLmNvbTAgFw0yNjEyMDExOTQwNDdaGA8yMTI2
    MTEwNzE5NDA0N1owGDEWMBQGA1UEAwwNKi5leGFtcGxlLmNvbTBZMBMGByqGSM49
    AgEGCCqGSM49AwEHA0IABIuuy4B6HBpFIlcdZe+vHu5IjEOuaVGiJVHLfEC2JMaO
    E/APEavWNPvpeR2lOxJp8lEWc6J8jVrg2rE/WMRb1+KjejB4MB0GA1UdDgQWBBQ0
    50c+faS1bn+QdBCjx6Z0eoBYQTAfBgNVHSMEGDAWgBQ050c+faS1bn+QdBCjx6Z0
    eoBYQTAPBgNVHRMBAf8EBTADAQH/MCUGA1UdEQQeMByCDSouZXhhbXBsZS5jb22C
    C2V4YW1wbGUuY29tMAoGCCqGSM49BAMCA0cAMEQCIFOJUmhx9lnuRBT8lPk1300O
    xfipP3xvTiw61SapoWluAiBnQgXmEjG6gEVbwEKw6dumWKXLZyLIV6fPybKyT+VV
    Sw==
    -----END CERTIFICATE-----
    """
    static let shopPEM = """
    -----BEGIN CERTIFICATE-----
    MIIBqjCCAVCgAwIBAgIUBheFccY7nhOb9szzy45fhBjnwz8wCgYIKoZIzj0EAwIw
    GzEZMBcGA1UEAwwQc2hvcC5leGFtcGxlLm9yZzAgFw0yNjEyMDExOTQwNDdaGA8y
    MTI2MTEwNzE5NDA0N1owGzEZMBcGA1UEAwwQc2hvcC5leGFtcGxlLm9yZzBZMBMG
    ByqGSM49AgEGCCqGSM49AwEHA0IABD2uhpjuQoc6bRKseODCHsETlxLG0R+4TnEk
    ikINrGW9g+4RYr9RvzEoWgW03vKp09W+yMxmGfLTQt5ZQ95t6d6jcDBuMB0GA1Ud
    DgQWBBT7GCcc1rbPSoOGw9f8sOYGXoD0TDAfBgNVHSMEGDAWgBT7GCcc1rbPSoOG
    w9f8sOYGXoD0TDAPBgNVHRMBAf8EBTADAQH/MBsGA1UdEQQUMBKCEHNob3AuZXhh
    bXBsZS5vcmcwCgYIKoZIzj0EAwIDSAAwRQIhAJgRbKYaiVt8S57BOZBIoxquuH5d
    LpPMq1Tjrzdcs2IjAiBwapifq5Q3o3BPZ2tokvlanPvQMimnVfnkJr5oET/uuw==
    -----END CERTIFICATE-----
    """
}

@Suite("Apache findings")
struct ApacheFindingTests {
    let analyzer = ApacheConfigAnalyzer()
    let tree = ["apache2.conf", "ports.conf", "mods-enabled/ssl.load", "mods-enabled/ssl.conf",
                "sites-enabled/000-default.conf", "sites-enabled/default-ssl.conf", "sites-enabled/shop.conf",
                "sites-enabled/www.conf", "sites-enabled/zz-app.conf"]

    @Test func debianTreeFromDisk() async throws {
        let main = try Fixtures.input("apache/debian/apache2.conf", kind: "apache-config")
        let files = ConfinedFiles(roots: [Fixtures.path("apache/debian")])
        let findings = await analyzer.analyze(main, context: analyzerContext(inputs: [main], files: files))
        var expected: [String] = []
        for file in tree {
            expected += Fixtures.markers(in: try Fixtures.text("apache/debian/\(file)"), file: Fixtures.path("apache/debian/\(file)"))
        }
        #expect(findings.findingKeys() == expected.sorted())
        let differs = try #require(findings.first { $0.id == "apache.default-vhost-differs" })
        #expect(differs.message.contains("SSLCertificateFile"))
        #expect(differs.message.contains("SSLProtocol"))
        #expect(differs.excerpt == "<VirtualHost _default_:443>")
        let shop = try #require(findings.first { $0.id == "apache.incompatible-tls-vhosts" && $0.location?.file.hasSuffix("shop.conf") == true })
        // The per-directory SSLVerifyClient in <Location> is not part of the handshake setup.
        #expect(!shop.message.contains("SSLVerifyClient"))
        #expect(shop.message.contains("SSLProtocol"))
    }

    /// The site files given one by one (as `--file sites-enabled/` would), named by their real paths.
    private func siteInputs() throws -> [InputText] {
        try ["default-ssl.conf", "shop.conf", "www.conf", "zz-app.conf"].map {
            try Fixtures.input("apache/debian/sites-enabled/\($0)", kind: "apache-config", name: "/etc/apache2/sites-enabled/\($0)")
        }
    }

    @Test func listingAlone() async throws {
        let listing = try Fixtures.input("apache/apachectl-S.txt", kind: "apachectl-s", name: "apachectl-S.txt")
        let findings = await analyzer.analyze(listing, context: analyzerContext(inputs: [listing]))
        #expect(findings.findingKeys() == ["apache.default-vhost@apachectl-S.txt:4"])
        #expect(findings[0].message.contains("'127.0.1.1' (/etc/apache2/sites-enabled/default-ssl.conf:2)"))
        #expect(findings[0].message.contains("3 other vhost(s)"))
    }

    @Test func listingWithSiteFilesUsesListingOrderAndFileLocations() async throws {
        let listing = try Fixtures.input("apache/apachectl-S.txt", kind: "apachectl-s", name: "apachectl-S.txt")
        // Reverse the files: the listing, not input order, decides which vhost is the default.
        let sites = try siteInputs().reversed()
        let all = [listing] + sites
        var findings: [Finding] = []
        for input in all { findings += await analyzer.analyze(input, context: analyzerContext(inputs: all)) }
        #expect(findings.findingKeys(["apache.default-vhost", "apache.default-vhost-differs"]) == [
            "apache.default-vhost-differs@/etc/apache2/sites-enabled/default-ssl.conf:2",
            "apache.default-vhost@/etc/apache2/sites-enabled/default-ssl.conf:2",
        ])
        #expect(findings.findingKeys(["apache.incompatible-tls-vhosts"]).count == 3)
        #expect(Set(findings.findingKeys()).count == findings.count)
    }

    @Test func siteFilesAloneFollowInputOrder() async throws {
        let sites = try siteInputs()
        let findings = ApacheConfigAnalyzer().findings(inputs: Array(sites.reversed()))
        #expect(findings.findingKeys(["apache.default-vhost"]) == ["apache.default-vhost@/etc/apache2/sites-enabled/zz-app.conf:2"])
    }

    @Test(arguments: [
        ("strict", "any TLS difference"),
        ("secure", "certificate/key"),
        ("authonly", "client-certificate settings"),
        ("insecure", "CVE-2025-23048"),
    ])
    func sniPolicyValues(value: String, phrase: String) {
        let input = InputText(name: "ssl.conf", text: "SSLVHostSNIPolicy \(value)\n", kind: "apache-config")
        let findings = analyzer.findings(inputs: [input])
        #expect(findings.findingKeys() == ["apache.sni-policy@ssl.conf:1"])
        #expect(findings.first?.message.contains(phrase) == true)
    }

    @Test func identicalSetupsAreCompatible() {
        let text = """
        SSLCertificateFile /etc/ssl/certs/shared.example.com.pem
        SSLCertificateKeyFile /etc/ssl/private/shared.key
        <VirtualHost *:443>
            ServerName a.shared.example.com
            ServerAlias shared.example.com
            SSLEngine on
        </VirtualHost>
        <VirtualHost *:443>
            ServerName b.shared.example.com
            SSLEngine on
        </VirtualHost>
        <VirtualHost 192.0.2.7:443>
            ServerName c.example.com
            SSLEngine on
            SSLCertificateFile /etc/ssl/certs/c.example.com.pem
            SSLVerifyClient require
            SSLCACertificateFile /etc/ssl/clients.pem
        </VirtualHost>
        """
        let findings = analyzer.findings(inputs: [InputText(name: "s.conf", text: text, kind: "apache-config")])
        #expect(findings.findingKeys() == ["apache.default-vhost@s.conf:12", "apache.default-vhost@s.conf:3"])
        // The same file inherited by a vhost on another address, where nobody serves its name.
        let inherited = InputText(name: "/s.conf", text: text.replacingOccurrences(
            of: "    SSLCertificateFile /etc/ssl/certs/c.example.com.pem\n", with: ""), kind: "apache-config")
        let certificates = FixtureFiles(files: ["/etc/ssl/certs/shared.example.com.pem": ApacheParserTests.shopPEM])
        #expect(analyzer.findings(inputs: [inherited], files: certificates).findingKeys(["apache.cert-name-unserved"])
                == ["apache.cert-name-unserved@/s.conf:1"])
        // Without the certificate its names are unknown: nothing is said about them.
        #expect(analyzer.findings(inputs: [inherited]).findingKeys(["apache.cert-name-unserved"]).isEmpty)
    }

    @Test func strictSNIInDefaultVhost() {
        let text = """
        <VirtualHost *:443>
            ServerName a.example.com
            SSLEngine on
            SSLStrictSNIVHostCheck on
        </VirtualHost>
        <VirtualHost *:443>
            ServerName b.example.com
            SSLEngine on
        </VirtualHost>
        """
        let findings = analyzer.findings(inputs: [InputText(name: "s.conf", text: text, kind: "apache-config")])
        let strict = findings.first { $0.id == "apache.strict-sni-on" }
        #expect(strict?.location?.line == 4)
        #expect(strict?.message.contains("default vhost for *:443") == true)
    }

    @Test func includeThroughMemoryFilesAndMissingInclude() async {
        let files = FixtureFiles(files: [
            "/etc/httpd/conf.d/a.conf": "<VirtualHost *:443>\nServerName a.example.com\nSSLEngine on\nSSLCertificateFile /etc/pki/tls/certs/a.example.com.crt\n</VirtualHost>\n",
            "/etc/httpd/conf.d/b.conf": "<VirtualHost *:443>\nServerName b.example.com\nSSLEngine on\nSSLCertificateFile /etc/pki/tls/certs/b.example.com.crt\n</VirtualHost>\n",
        ])
        let main = InputText(name: "/etc/httpd/conf/httpd.conf", text: """
        ServerRoot "/etc/httpd"
        Include conf.modules.d/*.conf
        Include conf/missing.conf
        IncludeOptional conf.d/*.conf
        """, kind: "apache-config")
        let findings = await analyzer.analyze(main, context: analyzerContext(inputs: [main], files: files))
        #expect(findings.findingKeys() == [
            "apache.default-vhost-differs@/etc/httpd/conf.d/a.conf:1",
            "apache.default-vhost@/etc/httpd/conf.d/a.conf:1",
            "apache.include-unresolved@/etc/httpd/conf/httpd.conf:2",
            "apache.include-unresolved@/etc/httpd/conf/httpd.conf:3",
            "apache.incompatible-tls-vhosts@/etc/httpd/conf.d/b.conf:1",
        ])
    }

    @Test(arguments: [
        ("<VirtualHost *:443>\n    ServerName a.example.com\n</VirtualHost>\n", "apache-config"),
        ("ServerName a.example.com\nSSLEngine on\nSSLCertificateFile /x.pem\n", "apache-config"),
        ("VirtualHost configuration:\n*:443 is a NameVirtualHost\n", "apachectl-s"),
        ("[Fri Jul 04 12:00:00 2025] [warn] AH00558: apache2: Could not reliably determine the server's fully qualified domain name. Set the 'ServerName' directive globally", nil),
        ("server {\n    listen 443 ssl;\n    server_name a;\n}\n", nil),
    ] as [(String, String?)])
    func detection(text: String, kind: String?) {
        #expect(analyzer.detect(InputText(name: "x", text: text)) == kind)
    }
}

@Suite("Apache as Apache reads it")
struct ApacheServerSemanticsTests {
    let analyzer = ApacheConfigAnalyzer()

    private static let sites = """
    <IfModule mod_ssl.c>
    <VirtualHost *:443>
        ServerName a.example.com
        SSLEngine on
    </VirtualHost>
    <VirtualHost *:443>
        ServerName b.example.com
        SSLEngine on
        SSLProtocol TLSv1.3
    </VirtualHost>
    </IfModule>
    """

    @Test(arguments: [
        ("", true),
        ("LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n", true),
        ("LoadModule ssl_module modules/mod_ssl.so\n", true),
        ("LoadModule rewrite_module modules/mod_rewrite.so\n", false),
    ])
    func ifModuleFollowsLoadModule(modules: String, read: Bool) {
        let input = InputText(name: "a.conf", text: modules + Self.sites, kind: "apache-config")
        #expect(analyzer.findings(inputs: [input]).isEmpty != read)
        let negated = modules + Self.sites.replacingOccurrences(of: "<IfModule mod_ssl.c>", with: "<IfModule !ssl_module>")
        #expect(analyzer.findings(inputs: [InputText(name: "a.conf", text: negated, kind: "apache-config")]).isEmpty
                == (read || modules.isEmpty))
    }
}
