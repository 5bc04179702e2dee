#!/usr/bin/env bash
# How each proxied HTTP/1.1 request reaches the kernel: the system calls per request (by
# name, from the kernel's syscall tracepoints through `perf stat`, which costs the proxy
# little, unlike strace), the requests served per epoll_wait, and the context switches per
# request (voluntary: the thread slept in epoll_wait with nothing to do; involuntary: the
# scheduler took the CPU away), for Debian's haproxy and `hapee-lb run` on the same
# configuration (nginx-light origin, wrk client, nbthread 1 by default). These counts explain
# latency under concurrency where bench/http1.sh only times it: fewer wake-ups and fewer
# calls per request mean each round of the event loop serves more connections.
# Also counted: page faults per request, and each thread's share of the requests (its share of
# the sends to clients and servers), which shows whether one thread serves most connections.
# Usage: bench/http1_syscalls.sh [seconds measured, default 5] [connections, default 50] [nbthread, default 1]
# Optional: ORIGIN_PORT and PROXY_PORT (default 18620 and 18621) when others bench at once.
# Optional: CLOSE=1 sends `Connection: close` with every request: the figures then include what
# each connection costs (accept, registration, close).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
conns=${2:-50}
threads=${3:-1}
origin=${ORIGIN_PORT:-18620}
proxy=${PROXY_PORT:-18621}
tools="perf:linux-perf"
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
config "$threads" >"$work/proxy.cfg"


# measure NAME COMMAND...: one block of per-request figures
measure() {
    local name=$1
    shift
    "$@" >/dev/null 2>&1 &
    local pid=$!
    pids+=($pid)
    wait_port $proxy
    wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$proxy/" >/dev/null 2>&1
    local before after
    before=$(ctx_switches $pid)
    perf stat --per-thread -x, -e 'syscalls:sys_enter_*' -e page-faults -p "$pid" \
        -o "$work/perf.$name" -- sleep "$((secs + 1))" &
    local perf_pid=$!
    sleep 0.5
    local reqs
    local close=()
    [ -n "${CLOSE:-}" ] && close=(-H "Connection: close")
    reqs=$(wrk -t1 -c"$conns" -d"${secs}s" "${close[@]}" "http://127.0.0.1:$proxy/" |
        awk '/requests in/ {print $1}')
    after=$(ctx_switches $pid)
    wait $perf_pid || true
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$name: $reqs requests"
    # Syscalls made while no request was measured (the half second before wrk and after it)
    # are a handful of timer wake-ups at most, well under 0.01 per request.
    # --per-thread lines: thread,count,unit,event,...
    awk -F, -v r="$reqs" '$2 ~ /^[0-9]+$/ && $2 > 0 {
            event = $4
            if (event == "page-faults") { faults += $2; next }
            sub(/^syscalls:sys_enter_/, "", event); count[event] += $2; total += $2
            if (event == "epoll_wait" || event == "epoll_pwait") waits += $2
            if (event ~ /^(sendto|writev|sendmsg|write)$/) { sends[$1] += $2; all_sends += $2 }
        }
        END {
            for (e in count) if (count[e] / r >= 0.005) printf "    %-16s %6.3f per request\n", e, count[e] / r
            printf "    %-16s %6.3f per request; %.1f requests per epoll_wait\n", "all", total / r, (waits ? r / waits : 0)
            printf "    page faults      %6.4f per request\n", faults / r
            printf "    share of sends by thread:"
            for (t in sends) if (sends[t] / all_sends >= 0.01) printf " %s %.0f %%", t, 100 * sends[t] / all_sends
            printf "\n"
        }' "$work/perf.$name"
    read -r v0 n0 <<<"$before"
    read -r v1 n1 <<<"$after"
    awk -v r="$reqs" -v v=$((v1 - v0)) -v n=$((n1 - n0)) \
        'BEGIN { printf "    context switches: %.3f voluntary, %.3f involuntary per request\n", v / r, n / r }'
}

echo "nbthread $threads, $conns connections, ${secs}s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
wait_port $origin
measure haproxy haproxy -db -f "$work/proxy.cfg"
measure hapee "$hapee" run -f "$work/proxy.cfg"
