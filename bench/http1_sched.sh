#!/usr/bin/env bash
# Where the scheduler runs each proxy's two serving threads under the bench/http1.sh load
# (nbthread 2, unpinned, nginx-light origin, wrk -t1): Debian's haproxy and `hapee-lb run` one
# after the other, `perf sched record` over each measured run. Per run: req/s and p99, the
# share of 50 ms windows in which both serving threads ran mostly on the same CPU ("stacked";
# on 2 CPUs an even placement leaves them apart), their migrations per second, and how often
# they woke the origin and the client per request (a wake-up each time a peer had gone to
# sleep). On a 2-core machine that runs the client and the origin too, stacked threads wait
# for each other: that is what the nbthread 2 p99 of bench/http1.sh moves with. Then, from
# bench/http1_turns.py, per request: the serving threads' turns cut by a preemption, those
# cut at once by the task the thread had just woken, waits for a CPU over 1 ms (per 1,000
# requests), and the share of the bench's run time on its busiest CPU (100: all on one).
# Usage: bench/http1_sched.sh [seconds per run, default 4] [connections, default 50]
# ROUNDS (default 3) runs of each proxy, the order alternating; ORIGIN_PORT / PROXY_PORT as
# for bench/http1.sh (defaults 18600 / 18601). Needs perf and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-4}
conns=${2:-50}
origin=${ORIGIN_PORT:-18600}
proxy=${PROXY_PORT:-18601}
tools="perf:linux-perf"
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
config 2 >"$work/proxy.cfg"

# sched_run NAME -> "rps p99_ms stacked_pct migrations_per_s origin_wakes_per_req
# client_wakes_per_req preempted_per_req at_once_per_req long_waits_per_1000 one_cpu_pct"
sched_run() {
    local name=$1 pid
    start_proxy "$name"
    pid=$proxy_pid
    wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$proxy/" >/dev/null 2>&1 || true
    perf sched record -o "$work/sched.data" -- sleep "$secs.5" >/dev/null 2>&1 &
    local rec=$!
    sleep 0.2
    wrk -t1 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$proxy/" >"$work/wrk.txt" 2>&1 &
    local client=$!
    wait $client
    wait $rec
    kill $pid
    wait $pid 2>/dev/null || true
    perf sched timehist -w -M -i "$work/sched.data" >"$work/timehist.txt" 2>/dev/null
    perf script -F comm,pid,tid,cpu,time,event,trace -i "$work/sched.data" >"$work/events.txt" 2>/dev/null
    local rps p99 requests
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    echo "$rps $(to_ms "$p99") $(python3 bench/http1_sched.py "$work/timehist.txt" "$pid" "$requests")" \
        "$(python3 bench/http1_turns.py "$work/events.txt" "$pid" "$client" "$requests")"
    rm -f "$work/sched.data" "$work/timehist.txt" "$work/events.txt"
}

wait_port "$origin"
row='%-6s | %-8s | %-10s | %-8s | %-9s | %-12s | %-16s | %-16s | %-13s | %-8s | %-14s | %s\n'
# shellcheck disable=SC2059
printf "$row" round proxy "req/s" "p99 ms" "stacked %" "migrations/s" "origin wakes/req" "client wakes/req" \
    "preempted/req" "at once" "waits>1ms/1000" "one CPU %"
for r in $(seq "${ROUNDS:-3}"); do
    order="haproxy hapee"
    [ $((r % 2)) = 0 ] && order="hapee haproxy"
    for name in $order; do
        read -r rps p99 stacked migrations origin_wakes client_wakes preempted at_once waits one_cpu < <(sched_run "$name")
        # shellcheck disable=SC2059
        printf "$row" "$r" "$name" "$rps" "$p99" "$stacked" "$migrations" "$origin_wakes" "$client_wakes" \
            "$preempted" "$at_once" "$waits" "$one_cpu"
    done
done
