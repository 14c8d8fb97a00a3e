import Foundation
import Testing

/// Issue 8 part 3 from the command line: Debian's stock configs, read whole with --config-root, are healthy
/// (exit 0) and the report lists what was checked.
@Suite("healthy configs from the command line")
struct HealthyCLITests {
    static let nginx = FileManager.default.fileExists(atPath: "/etc/nginx/nginx.conf")
    static let apache = FileManager.default.fileExists(atPath: "/etc/apache2/apache2.conf")

    @Test(.enabled(if: nginx)) func debianNginx() throws {
        let result = try CLI.run(["diagnose", "--file", "/etc/nginx/nginx.conf", "--config-root", "/etc/nginx"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("status: healthy"))
        #expect(result.stdout.contains("checked:"))
        #expect(!result.stdout.contains("wiki.nginx.org"))
    }

    @Test(.enabled(if: apache)) func debianApacheAsJSON() throws {
        let result = try CLI.run(["diagnose", "--format", "json", "--file", "/etc/apache2/apache2.conf",
                                  "--config-root", "/etc/apache2"])
        #expect(result.status == 0, "\(result.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["status"] as? String == "healthy")
        let checked = (json?["facts"] as? [String: Any])?["checked"] as? [[String: Any]]
        #expect(checked?.first?["analyzer"] as? String == "apache.config")
        #expect((checked?.first?["checked"] as? [String])?.isEmpty == false)
    }

    @Test func aCorrectProxyFromStandardInput() throws {
        let config = """
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
        let result = try CLI.run(["diagnose", "--format", "markdown", "--file", "-"], stdin: config)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("What we checked"))
        #expect(result.stdout.contains("SNI sent on it"))
    }
}
