#!/usr/bin/env bash
# TLS and HTTP/2 side by side with Debian's haproxy, on the same certificate (ECDSA P-256) and
# configuration (nbthread 1, the proxy answers by itself with `http-request return`), in one run:
#   - full handshakes/s: a new TLS connection and a full handshake per request (`openssl s_time
#     -new`, PAR processes in parallel, default 2); haproxy's counters confirm that none resumes.
#     Two rows. "unpinned": proxy and clients share every core, so the clients' own handshake
#     work (ECDSA verification, ECDHE) takes CPU from the proxy under test, and a proxy that
#     needs less CPU per handshake hands that CPU to the clients: the ratio of rates is diluted
#     towards 1. "pinned": the proxy under test (all its threads) runs on core 0 and the
#     clients on the other cores (`taskset`), the same for both proxies, so that the rate is
#     the proxy's capacity on one core, as long as the clients keep that core busy: the row
#     says how busy the proxy's core was (busy=, CPU time / wall time), and a rate with the
#     proxy's core well short of 100 % measures the clients, not the proxy (s_time verifies
#     each certificate: on 2 cores it does; bench/tls_handshakes.sh has a cheaper client).
#     Neither proxy is tuned for it; the CPU time per handshake (cpu=) is the figure the load
#     moves least.
#   - resumed connections/s: a new connection per request that resumes its TLS session (h2load
#     --h1 -n with `Connection: close`; h2load keeps each client's session ticket)
#   - TLS keep-alive req/s with p50/p99 (wrk -t1 -c50 --latency over https)
#   - HTTP/2 req/s with p50/p99 (h2load -c 50 -m 10, latencies from its log file)
#   - RSS growth per idle TLS connection with IDLE connections open (default 10,000, fewer for
#     haproxy when the descriptor hard limit cannot hold 2 × maxconn), and the keep-alive p50/p99
#     measured while they stay open
# Each row notes the 1-minute load average when it started and each proxy's CPU time per request
# it answered (user + system from /proc, requests from `show info` CumReq), which a loaded
# machine moves far less than the rates; the order of the two proxies alternates between rows. DURATION (seconds per run, default 10); HAPEE=path skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10}
par=${PAR:-2}
idle=${IDLE:-10000}
origin=18620 # the shared setup's nginx; unused here
ours_port=24443
theirs_port=24444
tools="h2load:nghttp2-client openssl:openssl socat:socat"
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
ulimit -n "$(ulimit -Hn)" # the idle clients and each proxy hold IDLE sockets
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=bench.example -keyout "$work/k.pem" -out "$work/c.pem" 2>/dev/null
cat "$work/c.pem" "$work/k.pem" >"$work/site.pem"

