import Engine
import Testing
@testable import Plugins

@Suite("nginx parser")
struct NginxParserTests {
    @Test func directivesCarryFileLineAndColumn() throws {
        let text = """
        http {
            server {
                listen 443 ssl;
              server_name "a.example.com" 'b.example.com';
            }
        }
        """
        let top = try NginxConfig.parse(text: text, file: "/etc/nginx/nginx.conf")
        #expect(top.count == 1)
        let http = try #require(top.first)
        #expect(http.name == "http")
        #expect(http.location == SourceLocation(file: "/etc/nginx/nginx.conf", line: 1, column: 1))
        let server = try #require(http.block?.first)
        let listen = try #require(server.block?.first)
        #expect(listen.name == "listen" && listen.args == ["443", "ssl"])
        #expect(listen.location.line == 3 && listen.location.column == 9)
        let names = try #require(server.block?.last)
        #expect(names.args == ["a.example.com", "b.example.com"])
        #expect(names.location.line == 4 && names.location.column == 7)
        #expect(listen.block == nil)
    }

    @Test func commentsQuotesEscapesAndVariables() throws {
        let text = #"""
        # a comment { with braces }
        set $x "semi;colon # not a comment";   # trailing comment
        return 200 'it\'s ${x}ok';
        rewrite ^/(.*)$ /$1#frag break;
        add_header X-A "a\"b";
        """#
        let d = try NginxConfig.parse(text: text, file: "t.conf")
        #expect(d.map(\.name) == ["set", "return", "rewrite", "add_header"])
        #expect(d[0].args == ["$x", "semi;colon # not a comment"])
        #expect(d[1].args == ["200", "it's ${x}ok"])
        #expect(d[2].args == ["^/(.*)$", "/$1#frag", "break"])
        #expect(d[3].args == ["X-A", "a\"b"])
        #expect(d[3].location.line == 5)
    }

    @Test func luaBlocksAreSkippedRaw() throws {
        let text = """
        location / {
            content_by_lua_block {
                local t = { "}" }  -- a brace in a comment }
                ngx.say("{")
            }
            proxy_pass https://origin;
        }
        """
        let d = try NginxConfig.parse(text: text, file: "t.conf")
        let names = d.first?.block?.map(\.name)
        #expect(names == ["content_by_lua_block", "proxy_pass"])
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var file: String
        var line: Int
        var column: Int
        var message: String
        var testDescription: String { file }
    }

    @Test(arguments: [
        Malformed(file: "unbalanced.conf", line: 1, column: 1, message: "expecting '}'"),
        Malformed(file: "extra-brace.conf", line: 6, column: 1, message: "unexpected '}'"),
        Malformed(file: "unterminated-quote.conf", line: 4, column: 20, message: "closing '\"'"),
        Malformed(file: "missing-semicolon.conf", line: 4, column: 5, message: "not terminated by ';'"),
        Malformed(file: "stray-semicolon.conf", line: 2, column: 5, message: "unexpected ';'"),
    ])
    func syntaxErrorsHaveLocations(_ c: Malformed) throws {
        let path = Fixtures.path("nginx/malformed/\(c.file)")
        let text = try Fixtures.text("nginx/malformed/\(c.file)")
        #expect(Fixtures.line(of: "<-- error", in: text) == c.line)
        do {
            _ = try NginxConfig.parse(text: text, file: path)
            Issue.record("parsing \(c.file) should fail")
        } catch {
            #expect(error.code == .inputFormat)
            #expect(error.location == SourceLocation(file: path, line: c.line, column: c.column))
            #expect(error.message.contains(c.message), "\(error.message)")
            #expect(error.sourceLine != nil)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "location / {\n", count: 5000) + String(repeating: "}\n", count: 5000)
        #expect(throws: KBError.self) { try NginxConfig.parse(text: text, file: "deep.conf") }
    }

    @Test func dumpSplitsOnMarkersWithOriginalLines() throws {
        let dump = """
        nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
        nginx: configuration file /etc/nginx/nginx.conf test is successful
        # configuration file /etc/nginx/nginx.conf:
        http {
            include /etc/nginx/sites-enabled/*;
        }

        # configuration file /etc/nginx/sites-enabled/a:
        server {
            listen 443 ssl;
        }

        """
        let files = try #require(NginxConfig.splitDump(dump))
        #expect(files.map(\.path) == ["/etc/nginx/nginx.conf", "/etc/nginx/sites-enabled/a"])
        #expect(files[1].dumpLine == 9)
        let parsed = try NginxConfig.parse(text: files[1].text, file: files[1].path)
        #expect(parsed.first?.block?.first?.location.line == 2)
        #expect(NginxConfig.splitDump("server { listen 80; }") == nil)
    }
}

@Suite("nginx findings")
struct NginxFindingTests {
    let analyzer = NginxConfigAnalyzer()
    let ruleIDs: Set<String> = Set(NginxConfigAnalyzer.findingIDs)

    /// nginx.conf with include globs read from disk through `ConfinedFiles` rooted at the tree: findings land in
    /// the included files.
    @Test func includeTreeFromDisk() async throws {
        let main = try Fixtures.input("nginx/tree/nginx.conf", kind: "nginx-config")
        let files = ConfinedFiles(roots: [Fixtures.path("nginx/tree")])
        let findings = await analyzer.analyze(main, context: analyzerContext(inputs: [main], files: files))
        var expected: [String] = []
        for file in ["nginx.conf", "sites-enabled/shop.example.com", "sites-enabled/blog.example.com",
                     "sites-enabled/api.example.com", "snippets/ssl-example.conf", "conf.d/proxy-defaults.conf"] {
            let path = Fixtures.path("nginx/tree/\(file)")
            expected += Fixtures.markers(in: try Fixtures.text("nginx/tree/\(file)"), file: path)
        }
        #expect(findings.findingKeys() == expected.sorted())
        for finding in findings {
            #expect(finding.excerpt?.isEmpty == false)
            #expect(finding.location?.column ?? 0 >= 1)
        }
    }

    @Test func excerptIsTheDirectiveLine() async throws {
        let main = try Fixtures.input("nginx/tree/nginx.conf", kind: "nginx-config")
        let files = ConfinedFiles(roots: [Fixtures.path("nginx/tree")])
        let findings = await analyzer.analyze(main, context: analyzerContext(inputs: [main], files: files))
        let off = try #require(findings.first { $0.id == "nginx.proxy-ssl-server-name-off" && $0.location?.file.hasSuffix("shop.example.com") == true })
        #expect(off.excerpt?.hasPrefix("proxy_pass https://127.0.0.1:8443;") == true)
        #expect(off.location?.column == 9)
        #expect(off.message.contains("proxy_ssl_server_name"))
    }

    @Test func singleFileRules() async throws {
        let input = try Fixtures.input("nginx/edge.conf", kind: "nginx-config")
        let findings = await analyzer.analyze(input, context: analyzerContext(inputs: [input]))
        let expected = Fixtures.markers(in: try Fixtures.text("nginx/edge.conf"), file: input.name)
        #expect(findings.findingKeys() == expected)
    }

    @Test func includesResolveThroughFileAccessWithGlobs() async throws {
        let files = FixtureFiles(files: [
            "/etc/nginx/sites-enabled/a.conf": """
            server {
                listen 443 ssl;
                server_name a.example.com;
                location / { proxy_pass https://10.1.1.1; }
            }
            """,
            "/etc/nginx/sites-enabled/b.conf": """
            server {
                listen 443 ssl;
                server_name b.example.com;
            }
            """,
            "/etc/nginx/sites-enabled/.hidden": "this is not nginx {",
        ])
        let main = InputText(name: "/etc/nginx/nginx.conf", text: """
        http {
            proxy_ssl_server_name on;
            include sites-enabled/*.conf;
        }
        """, kind: "nginx-config")
        let findings = await analyzer.analyze(main, context: analyzerContext(inputs: [main], files: files))
        #expect(findings.findingKeys() == [
            "nginx.no-default-server@/etc/nginx/sites-enabled/a.conf:2",
            "nginx.proxy-ssl-name-missing@/etc/nginx/sites-enabled/a.conf:4",
        ])
    }

    @Test func includeCyclesAndMissingFilesAreReported() async throws {
        let files = FixtureFiles(files: [
            "/etc/nginx/a.conf": "include b.conf;\n",
            "/etc/nginx/b.conf": "include a.conf;\n",
        ])
        let main = InputText(name: "/etc/nginx/nginx.conf", text: "include a.conf;\ninclude missing.conf;\n", kind: "nginx-config")
        let findings = await analyzer.analyze(main, context: analyzerContext(inputs: [main], files: files))
        #expect(findings.findingKeys() == [
            "nginx.include-cycle@/etc/nginx/b.conf:1",
            "nginx.include-unresolved@/etc/nginx/nginx.conf:2",
        ])
    }

    @Test func inheritanceFromHTTPToLocation() async throws {
        let text = """
        http {
            proxy_ssl_server_name on;
            server {
                listen 443 ssl;
                server_name a.example.com;
                location / {
                    proxy_ssl_name $host;
                    proxy_pass https://origin.example.net;
                }
                location /off {
                    proxy_ssl_server_name off;
                    proxy_ssl_name $host;
                    proxy_pass https://origin.example.net;
                }
            }
            server {
                listen 443 ssl;
                server_name b.example.com;
                proxy_ssl_server_name off;
                location / {
                    if ($request_method = POST) {
                        proxy_pass https://origin.example.net;
                    }
                }
            }
        }
        """
        let input = InputText(name: "n.conf", text: text, kind: "nginx-config")
        let findings = await analyzer.analyze(input, context: analyzerContext(inputs: [input]))
        #expect(findings.findingKeys(["nginx.proxy-ssl-server-name-off"]) == [
            "nginx.proxy-ssl-server-name-off@n.conf:13",
            "nginx.proxy-ssl-server-name-off@n.conf:22",
        ])
        let off = try #require(findings.first { $0.location?.line == 13 })
        #expect(off.message.contains("n.conf:11"))
    }

    @Test(arguments: [
        ("https://127.0.0.1:8443", true),
        ("https://[::1]:8443/app", true),
        ("https://backend", true),
        ("https://origin.example.net", false),
        ("https://$origin", false),
        ("http://127.0.0.1:8080", false),
    ])
    func proxySSLNameNeededFor(url: String, flagged: Bool) async throws {
        let text = """
        upstream backend { server 10.0.0.1:443; }
        server {
            listen 443 ssl;
            server_name a.example.com;
            proxy_ssl_server_name on;
            location / { proxy_pass \(url); }
        }
        """
        let input = InputText(name: "n.conf", text: text, kind: "nginx-config")
        let findings = await analyzer.analyze(input, context: analyzerContext(inputs: [input]))
        #expect(findings.findingKeys(["nginx.proxy-ssl-name-missing"]) == (flagged ? ["nginx.proxy-ssl-name-missing@n.conf:6"] : []))
    }

    @Test(arguments: [
        ("proxy_http_version 1.1; proxy_set_header Connection \"\";", "", true),
        ("proxy_http_version 1.1; proxy_set_header Connection close;", "", false),
        ("proxy_http_version 1.0;", "", false),
        ("", "", false),
        ("", "# nginx version: nginx/1.29.7\n", true),
        ("proxy_http_version 1.0;", "# nginx version: nginx/1.29.7\n", false),
    ])
    func upstreamKeepalive(settings: String, header: String, flagged: Bool) async throws {
        let text = header + """
        upstream pool { server 10.0.0.1:443; keepalive 16; }
        server {
            listen 443 ssl;
            server_name a.example.com b.example.com;
            location / { proxy_pass https://pool; \(settings) }
        }
        """
        let input = InputText(name: "n.conf", text: text, kind: "nginx-config")
        let findings = await analyzer.analyze(input, context: analyzerContext(inputs: [input]))
        let line = header.isEmpty ? 1 : 2
        #expect(findings.findingKeys(["nginx.upstream-keepalive-tls"]) == (flagged ? ["nginx.upstream-keepalive-tls@n.conf:\(line)"] : []))
    }

    @Test func socketLevelHTTP2IsNotMixed() async throws {
        let text = """
        server { listen 443 ssl http2; server_name a.example.com; }
        server { listen 443 ssl; server_name b.example.com; http2 off; }
        server { listen 8443 ssl; server_name a.example.com; http2 on; }
        server { listen 8443 ssl default_server; server_name b.example.com; http2 off; }
        """
        let input = InputText(name: "n.conf", text: text, kind: "nginx-config")
        let findings = await analyzer.analyze(input, context: analyzerContext(inputs: [input]))
        #expect(findings.findingKeys(["nginx.http2-mixed"]) == ["nginx.http2-mixed@n.conf:4"])
        #expect(findings.findingKeys(["nginx.no-default-server"]) == ["nginx.no-default-server@n.conf:1"])
    }

    @Test func syntaxErrorBecomesAFindingAndOtherFilesStillCount() async throws {
        let files = FixtureFiles(files: [
            "/etc/nginx/sites-enabled/broken": "server {\n    listen 443 ssl;\n",
            "/etc/nginx/sites-enabled/ok": "server {\n  location / { proxy_pass https://10.0.0.1; }\n}\n",
        ])
        let main = InputText(name: "/etc/nginx/nginx.conf", text: "http { include sites-enabled/*; }", kind: "nginx-config")
        let findings = await analyzer.analyze(main, context: analyzerContext(inputs: [main], files: files))
        #expect(findings.findingKeys() == [
            "nginx.proxy-ssl-name-missing@/etc/nginx/sites-enabled/ok:2",
            "nginx.proxy-ssl-server-name-off@/etc/nginx/sites-enabled/ok:2",
            "nginx.syntax-error@/etc/nginx/sites-enabled/broken:1",
        ])
    }

    @Test func severalInputsReportEachFindingOnce() async throws {
        let conf = InputText(name: "/etc/nginx/nginx.conf", text: "http { include sites-enabled/*; }", kind: "nginx-config")
        let site = InputText(name: "/etc/nginx/sites-enabled/a", text: "server { location / { proxy_pass https://10.0.0.1; } }", kind: "nginx-config")
        let ctx = analyzerContext(inputs: [site, conf])
        let fromSite = await analyzer.analyze(site, context: ctx)
        let fromConf = await analyzer.analyze(conf, context: ctx)
        #expect(fromSite.findingKeys(["nginx.proxy-ssl-server-name-off"]) == ["nginx.proxy-ssl-server-name-off@/etc/nginx/sites-enabled/a:1"])
        #expect(fromConf.findingKeys(["nginx.proxy-ssl-server-name-off"]) == [])
    }

    @Test(arguments: [
        ("server {\n  listen 443 ssl;\n  server_name a.example.com;\n}\n", true),
        ("proxy_pass https://127.0.0.1:8443;", true),
        ("    listen 443 ssl;\n", true),
        ("# configuration file /etc/nginx/nginx.conf:\nuser nginx;\n", true),
        ("<VirtualHost *:443>\n  ServerName a.example.com\n</VirtualHost>\n", false),
        ("[Fri Jul 04 12:00:00.123456 2025] [ssl:error] [pid 1] AH02032: Hostname a provided via SNI", false),
        ("HTTP/1.1 421 Misdirected Request", false),
        ("my nginx has proxy_pass https://x but I get 421", false),
    ])
    func detection(text: String, isNginx: Bool) {
        let kind = analyzer.detect(InputText(name: "x", text: text))
        #expect((kind == "nginx-config") == isNginx)
    }
}

/// Configs read the way nginx reads them: variables, line endings, case, sockets and Lua.
@Suite("nginx as nginx reads it")
struct NginxServerSemanticsTests {
    let analyzer = NginxConfigAnalyzer()

    private func keys(_ text: String, _ ids: Set<String>? = nil, files: (any FileAccess)? = nil) -> [String] {
        analyzer.findings(inputs: [InputText(name: "n.conf", text: text, kind: "nginx-config")], files: files).findingKeys(ids)
    }

    private let sniOff: Set<String> = ["nginx.proxy-ssl-server-name-off"]

    @Test(arguments: [
        // SWAG's proxy.conf pattern: the scheme is a variable set in the server block.
        ("server {\n set $upstream_proto https;\n location / { proxy_pass $upstream_proto://app:8443; }\n}", true),
        ("set $u \"https://idp/x\";\nproxy_pass $u;", true),
        ("server {\n set $upstream_proto http;\n location / { proxy_pass $upstream_proto://app:8080; }\n}", false),
        // A map whose values (and default) are all https.
        ("map $host $scheme_to { default https; app.example.com https; }\nserver { location / { proxy_pass ${scheme_to}://app; } }", true),
        // Mixed values: the scheme is not known, so nothing is claimed.
        ("map $host $scheme_to { default http; app.example.com https; }\nserver { location / { proxy_pass $scheme_to://app; } }", false),
        // An unknown variable stays unknown.
        ("server { location / { proxy_pass $forward_scheme://app; } }", false),
    ])
    func httpsUpstreamsThroughVariables(text: String, isHTTPS: Bool) {
        #expect(keys(text, sniOff).count == (isHTTPS ? 1 : 0))
        let fixed = "proxy_ssl_server_name on;\nproxy_ssl_name $host;\n" + text
        #expect(keys(fixed, sniOff).isEmpty)
    }

    @Test func setInTheServerBlockWinsOverOtherBlocks() {
        let text = """
        server { set $forward_scheme http; location / { proxy_pass $forward_scheme://a; } }
        server { set $forward_scheme https; location / { proxy_pass $forward_scheme://b; } }
        """
        #expect(keys(text, sniOff) == ["nginx.proxy-ssl-server-name-off@n.conf:2"])
        #expect(NginxVariables(values: ["a": ["$b"], "b": ["$a"]]).resolveScheme("$a://x") == "$a://x")
    }

    @Test func flagsAreCaseInsensitive() {
        let text = "proxy_ssl_server_name On;\nproxy_ssl_name $host;\nserver { location / { proxy_pass https://app; } }"
        #expect(keys(text).isEmpty)
    }

    @Test func crlfFilesAndDumpsKeepFindingsAndLines() throws {
        let text = "server {\r\n    listen 443 ssl;\r\n    server_name a.example.com;\r\n"
            + "    location / { proxy_pass https://10.0.0.5; }\r\n}\r\n"
        #expect(analyzer.detect(InputText(name: "x", text: text)) == "nginx-config")
        #expect(keys(text, sniOff) == ["nginx.proxy-ssl-server-name-off@n.conf:4"])
        let dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\r\n"
            + "# configuration file /etc/nginx/nginx.conf:\r\nhttp { include /etc/nginx/conf.d/*.conf; }\r\n\r\n"
            + "# configuration file /etc/nginx/conf.d/a.conf:\r\n" + text
        let files = try #require(NginxConfig.splitDump(dump))
        #expect(files.map(\.path) == ["/etc/nginx/nginx.conf", "/etc/nginx/conf.d/a.conf"])
        #expect(analyzer.detect(InputText(name: "x", text: dump)) == "nginx-config")
        let findings = analyzer.findings(inputs: [InputText(name: "dump.txt", text: dump, kind: "nginx-config")])
        #expect(findings.findingKeys(sniOff) == ["nginx.proxy-ssl-server-name-off@/etc/nginx/conf.d/a.conf:4"])
    }

    @Test func byteOrderMarkKeepsTheFirstBlock() throws {
        let text = "\u{FEFF}server {\n    listen 443 ssl;\n    location / { proxy_pass https://10.0.0.5; }\n}\n"
        let top = try NginxConfig.parse(text: text, file: "bom.conf")
        #expect(top.map(\.name) == ["server"])
        #expect(analyzer.detect(InputText(name: "x", text: text)) == "nginx-config")
        #expect(keys(text, sniOff) == ["nginx.proxy-ssl-server-name-off@n.conf:3"])
    }

    @Test(arguments: [
        // One IPv4 wildcard socket, written two ways, with two servers and no default.
        ("server { listen 0.0.0.0:443 ssl; server_name a.example.com; }\nserver { listen 443 ssl; server_name b.example.com; }", true),
        ("server { listen *:443 ssl; server_name a.example.com; }\nserver { listen 443 ssl; server_name b.example.com; }", true),
        // IPv6 is its own socket.
        ("server { listen [::]:443 ssl; server_name a.example.com; }\nserver { listen 443 ssl; server_name b.example.com; }", false),
        // `default` is the old spelling of `default_server`.
        ("server { listen 0.0.0.0:443 ssl default; server_name a.example.com; }\nserver { listen 443 ssl; server_name b.example.com; }", false),
    ])
    func listenSocketsAsNginxGroupsThem(text: String, noDefault: Bool) {
        #expect(keys(text, ["nginx.no-default-server"]).count == (noDefault ? 1 : 0))
    }

    @Test func rejectHandshakeFallbackIsASafeDefault() {
        // Nginx Proxy Manager's catch-all: no certificate, every handshake refused.
        let text = """
        server { listen 443 ssl default_server; server_name localhost; ssl_reject_handshake on; }
        server { listen 443 ssl; http2 on; server_name a.example.com; ssl_certificate /c/a.pem; }
        server { listen 443 ssl; http2 on; server_name b.example.com; ssl_certificate /c/b.pem; }
        """
        #expect(keys(text).isEmpty)
        let without = text.replacingOccurrences(of: " ssl_reject_handshake on;", with: "")
        #expect(keys(without, ["nginx.http2-mixed"]) == ["nginx.http2-mixed@n.conf:1"])
    }

    @Test func luaLongBracketsDoNotEndTheBlock() throws {
        let text = """
        location / {
            content_by_lua_block {
                local a = [[ } ]]
                local b = [=[ ]] } ]=]
                --[[ a comment with } and { ]]
                --[==[ and } ]==]
                ngx.say(a, b)
            }
            proxy_pass https://origin;
        }
        server_name after;
        """
        let top = try NginxConfig.parse(text: text, file: "lua.conf")
        #expect(top.map(\.name) == ["location", "server_name"])
        #expect(top.first?.block?.map(\.name) == ["content_by_lua_block", "proxy_pass"])
        #expect(top.first?.block?.last?.location.line == 9)
    }

    @Test func includeOverTheLimitIsAFinding() async {
        let files = FixtureFiles(files: ["/etc/nginx/conf.d/big.conf": String(repeating: "# padding\n", count: 200)])
        let main = InputText(name: "/etc/nginx/nginx.conf", text: "http { include conf.d/big.conf; }", kind: "nginx-config")
        let findings = analyzer.findings(inputs: [main], files: files, byteLimit: 1000)
        #expect(findings.findingKeys() == ["nginx.include-too-large@/etc/nginx/nginx.conf:1"])
        #expect(findings.first?.message.contains("was not read") == true)
    }

    @Test func wwwAndApexThatRedirectAreNotACoalescingRisk() {
        let text = """
        server { listen 443 ssl default_server; server_name example.com; ssl_certificate /c/example.pem; }
        server { listen 443 ssl; server_name www.example.com; ssl_certificate /c/example.pem;
                 return 301 https://example.com$request_uri; }
        """
        #expect(keys(text, ["nginx.cert-overlap"]).isEmpty)
        let serving = text.replacingOccurrences(of: "return 301 https://example.com$request_uri;", with: "root /srv/www;")
        #expect(keys(serving, ["nginx.cert-overlap"]).count == 2)
    }
}
