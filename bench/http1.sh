#!/usr/bin/env bash
# HTTP/1.1 proxying throughput and latency: Debian's haproxy and `hapee-lb run` on the same
# configuration, one after the other in one run, with nginx (nginx-light) as the origin and wrk
# as the client, at nbthread 1 and 2. Prints req/s, p50, p99 and peak RSS with the ratios, and
# how evenly the threads shared the work: the busiest thread's share of the CPU time the
# proxy's threads used, one figure per round (50 at nbthread 2 is an even spread), and how long
# those threads waited for a CPU per request (run-queue delay from /proc/PID/task/*/schedstat,
# µs, median of the rounds): what the scheduler adds to each request's latency, for example when
# it stacks both threads on one core.
# Usage: bench/http1.sh [seconds per run, default 10] [connections, default 50]
# Each proxy runs ROUNDS times (default 3), alternating which goes first; medians are shown.
# Optional: THREADS="2" runs only the nbthread values given (default "1 2").
# Optional: CPU_MAP=1 pins both proxies' threads one per CPU (cpu-map).
# Optional: ORIGIN_PORT and PROXY_PORT (default 18600 and 18601) when others bench at once.
# Optional: PROFILE=1 records `perf record -g` of hapee's first nbthread-1 run into bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-50}
origin=${ORIGIN_PORT:-18600}
proxy=${PROXY_PORT:-18601}
tools=""
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
mkdir -p bench/out

# thread_ticks PID: "tid:ticks" (user + system clock ticks) of each thread serving requests:
# haproxy's threads, hapee's hapee-worker-N ones
thread_ticks() {
    local t comm
    for t in /proc/"$1"/task/*; do
        comm=$(cat "$t/comm" 2>/dev/null) || continue
        case $comm in haproxy | hapee-worker-*) ;; *) continue ;; esac
        awk -v tid="${t##*/}" '{sub(/^.*\) /, ""); print tid ":" $12 + $13}' "$t/stat"
    done
}

