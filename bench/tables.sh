#!/usr/bin/env bash
# Stick tables under load: Debian's haproxy and `hapee-lb run` side by side, each tracking
# every request (`track-sc0`) and checking its rate (`deny … if { sc_http_req_rate(0) gt … }`),
# keyed on a request header that a wrk Lua script varies over 50,000 values, then keyed on
# `src`; at nbthread 1 and 2, with nginx as the origin. Prints req/s and the ratio, then the
# table micro-benchmark (sharded read-write locks against one mutex).
# Usage: bench/tables.sh [seconds per run, default 5] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
conns=${2:-50}
origin=18610
proxy=18611
tools=""
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh

cat >"$work/keys.lua" <<'LUA'
-- One of 50,000 keys per request, in turn.
counter = 0
request = function()
    counter = counter + 1
    return wrk.format(nil, nil, { ["X-Key"] = "key" .. (counter % 50000) })
end
LUA

# tables_config NBTHREAD KEY -> the configuration both proxies run
tables_config() {
    local type="string len 32" key="req.hdr(x-key)"
    [ "$2" = src ] && type="ip" && key="src"
    cat <<CFG
global
    nbthread $1
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    http-reuse always
frontend fe
    bind 127.0.0.1:$proxy
    stick-table type $type size 100k expire 30s store http_req_rate(10s),http_req_cnt
    http-request track-sc0 $key
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100000000 }
    default_backend app
backend app
    server origin 127.0.0.1:$origin
CFG
}

# run NAME NBTHREAD KEY -> req/s
run() {
    local name=$1 n=$2 key=$3 pid
    tables_config "$n" "$key" >"$work/t.cfg"
    if [ "$name" = haproxy ]; then
        haproxy -db -f "$work/t.cfg" >/dev/null 2>&1 &
    else
        "$hapee" run -f "$work/t.cfg" >/dev/null 2>&1 &
    fi
    pid=$!
    pids+=($pid)
    wait_port $proxy
    local script=()
    [ "$key" = header ] && script=(-s "$work/keys.lua")
    wrk -t1 -c"$conns" -d1s "${script[@]}" "http://127.0.0.1:$proxy/" >/dev/null 2>&1 || true
    wrk -t1 -c"$conns" -d"${secs}s" "${script[@]}" "http://127.0.0.1:$proxy/" >"$work/wrk.txt" 2>&1
    kill $pid
    wait $pid 2>/dev/null || true
    awk '/Requests\/sec/ {print $2}' "$work/wrk.txt"
}

wait_port $origin
printf '%-8s | %-6s | %-12s | %-12s | %-5s\n' nbthread key "haproxy req/s" "hapee req/s" ratio
for n in 1 2; do
    for key in header src; do
        h=$(run haproxy "$n" "$key")
        e=$(run hapee "$n" "$key")
        printf '%-8s | %-6s | %-12s | %-12s | %s\n' "$n" "$key" "$h" "$e" "$(awk -v a="$e" -v b="$h" 'BEGIN{printf "%.2f", a/b}')"
    done
done
cargo run -q --release -p hapee-runtime --example table_locks 2 3
