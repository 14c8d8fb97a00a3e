/* Generates a mixed log for the kb log-scanning benchmark: Apache vhost_combined access lines,
 * Apache error-log lines (AH02032 in both wordings, AH02031, AH02033), nginx error lines and
 * Postfix/Exim mail-log lines, a few percent of them 421s, spread over one day. Deterministic (fixed seed).
 * usage: gen MEGABYTES [SEED] > file */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static uint64_t s = 88172645463325252ULL;
static inline uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
static inline unsigned r(unsigned n) { return (unsigned)(rnd() % n); }

static const char *vhosts[] = { "www.example.com", "shop.example.com", "api.example.com", "blog.example.org",
    "mail.example.net", "static.example.com", "cdn.example.org", "app.example.io", "admin.example.com",
    "docs.example.io", "m.example.com", "beta.example.org" };
static const char *paths[] = { "/", "/index.html", "/wp-login.php", "/api/v1/items?page=2", "/static/app.js",
    "/images/logo.png", "/cart", "/checkout", "/robots.txt", "/favicon.ico", "/feed/", "/search?q=421" };
static const char *agents[] = { "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "curl/8.5.0", "Go-http-client/2.0", "okhttp/4.12.0" };
static const char *domains[] = { "gmail.com", "outlook.com", "yahoo.com", "icloud.com", "example.net", "gmx.de" };
static const char *relays[] = { "gmail-smtp-in.l.google.com", "example-com.mail.protection.outlook.com",
    "mta7.am0.yahoodns.net", "mx01.mail.icloud.com", "mx.example.net", "mx00.emig.gmx.net" };
static const char *replies[] = { "421-4.7.28 [203.0.113.5] Our system has detected an unusual rate of unsolicited mail - gsmtp",
    "421 4.7.0 Temporary System Problem. Try again later. - gsmtp",
    "421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints",
    "421 4.7.1 Messages to user@icloud.com deferred due to excessive volume. Try again later",
    "421 4.3.2 Service not available, closing transmission channel" };
static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

int main(int argc, char **argv) {
    long long limit = (argc > 1 ? atoll(argv[1]) : 1024) * 1024LL * 1024LL;
    if (argc > 2) s ^= (uint64_t)atoll(argv[2]) * 0x9E3779B97F4A7C15ULL;
    static char out[1 << 20];
    size_t used = 0;
    long long written = 0;
    unsigned sec = 0;
    char line[1024];
    while (written < limit) {
        /* The log covers one day whatever its size, as a day's log of a busier server would. */
        sec = (unsigned)(written * 86400 / limit);
        unsigned hh = (sec / 3600) % 24, mm = (sec / 60) % 60, ss = sec % 60, day = 1 + (sec / 86400) % 28;
        unsigned k = r(1000);
        int n;
        if (k < 900) {
            unsigned status = r(100) < 3 ? 421 : (r(10) < 8 ? 200 : (r(2) ? 304 : 404));
            n = snprintf(line, sizeof line,
                "%s:443 %u.%u.%u.%u - - [%02u/%s/2025:%02u:%02u:%02u +0000] \"GET %s HTTP/1.1\" %u %u \"-\" \"%s\"\n",
                vhosts[r(12)], 1 + r(223), r(256), r(256), 1 + r(254), day, months[6], hh, mm, ss,
                paths[r(12)], status, r(90000), agents[r(5)]);
        } else if (k < 940) {
            const char *h = vhosts[r(12)];
            unsigned w = r(10);
            if (w < 6)
                n = snprintf(line, sizeof line,
                    "[Fri Jul %02u %02u:%02u:%02u.%06u 2025] [ssl:error] [pid %u:tid %u] [client %u.%u.%u.%u:%u] AH02032: Hostname %s (default host as no SNI was provided) and hostname %s provided via HTTP have no compatible SSL setup\n",
                    day, hh, mm, ss, r(1000000), 1000 + r(30000), 100000 + r(900000), 10, 0, 0, 1 + r(254), 30000 + r(30000),
                    vhosts[0], h);
            else if (w < 9)
                n = snprintf(line, sizeof line,
                    "[Fri Jul %02u %02u:%02u:%02u.%06u 2025] [ssl:error] [pid %u:tid %u] [client %u.%u.%u.%u:%u] AH02032: Hostname %s provided via SNI and hostname %s provided via HTTP have no compatible SSL setup\n",
                    day, hh, mm, ss, r(1000000), 1000 + r(30000), 100000 + r(900000), 1 + r(223), r(256), r(256), 1 + r(254), 30000 + r(30000),
                    vhosts[r(12)], h);
            else
                n = snprintf(line, sizeof line,
                    "[Fri Jul %02u %02u:%02u:%02u.%06u 2025] [ssl:info] [pid %u:tid %u] [client %u.%u.%u.%u:%u] AH02033: No hostname was provided via SNI for a name based virtual host\n",
                    day, hh, mm, ss, r(1000000), 1000 + r(30000), 100000 + r(900000), 1 + r(223), r(256), r(256), 1 + r(254), 30000 + r(30000));
        } else if (k < 950) {
            n = snprintf(line, sizeof line,
                "2025/07/%02u %02u:%02u:%02u [info] %u#%u: *%u client attempted to request the server name different from the one that was negotiated while reading client request headers, client: %u.%u.%u.%u, server: %s, request: \"GET / HTTP/1.1\", host: \"%s\"\n",
                day, hh, mm, ss, 1000 + r(9000), r(4), r(10000000), 1 + r(223), r(256), r(256), 1 + r(254), vhosts[r(12)], vhosts[r(12)]);
        } else {
            unsigned d = r(6);
            unsigned w = r(10);
            if (w < 3)
                n = snprintf(line, sizeof line,
                    "%s %2u %02u:%02u:%02u mx1 postfix/smtp[%u]: %05X%05X: to=<user%u@%s>, relay=%s[%u.%u.%u.%u]:25, delay=%u.%u, delays=0.1/0/0.2/0.3, dsn=4.7.0, status=deferred (host %s[%u.%u.%u.%u] said: %s (in reply to %s command))\n",
                    months[6], day, hh, mm, ss, 1000 + r(60000), r(0xFFFFF), r(0xFFFFF), r(100000), domains[d], relays[d],
                    1 + r(223), r(256), r(256), 1 + r(254), r(100), r(10), relays[d], 1 + r(223), r(256), r(256), 1 + r(254),
                    replies[r(5)], r(2) ? "RCPT TO" : "end of DATA");
            else if (w < 4)
                n = snprintf(line, sizeof line,
                    "2025-07-%02u %02u:%02u:%02u 1u%04X-%06X-%02X == user%u@%s R=dnslookup T=remote_smtp defer (-44) H=%s [%u.%u.%u.%u]: SMTP error from remote mail server after RCPT TO:<user%u@%s>: %s\n",
                    day, hh, mm, ss, r(0xFFFF), r(0xFFFFFF), r(0xFF), r(100000), domains[d], relays[d],
                    1 + r(223), r(256), r(256), 1 + r(254), r(100000), domains[d], replies[r(5)]);
            else
                n = snprintf(line, sizeof line,
                    "%s %2u %02u:%02u:%02u mx1 postfix/smtp[%u]: %05X%05X: to=<user%u@%s>, relay=%s[%u.%u.%u.%u]:25, delay=%u.%u, delays=0.1/0/0.2/0.3, dsn=2.0.0, status=sent (250 2.0.0 OK %u - gsmtp)\n",
                    months[6], day, hh, mm, ss, 1000 + r(60000), r(0xFFFFF), r(0xFFFFF), r(100000), domains[d], relays[d],
                    1 + r(223), r(256), r(256), 1 + r(254), r(100), r(10), r(2000000000));
        }
        if (n <= 0) continue;
        if (used + (size_t)n > sizeof out) { fwrite(out, 1, used, stdout); used = 0; }
        memcpy(out + used, line, (size_t)n);
        used += (size_t)n;
        written += n;
    }
    fwrite(out, 1, used, stdout);
    return 0;
}
