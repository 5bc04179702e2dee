#!/usr/bin/env bash
# Hitless reloads under load: Debian's haproxy and `hapee-lb run`, both in master-worker mode
# (-W) on the same configuration, each reloaded RELOADS times in a row (SIGUSR2 to the master,
# one every INTERVAL seconds) while wrk runs with keep-alive connections, then with
# `Connection: close` (a new connection per request), then h2load when the proxy speaks h2c.
# Prints, per proxy and load: requests done, refused connections (wrk's connect errors),
# read/write errors and timeouts (requests lost on a connection), non-2xx responses, and
# for h2load the failed and errored requests.
# Usage: bench/reload.sh [RELOADS, default 20] [INTERVAL seconds, default 0.5]
# HAPEE=path/to/hapee-lb picks the binary (default: the debug build, built when missing).
# The origin (nginx) and the configuration are bench/http1_setup.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."
reloads=${1:-20}
interval=${2:-0.5}
origin=18700
proxy=18701
conns=20
tools="h2load:nghttp2-client curl:curl"
# A reload run measures losses, not speed: the debug build does (built when missing).
if [ -z "${HAPEE:-}" ]; then
    [ -x target/debug/hapee-lb ] || cargo build -p hapee-lb >/dev/null 2>&1
    export HAPEE=$PWD/target/debug/hapee-lb
fi
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
# The shared configuration, with a keep-alive limit and hard-stop-after for the old workers.
config 1 | sed -e 's/^global$/global\n    hard-stop-after 30s/' \
    -e 's/^    timeout server 30s$/    timeout server 30s\n    timeout http-keep-alive 10s/' >"$work/proxy.cfg"
wait_port $origin

start_proxy() {
    case $1 in
    haproxy) haproxy -W -f "$work/proxy.cfg" >"$work/$1.log" 2>&1 & ;;
    hapee) "$hapee" run -W -f "$work/proxy.cfg" >"$work/$1.log" 2>&1 & ;;
    esac
    master=$!
    pids+=("$master")
    wait_port $proxy
}

stop_proxy() {
    kill -TERM "$master" 2>/dev/null || true
    wait "$master" 2>/dev/null || true
    # Let the port's last sockets go before the next run.
    sleep 0.5
}

reload_loop() {
    for _ in $(seq 1 "$reloads"); do
        sleep "$interval"
        kill -USR2 "$master"
    done
}

# run_wrk NAME LABEL [wrk args] -> one table row
run_wrk() {
    local name=$1 label=$2
    shift 2
    start_proxy "$name"
    local secs
    secs=$(awk -v r="$reloads" -v i="$interval" 'BEGIN{printf "%d", r*i+3}')
    wrk -t2 -c$conns -d"${secs}s" "$@" "http://127.0.0.1:$proxy/" >"$work/wrk.txt" 2>&1 &
    local w=$!
    sleep 1
    reload_loop
    wait $w || true
    stop_proxy
    local req conn read write tmo non2xx
    req=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    read -r conn read write tmo < <(awk '/Socket errors/ {gsub(",", ""); print $4, $6, $8, $10; found=1} END {if (!found) print 0, 0, 0, 0}' "$work/wrk.txt")
    non2xx=$(awk '/Non-2xx/ {print $5; found=1} END {if (!found) print 0}' "$work/wrk.txt")
    printf '%-8s | %-22s | %9s | %7s | %6s | %6s | %8s | %7s\n' "$name" "$label" "$req" "$conn" "$read" "$write" "$tmo" "$non2xx"
}

# run_h2load NAME -> one table row, or a note when the proxy does not speak h2c
run_h2load() {
    local name=$1
    start_proxy "$name"
    if ! curl -s -o /dev/null --max-time 5 --http2-prior-knowledge "http://127.0.0.1:$proxy/"; then
        stop_proxy
        printf '%-8s | %-22s | %s\n' "$name" "h2load (h2c)" "skipped: no h2c on this listener"
        return
    fi
    local secs
    secs=$(awk -v r="$reloads" -v i="$interval" 'BEGIN{printf "%d", r*i+3}')
    h2load -c$conns -m10 -D "$secs" "http://127.0.0.1:$proxy/" >"$work/h2.txt" 2>&1 &
    local h=$!
    sleep 1
    reload_loop
    wait $h || true
    stop_proxy
    # "requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout"
    awk -v n="$name" '/^requests:/ {printf "%-8s | %-22s | %9s | succeeded %s, failed %s, errored %s, timeout %s\n", n, "h2load (h2c)", $6, $8, $10, $12, $14}' "$work/h2.txt"
}

echo "$reloads reloads, one every ${interval}s, $conns connections"
printf '%-8s | %-22s | %9s | %7s | %6s | %6s | %8s | %7s\n' proxy load requests refused read write timeouts non-2xx
for name in haproxy hapee; do
    run_wrk "$name" "wrk keep-alive"
    run_wrk "$name" "wrk Connection: close" -H "Connection: close"
    run_h2load "$name"
done
