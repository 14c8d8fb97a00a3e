#!/usr/bin/env bash
# Times the hostile patterns of issue 7 with three engines: RE2, PCRE2 (JIT, match limit 10^7,
# depth limit 10^4) and NSRegularExpression (ICU, what kb used before). Each run has a time cap;
# a capped run prints ">CAP s". Needs libre2-dev, libpcre2-dev, g++ and swiftc.
# Usage: bench/regex/run.sh [CAP_SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
cap=${1:-20}
work=${TMPDIR:-/tmp}/kb-bench-regex
mkdir -p "$work"
g++ -O2 -std=c++17 -o "$work/engines" engines.cc -lre2 -lpcre2-8
swiftc -O -o "$work/nsregex" nsregex.swift 2>/dev/null

# name @@ ICU and PCRE2 pattern @@ RE2 pattern (the rewrite, when the original has look-around) @@ input (python expression)
cases=$(cat <<'CASES'
curl-line-4k@@curl\b[^\n]*(-H|--header)\s*['"]?Host:@@curl\b[^\n]*(-H|--header)\s*['"]?Host:@@"curl " * (4096 // 5)
curl-line-32k@@curl\b[^\n]*(-H|--header)\s*['"]?Host:@@curl\b[^\n]*(-H|--header)\s*['"]?Host:@@"curl " * (32768 // 5)
curl-line-256k@@curl\b[^\n]*(-H|--header)\s*['"]?Host:@@curl\b[^\n]*(-H|--header)\s*['"]?Host:@@"curl " * (262144 // 5)
resolve-16k@@--resolve[^\n]*\n\s*(200|421)\b[\s\S]{0,400}--resolve[^\n]*\n\s*(200|421)\b@@--resolve[^\n]*\n\s*(200|421)\b[\s\S]{0,400}--resolve[^\n]*\n\s*(200|421)\b@@"--resolve a:1:" + "1" * 16384
for-ip-64k@@for (ip|node|host|h|s|n|addr) in [^\n]*(curl|openssl)@@for (ip|node|host|h|s|n|addr) in [^\n]*(curl|openssl)@@"for ip in " + "10.0.0.1 " * (65536 // 9)
host-name-256k@@(?<![\w.@/-])((?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.){1,10}[a-z][a-z0-9-]{1,23})\.?(?![\w-]|\.\w)@@(?:^|[^\pL\pM\p{Nd}\p{Pc}.@/-])((?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.){1,10}[a-z][a-z0-9-]{1,23})\.?@@"a." * 131072
brace-headers-64k@@(?m)^\s*([a-z0-9-]+(\.[a-z0-9-]+)+)(:\d+)?\s*\{[^}]{0,300}?reverse_proxy\s+https://(?!\1\b)[a-z]@@(?m)^\s*([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?\s*\{[^}]{0,300}?reverse_proxy\s+https://([a-z][a-z0-9.-]*)@@"a.example {\n" * (65536 // 12)
a-or-aa-28@@(a|aa)+$@@(a|aa)+$@@"a" * 28 + "!"
a-or-aa-36@@(a|aa)+$@@(a|aa)+$@@"a" * 36 + "!"
a-or-aa-256k@@(a|aa)+$@@(a|aa)+$@@"a" * 262144 + "!"
backref-20@@(.*)*(.*)*(.*)*\1\2\3x@@(.*)*(.*)*(.*)*\1\2\3x@@"a" * 20
backref-40@@(.*)*(.*)*(.*)*\1\2\3x@@(.*)*(.*)*(.*)*\1\2\3x@@"a" * 40
CASES
)
printf '%-18s %14s %14s %14s\n' case re2_ms pcre2_jit_ms icu_ms
while IFS= read -r line; do
    [ -z "$line" ] && continue
    name=${line%%@@*}; rest=${line#*@@}
    original=${rest%%@@*}; rest=${rest#*@@}
    rewritten=${rest%%@@*}; input=${rest#*@@}
    printf '%s' "$original" > "$work/$name.pattern"
    printf '%s' "$rewritten" > "$work/$name.re2.pattern"
    python3 -c "import sys; sys.stdout.write($input)" > "$work/$name.input"
    run() {
        local out
        if out=$(timeout "$cap" "$@" 2>/dev/null); then
            printf '%s' "$(echo "$out" | awk -F'\t' '{ if ($3 ~ /rejected|error|limit/) print "(" $3 ")"; else print $2 }')"
        else
            printf '>%ss' "$cap"
        fi
    }
    r=$(run "$work/engines" re2 "$work/$name.re2.pattern" "$work/$name.input")
    p=$(run "$work/engines" pcre2 "$work/$name.pattern" "$work/$name.input")
    i=$(run "$work/nsregex" "$work/$name.pattern" "$work/$name.input")
    printf '%-18s %14s %14s %14s\n' "$name" "$r" "$p" "$i"
done <<< "$cases"
