import Foundation
import Testing
@testable import Engine
@testable import Plugins

/// Issue 8 parts 2 and 3: a config is evidence through its analyzer's findings and what the analyzer checked,
/// never through the words of its comments; a clean analysis with no 421 in sight is healthy.
@Suite("evidence by what it is")
struct EvidenceByKindTests {
    static let stockComments = """
        # This file contains the main configuration, see also sites-enabled.
        # Virtual Host Configs: more documentation at https://wiki.nginx.org/Pitfalls
        user www-data;
        worker_processes auto;
        events {
            worker_connections 768;
        }
        http {
            #include /etc/nginx/sites-enabled/*;
        }
        """

    static let correctProxy = """
        server {
            listen 443 ssl;
            server_name app.example.com;
            location / {
                proxy_ssl_server_name on;
                proxy_ssl_name $host;
                proxy_pass https://10.0.0.5;
            }
        }
        """

    func diagnose(_ inputs: [InputText], roots: [String] = []) async throws -> Report {
        let engine = try Shipped.engine()
        return await engine.diagnose(inputs, environment: RunEnvironment(files: ConfinedFiles(roots: roots)))
    }

    @Test func commentsInAConfigAreNotEvidence() async throws {
        let report = try await diagnose([InputText(name: "nginx.conf", text: Self.stockComments, kind: "nginx-config")])
        #expect(report.status == .healthy, "\(report.verdict)")
        #expect(report.diagnoses.isEmpty)
        #expect(!report.facts.hosts.contains("wiki.nginx.org"))
        #expect(report.facts.stacks.contains("nginx"))
    }

    @Test func hostNamesComeFromDirectivesNotComments() async throws {
        let text = "# old name: legacy.example.org\nserver {\n    listen 80;\n    server_name shop.example.com _;\n}\n"
        let engine = try Shipped.engine()
        let facts = await engine.facts([InputText(name: "site.conf", text: text)])
        #expect(facts.hosts == ["shop.example.com"])
        #expect(facts.text.contains("legacy") == false)
    }

    @Test func apacheHostNamesComeFromServerNameNotComments() async throws {
        let text = "# ServerName old.example.org\n<VirtualHost *:443>\n    ServerName new.example.org\n"
            + "    ServerAlias www.new.example.org\n    SSLEngine on\n</VirtualHost>\n"
        let engine = try Shipped.engine()
        let facts = await engine.facts([InputText(name: "site.conf", text: text)])
        #expect(facts.hosts == ["new.example.org", "www.new.example.org"])
        #expect(facts.stacks["apache"] != nil)
    }

    @Test func proxyPassTargetsAreHostNamesToo() async throws {
        let text = "server {\n    listen 443 ssl;\n    server_name a.example.com;\n"
            + "    location / { proxy_ssl_server_name on; proxy_pass https://origin.example.net:8443; }\n}\n"
        let engine = try Shipped.engine()
        let facts = await engine.facts([InputText(name: "site.conf", text: text)])
        #expect(facts.hosts == ["a.example.com", "origin.example.net"])
    }

    @Test func hostsTheTextNamesComeFirst() async throws {
        let engine = try Shipped.engine()
        let facts = await engine.facts([
            InputText(name: "ticket", text: "curl -v https://shop.example.com/ gives HTTP/2 421"),
            InputText(name: "site.conf", text: "server {\n    listen 443 ssl;\n    server_name other.example.com;\n}\n"),
        ])
        #expect(facts.hosts.first == "shop.example.com")
        #expect(facts.hosts.contains("other.example.com"))
    }

    @Test func proseAroundAPastedConfigIsReadAndTheConfigStillParses() async throws {
        let text = """
            server {
                listen 443 ssl;
                server_name www.example.com;
                location / {
                    proxy_pass https://10.0.0.12;
                }
            }
            and the browser shows: Misdirected Request
            """
        let report = try await diagnose([InputText(name: "ticket", text: text)])
        #expect(report.codes.shows421)
        #expect(report.facts.findings.contains { $0.id == "nginx.proxy-ssl-server-name-off" })
        #expect(report.facts.checked.first?.incomplete == [])
        #expect(report.diagnoses.first?.cause == "upstream-sni-missing")
    }

