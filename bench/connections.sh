#!/bin/bash
# Memory per client connection, hapee next to Debian's haproxy: each proxy runs on one thread
# and answers by itself (`http-request return`), N clients (default 10000) each send one
# request and then hold their keep-alive connection open; the proxy's resident memory with all
# of them open, less its memory before, divided by N. Usage: bench/connections.sh [N [stages]]
# HAProxy reserves two descriptors per `maxconn` (client and server side) and refuses to start
# when the hard limit cannot hold them: on a machine whose hard limit is 20,000 it gets the
# largest count that fits (about 9,900), said in its line. HAPEE_BIN=path measures that build
# of hapee-lb instead of building target/release/hapee-lb (to compare two builds).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
command -v haproxy >/dev/null || { echo "connections.sh needs Debian's haproxy" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"  # each side holds N sockets
hapee=${HAPEE_BIN:-target/release/hapee-lb}
[ -n "${HAPEE_BIN:-}" ] || cargo build --release -p hapee-lb >/dev/null 2>&1
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

config() {
    cat <<CFG
global
    nbthread 1
    maxconn $2
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout http-keep-alive 120s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$1
    http-request return status 200 content-type text/plain string ok
CFG
}

# Opens N connections to the proxy (port, pid) and prints its RSS growth (VmRSS from /proc).
# `measure PORT PID N`: one request each, held open; the growth per connection in bytes, sampled
# once all are open and answered. `stages PORT PID N`: where hapee's memory goes, per
# connection: opened with nothing sent, then with half a request head, then answered and idle.
clients() {
    python3 - "$@" <<'PY'
import socket, sys, time
mode, port, pid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
time.sleep(0.5)
before = last = rss()
conns = []
req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "measure":
        s.sendall(req)
    conns.append(s)
    if i % 500 == 499:
        time.sleep(0.05)
def answered():
    count = 0
    for s in conns:
        s.settimeout(30)
        if s.recv(4096).startswith(b"HTTP/1.1 200"):
            count += 1
    return count
if mode == "measure":
    count = answered()
    time.sleep(1)
    after = rss()
    print(f"{count}/{n} answered, RSS {before/1e6:.1f} MB -> {after/1e6:.1f} MB, "
          f"{(after - before) / n:.0f} bytes per connection")
    sys.exit(0)
def stage(name):
    global last
    time.sleep(1.5)
    now = rss()
    print(f"  {name}: {(now - last) / n:.0f} bytes per connection")
    last = now
stage("accepted, nothing sent")
for s in conns:
    s.sendall(req[:9])
stage("half a head")
for s in conns:
    s.sendall(req[9:])
answered()
stage("answered, idle")
PY
}

port=$((30000 + RANDOM % 2000))
config $port $((n + 100)) >"$work/hapee.cfg"
"$hapee" run -f "$work/hapee.cfg" >/dev/null 2>&1 &
pids+=($!)
sleep 1
if [ "${2:-}" = stages ]; then
    echo "hapee, $n connections:"
    clients stages $port "${pids[-1]}" "$n"
    exit 0
fi
echo -n "hapee:   "
clients measure $port "${pids[-1]}" "$n"

port=$((port + 1))
hard=$(ulimit -Hn)
maxconn=$(((hard - 200) / 2))
[ $maxconn -gt $((n + 100)) ] && maxconn=$((n + 100))
config $port $maxconn >"$work/haproxy.cfg"
haproxy -db -f "$work/haproxy.cfg" >/dev/null 2>&1 &
pids+=($!)
sleep 1
echo -n "haproxy: "
clients measure $port "${pids[-1]}" $((maxconn - 100 < n ? maxconn - 100 : n))
