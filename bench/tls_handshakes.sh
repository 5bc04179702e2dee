#!/usr/bin/env bash
# Full TLS handshakes per second, hapee beside Debian's haproxy, with the proxy under test on one
# core and a cheap load generator on the other, so that the rate is the proxy's capacity on
# one core and not the client's.
#
# `openssl s_time` (bench/tls.sh) cannot keep a proxy's core busy on a 2-core machine: each of
# its handshakes verifies the server's certificate and signature, and that verification is the
# largest part of a client's handshake cost. The proxy's core then idles (22-24 % busy in
# tls.sh's pinned row), and the rate measures the client. bench/tls-load (built here, its own
# cargo project) skips the verification on purpose (the server's work is the same either way),
# uses X25519 and keeps no session, so every handshake is a full one; CONNS connections at a
# time on CLIENT_THREADS threads, each a new TCP connection, a full handshake and one small
# HTTP/1.1 request with `Connection: close` (the proxy answers by itself, `http-request
# return`). The client offers a single AES-128-GCM suite per version, so both proxies
# negotiate the same suite (the row shows which).
#
# Rows: ECDSA P-256 and RSA 2048 certificates (the same files for both proxies), TLS 1.3 and
# TLS 1.2; each proxy runs nbthread 1 under `taskset` on PROXY_CPU (default 0), the client on
# CLIENT_CPUS (default 1). Each row is run REPEAT times (default 2), the order of the proxies
# alternating, and prints for each proxy:
#   rate   completed handshakes per second (each with its request answered)
#   cpu    the proxy's CPU time (user + system from /proc/<pid>/stat) per handshake, in µs:
#          the figure the machine's other load moves least
#   busy   the proxy's CPU time over the run's wall time (% of its core)
#   core   the proxy's core's busy time over the wall time, whoever used it (/proc/stat): a
#          core near 100 % with the proxy short of it was shared with other load
#   client the load generator's CPU time per handshake (µs) and over the wall time (% of
#          CLIENT_CPUS' cores)
# and the ratios hapee/haproxy of the rates and of the CPU per handshake, with the 1-minute
# load average at the row's start. A rate is the proxy's capacity only when its busy% is
# near 100; when it is not and the client is, the client is the limit. On a quiet machine
# the client's core saturates the proxy's as long as the client's CPU per handshake is below
# the proxy's (both are mostly X25519 and the kernel's loopback TCP; the client has no
# signature to make). On a loaded one neither core is all theirs (core near 100 %, busy far
# below it): the rates then say little and the CPU per handshake is the figure to read.
# CLOSE=1: a close_notify right after each handshake instead of the request. DURATION
# (seconds per run, default 10); HAPEE=path skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10}
repeat=${REPEAT:-2}
conns=${CONNS:-64}
proxy_cpu=${PROXY_CPU:-0}
client_cpus=${CLIENT_CPUS:-1}
# one client thread per client CPU
client_threads=${CLIENT_THREADS:-$(taskset -c "$client_cpus" nproc)}
base=${BASE_PORT:-24543}
hz=$(getconf CLK_TCK)

command -v haproxy >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy
}
for port in $base $((base + 1)) $((base + 2)) $((base + 3)); do
    if ss -Htln "sport = :$port" | grep -q .; then
        echo "port $port is in use (another bench?): set BASE_PORT to a free range of four" >&2
        exit 1
    fi
done
if [ -z "${HAPEE:-}" ]; then
    cargo build --release -p hapee-lb >/dev/null 2>&1
fi
hapee=${HAPEE:-$PWD/target/release/hapee-lb}
cargo build --release --locked --manifest-path bench/tls-load/Cargo.toml >/dev/null 2>&1
load_gen=$PWD/bench/tls-load/target/release/tls-load

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=bench.example -keyout "$work/ec.key" -out "$work/ec.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
    -subj /CN=bench.example -keyout "$work/rsa.key" -out "$work/rsa.crt" 2>/dev/null
cat "$work/ec.crt" "$work/ec.key" >"$work/ecdsa.pem"
cat "$work/rsa.crt" "$work/rsa.key" >"$work/rsa.pem"

