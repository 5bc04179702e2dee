#!/usr/bin/env bash
# HTTP/1.1 proxying with everything on one CPU: wrk, the nginx-light origin and the proxy's
# threads (nbthread 2 by default) all share CPU $CPU, which is the state bench/http1.sh's
# nbthread 2 tail comes from (the scheduler stacking the serving threads beside the client and
# the origin), made permanent instead of left to chance. Debian's haproxy and `hapee-lb run`
# alternate on the same configuration. Per run: req/s, p50 and p99, the proxy's user and system
# CPU time per request, and its involuntary context switches per request: how often the
# scheduler took the CPU from a serving thread that still had work, mostly to run the client or
# the origin it had just woken. A proxy whose threads use more than their share of the CPU loses
# it at each such wake-up, serves one request per turn and pays a context switch for each; one
# below its share keeps the CPU and serves a batch. The counts hold up on a loaded machine
# better than timings do (other sessions' work on the same CPU shifts req/s, less so these
# ratios).
# Usage: bench/http1_stacked.sh [seconds per run, default 4] [connections, default 50] [nbthread, default 2]
# ROUNDS (default 3) runs of each proxy, the order alternating, medians shown; CPU (default 1);
# ORIGIN_PORT / PROXY_PORT (defaults 18630 / 18631) as for bench/http1.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HTTP1_STACKED_ON_CPU:-}" ]; then
    # Everything started from here (origin, proxies, clients) inherits the one CPU.
    HTTP1_STACKED_ON_CPU=1 exec taskset -c "${CPU:-1}" bash "$0" "$@"
fi
secs=${1:-4}
conns=${2:-50}
threads=${3:-2}
origin=${ORIGIN_PORT:-18630}
proxy=${PROXY_PORT:-18631}
tools=""
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
config "$threads" >"$work/proxy.cfg"


# usage PID: "user_ticks system_ticks voluntary involuntary" of the process, all threads
usage() {
    local times
    times=$(awk '{sub(/^.*\) /, ""); print $12, $13}' "/proc/$1/stat")
    echo "$times $(ctx_switches "$1")"
}

# run_one NAME -> "rps p50_ms p99_ms user_us sys_us involuntary_per_request voluntary_per_request"
run_one() {
    local name=$1 pid
    start_proxy "$name"
    pid=$proxy_pid
    wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$proxy/" >/dev/null 2>&1 || true
    local before after
    before=$(usage $pid)
    wrk -t1 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$proxy/" >"$work/wrk.txt" 2>&1
    after=$(usage $pid)
    kill $pid
    wait $pid 2>/dev/null || true
    while listening "$proxy"; do sleep 0.05; done
    local rps p50 p99 requests tick
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt")
    p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    tick=$(getconf CLK_TCK)
    echo "$rps $(to_ms "$p50") $(to_ms "$p99") $(awk -v b="$before" -v a="$after" -v n="$requests" -v t="$tick" 'BEGIN {
        split(b, x, " "); split(a, y, " ")
        printf "%.2f %.2f %.3f %.3f", (y[1] - x[1]) * 1e6 / t / n, (y[2] - x[2]) * 1e6 / t / n,
            (y[4] - x[4]) / n, (y[3] - x[3]) / n }')"
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

wait_port "$origin"
echo "all on CPU ${CPU:-1}, nbthread $threads, $conns connections; per run, then medians of ${ROUNDS:-3} rounds"
printf '%-6s | %-8s | %-10s | %-8s | %-8s | %-11s | %-11s | %-13s | %s\n' round proxy "req/s" "p50 ms" "p99 ms" "user µs/req" "sys µs/req" "invol cs/req" "vol cs/req"
declare -A all=()
for r in $(seq "${ROUNDS:-3}"); do
    order="haproxy hapee"
    [ $((r % 2)) = 0 ] && order="hapee haproxy"
    for name in $order; do
        read -r rps p50 p99 user sys invol vol < <(run_one "$name")
        printf '%-6s | %-8s | %-10s | %-8s | %-8s | %-11s | %-11s | %-13s | %s\n' "$r" "$name" "$rps" "$p50" "$p99" "$user" "$sys" "$invol" "$vol"
        for k in rps p50 p99 user sys invol vol; do all[$name.$k]+="${!k} "; done
    done
done
for name in haproxy hapee; do
    row=()
    for k in rps p50 p99 user sys invol vol; do
        # shellcheck disable=SC2086
        row+=("$(median ${all[$name.$k]})")
    done
    printf '%-6s | %-8s | %-10s | %-8s | %-8s | %-11s | %-11s | %-13s | %s\n' median "$name" "${row[@]}"
    [ "$name" = haproxy ] && h=("${row[@]}")
done
# shellcheck disable=SC2086
printf 'hapee/haproxy: req/s %.2f, p99 %.2f, user %.2f, sys %.2f, involuntary switches %.2f\n' \
    "$(awk "BEGIN{print ${row[0]}/${h[0]}}")" "$(awk "BEGIN{print ${row[2]}/${h[2]}}")" \
    "$(awk "BEGIN{print ${row[3]}/${h[3]}}")" "$(awk "BEGIN{print ${row[4]}/${h[4]}}")" \
    "$(awk "BEGIN{print (${h[5]} > 0 ? ${row[5]}/${h[5]} : 0)}")"
