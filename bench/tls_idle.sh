#!/usr/bin/env bash
# Memory per idle TLS connection, hapee and Debian's haproxy on the same configuration as
# bench/tls.sh (ECDSA P-256, nbthread 1, `http-request return`): N connections (default 5,000)
# each make one HTTP/1.1 request over TLS and stay open; the proxy's VmRSS growth divided by N.
# The quick form of tls.sh's idle row, for measuring a change. HAPEE=path skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-5000}
# HAProxy reserves two descriptors per maxconn and refuses to start beyond the hard limit.
limit=$((($(ulimit -Hn) - 200) / 2 - 100))
[ "$n" -gt "$limit" ] && n=$limit
hapee=${HAPEE:-}
if [ -z "$hapee" ]; then
    cargo build -q --release -p hapee-lb
    hapee=${CARGO_TARGET_DIR:-target}/release/hapee-lb
fi
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=bench.example -keyout "$work/k.pem" -out "$work/c.pem" 2>/dev/null
cat "$work/c.pem" "$work/k.pem" >"$work/site.pem"
config() { # PORT
    cat <<CFG
global
    nbthread 1
    maxconn $((n + 100))
defaults
    mode http
    timeout connect 1s
    timeout client 120s
    timeout http-keep-alive 120s
    timeout server 10s
frontend fe
    bind 127.0.0.1:$1 ssl crt $work/site.pem alpn h2,http/1.1
    http-request return status 200 content-type text/plain string ok
CFG
}
measure() { # NAME PORT PID
    python3 - "$2" "$3" "$n" <<'PY' | sed "s/^/  $1 /"
import socket, ssl, sys, time
port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["http/1.1"])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
time.sleep(0.5)
before = rss()
conns, answered = [], 0
for i in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    s.settimeout(30)
    answered += s.recv(4096).startswith(b"HTTP/1.1 200")
    conns.append(s)
time.sleep(1.5)
after = rss()
print(f"{answered}/{n} answered, RSS {before/1048576:.1f} -> {after/1048576:.1f} MiB, "
      f"{(after - before) / n / 1000:.1f} kB per connection")
PY
}
wait_port() { # PORT PID
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        kill -0 "$2" || { cat "$work"/*.log >&2; exit 1; }
        sleep 0.1
    done
}
config 24471 >"$work/hapee.cfg"
"$hapee" run -f "$work/hapee.cfg" >"$work/hapee.log" 2>&1 &
pids+=($!)
wait_port 24471 "${pids[0]}"
measure hapee 24471 "${pids[0]}"
if command -v haproxy >/dev/null; then
    config 24472 >"$work/haproxy.cfg"
    haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
    pids+=($!)
    wait_port 24472 "${pids[1]}"
    measure haproxy 24472 "${pids[1]}"
fi
