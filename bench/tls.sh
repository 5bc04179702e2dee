#!/usr/bin/env bash
# TLS and HTTP/2 side by side with Debian's haproxy, on the same certificate and configuration:
# full handshakes per second (a new TLS connection per request, h2load -H 'Connection: close'
# over HTTP/1.1), TLS keep-alive req/s (wrk over https) and HTTP/2 req/s (h2load -c 50 -m 10).
# Prints each figure and hapee's ratio to haproxy. DURATION (seconds, default 10) per run.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10}
for tool in haproxy wrk h2load openssl; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
cargo build --release -p hapee-lb >/dev/null 2>&1
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=bench.example -keyout "$work/k.pem" -out "$work/c.pem" 2>/dev/null
cat "$work/c.pem" "$work/k.pem" >"$work/site.pem"
config() {
    cat <<CFG
global
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:$1 ssl crt $work/site.pem alpn h2,http/1.1
    http-request return status 200 content-type text/plain string ok
CFG
}
config 24443 >"$work/hapee.cfg"
config 24444 >"$work/haproxy.cfg"
target/release/hapee-lb run -f "$work/hapee.cfg" & pids+=($!)
haproxy -db -f "$work/haproxy.cfg" >/dev/null 2>&1 & pids+=($!)
sleep 1
handshakes() {
    h2load --h1 -D "$duration" -c 20 -H 'Connection: close' "https://127.0.0.1:$1/" 2>/dev/null |
        awk '/^finished in/ {gsub(",", "", $4); print $4}'
}
keepalive() {
    wrk -t1 -c50 -d"${duration}s" "https://127.0.0.1:$1/" 2>/dev/null | awk '/Requests\/sec/ {print $2}'
}
h2() {
    h2load -D "$duration" -c 50 -m 10 "https://127.0.0.1:$1/" 2>/dev/null |
        awk '/^finished in/ {gsub(",", "", $4); print $4}'
}
printf '%-28s | %-12s | %-12s | %s\n' measure hapee haproxy ratio
for m in handshakes keepalive h2; do
    ours=$($m 24443)
    theirs=$($m 24444)
    ratio=$(awk "BEGIN{ if ($theirs > 0) printf \"%.2f\", $ours / $theirs; else print \"-\" }")
    printf '%-28s | %-12s | %-12s | %s\n' "$m (req/s)" "$ours" "$theirs" "$ratio"
done
