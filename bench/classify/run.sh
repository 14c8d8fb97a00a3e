#!/usr/bin/env bash
# Start-up benchmark: `kb classify` and `kb diagnose` on one pasted line, with every shipped playbook and
# article loaded, against grep looking for the same line's 421. Needs hyperfine (apt-get install -y hyperfine).
# kb exits 1 when it diagnosed a problem, so non-zero exits are expected (-i).
#   bench/classify/run.sh            # release build, 30 runs each
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || { echo "missing hyperfine: apt-get install -y hyperfine" >&2; exit 2; }
swift build -c release >&2
KB=.build/release/kb
LINE='421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints'
mkdir -p bench/out
printf '%s\n' "$LINE" > bench/out/line.txt
hyperfine -N -i --warmup 5 --runs "${RUNS:-30}" --export-markdown bench/out/classify.md \
    "$KB classify --file bench/out/line.txt" \
    "$KB diagnose --format json --file bench/out/line.txt" \
    "grep -cE '421|Misdirected' bench/out/line.txt"
cat bench/out/classify.md
