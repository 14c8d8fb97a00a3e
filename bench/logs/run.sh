#!/usr/bin/env bash
# Log-scanning benchmark: `kb logs` against grep, ripgrep and awk on a generated mixed log.
#
#   bench/logs/run.sh                 # 100 MiB and 1 GiB logs, 3 runs each
#   SIZES="1024 4096" RUNS=5 bench/logs/run.sh
#
# Needs: a C compiler (for the generator), GNU time (/usr/bin/time: apt-get install -y time),
# ripgrep (apt-get install -y ripgrep), awk, grep. Generated logs go to bench/out/ (git-ignored) or $KB_BENCH_DIR.
# KB_LOGS_CMD overrides the command measured as "kb" (default: .build/release/kb logs); it is given the log
# path and must print the JSON report.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${KB_BENCH_DIR:-$ROOT/bench/out}
SIZES=${SIZES:-"100 1024"}
RUNS=${RUNS:-3}
mkdir -p "$OUT"

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing $1: $2" >&2; exit 2; }; }
need cc "install a C compiler"
need rg "apt-get install -y ripgrep"
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time: apt-get install -y time" >&2; exit 2; }

if [ -z "${KB_LOGS_CMD:-}" ]; then
    echo "building kb (release)…" >&2
    swift build -c release >&2
    KB_LOGS_CMD="$ROOT/.build/release/kb logs"
fi
KB_FORMAT_ARGS=${KB_FORMAT_ARGS:---format json}

cc -O2 -o "$OUT/gen" "$ROOT/bench/logs/gen.c"

# Runs a command RUNS times with its stdout in a file (never /dev/null: GNU grep stops at the first match
# when it sees /dev/null), prints "median-wall-seconds median-cpu-seconds max-rss-kib".
measure() {
    local name=$1; shift
    local times=() cpus=() rss=0
    for _ in $(seq "$RUNS"); do
        # kb logs exits 1 when it found 421s, grep 1 when it found none: both are answers, not failures.
        /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$@" > "$OUT/$name.out" || [ $? -le 1 ]
        read -r t u s m < <(tail -n 1 "$OUT/time.txt")
        times+=("$t")
        cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')")
        [ "$m" -gt "$rss" ] && rss=$m
    done
    local median cpu
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "$median $cpu $rss"
}

printf '\nmachine: %s, %s cores, %s GiB RAM, %s\n' "$(uname -m)" "$(nproc)" \
    "$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf 'runs per figure: %s (median); files in the page cache; load average before: %s\n\n' "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-6s %8s %8s %14s %8s\n' size tool wall-s cpu-s "peak RSS" "x grep"

for size in $SIZES; do
    file="$OUT/mixed-${size}m.log"
    if [ ! -s "$file" ]; then
        echo "generating $file…" >&2
        "$OUT/gen" "$size" > "$file"
    fi
    cat "$file" > /dev/null   # warm the page cache
    read -r kb_t kb_c kb_m < <(measure kb $KB_LOGS_CMD "$file" $KB_FORMAT_ARGS)
    read -r grep_t grep_c grep_m < <(measure grep grep -c ' 421 ' "$file")
    read -r rg_t rg_c rg_m < <(measure rg rg -c ' 421 ' "$file")
    read -r awk_t awk_c awk_m < <(measure awk awk '$10 == 421 { c[$1]++ } END { for (h in c) print h, c[h] }' "$file")
    for row in "kb $kb_t $kb_c $kb_m" "grep $grep_t $grep_c $grep_m" "rg $rg_t $rg_c $rg_m" "awk $awk_t $awk_c $awk_m"; do
        set -- $row
        printf '%-8s %-6s %8s %8s %10s KiB %8s\n' "${size}MiB" "$1" "$2" "$3" "$4" \
            "$(awk -v a="$2" -v b="$grep_t" 'BEGIN { printf "%.2f", a / b }')"
    done
    # The 421 statuses kb counted must equal awk's per-host total.
    kb_421=$(grep -o '"status421" : [0-9]*' "$OUT/kb.out" | grep -o '[0-9]*$' || echo "?")
    awk_421=$(awk '{ s += $2 } END { print s }' "$OUT/awk.out")
    echo "         access-log 421s: kb $kb_421, awk $awk_421; lines with ' 421 ': grep $(cat "$OUT/grep.out")"
done