# Both proxies reserve two descriptors per maxconn (HAProxy's maxsock) and refuse to start beyond
# the hard limit, so both get the largest maxconn the limit holds.
hard=$(ulimit -Hn)
theirs_max=$(((hard - 200) / 2))
[ $theirs_max -gt $((idle + 100)) ] && theirs_max=$((idle + 100))
tls_config() { # tls_config PORT MAXCONN [extra global line]
    cat <<CFG
global
    nbthread 1
    maxconn $2
${3:-}
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
tls_config $ours_port $theirs_max "    stats socket $work/hapee.sock level admin" >"$work/hapee.cfg"
tls_config $theirs_port $theirs_max "    stats socket $work/haproxy.sock level admin" >"$work/haproxy.cfg"
"$hapee" run -f "$work/hapee.cfg" >"$work/hapee.log" 2>&1 &
ours_pid=$!
pids+=($ours_pid)
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
theirs_pid=$!
pids+=($theirs_pid)
wait_port $ours_port
wait_port $theirs_port
for port in $ours_port $theirs_port; do
    curl -skf --http2 "https://127.0.0.1:$port/" | grep -q ok || {
        echo "no answer over TLS on $port" >&2
        cat "$work/hapee.log" "$work/haproxy.log" >&2
        exit 1
    }
done

load1() { cut -d' ' -f1 /proc/loadavg; }
pid_of() { [ "$1" = $ours_port ] && echo $ours_pid || echo $theirs_pid; }
sock_of() { [ "$1" = $ours_port ] && echo "$work/hapee.sock" || echo "$work/haproxy.sock"; }
# requests the proxy on port $1 has answered (`show info` CumReq)
cum_req() { echo 'show info' | socat - "UNIX-CONNECT:$(sock_of "$1")" | awk -F': ' '/^CumReq:/ {print $2}'; }
# CPU time (user + system, clock ticks) the proxy on port $1 has used
cpu_ticks() { awk '{print $14 + $15}' "/proc/$(pid_of "$1")/stat"; }
# measured NAME PORT: the measure's figures, then the proxy's CPU microseconds per request it
# answered during the measure (far steadier than rates on a loaded machine) and the share of
# the measure's wall time it was on a CPU (busy=, percent of one core)
measured() {
    local r0 c0 t0 out r1 c1 t1
    r0=$(cum_req "$2")
    c0=$(cpu_ticks "$2")
    t0=$(date +%s.%N)
    out=$($1 "$2")
    t1=$(date +%s.%N)
    r1=$(cum_req "$2")
    c1=$(cpu_ticks "$2")
    echo "$out $(awk -v r=$((r1 - r0)) -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v t="$t0" -v u="$t1" \
        'BEGIN{printf "cpu=%.1f busy=%.0f%%", (r > 0 ? c / hz * 1e6 / r : 0), c / hz / (u - t) * 100}')"
}

# Each measure prints "value [p50_ms p99_ms]" for the proxy on port $1.
handshakes() {
    local start end n i clients=()
    start=$(date +%s.%N)
    for i in $(seq "$par"); do
        ${client_cpus:+taskset -c "$client_cpus"} \
            openssl s_time -connect "127.0.0.1:$1" -new -time "$duration" -www / >"$work/st.$i" 2>&1 &
        clients+=($!)
    done
    wait "${clients[@]}" || true
    end=$(date +%s.%N)
    n=$(cat "$work"/st.* | awk '/connections in .*user sec/ {n += $1} END {print n + 0}')
    grep -q 'bytes read per connection' "$work/st.1" || { echo "s_time failed: $(tail -2 "$work/st.1")" >&2; }
    rm -f "$work"/st.*
    awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN{printf "%.0f", n / (e - s)}'
}
# handshakes_pinned PORT: `handshakes` with the proxy on core 0 and the clients on the others
# (see the top of the file), then the proxy back on every core.
cpus=$(nproc)
handshakes_pinned() {
    local pid
    pid=$(pid_of "$1")
    taskset -a -p -c 0 "$pid" >/dev/null
    client_cpus=1-$((cpus - 1)) handshakes "$1"
    taskset -a -p -c "0-$((cpus - 1))" "$pid" >/dev/null
}
# h2load's -D mode never ends once the server closes each connection: a short run with -n
# gives the pace, and the measured run asks for DURATION seconds of requests at that pace.
resumed() {
    local pace
    pace=$(resumed_n "$1" 200)
    resumed_n "$1" "$(awk -v p="$pace" -v d="$duration" 'BEGIN{n = p * d; printf "%d", n < 200 ? 200 : n}')"
}
resumed_n() {
    timeout $((duration * 3 + 10)) h2load --h1 -n "$2" -c 20 -H 'Connection: close' "https://127.0.0.1:$1/" 2>/dev/null |
        awk '/^finished in/ {gsub(",", "", $4); printf "%.0f", $4}'
}
keepalive() {
    wrk -t1 -c50 -d"${duration}s" --latency "https://127.0.0.1:$1/" >"$work/wrk.txt" 2>&1
    echo "$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$work/wrk.txt")" \
        "$(to_ms "$(awk '$1=="50%" {print $2}' "$work/wrk.txt")")" \
        "$(to_ms "$(awk '$1=="99%" {print $2}' "$work/wrk.txt")")"
}
h2() {
    rm -f "$work/h2.log"
    h2load -D "$duration" -c 50 -m 10 --log-file="$work/h2.log" "https://127.0.0.1:$1/" >"$work/h2.txt" 2>&1 || true
    echo "$(awk '/^finished in/ {gsub(",", "", $4); printf "%.0f", $4}' "$work/h2.txt")" \
        "$(awk '{print $3/1000}' "$work/h2.log" | sort -g |
            awk '{v[NR]=$1} END{printf "%.3f %.3f", v[int(NR*0.5)], v[int(NR*0.99)]}')"
}
# idle_client PORT PID N: opens N TLS connections (one request each, then held open), writes
# "answered rss_before rss_after" (bytes, the proxy's VmRSS) to $work/idle.out once all are open.
idle_client() {
    exec python3 - "$@" "$work/idle.out" <<'PY'
import os, socket, ssl, sys, time
port, pid, n, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
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
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        s.settimeout(30)
        if s.recv(4096).startswith(b"HTTP/1.1 200"):
            answered += 1
        conns.append(s)
    except OSError as e:
        print(f"connection {i}: {e}", file=sys.stderr)
        break
time.sleep(1)
after = rss()
with open(out + ".tmp", "w") as f:
    f.write(f"{answered} {before} {after}\n")
os.rename(out + ".tmp", out)
time.sleep(3600)
PY
}

