#!/usr/bin/env bash
# Start-up of the release `kb classify` against a Foundation hello-world built with `swiftc -O`.
# Target (issue 7): kb within 3x of hello-world. Needs hyperfine and a release build
# (`swift build -c release`). Usage: bench/startup/run.sh [extra hyperfine options]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${TMPDIR:-/tmp}/kb-bench-startup
mkdir -p "$work"
swiftc -O -o "$work/hello" bench/startup/hello.swift
kb=${KB:-.build/release/kb}
[ -x "$kb" ] || { echo "run 'swift build -c release' first" >&2; exit 1; }
hyperfine -N --warmup 20 --runs 200 "$@" \
    -n hello "$work/hello x" \
    -n "kb classify" "$kb classify '421 Misdirected Request'"
