#!/usr/bin/env bash
# Lua in the request path: Debian's haproxy (Lua 5.3) and `hapee-lb run` (Lua 5.4) on the same
# configuration, one after the other, with wrk as the client, nbthread 1:
#  - action:  an `http-request lua.<action>` reading a header and setting a variable, then
#             forwarding to nginx (nginx-light) as the origin;
#  - service: an `http-request use-service lua.<service>` answering directly.
# Prints req/s of each and the ratio hapee/haproxy, per round and the median of the rounds.
# Rounds alternate which proxy runs first (haproxy first in odd rounds, hapee in even ones), so
# that neither always meets a warmer or a cooler machine.
# CASES="action service plain" picks the cases (default: action service); `plain` loads the
# script and calls nothing, the request path the action adds to.
# Usage: [ROUNDS=3] [CASES=...] bench/lua.sh [seconds per run, default 10] [connections, default 50]
set -euo pipefail
# A panic (a script error path) must not print a backtrace into the measure.
unset RUST_BACKTRACE
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-50}
origin=${ORIGIN_PORT:-18610}
proxy=${PROXY_PORT:-18611}
tools=""
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh

# shellcheck source=bench/lua_setup.sh
. bench/lua_setup.sh

# rps NAME CONFIG -> requests per second of one run
rps() {
    local name=$1 cfg=$2 pid
    if [ "$name" = haproxy ]; then
        haproxy -db -f "$cfg" >/dev/null 2>&1 &
    else
        "$hapee" run -f "$cfg" >/dev/null 2>&1 &
    fi
    pid=$!
    pids+=($pid)
    wait_port $proxy
    wrk -t1 -c"$conns" -d2s -H "User-Agent: bench" "http://127.0.0.1:$proxy/" >/dev/null 2>&1 || true
    wrk -t1 -c"$conns" -d"${secs}s" -H "User-Agent: bench" "http://127.0.0.1:$proxy/" >"$work/wrk.txt" 2>&1
    kill $pid
    wait $pid 2>/dev/null || true
    awk '/Requests\/sec/ {print $2}' "$work/wrk.txt"
}

rounds=${ROUNDS:-3}
printf '%-8s | %-5s | %-12s | %-12s | %-6s\n' case round "haproxy r/s" "hapee r/s" ratio
for case in ${CASES:-action service}; do
    ratios=()
    for round in $(seq 1 "$rounds"); do
        if [ $((round % 2)) -eq 1 ]; then
            h=$(rps haproxy "$work/$case.cfg")
            o=$(rps hapee "$work/$case.cfg")
        else
            o=$(rps hapee "$work/$case.cfg")
            h=$(rps haproxy "$work/$case.cfg")
        fi
        ratio=$(awk "BEGIN{printf \"%.2f\", $o/$h}")
        ratios+=("$ratio")
        printf '%-8s | %-5s | %-12s | %-12s | %-6s\n' "$case" "$round" "$h" "$o" "$ratio"
    done
    median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
    printf '%-8s | %-5s | %-12s | %-12s | %-6s\n' "$case" median "" "" "$median"
done
