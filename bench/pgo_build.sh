#!/usr/bin/env bash
# A profile-guided release build of hapee-lb: an instrumented build, general traffic and
# `check` runs through it (bench/train.sh, the training bench/bolt_build.sh shares), then the
# release build again with that profile. The profile tells LLVM which blocks run per request:
# they are laid out together and the rest moved aside, which is what the request path's
# instruction cache misses need (bench/http1_callgrind.sh; see README "Benchmarks").
# Needs llvm-profdata of rustc's own LLVM major version (Debian ships llvm-22 for bookworm in
# its security suite; the script installs the package named after rustc's major when missing).
# Usage: bench/pgo_build.sh [output binary, default target/release/hapee-lb-pgo]
# Optional: CARGO_TARGET_DIR (the two builds reuse it); ORIGIN_PORT / PROXY_PORT (default
# 18630 / 18631) and TLS_PORT (18632); TRAIN_SECS (default 5) per client run (bench/train.sh);
# HAPEE_EMIT_RELOCS=1 keeps the link's relocations (tools/lb/build.rs), for bench/bolt_build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$PWD/target/release/hapee-lb-pgo}
target=${CARGO_TARGET_DIR:-$PWD/target}
# shellcheck source=bench/train.sh
. bench/train.sh
profdata=$(llvm_tool llvm-profdata llvm)
profiles=$(mktemp -d)
export CARGO_INCREMENTAL=0
RUSTFLAGS="-Cprofile-generate=$profiles" CARGO_TARGET_DIR=$target \
    cargo build -q --release -p hapee-lb
instrumented="$profiles/hapee-lb-instrumented"
cp "$target/release/hapee-lb" "$instrumented"
# The build scripts, instrumented too, left profiles of their own: only the proxy's count.
rm -f "$profiles"/*.profraw

# One merged profile file for all the instrumented runs (%m), rather than one per process.
export LLVM_PROFILE_FILE="$profiles/train-%m.profraw"
train "$instrumented"
unset LLVM_PROFILE_FILE
"$profdata" merge -o "$profiles/hapee.profdata" "$profiles"/*.profraw

# The counters name functions by their source; a function changed since is left unoptimized
# by the profile, which is not worth a warning per function.
RUSTFLAGS="-Cprofile-use=$profiles/hapee.profdata -Cllvm-args=-no-pgo-warn-mismatch" \
    CARGO_TARGET_DIR=$target cargo build -q --release -p hapee-lb
mkdir -p "$(dirname "$out")"
cp "$target/release/hapee-lb" "$out"
rm -rf "$profiles"
echo "$out"
