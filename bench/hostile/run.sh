#!/usr/bin/env bash
# Issue 7 bar: `kb diagnose` on any input up to 256 KiB ends in <= 2 s (release build), with the
# shipped playbooks and with an organisation playbook directory of hostile patterns.
# Generates 256 KiB inputs of every shape of the issue plus some of our own, times one run of each,
# prints every figure and the maximum, and exits 1 when the maximum is over the bar.
# Usage: bench/hostile/run.sh [KB] (default .build/release/kb)
set -euo pipefail
cd "$(dirname "$0")/../.."
kb=${1:-.build/release/kb}
[ -x "$kb" ] || { echo "run 'swift build -c release' first" >&2; exit 1; }
exec python3 - "$kb" <<'PY'
import os, subprocess, sys, tempfile, time

kb = sys.argv[1]
size = 256 * 1024
bar = 2.0

def fill(piece, prefix="", suffix=""):
    room = size - len(prefix.encode()) - len(suffix.encode())
    unit = len(piece.encode())
    return prefix + piece * (room // unit) + suffix

shapes = {
    # the issue's shapes, at the 256 KiB input limit
    "curl-curl-line": fill("curl "),
    "resolve-digits": fill("1", "curl --resolve a:1:"),
    "for-ip-in": fill("10.0.0.1 ", "for ip in "),
    "host-name": fill("a", "Host: "),
    "brace-headers": fill("a.example {\n"),
    # our own
    "dotted-host-name": fill("a.", "https://", "com/"),
    "reply-codes": fill("421 "),
    "reply-codes-dashes": fill("421-"),
    "enhanced-codes": fill("421 4.7.0 "),
    "status-lines": fill("HTTP/1.1 "),
    "alpn-words": fill("alpn "),
    "at-signs": fill("a@"),
    "json-host-sni": fill('"host":"a","server_name":"a",'),
    "servername-host": fill("-servername a Host: a "),
    "referer-sni": fill("Hostname a provided via SNI referer: https://a "),
    "haproxy-ssl-lines": fill("server x 1.2.3.4:443 ssl sni x\n"),
    "python-tuples": fill("(421, '"),
    "json-messages": fill('"message": "\\'),
    "every-time": fill("not on every time "),
    "only-a": fill("a"),
    "only-x": fill("x"),
    "mixed-log": fill("Jan 1 00:00:00 mx postfix/smtp[1]: to=<a@b.example>, relay=mx.b.example[192.0.2.1]:25, "
                      "dsn=4.7.0, status=deferred (host mx.b.example said: 421 4.7.0 try later (in reply to RCPT TO command))\n"),
}

org = os.path.join("bench", "hostile", "org-playbooks")
worst = 0.0
rows = []
with tempfile.TemporaryDirectory() as tmp:
    for name, text in shapes.items():
        path = os.path.join(tmp, name + ".txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        for label, extra in (("shipped", []), ("shipped+org", ["--playbooks", org])):
            start = time.monotonic()
            run = subprocess.run([kb, "diagnose", "--format", "json", "--file", path] + extra,
                                 capture_output=True, timeout=600)
            took = time.monotonic() - start
            worst = max(worst, took)
            rows.append((name, label, took, run.returncode))
print(f"{'input (256 KiB)':<22} {'playbooks':<12} {'seconds':>8}  exit")
for name, label, took, code in rows:
    print(f"{name:<22} {label:<12} {took:8.3f}  {code}")
print(f"max {worst:.3f} s (bar {bar} s)")
sys.exit(0 if worst <= bar else 1)
PY