    @Test func configProseKeepsSentencesAndLineNumbers() {
        let nginx = "# sites-enabled\nserver {\n  log_format main '$a'\n      '$b';\n}\nthe page says 421\n"
        #expect(ConfigProse.nginx(nginx) == "\n\n\n\n\nthe page says 421\n")
        let apache = "<VirtualHost *:443>\n  ServerName a.example\n  SSLEngine on\n</VirtualHost>\nSince the update we get 421\n"
        #expect(ConfigProse.apache(apache) == "\n\n\n\nSince the update we get 421\n")
        let listing = "VirtualHost configuration:\n*:443                  a.example (/etc/apache2/sites-enabled/a.conf:2)\n"
        #expect(ConfigProse.apache(listing) == "\n\n")
    }

    @Test func aCorrectProxyIsHealthyAndSaysWhatWasChecked() async throws {
        let report = try await diagnose([InputText(name: "proxy.conf", text: Self.correctProxy)])
        #expect(report.status == .healthy, "\(report.verdict)")
        #expect(report.status.exitCode == 0)
        let checked = try #require(report.facts.checked.first)
        #expect(checked.findings == 0)
        #expect(checked.checked.contains("1 server block (1 with TLS)"))
        #expect(checked.checked.contains { $0.contains("1 to an HTTPS upstream, SNI sent on it") }, "\(checked.checked)")
        #expect(ReportRenderer().text(report).contains("checked:"))
        #expect(ReportRenderer().markdown(report).contains("What we checked"))
        #expect(ReportRenderer().json(report).contains("\"checked\""))
    }

    /// linuxserver/SWAG's pattern: the scheme comes from a `set` variable, and the summary counts it as nginx does.
    @Test func aVariableSchemeCountsAsAnHTTPSUpstream() async throws {
        let text = "server {\n    listen 443 ssl;\n    server_name app.example.com;\n    location / {\n"
            + "        set $upstream_proto https;\n        proxy_ssl_server_name on;\n"
            + "        proxy_pass $upstream_proto://app:8443;\n    }\n}\n"
        let report = try await diagnose([InputText(name: "swag.conf", text: text)])
        #expect(report.status == .healthy, "\(report.verdict)")
        let checked = try #require(report.facts.checked.first)
        #expect(checked.checked.contains { $0.contains("1 to an HTTPS upstream, SNI sent on it") }, "\(checked.checked)")
    }

    @Test func aFindingOfACauseIsNotHealthy() async throws {
        let text = "server {\n    listen 443 ssl;\n    server_name a.example;\n    location / { proxy_pass https://10.0.0.5; }\n}\n"
        let report = try await diagnose([InputText(name: "proxy.conf", text: text)])
        #expect(report.status != .healthy)
        #expect(report.diagnoses.first?.cause == "upstream-sni-missing")
    }

    @Test func aLogWithoutA421IsHealthy() async throws {
        let log = (1...5).map {
            "192.0.2.\($0) - - [01/Dec/2026:10:00:0\($0) +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"curl/8.5\""
        }.joined(separator: "\n")
        let report = try await diagnose([InputText(name: "access.log", text: log)])
        #expect(report.status == .healthy, "\(report.verdict)")
        #expect(report.facts.checked.first?.checked.contains("no 421 in them") == true)
    }

    @Test func a421WithCleanConfigsSaysTheConfigsAreNotTheCause() async throws {
        let report = try await diagnose([
            InputText(name: "ticket", text: "Since Tuesday the site answers HTTP/1.1 421 Misdirected Request behind our reverse proxy"),
            InputText(name: "proxy.conf", text: Self.correctProxy),
        ])
        #expect(report.status != .healthy)
        #expect(report.notes.contains { $0.hasPrefix("the attached configs show no 421 cause") }, "\(report.notes)")
        if let upstream = report.diagnoses.first(where: { $0.cause == "upstream-sni-missing" }) {
            #expect(upstream.signals.contains { $0.signal == "config-checked" && $0.weight < 0 })
        }
    }

