#!/usr/bin/env python3
"""Scores `kb diagnose --format json` on a labelled case file.

Usage: scripts/score-cases.py [CASES.yaml] [--kb PATH] [--verbose]
Default cases: ../shared/cases/public.yaml next to the repository.
Prints protocol accuracy and cause top-1 / top-3, and every miss with what kb said instead.
Each case's text goes to kb on standard input, as a support agent would paste it; no labels
other than the text are passed to kb.
"""
import json
import os
import subprocess
import sys

try:
    import yaml
except ImportError:  # PyYAML is on the machine image; say so plainly if it is not
    sys.exit("score-cases: needs PyYAML (pip install pyyaml)")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in sys.argv
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    kb = os.path.join(root, ".build", "release", "kb")
    if "--kb" in sys.argv:
        kb = sys.argv[sys.argv.index("--kb") + 1]
        args = [a for a in args if a != kb]
    if not os.path.exists(kb):
        kb = os.path.join(root, ".build", "debug", "kb")
    cases_path = args[0] if args else os.path.join(root, "..", "shared", "cases", "public.yaml")
    with open(cases_path, encoding="utf-8") as f:
        cases = yaml.safe_load(f)

    n = proto_ok = top1 = top3 = 0
    misses = []
    for case in cases:
        n += 1
        run = subprocess.run([kb, "diagnose", "--format", "json", "--file", "-"], input=case["text"].encode(),
                             capture_output=True, timeout=60)
        if run.returncode not in (0, 1, 2):
            misses.append(f"{case['id']}: kb exited {run.returncode}: {run.stderr.decode()[:200]}")
            continue
        report = json.loads(run.stdout)
        proto = report["protocol"]["value"]
        causes = [d["cause"] for d in report["diagnoses"]]
        p_ok = proto == case["protocol"]
        proto_ok += p_ok
        t1 = bool(causes) and causes[0] == case["cause"]
        t3 = case["cause"] in causes[:3]
        top1 += t1
        top3 += t3
        if not (p_ok and t1) or verbose:
            mark = "ok  " if (p_ok and t3) else "MISS"
            misses.append(f"{mark} {case['id']}: want {case['protocol']}/{case['cause']}, got {proto} "
                          f"({report['protocol']['confidence']}) {causes[:3]}")
    for line in misses:
        print(line)
    print(f"cases: {n}")
    print(f"protocol accuracy: {proto_ok}/{n} = {proto_ok / max(n, 1):.1%}")
    print(f"cause top-1: {top1}/{n} = {top1 / max(n, 1):.1%}")
    print(f"cause top-3: {top3}/{n} = {top3 / max(n, 1):.1%}")


if __name__ == "__main__":
    main()
