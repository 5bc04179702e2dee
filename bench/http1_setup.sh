# Shared by the HTTP/1 benchmarks (sourced, not run): installs what is missing, builds hapee,
# starts nginx-light as the origin on $origin, and defines `config NBTHREAD`, the proxy
# configuration both haproxy and hapee run (listening on $proxy; with CPU_MAP=1 it pins the
# threads). Expects $origin, $proxy and
# the packages to check in $tools set by the caller.
# A port someone else's bench already listens on would be measured in place of ours (wait_port
# only sees that something answers): refuse to start then.
for port in ${origin:-} ${proxy:-}; do
    if ss -Htln "sport = :$port" | grep -q .; then
        echo "port $port is in use (another bench?): set ORIGIN_PORT / PROXY_PORT to free ones" >&2
        exit 1
    fi
done
need=()
for tool in haproxy:haproxy nginx:nginx-light wrk:wrk $tools; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
# HAPEE=path/to/hapee-lb: run that binary instead of building one. Otherwise the binary
# measured is hapee's optimized release build: by default the profile-guided build laid out
# by BOLT (bench/pgo_build.sh, then bench/bolt_build.sh, made again when the sources changed
# since the last one: about 25 minutes on 2 cores), with BUILD=bolt the plain release build
# laid out by BOLT (about 8 minutes), with BUILD=plain the plain `cargo build --release` one.
# When a layout fails (BOLT's or LLVM's tools missing and not installable), the plain build
# is measured, and said so.
build=${BUILD:-pgo-bolt}
[ -n "${HAPEE:-}" ] && build=given
if [ -z "${HAPEE:-}" ] && { [ "$build" = bolt ] || [ "$build" = pgo-bolt ]; }; then
    bolted=$PWD/target/release/hapee-lb-$build
    mkdir -p "$(dirname "$bolted")"
    rev="$(git rev-parse HEAD) $(git status --porcelain -uno | md5sum | cut -c1-12)"
    pgo=0
    [ "$build" = pgo-bolt ] && pgo=1
    if [ -x "$bolted" ] && [ "$(cat "$bolted.rev" 2>/dev/null)" = "$rev" ]; then
        HAPEE=$bolted
    elif PGO=$pgo bash bench/bolt_build.sh "$bolted" >"$bolted.log" 2>&1; then
        echo "$rev" >"$bolted.rev"
        HAPEE=$bolted
    else
        echo "the $build build failed (its log: $bolted.log): measuring the plain release build" >&2
        build=plain
    fi
fi
if [ -z "${HAPEE:-}" ]; then
    cargo build --release -p hapee-lb >/dev/null 2>&1
fi
hapee=${HAPEE:-$PWD/target/release/hapee-lb}
echo "hapee: $hapee ($build build)" >&2
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$origin;
        location / { return 200 "hello from the origin, a small response body\n"; }
    }
}
NGINX
nginx -c "$work/nginx.conf" &
pids+=($!)

config() {
    local pin=""
    # CPU_MAP=1: both proxies bind thread N to CPU N-1 (`cpu-map auto:1/1-N 0-(N-1)`).
    [ "${CPU_MAP:-0}" = 1 ] && pin="    cpu-map auto:1/1-$1 0-$(($1 - 1))"
    cat <<CFG
global
    nbthread $1
$pin
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    http-reuse always
frontend fe
    bind 127.0.0.1:$proxy
    default_backend app
backend app
    server origin 127.0.0.1:$origin
CFG
}

# listening PORT: whether something listens there now (the kernel's socket table)
listening() { ss -Htln "sport = :$1" | grep -q .; }

# wait_port PORT: until something listens there, read from the kernel's socket table (no
# probe connection, which the proxy would count and log)
wait_port() {
    for _ in $(seq 300); do
        listening "$1" && return 0
        sleep 0.05
    done
    echo "port $1 never opened" >&2
    return 1
}

# start_proxy NAME: starts haproxy or hapee (NAME) on $work/proxy.cfg, its output in
# $work/NAME.log, sets proxy_pid and waits until the proxy's port listens
start_proxy() {
    if [ "$1" = haproxy ]; then
        haproxy -db -f "$work/proxy.cfg" >"$work/$1.log" 2>&1 &
    else
        "$hapee" run -f "$work/proxy.cfg" >"$work/$1.log" 2>&1 &
    fi
    proxy_pid=$!
    wait_port "$proxy"
}

# ctx_switches PID: "voluntary involuntary" summed over the process's threads
ctx_switches() {
    cat /proc/"$1"/task/*/status 2>/dev/null | awk '
        /^voluntary_ctxt_switches/ { v += $2 }
        /^nonvoluntary_ctxt_switches/ { n += $2 }
        END { print v + 0, n + 0 }'
}

# to_ms VALUE: a wrk latency (850.00us, 1.20ms, 2.00s) in milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN{
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v/1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v*1000 }
        else print v }'
}
