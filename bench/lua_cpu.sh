#!/usr/bin/env bash
# What each proxy spends per request with Lua in the request path (the configurations of
# bench/lua.sh, nbthread 1, wrk -t1 -c50), read from the kernel's accounting rather than from
# req/s, which on a shared machine follows the others' load: CPU time (user and system, all
# threads, from /proc/PID/stat), voluntary context switches and minor page faults per request,
# and with STRACE=1 the system calls per request (strace -c -f, a separate run: strace slows
# the proxy, the counts do not depend on it).
# Usage: bench/lua_cpu.sh [seconds per run, default 8] [rounds, default 1]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
rounds=${2:-1}
origin=${ORIGIN_PORT:-18620}
proxy=${PROXY_PORT:-18621}
tools="strace:strace"
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
# shellcheck source=bench/lua_setup.sh
. bench/lua_setup.sh
tick=$(getconf CLK_TCK)

# counters PID -> "user system minflt voluntary-switches" summed over its threads
counters() {
    local u=0 s=0 f=0 v=0 t
    for t in /proc/"$1"/task/*; do
        read -r tu ts tf < <(awk '{print $14, $15, $10}' "$t/stat")
        u=$((u + tu)) s=$((s + ts)) f=$((f + tf))
        v=$((v + $(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status")))
    done
    echo "$u $s $f $v"
}

requests() {
    wrk -t1 -c50 -d"$1" -H "User-Agent: bench" "http://127.0.0.1:$proxy/" |
        awk '/requests in/ {print $1}'
}

one() {
    local name=$1 case=$2 pid
    if [ "$name" = haproxy ]; then
        haproxy -db -f "$work/$case.cfg" >/dev/null 2>&1 &
    else
        "$hapee" run -f "$work/$case.cfg" >/dev/null 2>&1 &
    fi
    pid=$!
    pids+=($pid)
    wait_port $proxy
    requests 2s >/dev/null
    read -r u0 s0 f0 v0 < <(counters $pid)
    local reqs
    reqs=$(requests "${secs}s")
    read -r u1 s1 f1 v1 < <(counters $pid)
    local syscalls=""
    if [ "${STRACE:-0}" = 1 ]; then
        strace -c -f -p "$pid" -o "$work/strace.txt" 2>/dev/null &
        local sp=$!
        sleep 0.5
        local sreqs
        sreqs=$(requests 3s)
        kill -INT $sp
        wait $sp 2>/dev/null || true
        syscalls=$(awk -v r="$sreqs" '$4 ~ /^[0-9]+$/ && $NF != "total" && $4 / r >= 0.05 {
            printf "%s %.2f ", $NF, $4 / r }' "$work/strace.txt")
    fi
    kill $pid
    wait $pid 2>/dev/null || true
    awk -v c="$case" -v n="$name" -v r="$reqs" -v t="$tick" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
        -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v f=$((f1 - f0)) -v v=$((v1 - v0)) -v sc="$syscalls" 'BEGIN {
        printf "%-8s | %-8s | %-8d | %6.1f | %6.1f | %6.1f | %6.3f | %6.3f | %-5s | %s\n",
            c, n, r, (u + s) * 1e6 / t / r, u * 1e6 / t / r, s * 1e6 / t / r, v / r, f / r, l, sc }'
}

printf '%-8s | %-8s | %-8s | %-6s | %-6s | %-6s | %-6s | %-6s | %-5s | %s\n' case proxy requests \
    "us/req" user sys "csw/r" "flt/r" load "syscalls/req (STRACE=1)"
for _ in $(seq "$rounds"); do
    for case in action service; do
        one haproxy $case
        one hapee $case
    done
done
