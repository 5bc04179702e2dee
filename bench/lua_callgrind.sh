#!/usr/bin/env bash
# User-space instructions per request with Lua in the request path, counted by callgrind rather
# than timed (see bench/http1_callgrind.sh for why): Debian's haproxy and `hapee-lb run` on the
# configurations of bench/lua.sh (an action reading a header and setting a variable; a service
# answering directly), nginx-light origin, wrk client, nbthread 1.
# Usage: bench/lua_callgrind.sh [seconds measured, default 5] [which: both (default), hapee, haproxy]
# Optional: KEEP=dir keeps the callgrind output files there (for callgrind_annotate).
set -euo pipefail
# A panic (a script error path) must not print a backtrace into the measure.
unset RUST_BACKTRACE
cd "$(dirname "$0")/.."
secs=${1:-5}
which=${2:-both}
origin=${ORIGIN_PORT:-18610}
proxy=${PROXY_PORT:-18611}
tools="valgrind:valgrind"
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
# shellcheck source=bench/lua_setup.sh
. bench/lua_setup.sh

# measure NAME CASE COMMAND... -> one table row
measure() {
    local name=$1 case=$2
    shift 2
    valgrind --tool=callgrind ${CG_OPTS:-} --instr-atstart=no \
        --callgrind-out-file="$work/cg.$name.$case.%p" "$@" >/dev/null 2>&1 &
    local pid=$!
    pids+=($pid)
    wait_port $proxy
    wrk -t1 -c50 -d3s -H "User-Agent: bench" "http://127.0.0.1:$proxy/" >/dev/null 2>&1
    callgrind_control -i on "$pid" >/dev/null 2>&1
    sleep 0.5
    local reqs
    reqs=$(wrk -t1 -c50 -d"${secs}s" -H "User-Agent: bench" "http://127.0.0.1:$proxy/" |
        awk '/requests in/ {print $1}')
    callgrind_control -i off "$pid" >/dev/null 2>&1
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 1
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    local out
    out=$(ls -S "$work"/cg."$name"."$case".* | head -1)
    callgrind_annotate "$out" 2>/dev/null | awk -v r="$reqs" -v n="$name" -v c="$case" '
        /PROGRAM TOTALS/ { gsub(",", ""); printf "%-8s | %-8s | %-9d | %-8d\n", c, n, r, $1 / r }'
    if [ -n "${KEEP:-}" ]; then
        mkdir -p "$KEEP"
        cp "$out" "$KEEP/cg.$name.$case.out"
        echo "$reqs" >"$KEEP/cg.$name.$case.requests"
    fi
    return 0
}

printf '%-8s | %-8s | %-9s | %-8s\n' case proxy requests "instr/req"
for case in action service; do
    [ "$which" = hapee ] || measure haproxy "$case" haproxy -db -f "$work/$case.cfg"
    [ "$which" = haproxy ] || measure hapee "$case" "$hapee" run -f "$work/$case.cfg"
done
