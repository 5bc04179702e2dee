#!/usr/bin/env bash
# HTTP/3 against hapee's own HTTP/2 over TLS (when the TLS listeners are in the build) and
# HTTP/1.1, in one run, through the same proxy and nginx origin:
#   - keep-alive requests: req/s and p99 (h3: bench's h3load with quinn + h3; h2: h2load; h1: wrk)
#   - handshakes/s: one new connection per request (h3load handshakes, h2load -n N -c N)
#   - RSS per 1,000 idle QUIC connections (VmRSS of the proxy before and after opening them)
# Debian's haproxy 2.6 has no QUIC, so the ratios are between hapee's own protocols.
# Usage: bench/h3.sh [seconds per run, default 10] [connections, default 10] [streams each, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-10}
streams=${3:-5}
origin=18700
proxy=18701
tls_port=18702
tools="h2load:nghttp2-client openssl:openssl"
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
cargo build --release -p hapee-lb --example h3load >/dev/null 2>&1
h3load=$PWD/target/release/examples/h3load
# CA:FALSE: OpenSSL 3 marks a self-signed certificate as a CA by default, which rustls (h3load)
# refuses as a server's certificate (CaUsedAsEndEntity).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/k.pem" \
    -out "$work/c.pem" -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -addext basicConstraints=critical,CA:FALSE -days 2 2>/dev/null
cat "$work/c.pem" "$work/k.pem" >"$work/site.pem"

write_config() { # write_config WITH_TLS_TCP
    config 2 | sed "s|^    bind 127.0.0.1:$proxy|    bind 127.0.0.1:$proxy\n    bind quic4@127.0.0.1:$proxy ssl crt $work/site.pem alpn h3|" >"$work/h3.cfg"
    if [ "$1" = 1 ]; then
        sed -i "s|^    bind quic4@.*|&\n    bind 127.0.0.1:$tls_port ssl crt $work/site.pem alpn h2,http/1.1|" "$work/h3.cfg"
    fi
}

start_proxy() {
    "$hapee" run -f "$work/h3.cfg" >"$work/lb.log" 2>&1 &
    pid=$!
    pids+=($pid)
    wait_port $proxy
}

h2=1
write_config 1
"$hapee" run -f "$work/h3.cfg" >"$work/lb.log" 2>&1 &
probe=$!
sleep 2
if ! kill -0 $probe 2>/dev/null || ! (exec 3<>/dev/tcp/127.0.0.1/$tls_port) 2>/dev/null; then
    h2=0
    echo "(HTTP/2 over TLS is not in this build: $(head -c 200 "$work/lb.log" | tr '\n' ' '))"
    write_config 0
fi
kill $probe 2>/dev/null || true
wait $probe 2>/dev/null || true
start_proxy

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
field() { tr ' ' '\n' | awk -F= -v k="$1" '$1==k {print $2}'; }

# warm-up, then keep-alive requests
"$h3load" 127.0.0.1:$proxy "$work/c.pem" requests 2 2 1 >/dev/null
h3=$("$h3load" 127.0.0.1:$proxy "$work/c.pem" requests "$conns" "$streams" "$secs")
h3hs=$("$h3load" 127.0.0.1:$proxy "$work/c.pem" handshakes "$conns" "$secs")
wrk -t1 -c$((conns * streams)) -d"${secs}s" --latency "http://127.0.0.1:$proxy/" >"$work/wrk.txt" 2>&1
h1_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
h1_p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$work/wrk.txt")")
if [ $h2 = 1 ]; then
    h2load -c"$conns" -m"$streams" -D"$secs" --log-file="$work/h2.log" "https://127.0.0.1:$tls_port/" >"$work/h2.txt" 2>&1 || true
    h2_rps=$(awk '/^finished in/ {gsub(",", ""); print $4}' "$work/h2.txt")
    h2_p99=$(awk '{print $3/1000}' "$work/h2.log" | sort -g | awk '{v[NR]=$1} END{printf "%.3f", v[int(NR*0.99)]}')
    n=$((conns * 200))
    h2load -n$n -c$n -m1 "https://127.0.0.1:$tls_port/" >"$work/h2hs.txt" 2>&1 || true
    h2_hs=$(awk '/^finished in/ {gsub(",", ""); print $4}' "$work/h2hs.txt")
fi

before=$(rss_kib)
"$h3load" 127.0.0.1:$proxy "$work/c.pem" idle 1000 8 >"$work/idle.txt" &
idle=$!
sleep 6
during=$(rss_kib)
wait $idle || true
opened=$(field connections <"$work/idle.txt")

printf '\n%-28s %12s %10s %14s\n' "hapee, nbthread 2" "req/s" "p99 ms" "handshakes/s"
printf '%-28s %12s %10s %14s\n' "HTTP/3 (QUIC)" "$(echo "$h3" | field per_s)" "$(echo "$h3" | field p99_ms)" "$(echo "$h3hs" | field per_s)"
if [ $h2 = 1 ]; then
    printf '%-28s %12s %10s %14s\n' "HTTP/2 over TLS" "$h2_rps" "$h2_p99" "$h2_hs"
    awk -v a="$(echo "$h3" | field per_s)" -v b="$h2_rps" 'BEGIN{ if (b > 0) printf "h3/h2 req/s ratio: %.2f\n", a/b }'
else
    printf '%-28s %12s %10s %14s\n' "HTTP/2 over TLS" "n/a" "n/a" "n/a"
fi
printf '%-28s %12s %10s %14s\n' "HTTP/1.1 (cleartext, wrk)" "$h1_rps" "$h1_p99" "-"
echo "errors: h3 requests $(echo "$h3" | field errors), h3 handshakes $(echo "$h3hs" | field errors)"
awk -v b="$before" -v d="$during" -v n="$opened" \
    'BEGIN{ if (n > 0) printf "RSS: %.1f MiB before, %.1f MiB with %d idle QUIC connections: %.1f MiB per 1,000\n", b/1024, d/1024, n, (d-b)/1024*1000/n }'
