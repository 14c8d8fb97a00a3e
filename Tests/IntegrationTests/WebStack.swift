import Engine
import Foundation
@testable import Plugins

/// nginx (TLS, HTTP/2) in front of Apache 2.4 over HTTPS, as hosting panels run it, on 127.0.0.1 high ports:
///
/// - `originPort`: Apache with two TLS name-based vhosts, a.kb.test and b.kb.test, each with its own certificate.
///   Their SSL setups differ, so since 2.4.64 a request whose Host selects b.kb.test on a connection that landed on
///   a.kb.test (by SNI, or as the default vhost when no SNI was sent) gets 421 and AH02032.
/// - `proxyPort`: nginx serving b.kb.test and proxying to the origin with `proxy_pass https://127.0.0.1:originPort`.
///   Without `proxy_ssl_server_name` nginx sends no SNI to the origin, so Apache answers 421 (upstream-sni-missing);
///   `fixProxy()` adds `proxy_ssl_server_name on; proxy_ssl_name $host;` and reloads nginx.
/// - `coalescePort`: Apache with HTTP/2 and the same two vhosts, both presenting a wildcard certificate for
///   *.kb.test, loaded from two files. A browser that opened an HTTP/2 connection for a.kb.test may reuse it for
///   b.kb.test (the certificate covers it, the address is the same), but mod_ssl compares the vhosts' SSL setups,
///   which differ by certificate file, so b.kb.test on a.kb.test's connection is 421 (AH02032) while b.kb.test on
///   its own connection is 200. This is the coalescing 421 of a shared wildcard certificate.
final class WebStack: @unchecked Sendable {
    let dir: TempDir
    let originPort: Int
    let proxyPort: Int
    let coalescePort: Int
    private(set) var apache: ServerProcess?
    private(set) var nginx: ServerProcess?

    init() throws {
        _ = try ServerBinary.apache.require()
        _ = try ServerBinary.nginx.require()
        dir = try TempDir("web")
        originPort = try Harness.freePort()
        proxyPort = try Harness.freePort()
        coalescePort = try Harness.freePort()
    }

    func start() async throws {
        let apacheBinary = try ServerBinary.apache.require()
        let nginxBinary = try ServerBinary.nginx.require()
        try dir.mkdir("logs")
        try dir.mkdir("tmp")
        try dir.write("htdocs/a/index.html", "hello from a.kb.test\n")
        try dir.write("htdocs/b/index.html", "hello from b.kb.test\n")
        try Harness.certificate(dir, "a", names: ["a.kb.test"])
        try Harness.certificate(dir, "b", names: ["b.kb.test"])
        try Harness.certificate(dir, "wild-a", names: ["*.kb.test"])
        try FileManager.default.copyItem(atPath: dir.file("wild-a.pem"), toPath: dir.file("wild-b.pem"))
        try FileManager.default.copyItem(atPath: dir.file("wild-a.key"), toPath: dir.file("wild-b.key"))
        try dir.write("httpd.conf", Self.apacheConfig(dir.path, origin: originPort, coalesce: coalescePort))
        try dir.write("nginx.conf", Self.nginxConfig(dir.path, proxy: proxyPort, origin: originPort, fixed: false))
        apache = try ServerProcess("apache2", apacheBinary, ["-d", dir.path, "-f", dir.file("httpd.conf"), "-DFOREGROUND"],
                                   log: dir.file("logs/apache.out"))
        nginx = try ServerProcess("nginx", nginxBinary, ["-p", dir.path, "-c", dir.file("nginx.conf"),
                                                         "-e", dir.file("logs/nginx-error.log"), "-g", "daemon off;"],
                                  log: dir.file("logs/nginx.out"))
        try await Harness.waitForPorts([originPort, proxyPort, coalescePort], processes: [apache!, nginx!])
    }

