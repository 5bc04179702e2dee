#!/usr/bin/env bash
# Where the HTTP/1 bench's latency is spent: for haproxy and hapee in turn (the configuration
# of bench/http1.sh, NBTHREAD threads), wrk's p99 beside the p99 the wire shows at the proxy's
# client port (tcpdump of the data segments: a request's first segment to its response's
# first one). The difference is time spent in the client itself, waiting for a CPU or being
# woken. For hapee the wire latencies are also split by serving thread (`show sess` names each
# session's thread), which shows whether one worker's connections carry the tail.
# Usage: bench/http1_wire.sh [NBTHREAD, default 2] [seconds, default 5]
# ROUNDS (default 2) runs of each proxy; HAPEE, ORIGIN_PORT, PROXY_PORT as for bench/http1.sh
# (ports default to 18650 / 18651). Needs tcpdump and socat (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
nbthread=${1:-2}
secs=${2:-5}
origin=${ORIGIN_PORT:-18650}
proxy=${PROXY_PORT:-18651}
tools="tcpdump:tcpdump socat:socat"
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
sock=$work/stats.sock
config "$nbthread" | sed "s|^    maxconn 4000|    maxconn 4000\n    stats socket $sock level admin|" >"$work/proxy.cfg"
wait_port "$origin"
for r in $(seq "${ROUNDS:-2}"); do
    for name in haproxy hapee; do
        rm -f "$sock"
        start_proxy "$name"
        pids+=("$proxy_pid")
        wrk -t1 -c50 -d2s "http://127.0.0.1:$proxy/" >/dev/null 2>&1 || true
        tcpdump -i lo -s 80 -B 65536 --time-stamp-precision=nano -w "$work/wire.pcap" \
            "tcp port $proxy and (tcp[tcpflags] & tcp-push != 0)" 2>/dev/null &
        capture=$!
        sleep 0.5
        wrk -t1 -c50 -d"${secs}s" --latency "http://127.0.0.1:$proxy/" >"$work/wrk.txt" 2>&1 &
        client=$!
        sleep $((secs / 2))
        echo "show sess" | socat - "UNIX-CONNECT:$sock" >"$work/sess.txt" 2>/dev/null || true
        wait "$client"
        kill "$capture"
        wait "$capture" 2>/dev/null || true
        kill "$proxy_pid"
        wait "$proxy_pid" 2>/dev/null || true
        echo "round $r, $name: wrk p99 $(to_ms "$(awk '$1=="99%" {print $2}' "$work/wrk.txt")") ms," \
            "$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt") req/s"
        python3 bench/http1_wire.py "$work/wire.pcap" "$proxy" "$work/sess.txt" | sed 's/^/  /'
        rm -f "$work/wire.pcap"
    done
done
