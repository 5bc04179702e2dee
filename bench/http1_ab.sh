#!/usr/bin/env bash
# Alternating A/B runs of the HTTP/1 bench (the configuration of bench/http1.sh, nginx-light as
# the origin, wrk -t1 as the client): each round runs every variant once, in the order given,
# a fresh proxy each time; medians over the rounds, with each variant's ratio to haproxy's.
# Many short rounds show a change of a few percent that one bench/http1.sh run, whose p99 at
# nbthread 2 moves by 2x from run to run on a 2-core machine, cannot.
# Usage: bench/http1_ab.sh ROUNDS SECONDS NBTHREAD VARIANT...
#   VARIANT: haproxy | hapee | hapee:NAME=VALUE[,NAME=VALUE...] (environment of that hapee run)
#   | hapee@PATH[:NAME=VALUE...] (the hapee binary at PATH instead of HAPEE's, to compare builds)
# Optional: WRK_CPU / NGINX_CPU pin the client / the origin to a CPU (taskset), to measure
# with the scheduler's placement of those two fixed. HAPEE, ORIGIN_PORT, PROXY_PORT as for
# bench/http1.sh (ports default to 18640 / 18641).
# Example: HAPEE=target/release/hapee-lb bash bench/http1_ab.sh 9 5 2 haproxy hapee \
#   hapee:HAPEE_UNSTACK=0
set -euo pipefail
cd "$(dirname "$0")/.."
origin=${ORIGIN_PORT:-18640}
proxy=${PROXY_PORT:-18641}
tools=""
rounds=$1 secs=$2 nbthread=$3
shift 3
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
config "$nbthread" >"$work/proxy.cfg"
wait_port "$origin"
if [ -n "${NGINX_CPU:-}" ]; then
    master=$(pgrep -f "nginx -c $work/nginx.conf")
    for p in $master $(pgrep -P "$master"); do
        taskset -a -p -c "$NGINX_CPU" "$p" >/dev/null
    done
fi
client=(wrk)
[ -n "${WRK_CPU:-}" ] && client=(taskset -c "$WRK_CPU" wrk)
results=$work/results
for r in $(seq "$rounds"); do
    for variant in "$@"; do
        name=${variant%%:*}
        settings=()
        [ "$variant" != "$name" ] && IFS=, read -r -a settings <<<"${variant#*:}"
        if [ "$name" = haproxy ]; then
            haproxy -db -f "$work/proxy.cfg" >/dev/null 2>&1 &
        else
            binary=$hapee
            # hapee@PATH: that build of hapee (two builds side by side in one run)
            [ "$name" != "${name#hapee@}" ] && binary=${name#hapee@}
            env "${settings[@]}" "$binary" run -f "$work/proxy.cfg" >/dev/null 2>&1 &
        fi
        pid=$!
        pids+=("$pid")
        wait_port "$proxy"
        "${client[@]}" -t1 -c50 -d2s "http://127.0.0.1:$proxy/" >/dev/null 2>&1 || true
        "${client[@]}" -t1 -c50 -d"${secs}s" --latency "http://127.0.0.1:$proxy/" >"$work/wrk.txt" 2>&1
        rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
        p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
        echo "$r $variant $rps $(to_ms "$p99")" | tee -a "$results"
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        while listening "$proxy"; do sleep 0.05; done
    done
done
python3 - "$results" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, variant, rps, p99 = line.split()
    runs[variant].append((float(rps), float(p99)))
def median(variant, i):
    return statistics.median(x[i] for x in runs[variant])
for variant, xs in runs.items():
    line = f"{variant:44s} req/s {median(variant, 0):9.0f}  p99 {median(variant, 1):.3f} ms  ({' '.join('%.2f' % x[1] for x in xs)})"
    if "haproxy" in runs and variant != "haproxy":
        line += f"  ratio req/s {median(variant, 0) / median('haproxy', 0):.2f} p99 {median(variant, 1) / median('haproxy', 1):.2f}"
    print(line)
PY
