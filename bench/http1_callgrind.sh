#!/usr/bin/env bash
# User-space work per proxied HTTP/1.1 request, counted by callgrind rather than timed: the
# instructions, cache misses and branch mispredictions per request of Debian's haproxy and of
# `hapee-lb run` on the same configuration (nginx-light origin, wrk client, nbthread 1). The
# counts move by well under 1 % between runs where timings on a shared VM move by 10 %, so
# this is the measure to judge a change of the request path with; bench/http1.sh gives the
# throughput and latency it buys. Kernel time is not counted (both make the same system calls:
# two recv and two sends per request).
# Usage: bench/http1_callgrind.sh [seconds measured, default 5] [which: both (default), hapee, haproxy]
# Optional: SHARE=path/part (e.g. api/counters.rs) also prints the instructions per request whose
# source line is in a file matching it (inlined code included, by the line tables).
# Optional: CONNS (default 50): fewer keep each connection busier under valgrind on a loaded
# machine, where a connection idle for 250 ms has its HTTP state dropped and rebuilt.
# Optional: ORIGIN_PORT and PROXY_PORT (default 18610 and 18611) when others bench at once.
# Optional: KEEP=dir keeps the callgrind output files there (for callgrind_annotate).
# Optional: CG_OPTS adds valgrind options (e.g. --dump-instr=yes for per-instruction counts).
# The simulated first-level caches are fixed at 32 KiB, 8-way, 64-byte lines (the host these
# figures were first taken on), so that runs on other hosts compare with the README's
# figures: valgrind otherwise takes the host's geometry (an AMD EPYC host with 64 KiB 4-way I1
# gave haproxy 303 I1 misses per request where the fixed geometry gives 893).
# CG_CACHE=host simulates the host's own caches instead.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
which=${2:-both}
origin=${ORIGIN_PORT:-18610}
proxy=${PROXY_PORT:-18611}
tools="valgrind:valgrind"
cache_opts="--I1=32768,8,64 --D1=32768,8,64"
[ "${CG_CACHE:-}" = host ] && cache_opts=""
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
config 1 >"$work/proxy.cfg"

# measure NAME COMMAND... -> one table row
measure() {
    local name=$1
    shift
    # shellcheck disable=SC2086 # word splitting wanted
    valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes --instr-atstart=no $cache_opts ${CG_OPTS:-} \
        --callgrind-out-file="$work/cg.$name.%p" "$@" >/dev/null 2>&1 &
    local pid=$!
    pids+=($pid)
    wait_port $proxy
    wrk -t1 -c"${CONNS:-50}" -d3s "http://127.0.0.1:$proxy/" >/dev/null 2>&1
    callgrind_control -i on "$pid" >/dev/null 2>&1
    sleep 0.5
    local reqs
    reqs=$(wrk -t1 -c"${CONNS:-50}" -d"${secs}s" "http://127.0.0.1:$proxy/" | awk '/requests in/ {print $1}')
    callgrind_control -i off "$pid" >/dev/null 2>&1
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 1
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    local out
    out=$(ls -S "$work"/cg."$name".* | head -1)
    # Totals: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim
    callgrind_annotate "$out" 2>/dev/null | awk -v r="$reqs" -v n="$name" '
        /PROGRAM TOTALS/ {
            gsub(",", ""); k = 0
            for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) v[++k] = $i
            printf "%-8s | %-9d | %-8d | %-7.0f | %-7.0f | %-7.0f | %-7.0f | %-7.0f\n",
                n, r, v[1] / r, v[4] / r, v[5] / r, v[6] / r, v[11] / r, v[13] / r
        }'
    grep -m1 '^desc: I1' "$out" | sed 's/^desc: /         simulated /'
    [ -n "${SHARE:-}" ] && share "$out" "$reqs"
    if [ -n "${KEEP:-}" ]; then
        mkdir -p "$KEEP"
        cp "$out" "$KEEP/cg.$name.out"
        echo "$reqs" >"$KEEP/cg.$name.requests"
    fi
    return 0
}

# share OUT REQUESTS: instructions per request in files matching $SHARE, from the per
# file:function listing (the first number of each line is its Ir)
share() {
    callgrind_annotate --inclusive=no --threshold=100 "$1" 2>/dev/null | awk -v r="$2" -v pat="$SHARE" '
        /PROGRAM TOTALS/ { gsub(",", ""); total = $1 }
        $0 ~ pat && /:/ {
            line = $0; gsub(",", "", line); split(line, f, " ")
            if (f[1] ~ /^[0-9]+$/) { in_share += f[1]; fns++ }
        }
        END { printf "         %s: %.0f instructions per request of %.0f (%.2f %%), in %d file:function entries\n",
              pat, in_share / r, total / r, 100 * in_share / total, fns }'
}

printf '%-8s | %-9s | %-8s | %-7s | %-7s | %-7s | %-7s | %-7s\n' proxy requests "instr" "I1 miss" "D1 rd" "D1 wr" "br miss" "ind miss"
echo "(per request)"
[ "$which" = hapee ] || measure haproxy haproxy -db -f "$work/proxy.cfg"
[ "$which" = haproxy ] || measure hapee "$hapee" run -f "$work/proxy.cfg"
