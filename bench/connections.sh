#!/bin/bash
# Memory per client connection, hapee next to Debian's haproxy: each proxy runs on one thread
# and answers by itself (`http-request return`), N clients (default 10000) each send one
# request and then hold their keep-alive connection open; the proxy's resident memory with all
# of them open, less its memory before, divided by N. Usage: bench/connections.sh [N [MODE]]
# MODE: h1 (default), `stages` (hapee only, where an HTTP/1 connection's memory goes), `h2`
# (HTTP/2 prior knowledge on `bind … proto h2`: preface, SETTINGS, one GET on stream 1, then
# held) or `h2tls` (the same over TLS with ALPN h2, an ECDSA P-256 certificate).
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

mode=${2:-h1}
bind_opts=
case $mode in
h2) bind_opts="proto h2" ;;
h2tls)
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=bench.example -keyout "$work/k.pem" -out "$work/c.pem" 2>/dev/null
    cat "$work/c.pem" "$work/k.pem" >"$work/site.pem"
    bind_opts="ssl crt $work/site.pem alpn h2"
    ;;
esac

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
    bind 127.0.0.1:$1 $bind_opts
    http-request return status 200 content-type text/plain string ok
CFG
}

# Opens N connections, one request each, holds them; prints the proxy's RSS growth per
# connection in bytes (VmRSS from /proc, sampled once all are open and answered).
measure() {
    python3 - "$1" "$2" "$3" "$mode" <<'PY'
import socket, ssl, struct, sys, time
port, pid, n, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
time.sleep(0.5)
before = rss()
conns = []
def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload
if mode == "h1":
    req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
else:
    # Preface, empty SETTINGS, the ACK of the server's, then HEADERS (END_STREAM|END_HEADERS)
    # on stream 1 from HPACK's static table: GET, /, http, authority "a".
    req = (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0) + frame(4, 1, 0)
           + frame(1, 5, 1, bytes([0x82, 0x84, 0x86, 0x41, 0x01]) + b"a"))
tls = None
if mode == "h2tls":
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    tls.set_alpn_protocols(["h2"])
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if tls:
        s = tls.wrap_socket(s, server_hostname="bench.example")
    s.sendall(req)
    conns.append(s)
    if i % 500 == 499:
        time.sleep(0.05)
def answered_ok(s):
    if mode == "h1":
        return s.recv(4096).startswith(b"HTTP/1.1 200")
    buf = b""
    while True:  # frames until the response's HEADERS on stream 1
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            size, kind, stream = int.from_bytes(buf[:3], "big"), buf[3], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            if kind == 1 and stream == 1:
                return True
            buf = buf[9 + size:]
        chunk = s.recv(4096)
        if not chunk:
            return False
        buf += chunk
answered = 0
for s in conns:
    s.settimeout(30)
    if answered_ok(s):
        answered += 1
time.sleep(1)
after = rss()
print(f"{answered}/{n} answered, RSS {before/1e6:.1f} MB -> {after/1e6:.1f} MB, "
      f"{(after - before) / n:.0f} bytes per connection")
PY
}

# `stages`: where hapee's memory goes, per connection: opened with nothing sent, then with half
# a request head, then answered and idle.
stages() {
    python3 - "$1" "$2" "$n" <<'PY'
import socket, sys, time
port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
time.sleep(0.5)
last = rss()
conns = []
for i in range(n):
    conns.append(socket.create_connection(("127.0.0.1", port)))
    if i % 500 == 499:
        time.sleep(0.05)
def stage(name):
    global last
    time.sleep(1.5)
    now = rss()
    print(f"  {name}: {(now - last) / n:.0f} bytes per connection")
    last = now
stage("accepted, nothing sent")
for s in conns:
    s.sendall(b"GET / HTT")
stage("half a head")
for s in conns:
    s.sendall(b"P/1.1\r\nHost: a\r\n\r\n")
for s in conns:
    s.settimeout(30)
    s.recv(4096)
stage("answered, idle")
PY
}

# Both proxies reserve two descriptors per maxconn (HAProxy's maxsock) and refuse to start beyond
# the descriptor hard limit: both get the largest maxconn it holds, and hold as many connections.
hard=$(ulimit -Hn)
maxconn=$(((hard - 200) / 2))
[ $maxconn -gt $((n + 100)) ] && maxconn=$((n + 100))
n=$((maxconn - 100 < n ? maxconn - 100 : n))
port=$((30000 + RANDOM % 2000))
config $port $maxconn >"$work/hapee.cfg"
"$hapee" run -f "$work/hapee.cfg" >/dev/null 2>&1 &
pids+=($!)
sleep 1
if [ "$mode" = stages ]; then
    echo "hapee, $n connections:"
    stages $port "${pids[-1]}"
    exit 0
fi
echo -n "hapee:   "
measure $port "${pids[-1]}" "$n"

port=$((port + 1))
config $port $maxconn >"$work/haproxy.cfg"
haproxy -db -f "$work/haproxy.cfg" >/dev/null 2>&1 &
pids+=($!)
sleep 1
echo -n "haproxy: "
measure $port "${pids[-1]}" "$n"
