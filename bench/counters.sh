#!/usr/bin/env bash
# What the statistics cost per request (issue 15), in one run:
#   1. Timed, side by side with Debian's haproxy: bench/http1.sh's proxy configuration (nginx-light
#      origin, wrk -t1 -c50, nbthread 1) plain, and the same with the statistics in use: a stats
#      socket, a stats page and the Prometheus exporter on a second listener, all three read every
#      POLL seconds (default 1, as hatop refreshes: `show info; show stat` through the socket,
#      `/stats;csv` and `/metrics` over HTTP) while wrk runs. The poller's own processes (socat,
#      curl) take CPU from the same two cores: POLL=0.2 cost both proxies alike. Each proxy's req/s with / without is its cost of
#      statistics (target: within 2 %); rounds alternate the order, medians are shown.
#   2. Counted, hapee only (callgrind, as bench/http1_callgrind.sh): the instructions per request
#      spent in the counters (runtime/src/api/counters.rs, inlined code included) out of all of
#      hapee's. hapee always counts (per thread, summed on read), so this is the figure that
#      says what counting adds to a request; the timed runs cannot resolve 2 % on a shared VM.
# Usage: bench/counters.sh [seconds per run, default 10] [rounds, default 3]
# Optional: CALLGRIND=0 skips part 2; HAPEE=path skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${2:-3}
poll=${POLL:-1}
origin=18630
proxy=18631
stats_port=18632
tools="socat:socat curl:curl"
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh

config 1 >"$work/plain.cfg"
# The same proxy, with the statistics in use.
{
    config 1 | sed "s|^global|global\n    stats socket $work/stats.sock level admin|"
    cat <<CFG
listen stats
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /stats
    http-request use-service prometheus-exporter if { path /metrics }
CFG
} >"$work/stats.cfg"

# poller: reads every statistics interface every $poll seconds until killed
poller() {
    while :; do
        echo "show info; show stat" | socat - "UNIX-CONNECT:$work/stats.sock" >/dev/null 2>&1 || true
        curl -s -o /dev/null "http://127.0.0.1:$stats_port/stats;csv" || true
        curl -s -o /dev/null "http://127.0.0.1:$stats_port/metrics" || true
        sleep "$poll"
    done
}

# one NAME VARIANT -> req/s of one run
one() {
    local name=$1 variant=$2 pid poll_pid="" rps
    rm -f "$work/stats.sock"
    if [ "$name" = haproxy ]; then
        haproxy -db -f "$work/$variant.cfg" >"$work/$name.log" 2>&1 &
    else
        "$hapee" run -f "$work/$variant.cfg" >"$work/$name.log" 2>&1 &
    fi
    pid=$!
    pids+=($pid)
    wait_port $proxy
    if [ "$variant" = stats ]; then
        wait_port $stats_port
        # every interface answers before the run counts
        curl -sf "http://127.0.0.1:$stats_port/metrics" >"$work/metrics" || true
        grep -q '^haproxy_' "$work/metrics" || echo "($name: /metrics gives no haproxy_ metric)" >&2
        curl -sf "http://127.0.0.1:$stats_port/stats;csv" >"$work/csv" || true
        grep -q '^# pxname' "$work/csv" || echo "($name: /stats;csv gives no CSV)" >&2
        echo "show stat" | socat - "UNIX-CONNECT:$work/stats.sock" >"$work/csv" || true
        grep -q '^# pxname' "$work/csv" || echo "($name: show stat gives no CSV)" >&2
        poller &
        poll_pid=$!
    fi
    wrk -t1 -c50 -d2s "http://127.0.0.1:$proxy/" >/dev/null 2>&1 || true
    rps=$(wrk -t1 -c50 -d"${secs}s" "http://127.0.0.1:$proxy/" | awk '/Requests\/sec/ {printf "%.0f", $2}')
    if [ -n "$poll_pid" ]; then
        kill "$poll_pid" 2>/dev/null || true
        wait "$poll_pid" 2>/dev/null || true
    fi
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$rps"
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

wait_port $origin
echo "1. timed: median req/s of $rounds rounds (wrk -t1 -c50, ${secs} s, nbthread 1), statistics read every $poll s"
echo "   load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A runs=()
for r in $(seq "$rounds"); do
    order="haproxy:plain haproxy:stats hapee:plain hapee:stats"
    [ $((r % 2)) = 0 ] && order="hapee:stats hapee:plain haproxy:stats haproxy:plain"
    for run in $order; do
        runs[$run]+="$(one "${run%%:*}" "${run##*:}") "
    done
done
echo "   load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '   %-8s | %-12s | %-12s | %s\n' proxy "plain req/s" "stats req/s" "stats/plain"
declare -A med=()
for name in haproxy hapee; do
    # shellcheck disable=SC2086
    a=$(median ${runs[$name:plain]})
    # shellcheck disable=SC2086
    b=$(median ${runs[$name:stats]})
    med[$name:plain]=$a
    med[$name:stats]=$b
    printf '   %-8s | %-12s | %-12s | %s   (runs: %s/ %s)\n' "$name" "$a" "$b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", b / a}')" "${runs[$name:plain]}" "${runs[$name:stats]}"
done
awk -v a="${med[hapee:plain]}" -v b="${med[haproxy:plain]}" -v c="${med[hapee:stats]}" -v d="${med[haproxy:stats]}" \
    'BEGIN{printf "   hapee/haproxy: plain %.2f, with statistics %.2f\n", a / b, c / d}'

[ "${CALLGRIND:-1}" = 0 ] && exit 0
echo
echo "2. counted: hapee's instructions per request in the counters (callgrind, plain configuration)"
SHARE=api/counters.rs HAPEE=$hapee bash bench/http1_callgrind.sh 5 hapee
