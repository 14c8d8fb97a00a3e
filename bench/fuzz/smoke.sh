#!/usr/bin/env bash
# Short fuzz smoke run for CI: builds the fuzz package (release, -sanitize=fuzzer,address) and runs each
# target for a few seconds on its seeds (default 5 s each; `smoke.sh 10` for 10). Exits 1 when the build
# fails or a target has a finding (artifacts in bench/out/fuzz-smoke/) (crash, slow input over 10 s, over 2 GiB). Prints how long each part took.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-5}
t0=$(date +%s)
swift build -c release --package-path "$here" -Xswiftc -sanitize=fuzzer,address
t1=$(date +%s)
rc=0
KB_FUZZ_NO_BUILD=1 KB_FUZZ_OUT=${KB_FUZZ_OUT:-$here/../out/fuzz-smoke} "$here/run.sh" all "$seconds" || rc=$?
t2=$(date +%s)
echo "fuzz smoke: build $((t1 - t0))s, runs $((t2 - t1))s, total $((t2 - t0))s"
exit "$rc"
