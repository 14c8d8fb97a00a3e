#!/usr/bin/env bash
# Runs one libFuzzer target (or all, one after another) for a number of seconds.
#
#   bench/fuzz/run.sh TARGET|all SECONDS [libFuzzer flags…]
#
# TARGET: playbook nginx apache logscan symptoms smtpreply dnswire. Builds the fuzz package first (release,
# -sanitize=fuzzer,address; a no-op when nothing changed; KB_FUZZ_NO_BUILD=1 skips it). Seeds come from
# bench/fuzz/corpus/TARGET (committed, made by seeds.py); what libFuzzer learns, and every finding, goes to
# bench/out/fuzz/TARGET/ (git-ignored; KB_FUZZ_OUT names another folder). A finding does not end the run:
# libFuzzer starts again for the time that is left, so a run always lasts SECONDS and counts every finding. A slow input (over 10 s) and more
# than 2 GiB of memory are findings too. Prints executions, corpus size and findings per target and exits 1
# when a target had a finding.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
all=(playbook nginx apache logscan symptoms smtpreply dnswire)

usage() { echo "usage: $0 TARGET|all SECONDS [libFuzzer flags…]; targets: ${all[*]}" >&2; exit 2; }
[ $# -ge 2 ] || usage
which=$1 seconds=$2
shift 2
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage
if [ "$which" = all ]; then targets=("${all[@]}"); else
    [[ " ${all[*]} " == *" $which "* ]] || usage
    targets=("$which")
fi

flags=(-Xswiftc -sanitize=fuzzer,address)
if [ "${KB_FUZZ_NO_BUILD:-0}" != 1 ]; then
    echo "building the fuzz targets (bench/fuzz, release, -sanitize=fuzzer,address)…"
    swift build -c release --package-path "$here" "${flags[@]}" 2>&1 | grep -E "error|warning: unre|Compiling fuzz|Build complete" >&2 || true
fi
bin=$(swift build -c release --package-path "$here" "${flags[@]}" --show-bin-path)

# Per-input size limits: kb reads a pasted or attached text whole up to 256 KiB (Salience.wholeLimit) and
# configs up to 1 MiB, but libFuzzer explores far more inputs per second when they are small, and every
# cost the parsers have shows well below 64 KiB. A DNS answer is one UDP datagram.
max_len() { case $1 in dnswire) echo 65507 ;; *) echo 65536 ;; esac; }

# LeakSanitizer is off: the Swift runtime keeps metadata and caches alive on purpose and reports them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:handle_abort=1}

outroot=${KB_FUZZ_OUT:-$root/bench/out/fuzz}
failed=0
for t in "${targets[@]}"; do
    out="$outroot/$t"
    mkdir -p "$out/corpus"
    dict="$out/$t.dict"
    cat "$here/dict/$t.dict" > "$dict"
    [ "$t" = symptoms ] && cat "$here/dict/smtpreply.dict" >> "$dict"
    log="$out/run-$(date +%Y%m%d-%H%M%S).log"
    : > "$log"
    start=$(date +%s)
    end=$((start + seconds))
    execs=0 findings=0 rounds=0
    notes=()
    while :; do
        now=$(date +%s)
        left=$((end - now))
        [ "$left" -gt 0 ] || break
        rounds=$((rounds + 1))
        segment="$out/.segment-$$.log"
        rc=0
        "$bin/fuzz-$t" "$out/corpus" "$here/corpus/$t" \
            -max_total_time="$left" -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len "$t")" \
            -dict="$dict" -artifact_prefix="$out/" -print_final_stats=1 "$@" > "$segment" 2>&1 || rc=$?
        cat "$segment" >> "$log"
        # Executions: the final stats line, or the last status line when libFuzzer stopped on a finding.
        n=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$segment" | grep -oE "[0-9]+$" | tail -1 || true)
        [ -n "$n" ] || n=$(grep -oE "^#[0-9]+" "$segment" | tr -d '#' | tail -1 || true)
        execs=$((execs + ${n:-0}))
        if [ "$rc" -ne 0 ]; then
            findings=$((findings + 1))
            what=$(grep -m1 -oE "ERROR: libFuzzer: [a-z-]+|ERROR: AddressSanitizer: [a-z-]+|Fatal error: .{0,120}|out-of-memory|deadly signal" "$segment" || echo "exit $rc")
            file=$(grep -oE "Test unit written to .*" "$segment" | sed 's/Test unit written to //' | tail -1 || true)
            notes+=("$what -> ${file:-no artifact}")
            # A target that cannot start (or fails at once on its seeds) is not fuzzed in a loop.
            if [ "$rounds" -ge 50 ] || { [ "${n:-0}" -eq 0 ] && [ -z "$file" ]; }; then break; fi
        fi
    done
    rm -f "$out/.segment-$$.log"
    corpus=$(ls "$out/corpus" | wc -l)
    cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1 || true)
    took=$(( $(date +%s) - start ))
    line="$t: $execs executions in ${took}s, corpus $corpus inputs (+$(ls "$here/corpus/$t" | wc -l) seeds), ${cov:-no coverage line}, findings: $findings"
    echo "$line"
    for note in "${notes[@]+"${notes[@]}"}"; do echo "    $note"; done
    { echo "$(date -u +%FT%TZ) $line"; for note in "${notes[@]+"${notes[@]}"}"; do echo "    $note"; done; } >> "$outroot/summary.txt"
    [ "$findings" -eq 0 ] || failed=1
done
exit "$failed"