tls_config() { # tls_config NAME FIRST_PORT: an ECDSA frontend on FIRST_PORT, an RSA one next
    cat <<CFG
global
    nbthread 1
    stats socket $work/$1.sock level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend ecdsa
    bind 127.0.0.1:$2 ssl crt $work/ecdsa.pem
    http-request return status 200 content-type text/plain string ok
frontend rsa
    bind 127.0.0.1:$(($2 + 1)) ssl crt $work/rsa.pem
    http-request return status 200 content-type text/plain string ok
CFG
}
ours_port=$base
theirs_port=$((base + 2))
tls_config hapee $ours_port >"$work/hapee.cfg"
tls_config haproxy $theirs_port >"$work/haproxy.cfg"
# Started on their core, so that every thread they make later stays there too.
taskset -c "$proxy_cpu" "$hapee" run -f "$work/hapee.cfg" >"$work/hapee.log" 2>&1 &
ours_pid=$!
pids+=($ours_pid)
taskset -c "$proxy_cpu" haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
theirs_pid=$!
pids+=($theirs_pid)
for port in $ours_port $((ours_port + 1)) $theirs_port $((theirs_port + 1)); do
    for _ in $(seq 300); do
        (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
        sleep 0.05
    done
    curl -skf "https://127.0.0.1:$port/" | grep -q ok || {
        echo "no answer over TLS on $port" >&2
        cat "$work/hapee.log" "$work/haproxy.log" >&2
        exit 1
    }
done

load1() { cut -d' ' -f1 /proc/loadavg; }
# CPU time (user + system, clock ticks) of process $1
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# busy and total ticks of core $1, whoever ran there
core_ticks() { awk -v c="cpu$1" '$1 == c {t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }

# run PID PORT VERSION: one run of the load generator against the proxy PID on PORT; prints
# "rate cpu_us busy% core% client_us client% negotiated"
run() {
    local c0 c1 b0 a0 b1 a1 t0 t1 out
    c0=$(cpu_ticks "$1")
    read -r b0 a0 <<<"$(core_ticks "$proxy_cpu")"
    t0=$(date +%s.%N)
    out=$(taskset -c "$client_cpus" "$load_gen" "127.0.0.1:$2" --seconds "$duration" \
        --conns "$conns" --threads "$client_threads" --tls "$3" ${CLOSE:+--close} 2>"$work/load.err")
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$1")
    read -r b1 a1 <<<"$(core_ticks "$proxy_cpu")"
    [ -s "$work/load.err" ] && sed 's/^/  /' "$work/load.err" >&2
    awk -v out="$out" -v c=$((c1 - c0)) -v hz="$hz" -v t="$t0" -v u="$t1" \
        -v cb=$((b1 - b0)) -v ca=$((a1 - a0)) -v ncl="$(taskset -c "$client_cpus" nproc)" 'BEGIN{
        n = split(out, f, " ")
        for (i = 1; i <= n; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
        w = u - t
        n = v["handshakes"]
        printf "%d %.1f %.0f %.0f %.1f %.0f %s\n", n / w, (n > 0 ? c / hz * 1e6 / n : 0),
            c / hz / w * 100, (ca > 0 ? cb / ca * 100 : 0),
            (n > 0 ? v["cpu_ticks"] / hz * 1e6 / n : 0), v["cpu_ticks"] / hz / w / ncl * 100,
            v["negotiated"]
    }'
}

printf '%-14s | %-5s | %-42s | %-42s | %s\n' row load \
    "hapee: hs/s µs/hs busy core client:µs/hs,%" "haproxy: hs/s µs/hs busy core client" \
    "hapee/haproxy: hs/s, µs/hs"
fmt() { awk '{printf "%6d %6.1f %4d%% %4d%% %6.1f %3d%%", $1, $2, $3, $4, $5, $6}' <<<"$1"; }
declare -A negotiated=()
i=0
for cert in ecdsa rsa; do
    offset=0
    [ $cert = rsa ] && offset=1
    for version in 1.3 1.2; do
        for r in $(seq "$repeat"); do
            load=$(load1)
            if [ $(((i + r) % 2)) = 0 ]; then
                ours=$(run $ours_pid $((ours_port + offset)) $version)
                theirs=$(run $theirs_pid $((theirs_port + offset)) $version)
            else
                theirs=$(run $theirs_pid $((theirs_port + offset)) $version)
                ours=$(run $ours_pid $((ours_port + offset)) $version)
            fi
            printf '%-14s | %-5s | %-42s | %-42s | %s\n' "$cert TLS$version" "$load" \
                "$(fmt "$ours")" "$(fmt "$theirs")" "$(awk -v o="$ours" -v t="$theirs" 'BEGIN{
                    split(o, a, " "); split(t, b, " ")
                    printf "%.2f, %.2f", (b[1] > 0 ? a[1] / b[1] : 0), (b[2] > 0 ? a[2] / b[2] : 0) }')"
            negotiated["$cert TLS$version hapee"]=${ours##* }
            negotiated["$cert TLS$version haproxy"]=${theirs##* }
        done
        i=$((i + 1))
    done
done
echo "negotiated (version, suite, group) as the client saw its first handshake of each row:"
for k in "${!negotiated[@]}"; do echo "  $k: ${negotiated[$k]}"; done | sort
reuse=$(echo 'show info' | socat - "UNIX-CONNECT:$work/haproxy.sock" 2>/dev/null |
    awk -F': ' '/^SslFrontendSessionReuse_pct/ {print $2}')
echo "haproxy SslFrontendSessionReuse_pct: ${reuse:-?} (0: every handshake was a full one)"
echo "client: $conns connections on $client_threads thread(s), CPUs $client_cpus; proxies on CPU $proxy_cpu; ${duration}s per run; load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
