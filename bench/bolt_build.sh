#!/usr/bin/env bash
# A release build of hapee-lb laid out by BOLT, LLVM's post-link optimizer, from a profile of
# the general training (bench/train.sh, shared with bench/pgo_build.sh): the release build
# linked with its relocations kept, a copy instrumented by BOLT, the training run through that
# copy, then BOLT rewrites the release binary from the merged counts: each function's run
# blocks laid out together (Ext-TSP), its never-run blocks moved to a cold part far away,
# functions ordered by the calls between them. That is what the request path's instruction
# cache misses ask for (README "Benchmarks": the hot path spans ~1,900 64-byte lines where
# HAProxy's spans ~1,250), without a second compiler build.
# Needs BOLT of rustc's own LLVM major version (Debian's bolt-22 for bookworm, in its security
# suite; installed when missing).
# Usage: bench/bolt_build.sh [output binary, default target/release/hapee-lb-bolt]
# Optional: PGO=1 lays out the profile-guided build of bench/pgo_build.sh instead of the plain
# release build (that adds its two compiler builds); LINKED=path lays out that binary, no build
# (it must have been linked with HAPEE_EMIT_RELOCS=1: BOLT instruments only such binaries); FDATA=path
# takes that profile (the `.fdata` a run leaves beside its output) instead of training; CARGO_TARGET_DIR; ORIGIN_PORT /
# PROXY_PORT / TLS_PORT and TRAIN_SECS as bench/train.sh reads them; BOLT_OPTS replaces the
# layout options below.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$PWD/target/release/hapee-lb-bolt}
target=${CARGO_TARGET_DIR:-$PWD/target}
# shellcheck source=bench/train.sh
. bench/train.sh
bolt=$(llvm_tool llvm-bolt bolt)
merge=$(dirname "$(readlink -f "$bolt")")/merge-fdata
work_bolt=$(mktemp -d)
trap 'rm -rf "$work_bolt"' EXIT
bin=$work_bolt/hapee-lb

# The link keeps its relocations (tools/lb/build.rs): BOLT needs them to move code between
# functions, not only within each function's old bytes.
export CARGO_INCREMENTAL=0 HAPEE_EMIT_RELOCS=1
if [ -n "${LINKED:-}" ]; then
    cp "$LINKED" "$bin.linked"
elif [ "${PGO:-0}" = 1 ]; then
    bash bench/pgo_build.sh "$bin.linked" >/dev/null
else
    CARGO_TARGET_DIR=$target cargo build -q --release -p hapee-lb
    cp "$target/release/hapee-lb" "$bin.linked"
fi
# BOLT takes any symbol whose name holds ".cold" or ".warm" for a piece split off a function
# of the name before it (GCC's `f.cold`), and stops when there is no such function. Rust's
# legacy mangling writes the path `hapee_runtime::cold::Cold<…>` in generic instances' names as
# `hapee_runtime..cold..Cold`: those symbols (names only; code and relocations refer to them
# by index) are renamed `..Cold..`, of the same length, so that the names still demangle.
nm "$bin.linked" | awk '$3 ~ /\.\.cold\.\./ { n = $3; gsub(/\.\.cold\.\./, "..Cold..", n); print $3, n }' \
    >"$work_bolt/renames"
objcopy --redefine-syms="$work_bolt/renames" "$bin.linked" "$bin"
rm "$bin.linked"

# Functions BOLT cannot rewrite, left where the linker put them: Lua's interpreter loop (its
# instruction dispatch jumps through a table BOLT cannot map to the moved code: "unable to
# get new address corresponding to input address").
skip=--skip-funcs=luaV_execute/1
if [ -n "${FDATA:-}" ]; then
    cp "$FDATA" "$work_bolt/all.fdata"
else
    # Each instrumented process writes its counts at exit to a file of its own (PID appended);
    # they are merged every 100 `check` runs and at the end.
    "$bolt" "$bin" "$skip" -instrument -o "$bin.inst" --instrumentation-file="$work_bolt/prof" \
        --instrumentation-file-append-pid >"$work_bolt/instrument.log" 2>&1 ||
        { cat "$work_bolt/instrument.log" >&2; exit 1; }
    # BOLT 22.1 writes the new values of packed relative relocations (`-z pack-relative-relocs`,
    # tools/lb/build.rs) at the wrong file offsets: bench/bolt_relr_fix.py puts them right.
    python3 bench/bolt_relr_fix.py "$bin" "$bin.inst" >&2
    train_check_batch() {
        local files=("$work_bolt"/prof.*.fdata)
        [ -e "${files[0]}" ] || return 0
        [ -e "$work_bolt/all.fdata" ] && files+=("$work_bolt/all.fdata")
        "$merge" "${files[@]}" -o "$work_bolt/merged.fdata" 2>/dev/null
        mv "$work_bolt/merged.fdata" "$work_bolt/all.fdata"
        rm -f "$work_bolt"/prof.*.fdata
    }
    train "$bin.inst"
    # (bench/http1_setup.sh, which the training sources, replaced the exit trap with its own.)
    trap 'rm -rf "$work_bolt"' EXIT
    train_check_batch
fi
# Kept beside the binary: FDATA=<it> lays out the same link again with other options, no training.
cp "$work_bolt/all.fdata" "$out.fdata"

# -reorder-blocks=ext-tsp: each function's blocks ordered for fall-through and cache lines by
# the counts; -split-functions with -split-all-cold: the blocks never run go to a cold
# section; -reorder-functions=none: functions stay in the linker's order, which tools/lb/hot.ld
# already sets from profiles (the request path's callers and callees side by side, `check`'s code
# in one group): BOLT's own cdsort order measured worse on both (HTTP/1 553 I1 misses per request
# against 460, `check`'s peak RSS on acl 20k +1.4 MiB against +0.6 over the plain build).
# shellcheck disable=SC2086 # word splitting wanted
"$bolt" "$bin" "$skip" -o "$out.tmp" -data="$work_bolt/all.fdata" \
    ${BOLT_OPTS:--reorder-blocks=ext-tsp -reorder-functions=none -split-functions -split-all-cold -split-eh -icf=1 -use-gnu-stack -dyno-stats} \
    >"$work_bolt/optimize.log" 2>&1 || { cat "$work_bolt/optimize.log" >&2; exit 1; }
grep -E 'BOLT-INFO: [0-9]+ out of [0-9]+ functions|BOLT-ERROR' "$work_bolt/optimize.log" >&2 || true
python3 bench/bolt_relr_fix.py "$bin" "$out.tmp" >&2
mv "$out.tmp" "$out"
echo "$out"
