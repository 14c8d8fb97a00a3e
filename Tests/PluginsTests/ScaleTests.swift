import Engine
import Testing
@testable import Plugins

/// Hosting servers carry thousands of sites on one address; the config analyzers must stay fast there.
@Suite("config analyzers at scale")
struct ScaleTests {
    static let sites = 3000

    @Test func thousandsOfNginxServerBlocks() throws {
        var text = "http {\n"
        for i in 0..<Self.sites {
            let name = i % 100 == 0 ? "*.site\(i).example" : "www.site\(i).example site\(i).example"
            text += """
                server {
                    listen 192.0.2.1:443 ssl;
                    server_name \(name);
                    ssl_certificate /etc/ssl/site\(i).pem;
                    location / { proxy_pass https://192.0.2.1:7081; proxy_ssl_server_name on; proxy_ssl_name $host; }
                }

            """
        }
        text += "}\n"
        let clock = ContinuousClock()
        var findings: [Finding] = []
        let elapsed = clock.measure {
            findings = NginxConfigAnalyzer().findings(inputs: [InputText(name: "big.conf", text: text, kind: "nginx-config")])
        }
        #expect(findings.map(\.id) == ["nginx.no-default-server"])
        #expect(elapsed < .seconds(20), "took \(elapsed)")
    }

    @Test func thousandsOfApacheVhosts() throws {
        var text = ""
        for i in 0..<Self.sites {
            text += """
            <VirtualHost 192.0.2.1:443>
                ServerName site\(i).example
                ServerAlias www.site\(i).example
                SSLEngine on
                SSLCertificateFile /etc/letsencrypt/live/site\(i).example/fullchain.pem
                SSLCertificateKeyFile /etc/letsencrypt/live/site\(i).example/privkey.pem
            </VirtualHost>

            """
        }
        let clock = ContinuousClock()
        var findings: [Finding] = []
        let elapsed = clock.measure {
            findings = ApacheConfigAnalyzer().findings(inputs: [InputText(name: "vhosts.conf", text: text, kind: "apache-config")])
        }
        let ids = findings.map(\.id)
        #expect(ids.filter { $0 == "apache.incompatible-tls-vhosts" }.count == ApacheConfigAnalyzer.maxPairFindings)
        #expect(ids.filter { $0 == "apache.default-vhost" }.count == 1)
        #expect(!ids.contains("apache.cert-name-unserved"))
        let last = try #require(findings.last { $0.id == "apache.incompatible-tls-vhosts" })
        #expect(last.message.contains("more vhost(s) on the address differ as well"))
        #expect(elapsed < .seconds(20), "took \(elapsed)")
    }
}