printf '%-34s | %-6s | %-30s | %-30s | %s\n' measure load hapee haproxy "ratio hapee/haproxy"
row() { # row NAME INDEX: runs measure NAME on both proxies, alternating the order by INDEX
    local name=$1 i=$2 load ours theirs
    load=$(load1)
    if [ $((i % 2)) = 0 ]; then
        ours=$(measured "$name" $ours_port)
        theirs=$(measured "$name" $theirs_port)
    else
        theirs=$(measured "$name" $theirs_port)
        ours=$(measured "$name" $ours_port)
    fi
    print_row "$name" "$load" "$ours" "$theirs"
}
print_row() { # NAME LOAD "value [p50 p99] [cpu=µs busy=%]" "value [p50 p99] [cpu=µs busy=%]"
    local o t oc="" tc=""
    read -r -a o <<<"${3% cpu=*}"
    read -r -a t <<<"${4% cpu=*}"
    [[ $3 =~ cpu=([0-9.]+) ]] && oc=${BASH_REMATCH[1]}
    [[ $4 =~ cpu=([0-9.]+) ]] && tc=${BASH_REMATCH[1]}
    printf '%-34s | %-6s | %-30s | %-30s | %s\n' "$1" "$2" "$3" "$4" "$(awk -v a="${o[0]:-0}" -v b="${t[0]:-0}" \
        -v a50="${o[1]:-0}" -v b50="${t[1]:-0}" -v a99="${o[2]:-0}" -v b99="${t[2]:-0}" -v ac="$oc" -v bc="$tc" 'BEGIN{
            r = b > 0 ? sprintf("%.2f", a / b) : "-"
            if (b50 > 0) r = r sprintf(" (p50 %.2f, p99 %.2f)", a50 / b50, a99 / b99)
            if (bc > 0) r = r sprintf(" cpu/req %.2f", ac / bc)
            print r }')"
}
if [ "$cpus" -ge 2 ]; then
    row handshakes_pinned 0
    row handshakes 1
else
    row handshakes 0
fi
ssl=$(echo 'show info' | socat - "$work/haproxy.sock" | awk -F': ' '/^SslFrontendSessionReuse_pct/ {print $2}')
echo "  (haproxy: SslFrontendSessionReuse_pct $ssl after the handshake runs)"
row resumed 1
row keepalive 2
row h2 3
echo "  (values: req/s [p50 ms, p99 ms] cpu=the proxy's CPU µs per request it answered, one"
echo "   full handshake each in the handshake rows; busy=its CPU time over the measure's wall"
echo "   time, % of one core: the pinned row's rate is the proxy's capacity only near 100 %)"

# Idle TLS connections: the same count on both (what the hard limit lets haproxy hold).
n=$((theirs_max - 100 < idle ? theirs_max - 100 : idle))
load=$(load1)
declare -A per=() lat=()
for port in $ours_port $theirs_port; do
    rm -f "$work/idle.out"
    idle_client "$port" "$(pid_of "$port")" "$n" 2>"$work/idle.err" &
    py=$!
    while [ ! -e "$work/idle.out" ] && kill -0 $py 2>/dev/null; do sleep 0.5; done
    per[$port]=$(cat "$work/idle.out" 2>/dev/null || echo "0 0 0")
    lat[$port]=$(keepalive "$port")
    kill $py 2>/dev/null || true
    wait $py 2>/dev/null || true
    head -3 "$work/idle.err" >&2
done
echo
echo "idle TLS connections ($n each, load $load):"
for port in $ours_port $theirs_port; do
    name=hapee
    [ "$port" = $theirs_port ] && name=haproxy
    read -r answered before after <<<"${per[$port]}"
    awk -v n="$name" -v a="$answered" -v b="$before" -v c="$after" -v k="$n" 'BEGIN{
        if (k > 0) printf "  %-8s %d/%d answered, RSS %.1f -> %.1f MiB, %.1f kB per connection\n",
            n, a, k, b / 1048576, c / 1048576, (c - b) / k / 1000 }'
done
print_row "keepalive with the idle connections" "$load" "${lat[$ours_port]}" "${lat[$theirs_port]}"
