#!/usr/bin/env bash
# A profile-guided release build of hapee-lb: an instrumented build, the HTTP/1 bench's load
# through it (nbthread 1 and 2, wrk -c50 and -c10, nginx-light origin), then the release build
# again with that profile. The profile tells LLVM which blocks run per request: they are laid
# out together and the rest moved aside, which is what the request path's instruction cache
# misses need (bench/http1_callgrind.sh; see README "Benchmarks").
# Needs llvm-profdata of rustc's own LLVM major version (Debian ships llvm-22 for bookworm in
# its security suite; the script installs the package named after rustc's major when missing).
# Only the HTTP/1 path is trained: code it does not run (HTTP/2, TLS, Lua...) is taken for
# cold, so judge those paths with their own benches before using such a binary beyond this one.
# Usage: bench/pgo_build.sh [output binary, default target/release/hapee-lb-pgo]
# Optional: CARGO_TARGET_DIR (the two builds reuse it); ORIGIN_PORT / PROXY_PORT (default
# 18630 / 18631); TRAIN_SECS (default 8) per wrk run.
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
tools=""
HAPEE=$instrumented
# shellcheck source=bench/http1_setup.sh
. bench/http1_setup.sh
for threads in 1 2; do
    config "$threads" >"$work/proxy.cfg"
    start_proxy hapee
    wrk -t1 -c50 -d"${TRAIN_SECS:-8}s" "http://127.0.0.1:$proxy/" >/dev/null
    wrk -t1 -c10 -d"${TRAIN_SECS:-8}s" "http://127.0.0.1:$proxy/" >/dev/null
    # A clean exit writes the profile.
    kill -TERM "$proxy_pid"
    wait "$proxy_pid" || true
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
