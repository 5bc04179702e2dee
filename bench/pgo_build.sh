#!/usr/bin/env bash
# A profile-guided release build of hapee-lb: an instrumented build, general traffic and
# `check` runs through it (see the training below), then the release build again with that
# profile. The profile tells LLVM which blocks run per request: they are laid
# out together and the rest moved aside, which is what the request path's instruction cache
# misses need (bench/http1_callgrind.sh; see README "Benchmarks").
# Needs llvm-profdata of rustc's own LLVM major version (Debian ships llvm-22 for bookworm in
# its security suite; the script installs the package named after rustc's major when missing).
# Usage: bench/pgo_build.sh [output binary, default target/release/hapee-lb-pgo]
# Optional: CARGO_TARGET_DIR (the two builds reuse it); ORIGIN_PORT / PROXY_PORT (default
# 18630 / 18631) and TLS_PORT (18632); TRAIN_SECS (default 5) per client run.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$PWD/target/release/hapee-lb-pgo}
target=${CARGO_TARGET_DIR:-$PWD/target}
major=$(rustc -vV | awk '/^LLVM version/ { split($3, v, "."); print v[1] }')
profdata=$(command -v "llvm-profdata-$major" || true)
if [ -z "$profdata" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "llvm-$major"
    profdata=$(command -v "llvm-profdata-$major")
fi
profiles=$(mktemp -d)
export CARGO_INCREMENTAL=0
RUSTFLAGS="-Cprofile-generate=$profiles" CARGO_TARGET_DIR=$target \
    cargo build -q --release -p hapee-lb
instrumented="$profiles/hapee-lb-instrumented"
cp "$target/release/hapee-lb" "$instrumented"
# The build scripts, instrumented too, left profiles of their own: only the proxy's count.
rm -f "$profiles"/*.profraw

origin=${ORIGIN_PORT:-18630}
proxy=${PROXY_PORT:-18631}
tls=${TLS_PORT:-18632}
secs=${TRAIN_SECS:-5}
tools="h2load:nghttp2-client openssl:openssl"
HAPEE=$instrumented
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
# The training is general traffic through a configuration of its own, not any benchmark's:
# HTTP/1 and HTTP/2, cleartext and TLS, ACL routing, header rules, a Lua action, round robin
# and access logs, at nbthread 1 and 2; then `check` on every configuration of testdata/ and
# the shared corpus. What it does not run (QUIC, peers, caches...) is laid out as cold.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/train.key" -out "$work/train.crt" 2>/dev/null
cat "$work/train.crt" "$work/train.key" >"$work/train.pem"
cat >"$work/train.lua" <<'LUA'
core.register_action("tag", { "http-req" }, function(txn)
  txn:set_var("txn.agent", txn.sf:req_hdr("user-agent"))
end)
LUA
train_config() {
    cat <<CFG
global
    nbthread $1
    lua-load $work/train.lua
defaults
    mode http
    log stdout format raw local0
    option httplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$proxy
    bind 127.0.0.1:$tls ssl crt $work/train.pem alpn h2,http/1.1
    acl api path_beg /api
    acl scripted path_beg /lua
    http-request set-header X-Forwarded-Proto https if { ssl_fc }
    http-request add-header X-Trained yes
    http-request lua.tag if scripted
    http-response set-header X-Served-By hapee
    use_backend api if api
    default_backend app
backend app
    balance roundrobin
    server a 127.0.0.1:$origin
    server b 127.0.0.1:$origin
backend api
    http-reuse always
    server c 127.0.0.1:$origin
CFG
}
for threads in 1 2; do
    train_config "$threads" >"$work/proxy.cfg"
    start_proxy hapee
    wrk -t1 -c50 -d"${secs}s" "http://127.0.0.1:$proxy/" >/dev/null
    wrk -t1 -c10 -d"${secs}s" "http://127.0.0.1:$proxy/api/items?id=1" >/dev/null
    wrk -t1 -c10 -d"${secs}s" "http://127.0.0.1:$proxy/lua" >/dev/null
    wrk -t1 -c10 -d"${secs}s" "https://127.0.0.1:$tls/" >/dev/null
    h2load -c10 -m10 -D"$secs" "https://127.0.0.1:$tls/api" >/dev/null
    h2load -c10 -m10 -D"$secs" "http://127.0.0.1:$proxy/" >/dev/null || true
    # A clean exit writes the profile.
    kill -TERM "$proxy_pid"
    wait "$proxy_pid" || true
done
# One merged profile file for all the check runs (%m), rather than one per process.
find testdata ../shared/corpus -name '*.cfg' 2>/dev/null | while read -r cfg; do
    (cd "$(dirname "$cfg")" && LLVM_PROFILE_FILE="$profiles/check-%m.profraw" \
        timeout 20 "$instrumented" check --no-env -q -f "$(basename "$cfg")" >/dev/null 2>&1) || true
done
"$profdata" merge -o "$profiles/hapee.profdata" "$profiles"/*.profraw

# The counters name functions by their source; a function changed since is left unoptimized
# by the profile, which is not worth a warning per function.
RUSTFLAGS="-Cprofile-use=$profiles/hapee.profdata -Cllvm-args=-no-pgo-warn-mismatch" \
    CARGO_TARGET_DIR=$target cargo build -q --release -p hapee-lb
mkdir -p "$(dirname "$out")"
cp "$target/release/hapee-lb" "$out"
rm -rf "$profiles"
echo "$out"
