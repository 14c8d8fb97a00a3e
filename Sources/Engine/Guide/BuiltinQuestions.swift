import Foundation

/// The questions `kb guide` asks whatever the playbooks: which protocol, the full error, whether it comes
/// and goes, the software in use, and leave to probe a named target. Written as data in the playbooks'
/// question format and decoded by the same decoder, so `kb playbooks validate` rules apply to them too.
public enum BuiltinQuestions {
    public static let source = """
        kb: guide-questions/1
        questions:
          - id: protocol
            kind: choice
            text: Where does the 421 show up?
            why: >
              A 421 means three different things: a web server refusing a host name, a mail server
              turning a connection away, or an FTP server closing the control connection. Each has its own causes.
            choices:
              - label: a web page, an API call or curl (HTTP)
                protocol: http
              - label: sending or receiving mail (SMTP)
                protocol: smtp
              - label: a file transfer client (FTP)
                protocol: ftp
          - id: full-text
            kind: paste
            text: Paste the full error as you see it, with the lines around it (a bounce, a log excerpt, curl -v output)
            why: >
              The exact wording, the codes after the 421 and the lines around it name the cause far more often
              than a summary does.
          - id: intermittent
            kind: yes-no
            text: Does the 421 come and go, so that a retry or a reload sometimes works?
            why: >
              Errors that come and go point at reused connections, load balancers or limits; an error on every
              request points at configuration.
            if-yes:
              intermittent: true
            if-no:
              intermittent: false
          - id: web-server
            kind: choice
            scope: http
            text: What answers for the site?
            why: The causes and the fix steps differ between web servers, proxies and CDNs.
            choices:
              - label: nginx
                stack: [nginx]
              - label: Apache
                stack: [apache]
              - label: nginx in front of Apache
                stack: [nginx, apache]
              - label: Cloudflare or another CDN
                stack: [cloudflare]
              - label: other
          - id: mail-server
            kind: choice
            scope: smtp
            text: 'Which mail server sends: Postfix, Exim, Exchange, other?'
            why: Each mail server has its own settings for connection counts, rates and TLS, so the fix steps differ.
            choices:
              - label: Postfix
                stack: [postfix]
              - label: Exim
                stack: [exim]
              - label: Exchange
                stack: [exchange]
              - label: other
          - id: probe
            kind: yes-no
            text: May I probe {{target}} now?
            why: >
              Live checks connect to the target you named (and the addresses it resolves to, --resolve and
              --origin) to compare what the server answers with and without SNI, over HTTP/2 and HTTP/1.1, or
              what a mail server says at connect. Nothing else is contacted.
            if-yes:
              probe: true
        """

    /// The decoded questions; the source is covered by tests, so a failure here is a build defect.
    public static func load(_ loader: PlaybookLoader) throws(KBErrors) -> [Question] {
        try loader.decodeQuestions(source, path: "<built-in guide questions>")
    }
}
