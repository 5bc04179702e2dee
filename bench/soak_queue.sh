#!/bin/bash
# The maxconn/queue phase of the soak (`bench/soak.sh queue`), hapee then Debian's haproxy on
# the same configuration, each with its own origins (bench/soak_queue.py starts, kills and
# restarts them). Prints one line of figures per proxy; exits 1 when a check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-60}
command -v haproxy >/dev/null || { echo "soak_queue.sh needs Debian's haproxy" >&2; exit 1; }
hapee=${HAPEE_BIN:-target/release/hapee-lb}
[ -n "${HAPEE_BIN:-}" ] || cargo build --release -p hapee-lb >/dev/null 2>&1
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
base=$((33000 + RANDOM % 1500))

config() { # name port origin-port
    cat <<CFG
global
    nbthread 1
    maxconn 2000
    stats socket $work/$1.sock level admin
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout http-request 3s
    timeout server 3s
    timeout queue 2s
    retries 3
    retry-on conn-failure empty-response
    option redispatch
    # A client gone while its request waits in the queue: drop the request (hapee always does).
    option abortonclose
frontend fe
    bind 127.0.0.1:$2
    maxconn 40
    default_backend app
backend app
    server s1 127.0.0.1:$3 maxconn 4 check inter 1s
    server s2 127.0.0.1:$(($3 + 1)) maxconn 4 check inter 1s
CFG
}

status=0
for name in ${PROXIES:-hapee haproxy}; do
    port=$base oport=$((base + 1))
    base=$((base + 10))
    config $name $port $oport >"$work/$name.cfg"
    if [ $name = hapee ]; then
        "$hapee" run -f "$work/$name.cfg" >"$work/$name.log" 2>&1 &
    else
        haproxy -db -f "$work/$name.cfg" >"$work/$name.log" 2>&1 &
    fi
    pid=$!
    sleep 1
    echo -n "$name: "
    python3 bench/soak_queue.py drive $port "$work/$name.sock" $pid "$work/$name.log" $oport "$duration" || status=1
    kill $pid; wait $pid 2>/dev/null || true
    pid=
done
exit $status