    /// Like a linter, a clean run covers what was read and says which includes it did not follow.
    @Test func anIncludeNotFollowedIsListed() async throws {
        let text = "http {\n    include /etc/nginx/sites-enabled/*;\n    server { listen 80; server_name a.example; }\n}\n"
        let report = try await diagnose([InputText(name: "/etc/nginx/nginx.conf", text: text)])
        #expect(report.status == .healthy, "\(report.verdict)")
        let checked = try #require(report.facts.checked.first)
        #expect(checked.checked.contains("1 include not followed"))
        #expect(checked.findings == 0)
        #expect(report.notes.contains { $0.contains("sites-enabled") })
    }

    @Test func aConfigThatDoesNotParseIsNotCalledHealthy() async throws {
        let text = "server {\n    listen 443 ssl;\n    server_name a.example;\n    location / {\n"
        let report = try await diagnose([InputText(name: "broken.conf", text: text, kind: "nginx-config")])
        #expect(report.status == .inconclusive, "\(report.verdict)")
        #expect(report.next.contains { $0.hasPrefix("in 'broken.conf'") })
    }

    static let debianNginx = FileManager.default.fileExists(atPath: "/etc/nginx/nginx.conf")
    static let debianApache = FileManager.default.fileExists(atPath: "/etc/apache2/apache2.conf")

    @Test(.enabled(if: debianNginx)) func debianStockNginxIsHealthy() async throws {
        let text = try String(contentsOfFile: "/etc/nginx/nginx.conf", encoding: .utf8)
        let report = try await diagnose([InputText(name: "/etc/nginx/nginx.conf", text: text)], roots: ["/etc/nginx"])
        #expect(report.status == .healthy, "\(report.verdict) \(report.next)")
        #expect(!report.facts.hosts.contains("wiki.nginx.org"))
        #expect(report.facts.checked.first?.checked.isEmpty == false)
    }

    @Test(.enabled(if: debianApache)) func debianStockApacheIsHealthy() async throws {
        let text = try String(contentsOfFile: "/etc/apache2/apache2.conf", encoding: .utf8)
        let report = try await diagnose([InputText(name: "/etc/apache2/apache2.conf", text: text)], roots: ["/etc/apache2"])
        #expect(report.status == .healthy, "\(report.verdict) \(report.next)")
        #expect(report.facts.checked.first?.checked.contains { $0.contains("virtual host") } == true)
    }
}

@Suite("config lines and prose")
struct ConfigLinesTests {
    /// A proxy_pass outside any server block is a snippet that many server blocks may include: its pooled
    /// upstream connections are shared by all of them.
    @Test func aSnippetSharingAKeepaliveUpstreamIsPooled() {
        let text = "upstream apache_tls {\n    server 127.0.0.1:8443;\n    keepalive 64;\n}\n"
            + "proxy_pass https://apache_tls;\nproxy_ssl_server_name on;\nproxy_http_version 1.1;\n"
            + "proxy_set_header Connection \"\";\n"
        let findings = NginxConfigAnalyzer().findings(inputs: [InputText(name: "snippet.conf", text: text, kind: "nginx-config")])
        #expect(findings.contains { $0.id == "nginx.upstream-keepalive-tls" }, "\(findings.map(\.id))")
    }

    @Test func anNginxDumpIsAllConfig() {
        let dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
            + "# configuration file /etc/nginx/nginx.conf:\nhttp {\n    server_name a.example;\n}\n"
        #expect(ConfigProse.nginx(dump).allSatisfy { $0 == "\n" })
    }

    @Test func aSentenceAfterADirectiveNameIsStillProse() {
        let text = "server {\n  listen 80;\n}\nproxy_ssl_server_name is on, but\nstill 421 Misdirected Request\n"
        #expect(ConfigProse.nginx(text) == "\n\n\n\nstill 421 Misdirected Request\n")
    }

    @Test func configLinesAreTheComplementOfProse() {
        let text = "server {\n  listen 80;\n}\nit fails\n"
        let prose = ConfigProse.nginx(text)
        #expect(Engine.configLines(text, prose: prose) == "server {\n  listen 80;\n}\n\n")
    }

    @Test func aSentenceThatStartsWithACapitalIsNotAnApacheDirective() {
        #expect(!ConfigProse.isDirectiveName("Since"))
        #expect(!ConfigProse.isDirectiveName("AH02032"))
        #expect(ConfigProse.isDirectiveName("ServerName"))
        #expect(ConfigProse.isDirectiveName("Listen"))
    }
}
