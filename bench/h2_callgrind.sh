#!/usr/bin/env bash
# User-space work per HTTP/2 request, counted by callgrind rather than timed: the instructions,
# cache misses and branch mispredictions per request of Debian's haproxy and of `hapee-lb run`
# on the same configuration (nbthread 1), over a fixed number of h2load requests
# (`h2load -n REQUESTS -c 10 -m 10`), so the count does not depend on the machine's load.
# Two listeners: HTTP/2 prior knowledge (`bind … proto h2`, row "h2c") and TLS with ALPN h2
# (ECDSA P-256, row "h2tls"; its 10 full handshakes are counted with the requests). By default
# the proxy answers by itself (`http-request return`, as bench/tls.sh measures); ORIGIN=1
# forwards each request to nginx-light over HTTP/1.1 instead (the shared request path).
# Usage: bench/h2_callgrind.sh [requests, default 20000] [which: both (default), hapee, haproxy]
# Optional: LISTEN=h2c or LISTEN=h2tls measures that listener only.
# Optional: KEEP=dir keeps the callgrind output files there (for callgrind_annotate).
# Optional: CG_OPTS adds valgrind options (e.g. --dump-instr=yes for bench/cg_order.py).
# HAPEE=path skips the build (as in the other HTTP benches).
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-20000}
which=${2:-both}
origin=18630
h2c_port=18631
tls_port=18632
tools="valgrind:valgrind h2load:nghttp2-client openssl:openssl"
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=bench.example -keyout "$work/k.pem" -out "$work/c.pem" 2>/dev/null
cat "$work/c.pem" "$work/k.pem" >"$work/site.pem"
if [ "${ORIGIN:-0}" = 1 ]; then
    answer="    default_backend app"
else
    answer="    http-request return status 200 content-type text/plain string ok"
fi
cat >"$work/proxy.cfg" <<CFG
global
    nbthread 1
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    http-reuse always
frontend h2c
    bind 127.0.0.1:$h2c_port proto h2
$answer
frontend h2tls
    bind 127.0.0.1:$tls_port ssl crt $work/site.pem alpn h2
$answer
backend app
    server origin 127.0.0.1:$origin
CFG

# run URL N: h2load's count of successful requests
run() {
    h2load -n "$2" -c 10 -m 10 "$1" 2>/dev/null | awk '/^requests:/ {print $8}'
}

# measure NAME COMMAND... -> one table row per listener
measure() {
    local name=$1
    shift
    local row url port
    for row in ${LISTEN:-h2c h2tls}; do
        if [ $row = h2c ]; then
            port=$h2c_port url="http://127.0.0.1:$port/"
        else
            port=$tls_port url="https://127.0.0.1:$port/"
        fi
        valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes --instr-atstart=no ${CG_OPTS:-} \
            --callgrind-out-file="$work/cg.$name.$row.%p" "$@" >/dev/null 2>&1 &
        local pid=$!
        pids+=($pid)
        wait_port $h2c_port
        wait_port $tls_port
        run "$url" 2000 >/dev/null # warm-up: allocator, session caches, lazy statics
        callgrind_control -i on "$pid" >/dev/null 2>&1
        sleep 0.5
        local reqs
        reqs=$(run "$url" "$requests")
        callgrind_control -i off "$pid" >/dev/null 2>&1
        callgrind_control -d "$pid" >/dev/null 2>&1
        sleep 1
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        [ "${reqs:-0}" -gt 0 ] || { echo "$name $row: no request succeeded" >&2; exit 1; }
        local out
        out=$(ls -S "$work"/cg."$name.$row".* | head -1)
        # Totals: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim
        callgrind_annotate "$out" 2>/dev/null | awk -v r="$reqs" -v n="$name" -v row="$row" '
            /PROGRAM TOTALS/ {
                gsub(",", ""); k = 0
                for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) v[++k] = $i
                printf "%-8s | %-6s | %-8d | %-8d | %-7.0f | %-7.0f | %-7.0f | %-7.0f | %-7.0f\n",
                    n, row, r, v[1] / r, v[4] / r, v[5] / r, v[6] / r, v[11] / r, v[13] / r
            }'
        if [ -n "${KEEP:-}" ]; then
            mkdir -p "$KEEP"
            cp "$out" "$KEEP/cg.$name.$row.out"
            echo "$reqs" >"$KEEP/cg.$name.$row.requests"
        fi
    done
    return 0
}

printf '%-8s | %-6s | %-8s | %-8s | %-7s | %-7s | %-7s | %-7s | %-7s\n' \
    proxy listen requests "instr" "I1 miss" "D1 rd" "D1 wr" "br miss" "ind miss"
echo "(per request; answers by itself unless ORIGIN=1)"
[ "$which" = hapee ] || measure haproxy haproxy -db -f "$work/proxy.cfg"
[ "$which" = haproxy ] || measure hapee "$hapee" run -f "$work/proxy.cfg"
