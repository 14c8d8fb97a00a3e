#!/usr/bin/env python3
"""Builds the seed corpora bench/fuzz/corpus/TARGET from kb's own fixtures.

Sources: playbooks/**/*.yaml, Tests/**/Fixtures, Tests/Cases/*.yaml and ../shared/cases/public.yaml (when
present beside the repository). Texts inside case files and playbook tests (`text:`, `input:`) become
seeds for the text targets. DNS responses are written here, byte by byte, since no fixture holds one.
Seeds are named by content hash, so running it again adds nothing twice. Needs PyYAML (pip install pyyaml).
"""
import hashlib
import pathlib
import struct
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"
MAX_SEED = 64 * 1024  # larger files are cut: libFuzzer mutates small inputs faster


def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    data = data[:MAX_SEED]
    if not data.strip():
        return
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def texts(node):
    """Every string under a `text` or `input` key, anywhere in a YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("text", "input") and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from texts(item)


def yaml_texts(path):
    try:
        return list(texts(yaml.safe_load(path.read_text(errors="replace"))))
    except yaml.YAMLError:
        return []


def dns_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_response(qname, qtype, answers, flags=0x8180, extra=b""):
    """A response with one question; answers are (name bytes, type, rdata bytes)."""
    packet = struct.pack(">HHHHHH", 0x1234, flags, 1, len(answers), 0, 1 if extra else 0)
    packet += dns_name(qname) + struct.pack(">HH", qtype, 1)
    for name, rtype, rdata in answers:
        packet += name + struct.pack(">HHIH", rtype, 1, 300, len(rdata)) + rdata
    return packet + extra


def dns_seeds():
    q = b"\xc0\x0c"  # pointer to the question name
    opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
    yield dns_response("example.com", 1, [(q, 1, bytes([192, 0, 2, 1])), (q, 1, bytes([192, 0, 2, 2]))], extra=opt)
    yield dns_response("example.com", 28, [(q, 28, bytes.fromhex("20010db8000000000000000000000001"))])
    yield dns_response("www.example.com", 5, [(q, 5, b"\x03cdn" + b"\xc0\x10"), (b"\x03cdn\xc0\x10", 1, bytes([198, 51, 100, 7]))])
    yield dns_response("example.com", 15, [(q, 15, b"\x00\x0a\x02mx" + b"\xc0\x0c"), (q, 15, b"\x00\x14" + dns_name("mx2.example.net"))])
    yield dns_response("example.com", 16, [(q, 16, b"\x0bv=spf1 -all\x05 more")])
    yield dns_response("nope.example", 1, [], flags=0x8183)
    yield dns_response("big.example", 16, [], flags=0x8380)  # TC set
    yield dns_response("loop.example", 5, [(b"\xc0\x30", 5, b"\xc0\x0c")])  # pointer past the end
    yield dns_response("a." * 60 + "example", 1, [(q, 1, bytes(4))])


def main():
    playbooks = sorted((ROOT / "playbooks").rglob("*.yaml"))
    fixtures = sorted(p for d in ROOT.glob("Tests/*/Fixtures") for p in d.rglob("*") if p.is_file())
    cases = sorted((ROOT / "Tests" / "Cases").glob("*.yaml"))
    public = ROOT.parent / "shared" / "cases" / "public.yaml"
    if public.exists():
        cases.append(public)
    else:
        print(f"note: {public} not found; its texts are left out", file=sys.stderr)

    for path in playbooks + [p for p in fixtures if p.suffix in (".yaml", ".yml")]:
        add("playbook", path.read_bytes())
    all_texts = [t for p in playbooks + cases + fixtures if p.suffix in (".yaml", ".yml") for t in yaml_texts(p)]
    for text in all_texts:
        add("symptoms", text)
        add("smtpreply", text)
    for path in fixtures:
        name = str(path.relative_to(ROOT))
        if "/nginx" in name:
            add("nginx", path.read_bytes())
        if "/apache" in name:
            add("apache", path.read_bytes())
        if "/logs/" in name or name.endswith(".log"):
            add("logscan", path.read_bytes())
            add("symptoms", path.read_bytes())
    # Configs and logs pasted inside case texts are seeds for those parsers too.
    for text in all_texts:
        if "server {" in text or "proxy_pass" in text or "server_name" in text:
            add("nginx", text)
        if "<VirtualHost" in text or "ServerName" in text:
            add("apache", text)
        if "AH0203" in text or "status=" in text or "\" 421 " in text or "] 421" in text:
            add("logscan", text)
    add("logscan", 'FORMAT:%v %h %l %u %t "%r" %>s %b\nshop.example.com 198.51.100.4 - - [12/Aug/2025:14:02:51 +0000] "GET / HTTP/2.0" 421 0\n')
    for packet in dns_seeds():
        add("dnswire", packet)
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


main()
