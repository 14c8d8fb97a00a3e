import Engine
import Testing

@Suite("markdown and redaction")
struct ReplyRenderingTests {
    @Test func codeSpansHoldAnyCommandWhole() {
        #expect(Markdown.code("grep 'from=<x@y>' /var/log/mail.log") == "`grep 'from=<x@y>' /var/log/mail.log`")
        #expect(Markdown.code("echo `date`") == "`` echo `date` ``")
        #expect(Markdown.code("a ``b`` c") == "```a ``b`` c```")
        #expect(Markdown.code("") == "")
    }

    @Test func proseIsEscapedNotEntityEncoded() {
        let escaped = Markdown.escape("<b>bold</b> & *stars* _under_ [link](x)")
        #expect(!escaped.contains("&lt;") && !escaped.contains("&amp;"))
        #expect(escaped == #"\<b\>bold\</b\> \& \*stars\* \_under\_ \[link\](x)"#)
        #expect(Markdown.escape("- not a list") == #"\- not a list"#)
        #expect(Markdown.escape("1. not a list") == #"1\. not a list"#)
        #expect(Markdown.escape("# not a heading") == ##"\# not a heading"##)
        #expect(Markdown.escape("two\nlines") == "two lines")
    }

    @Test func playbookProseKeepsItsCodeSpansAcrossLines() {
        let paragraphs = Markdown.paragraphs("Run `postqueue\n-p` and <check>.\n\nThen `x`.")
        #expect(paragraphs == [#"Run `postqueue -p` and \<check\>."#, "Then `x`."])
        #expect(Markdown.prose("a `b") == #"a \`b"#)
    }

    @Test func indentedSnippetsStayOneFencedBlock() {
        let detail = "Add:\n    proxy_ssl_server_name on;\n    proxy_ssl_name $host;\nThen reload\nnginx."
        #expect(Markdown.blocks(detail) == [.paragraph("Add:"), .code(["proxy_ssl_server_name on;", "proxy_ssl_name $host;"]),
                                            .paragraph("Then reload nginx.")])
        #expect(Markdown.lines(detail, indent: "   ") == ["   Add:", "", "   ```", "   proxy_ssl_server_name on;",
                                                           "   proxy_ssl_name $host;", "   ```", "", "   Then reload nginx."])
    }

    @Test func fencesOutgrowBackticksInside() {
        #expect(Markdown.fence("echo ```", indent: "  ") == ["  ````", "  echo ```", "  ````"])
    }

    @Test func redactionIsStableAndKeepsWhatTheReplyNeeds() {
        var redactor = Redactor()
        let out = redactor.redact("""
            jo@acme-shop.test sent from 203.0.113.45 via mail.acme-shop.test to x@gmail.com \
            (gmail-smtp-in.l.google.com[142.250.1.2]); again 203.0.113.45, www.acme-shop.test, \
            2001:db8:1::7 and ::1, 127.0.0.1, /etc/postfix/main.cf, mail.log, Apache/2.4.64, 19:40:01
            """)
        #expect(out == """
            user-1@domain-1.example sent from 192.0.2.1 via mail.domain-1.example to user-2@gmail.com \
            (gmail-smtp-in.l.google.com[192.0.2.2]); again 192.0.2.1, www.domain-1.example, \
            2001:db8::1 and ::1, 127.0.0.1, /etc/postfix/main.cf, mail.log, Apache/2.4.64, 19:40:01
            """)
    }

    @Test func standInsNeverEqualAnOriginal() {
        var redactor = Redactor()
        redactor.learn(["from 198.51.100.7 and 192.0.2.1"])
        let out = redactor.redact("from 198.51.100.7 and 192.0.2.1")
        #expect(out == "from 192.0.2.2 and 192.0.2.3")
    }

    @Test func tenantLabelsOfProviderSuffixesAreRedacted() {
        var redactor = Redactor()
        #expect(redactor.redact("acme-shop-test.mail.protection.outlook.com") == "sub-1.mail.protection.outlook.com")
    }

    @Test func redactionStaysLinear() {
        var redactor = Redactor()
        let line = "a.b-c.test 10.1.2.3 u@v.test x:y::z "
        let text = String(repeating: line, count: 20_000)
        let clock = ContinuousClock()
        let took = clock.measure { _ = redactor.redact(text) }
        #expect(took < .seconds(10), "took \(took)")
    }
}