# thread_waits PID: nanoseconds each serving thread has waited, runnable, for a CPU (the same
# threads as thread_ticks)
thread_waits() {
    local t comm
    for t in /proc/"$1"/task/*; do
        comm=$(cat "$t/comm" 2>/dev/null) || continue
        case $comm in haproxy | hapee-worker-*) ;; *) continue ;; esac
        awk '{print $2}' "$t/schedstat"
    done | awk '{s += $1} END {print s + 0}'
}

# busiest_share BEFORE AFTER: the busiest thread's share (%) of the CPU time all threads used
# between the two snapshots (50 at nbthread 2 is an even spread)
busiest_share() {
    awk -v before="$1" -v after="$2" 'BEGIN {
        n = split(before, b, " "); for (i = 1; i <= n; i++) { split(b[i], kv, ":"); t0[kv[1]] = kv[2] }
        n = split(after, a, " "); for (i = 1; i <= n; i++) {
            split(a[i], kv, ":"); d = kv[2] - t0[kv[1]]; sum += d; if (d > max) max = d }
        printf "%.0f", (sum > 0 ? 100 * max / sum : 0) }'
}

# run_one NAME PID -> "rps p50_ms p99_ms rss_mib busiest_thread_share_pct cpu_wait_us_per_request"
run_one() {
    local pid=$1
    wait_port $proxy
    wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$proxy/" >/dev/null 2>&1 || true
    local before after waited_before waited_after
    before=$(thread_ticks "$pid" | tr '\n' ' ')
    waited_before=$(thread_waits "$pid")
    wrk -t1 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$proxy/" >"$work/wrk.txt" 2>&1
    waited_after=$(thread_waits "$pid")
    after=$(thread_ticks "$pid" | tr '\n' ' ')
    local rps p50 p99 rss requests wait_us
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt")
    p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
    rss=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    wait_us=$(awk -v a="$waited_before" -v b="$waited_after" -v n="$requests" \
        'BEGIN {printf "%.1f", (n > 0 ? (b - a) / 1000 / n : 0)}')
    echo "$rps $(to_ms "$p50") $(to_ms "$p99") $rss $(busiest_share "$before" "$after") $wait_us"
}

# median of the values given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

# bench_proxy NAME NBTHREAD -> "rps p50_ms p99_ms rss_mib" of one run
bench_proxy() {
    local name=$1 n=$2 pid
    if [ "$name" = haproxy ]; then
        haproxy -db -f "$work/haproxy-$n.cfg" >"$work/$name.log" 2>&1 &
    else
        "$hapee" run -f "$work/haproxy-$n.cfg" >"$work/$name.log" 2>&1 &
    fi
    pid=$!
    # This runs in a subshell (`< <(bench_proxy …)`): `pids` does not reach the cleanup, so
    # the proxy is stopped here even when a step fails.
    proxy_pid=$pid
    trap 'kill $proxy_pid 2>/dev/null || true' EXIT
    if [ "${PROFILE:-0}" = 1 ] && [ "$name" = hapee ] && [ "$n" = 1 ] && [ ! -e bench/out/hapee-http1.perf.data ]; then
        perf record -g -o bench/out/hapee-http1.perf.data -p $pid -- sleep "$((secs + 2))" >/dev/null 2>&1 &
    fi
    local figures
    figures=$(run_one $pid)
    # The figures go out only once this proxy has stopped: the caller starts the next one as
    # soon as it reads them, and both would listen on the port at once (SO_REUSEPORT), the
    # next run's connections reset by this one's close.
    kill $pid
    wait $pid 2>/dev/null || true
    echo "$figures"
}

wait_port $origin
rm -f bench/out/hapee-http1.perf.data
rounds=${ROUNDS:-3}
echo "median of $rounds rounds per proxy; the order alternates between rounds"
printf '%-8s | %-9s | %-10s | %-10s | %-8s | %-8s | %-8s | %-9s | %-9s | %-12s | %s\n' nbthread proxy "req/s" "p50 ms" "p99 ms" "RSS MiB" "rps ratio" "p50 ratio" "p99 ratio" "CPU wait µs" "busiest thread %"
for n in ${THREADS:-1 2}; do
    config "$n" >"$work/haproxy-$n.cfg"
    declare -A rps=() p50=() p99=() rss=() share=() waits=()
    for r in $(seq "$rounds"); do
        order="haproxy hapee"
        [ $((r % 2)) = 0 ] && order="hapee haproxy"
        for name in $order; do
            # A failed step inside the subshell leaves `read` nothing: say so instead of
            # stopping silently under `set -e`.
            if ! read -r a b c d e f < <(bench_proxy "$name" "$n"); then
                echo "no figures from $name at nbthread $n (round $r); wrk's last output:" >&2
                cat "$work/wrk.txt" >&2 2>/dev/null || true
                echo "$name's output:" >&2
                tail -5 "$work/$name.log" >&2 2>/dev/null || true
                exit 1
            fi
            rps[$name]+="$a "
            p50[$name]+="$b "
            p99[$name]+="$c "
            rss[$name]+="$d "
            share[$name]+="$e "
            waits[$name]+="$f "
        done
    done
    for name in haproxy hapee; do
        # shellcheck disable=SC2086
        set -- "$(median ${rps[$name]})" "$(median ${p50[$name]})" "$(median ${p99[$name]})" "$(median ${rss[$name]})" "$(median ${waits[$name]})"
        if [ "$name" = haproxy ]; then
            h=("$@")
            printf '%-8s | %-9s | %-10s | %-10s | %-8s | %-8s | %-8s | %-9s | %-9s | %-12s | %s\n' "$n" haproxy "$1" "$2" "$3" "$4" "" "" "" "$5" "${share[$name]}"
        else
            printf '%-8s | %-9s | %-10s | %-10s | %-8s | %-8s | %-8s | %-9s | %-9s | %-12s | %s\n' "$n" hapee "$1" "$2" "$3" "$4" \
                "$(awk "BEGIN{printf \"%.2f\", $1/${h[0]}}")" \
                "$(awk "BEGIN{printf \"%.2f\", $2/${h[1]}}")" \
                "$(awk "BEGIN{printf \"%.2f\", $3/${h[2]}}")" "$5" "${share[$name]}"
        fi
    done
    unset rps p50 p99 rss share waits
done
