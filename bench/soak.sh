#!/bin/bash
# Soak under faults, hapee next to Debian's haproxy on the same run: for DURATION seconds
# (default 600) both proxies carry mixed traffic (keep-alive GETs with wrk, a new connection
# per GET with curl, 100 kB uploads, slow clients that never finish their head) to two nginx
# servers, one of which is killed (SIGKILL) every 30 s and restarted 10 s later. Reports the
# failed idempotent requests and the proxies' RSS and open file descriptors, first minute
# against last minute. Usage: DURATION=600 bench/soak.sh
#
# `bench/soak.sh queue`: the maxconn/queue phase instead (bench/soak_queue.py, DURATION default
# 60 s per proxy): servers with `maxconn 4`, `timeout queue 2s`, a frontend `maxconn 40` under
# 48 clients, slow and stalled requests, clients that go away while queued, a server killed
# every 10 s; then checks that nothing is left queued, open or unanswered. HAPEE_BIN=path runs
# that build (a debug build is fine) instead of building target/release/hapee-lb.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = queue ]; then
    exec bash bench/soak_queue.sh
fi
duration=${DURATION:-600}
need=()
for tool in haproxy:haproxy nginx:nginx-light wrk:wrk curl:curl python3:python3; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
cargo build --release -p hapee-lb >/dev/null 2>&1
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -f "$work/o1.pid" ] && kill "$(cat "$work/o1.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
base=$((31000 + RANDOM % 1500))
o1=$base o2=$((base + 1)) hapee_port=$((base + 2)) haproxy_port=$((base + 3))

origin() { # name port
    cat >"$work/$1.conf" <<NGINX
worker_processes 1;
master_process off;
daemon off;
pid $work/$1.pid;
error_log $work/$1.err;
events { worker_connections 4096; }
http {
    access_log off;
    client_max_body_size 10m;
    server {
        listen 127.0.0.1:$2;
        location / { return 200 "soak origin $1\n"; }
    }
}
NGINX
    nginx -c "$work/$1.conf" &
}
origin o1 $o1
origin o2 $o2
pids+=($!)

config() {
    cat <<CFG
global
    nbthread 1
    maxconn 2000
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout http-request 3s
    timeout server 5s
    retries 3
    retry-on conn-failure empty-response response-timeout
    option redispatch
frontend fe
    bind 127.0.0.1:$1
    default_backend app
backend app
    server s1 127.0.0.1:$o1 check inter 1s
    server s2 127.0.0.1:$o2 check inter 1s
CFG
}
config $hapee_port >"$work/hapee.cfg"
config $haproxy_port >"$work/haproxy.cfg"
target/release/hapee-lb run -f "$work/hapee.cfg" >/dev/null 2>&1 &
hapee_pid=$!
pids+=($hapee_pid)
haproxy -db -f "$work/haproxy.cfg" >/dev/null 2>&1 &
haproxy_pid=$!
pids+=($haproxy_pid)
sleep 2

# Resident memory (kB) and open descriptors of each proxy every 10 s.
sample() {
    while sleep 10; do
        for p in hapee:$hapee_pid haproxy:$haproxy_pid; do
            pid=${p#*:}
            rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
            fds=$(ls /proc/$pid/fd | wc -l)
            echo "$SECONDS ${p%%:*} $rss $fds"
        done
    done >>"$work/samples"
}
sample &
pids+=($!)

# The fault: s1 is killed every 30 s and comes back 10 s later.
faults() {
    while sleep 30; do
        kill -9 "$(cat "$work/o1.pid")" 2>/dev/null || true
        sleep 10
        nginx -c "$work/o1.conf" &
    done
}
faults &
pids+=($!)

# A new connection per GET; prints the failures.
fresh() {
    local fails=0 total=0 end=$((SECONDS + duration))
    while [ $SECONDS -lt $end ]; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$1/fresh") || true
        total=$((total + 1))
        [ "$code" = 200 ] || fails=$((fails + 1))
        sleep 0.05
    done
    echo "$fails/$total"
}
# 100 kB uploads (not idempotent: reported apart).
uploads() {
    head -c 100000 /dev/urandom >"$work/upload.bin"
    local fails=0 total=0 end=$((SECONDS + duration))
    while [ $SECONDS -lt $end ]; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --data-binary @"$work/upload.bin" "http://127.0.0.1:$1/up") || true
        total=$((total + 1))
        [ "$code" = 200 ] || fails=$((fails + 1))
        sleep 0.2
    done
    echo "$fails/$total"
}
# Slow clients: a head sent a byte every 500 ms, cut by `timeout http-request`.
slow() {
    python3 - "$1" "$duration" <<'PY'
import socket, sys, time
port, duration = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + duration
while time.time() < end:
    s = socket.create_connection(("127.0.0.1", port))
    try:
        for b in b"GET /slow HTTP/1.1\r\nHost: a\r\n":
            s.send(bytes([b]))
            time.sleep(0.5)
    except OSError:
        pass
    s.close()
PY
}

for name in hapee haproxy; do
    port_var=${name}_port
    port=${!port_var}
    wrk -t1 -c8 -d${duration}s "http://127.0.0.1:$port/ka" >"$work/$name.wrk" 2>&1 &
    fresh $port >"$work/$name.fresh" &
    uploads $port >"$work/$name.uploads" &
    slow $port >/dev/null 2>&1 &
done
wait_end=$((SECONDS + duration + 15))
while [ $SECONDS -lt $wait_end ]; do sleep 5; done

first=$(awk 'NR==1 {print $1}' "$work/samples")
last=$(tail -1 "$work/samples" | awk '{print $1}')
printf '%-8s %-28s %-14s %-18s %-22s %-22s\n' proxy "keep-alive GETs (fail/total)" "fresh GETs" "uploads (fail)" "RSS kB first->last min" "fds first->last min"
for name in hapee haproxy; do
    total=$(awk '/requests in/ {print $1}' "$work/$name.wrk")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/$name.wrk")
    errors=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$work/$name.wrk")
    mem=$(awk -v n=$name -v f=$first -v l=$last '$2 == n && $1 < f + 60 {a += $3; c++} $2 == n && $1 > l - 60 {b += $3; d++} END {printf "%d -> %d", a / c, b / d}' "$work/samples")
    fds=$(awk -v n=$name -v f=$first -v l=$last '$2 == n && $1 < f + 60 {a += $4; c++} $2 == n && $1 > l - 60 {b += $4; d++} END {printf "%.0f -> %.0f", a / c, b / d}' "$work/samples")
    printf '%-8s %-28s %-14s %-18s %-22s %-22s\n' $name "$((${non2xx:-0} + ${errors:-0}))/$total" "$(cat "$work/$name.fresh")" "$(cat "$work/$name.uploads")" "$mem" "$fds"
done
