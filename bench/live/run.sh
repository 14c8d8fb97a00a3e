#!/usr/bin/env bash
# Benchmark (not a timed test): a full live diagnosis of the nginx → Apache 421 through kb's probes, against the
# equivalent openssl + curl command sequence, in one run on the same servers (127.0.0.1 only).
#
#   bench/live/run.sh [RUNS]        default 20 runs; results in bench/out/live/
#
# It starts real nginx and Apache from Debian's packages (scripts/install-test-servers.sh installs them, and
# hyperfine with KB_INSTALL_BENCH=1) through the integration-test harness, so the stack is the one the tests use.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-20}"
out="bench/out/live"
mkdir -p "$out"

KB_INSTALL_BENCH=1 bash scripts/install-test-servers.sh >/dev/null
swift build --build-tests >/dev/null
swift build -c release >/dev/null
KB_LIVE_BENCH="$runs" KB_LIVE_BENCH_OUT="$out" KB_BINARY="$(swift build -c release --show-bin-path)/kb" \
    swift test --skip-build --filter 'LiveBenchmark' >"$out/test.log" 2>&1 || { cat "$out/test.log"; exit 1; }
cat "$out/summary.txt"