    /// Rewrites nginx's config with the standard fix and reloads it (SIGHUP), waiting until the new workers serve.
    func fixProxy() async throws {
        try dir.write("nginx.conf", Self.nginxConfig(dir.path, proxy: proxyPort, origin: originPort, fixed: true))
        guard let nginx, nginx.running else { throw HarnessError("nginx is not running") }
        kill(nginx.pid, SIGHUP)
        // The reload is done when the error log says the new workers started.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if dir.read("logs/nginx-error.log").contains("reconfiguring") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(500))
    }

    var apacheErrorLog: String { dir.read("logs/error.log") }

    func stop() {
        nginx?.stop()
        apache?.stop()
    }

    func remove() {
        stop()
        dir.remove()
    }

    deinit { stop() }

    static func apacheConfig(_ d: String, origin: Int, coalesce: Int) -> String {
        let m = "/usr/lib/apache2/modules"
        func vhost(_ port: Int, _ name: String, cert: String, h2: Bool) -> String {
            """
            <VirtualHost 127.0.0.1:\(port)>
              ServerName \(name).kb.test
              \(h2 ? "Protocols h2 http/1.1" : "Protocols http/1.1")
              DocumentRoot \(d)/htdocs/\(name)
              SSLEngine on
              SSLCertificateFile \(d)/\(cert).pem
              SSLCertificateKeyFile \(d)/\(cert).key
            </VirtualHost>
            """
        }
        return """
            ServerName localhost
            ServerRoot \(d)
            Listen 127.0.0.1:\(origin)
            Listen 127.0.0.1:\(coalesce)
            PidFile \(d)/logs/httpd.pid
            ErrorLog \(d)/logs/error.log
            LogLevel info ssl:info
            DefaultRuntimeDir \(d)/logs
            Mutex file:\(d)/logs default
            User nobody
            Group nogroup
            StartServers 1
            ServerLimit 2
            ThreadsPerChild 16
            LoadModule mpm_event_module \(m)/mod_mpm_event.so
            LoadModule authz_core_module \(m)/mod_authz_core.so
            LoadModule mime_module \(m)/mod_mime.so
            LoadModule dir_module \(m)/mod_dir.so
            LoadModule socache_shmcb_module \(m)/mod_socache_shmcb.so
            LoadModule ssl_module \(m)/mod_ssl.so
            LoadModule http2_module \(m)/mod_http2.so
            SSLSessionCache shmcb:\(d)/logs/ssl_scache(512000)
            TypesConfig /etc/mime.types
            DirectoryIndex index.html
            <Directory \(d)/htdocs>
              Require all granted
            </Directory>
            \(vhost(origin, "a", cert: "a", h2: false))
            \(vhost(origin, "b", cert: "b", h2: false))
            \(vhost(coalesce, "a", cert: "wild-a", h2: true))
            \(vhost(coalesce, "b", cert: "wild-b", h2: true))

            """
    }

    static func nginxConfig(_ d: String, proxy: Int, origin: Int, fixed: Bool) -> String {
        """
        user root root;
        worker_processes 1;
        pid \(d)/logs/nginx.pid;
        error_log \(d)/logs/nginx-error.log info;
        events { worker_connections 128; }
        http {
          access_log off;
          client_body_temp_path \(d)/tmp/body;
          proxy_temp_path \(d)/tmp/proxy;
          fastcgi_temp_path \(d)/tmp/fastcgi;
          uwsgi_temp_path \(d)/tmp/uwsgi;
          scgi_temp_path \(d)/tmp/scgi;
          server {
            listen 127.0.0.1:\(proxy) ssl http2;
            server_name b.kb.test;
            ssl_certificate \(d)/b.pem;
            ssl_certificate_key \(d)/b.key;
            location / {
              proxy_pass https://127.0.0.1:\(origin);
              proxy_set_header Host $host;
              \(fixed ? "proxy_ssl_server_name on; proxy_ssl_name $host;" : "# no proxy_ssl_server_name: nginx sends no SNI")
            }
          }
        }

        """
    }
}
