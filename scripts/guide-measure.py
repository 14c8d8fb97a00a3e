#!/usr/bin/env python3
"""Measures `kb guide` on labelled case files, as a user who knows only the first line would start it.

Usage: scripts/guide-measure.py [CASES.yaml ...] [--kb PATH] [--verbose]
Default cases: ../shared/cases/public.yaml and Tests/Cases/{dev,holdout,not421}.yaml.

Each case runs `kb guide "FIRST LINE"` under a real pseudo-terminal. Every paste request is answered with
the case's full text (blank lines left out, since an empty line ends a paste); every other question is
skipped. The cause is read from the `## Conclusion` section of the transcript. For each file it prints
how often the session ends at the labelled cause (not-421 cases: at no 421 cause) and how many questions
it took (median, max), next to `kb diagnose` on the full text for comparison.
"""
import json
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import yaml
except ImportError:
    sys.exit("guide-measure: needs PyYAML (pip install pyyaml)")

PROMPTS = (b"[b]ack > ", b"[s]kip > ", b"s to skip) > ")


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return text.strip()


def paste_lines(text):
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        # A terminal's line buffer holds 4095 characters; longer lines go in pieces.
        while len(line.encode()) > 3000:
            out.append(line[:1000])
            line = line[1000:]
        out.append(line)
    return out


def guided(kb, case, timeout=120):
    """Runs one guided session; returns (cause or 'unknown', questions asked, exit status)."""
    with tempfile.TemporaryDirectory() as tmp:
        transcript = os.path.join(tmp, "t.md")
        env = dict(os.environ, NO_COLOR="1", TERM="xterm")
        env.pop("KB_PLAYBOOK_PATH", None)
        master, slave = os.openpty()
        proc = subprocess.Popen([kb, "guide", "--transcript", transcript, first_line(case["text"])],
                                stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        buf, consumed, questions = b"", 0, 0
        deadline = time.time() + timeout

        def drain(wait):
            nonlocal buf
            ready, _, _ = select.select([master], [], [], wait)
            if not ready:
                return True
            try:
                data = os.read(master, 65536)
            except OSError:
                return False
            if not data:
                return False
            buf += data
            return True

        def send(line):
            os.write(master, line.encode() + b"\n")
            drain(0.005)

        alive = True
        while alive and time.time() < deadline:
            alive = drain(0.1)
            fresh = buf[consumed:]
            if fresh.endswith(PROMPTS):
                consumed = len(buf)
                questions += 1
                if questions > 20:
                    break
                if fresh.endswith(b"s to skip) > "):
                    for line in paste_lines(case["text"]):
                        send(line)
                    send("")
                else:
                    send("s")
        try:
            proc.wait(timeout=max(1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)
        text = open(transcript, encoding="utf-8").read() if os.path.exists(transcript) else ""
        section = text.split("## Conclusion", 1)[1] if "## Conclusion" in text else ""
        m = re.search(r"Cause: `([^`]+)`", section)
        return (m.group(1) if m else "missing"), questions, proc.returncode


def diagnosed(kb, case):
    run = subprocess.run([kb, "diagnose", "--format", "json", "--file", "-"], input=case["text"].encode(),
                         capture_output=True, timeout=60)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        return "error"
    if report.get("status") != "problem" or not report.get("diagnoses"):
        return "unknown"
    return report["diagnoses"][0]["cause"]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in sys.argv
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    kb = os.path.join(root, ".build", "debug", "kb")
    if "--kb" in sys.argv:
        kb = sys.argv[sys.argv.index("--kb") + 1]
        args = [a for a in args if a != kb]
    files = args or [os.path.join(root, "..", "shared", "cases", "public.yaml")] + [
        os.path.join(root, "Tests", "Cases", n + ".yaml") for n in ("dev", "holdout", "not421")]
    for path in files:
        with open(path, encoding="utf-8") as f:
            cases = yaml.safe_load(f)
        n = ok = base = 0
        counts = []
        for case in cases:
            want = case.get("cause", "unknown")
            got, asked, status = guided(kb, case)
            full = diagnosed(kb, case)
            n += 1
            counts.append(asked)
            hit = got == want
            ok += hit
            base += full == want
            if verbose or not hit:
                print(f"{'ok  ' if hit else 'MISS'} {case['id']}: want {want}, guided {got} after {asked} "
                      f"question(s), diagnose on the full text {full}")
        name = os.path.relpath(path, root)
        print(f"{name}: guided {ok}/{n} ({ok / max(n, 1):.0%}), diagnose on full text {base}/{n}; "
              f"questions median {statistics.median(counts) if counts else 0}, max {max(counts) if counts else 0}, "
              f"at most 3 in {sum(c <= 3 for c in counts)}/{n}")


if __name__ == "__main__":
    main()
