/// The same invented tickets as the Engine tests use (Tests/EngineTests/CaseRolesTests.swift).
/// Tickets as support staff receive them; every name is invented (documentation ranges, .test domains).
enum Tickets {
    static let gmail4726 = """
        This is the mail system at host mail.acme-shop.test.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients.

        <jo.customer@gmail.com>: host gmail-smtp-in.l.google.com[142.250.102.26] said:
            421-4.7.26 This mail has been rate limited because it is unauthenticated.
            421-4.7.26 Gmail requires all senders to authenticate with either SPF or
            421-4.7.26 DKIM.
            421-4.7.26
            421-4.7.26  Authentication results:
            421-4.7.26  DKIM = did not pass
            421-4.7.26  SPF [billing.acme-shop.test] with ip: [203.0.113.45] = did not pass
            421-4.7.26
            421-4.7.26  For instructions on setting up authentication, go to
            421 4.7.26  https://support.google.com/mail/answer/81126#authentication a1-20020a05 - gsmtp (in reply to end of DATA command)
        """

    /// The same refusal with nothing that names the sender: the MX must not stand in for it.
    static let gmailNoSender = """
        <jo.customer@gmail.com>: host gmail-smtp-in.l.google.com[142.250.102.26] said:
            421-4.7.26 This mail has been rate limited because it is unauthenticated.
            421 4.7.26 Gmail requires all senders to authenticate with either SPF or DKIM. - gsmtp (in reply to end of DATA command)
        """

    static let microsoftRP001 = """
        2025-11-03 09:12:44 1vQm3T-0007Ab-1x == anna.schmidt@outlook.com R=dnslookup T=remote_smtp defer (-46) H=outlook-com.olc.protection.outlook.com [52.101.68.1]: SMTP error from remote mail server after MAIL FROM:<news@shop-example.test> SIZE=48213: 421 RP-001 (DB5EUR03FT021) Unfortunately, some messages from 198.51.100.23 weren't sent. Please try again. We have limits for how many messages can be sent per hour and per day.
        """

    static let yahooTSS04 = """
        Apr 22 19:40:01 mta postfix/qmgr[880]: 7D1E2F3A4B: from=<newsletter@garden-club.test>, size=18233, nrcpt=1 (queue active)
        Apr 22 19:40:05 mta postfix/smtp[2210]: 7D1E2F3A4B: to=<jo@yahoo.com>, relay=mta7.am0.yahoodns.net[67.195.204.72]:25, delay=4.4, dsn=4.7.0, status=deferred (host mta7.am0.yahoodns.net[67.195.204.72] said: 421 4.7.0 [TSS04] Messages from 198.51.100.61 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes (in reply to MAIL FROM command))
        """

    static let postfixReceiver = """
        Nov 12 08:01:13 mx1 postfix/smtpd[4122]: NOQUEUE: reject: RCPT from unknown[192.0.2.77]: 450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.77]; from=<billing@sender-corp.test> to=<ops@example.net> proto=ESMTP helo=<mail.sender-corp.test>
        """

    static let eximComcast = """
        2025-10-02 14:21:07 1sVzXb-000Hk3-2Q <= invoices@acme-shop.test H=localhost (webapp01) [127.0.0.1] P=esmtpa A=dovecot_login:invoices S=20311
        2025-10-02 14:21:09 1sVzXb-000Hk3-2Q == kim@comcast.net R=dnslookup T=remote_smtp defer (-44) H=mx2.comcast.net [96.114.157.80]: SMTP error from remote mail server after initial connection: 421 - [Reverse DNS failure : Try again later]
        """

    static let gmxGerman = """
        Dies ist das Mail-System auf dem Rechner mail.praxis-beispiel.test.

        Ihre Nachricht konnte nicht an einen oder mehrere Empfänger zugestellt werden.
        Die Fehlermeldung des entfernten Servers steht unten.

        <termine@gmx.de>: host mx00.emig.gmx.net[212.227.15.9] said: 421-gmx.net (mxgmx104) Nemesis ESMTP Service not available 421-Service unavailable 421-Reject due to policy restrictions. 421 For explanation visit https://postmaster.gmx.net/en/error-messages?ip=203.0.113.9&c=hi (in reply to MAIL FROM command)
        """

    static let apacheAH02032 = """
        [Wed Oct 08 11:32:17.440921 2025] [ssl:error] [pid 21877:tid 21901] [client 198.51.100.200:53114] AH02032: Hostname shop.example-store.test provided via SNI and hostname www.example-store.test provided via HTTP have no compatible SSL setup
        """

    static let wordpress = """
        After I changed the Site Address (URL) in Settings → General to https://www.bakery-example.test the whole
        WordPress site shows "Misdirected Request". The error page says Apache/2.4.65 (Debian) Server at www.bakery-example.test Port 443.
        """

    static let cloudflareApex = """
        https://www.flowers-example.test works, but https://flowers-example.test returns 421 Misdirected Request.
        The site is behind Cloudflare (cf-ray: 8c2f1a2b3c4d5e6f-FRA), origin is 203.0.113.80.
        """

    static let nginxUpstream = """
        2025/10/08 11:40:02 [error] 1201#1201: *88 upstream SSL handshake failed while SSL handshaking to upstream, client: 198.51.100.7, server: shop.example-store.test, request: "GET / HTTP/2.0", upstream: "https://10.0.0.5:443/", host: "shop.example-store.test"
        """

    /// Names in prose and in comments, none standing where a role stands.
    static let proseOnly = """
        My domain acme-shop.test is down and customers see 421 everywhere. Our mail server is mail.acme-shop.test,
        IP 203.0.113.45, and I set up SPF and DKIM yesterday. The origin server moved last week.
        # from=<alerts@old-domain.test>
        # SPF [old-domain.test] with ip: [198.51.100.9] = did not pass
        // proxy_pass https://10.9.9.9;
        """
}
