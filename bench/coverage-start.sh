#!/usr/bin/env bash
# Runtime coverage, for real: each corpus configuration HAProxy 2.7 accepts is started with
# `hapee-lb run` (in its own folder, as the reg-tests run it) and given SECONDS to fail; one
# that is still running then counts as started. Prints the figure and, for the others, the
# first error line. The listening ports of the corpus are unique, so nothing else may use them.
#   bash bench/coverage-start.sh [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.."
wait_s=${1:-2}
corpus=../shared/corpus/regtests-2.7
cargo build -q -p hapee-lb 2>/dev/null
bin=$PWD/target/debug/hapee-lb
mkdir -p /tmp/hapee-corpus-tmp
started=0 total=0
# Tabs with empty fields between them: awk, not `read` (which merges consecutive tabs).
while read -r cfg; do
    total=$((total + 1))
    dir=$corpus/$(dirname "$cfg")
    # VTest makes a folder per haproxy instance (h1, ...) under its tmpdir before starting it:
    # the folders of the paths the configuration names there.
    grep -o '/tmp/hapee-corpus-tmp/[^ "]*' "$corpus/$cfg" | xargs -r -n1 dirname | sort -u | xargs -r mkdir -p
    out=$(cd "$dir" && timeout -s KILL "$wait_s" "$bin" run -f "$(basename "$cfg")" 2>&1 >/dev/null)
    if [ $? -eq 137 ]; then
        started=$((started + 1))
    else
        printf 'not started: %s: %s\n' "$cfg" "$(printf '%s\n' "$out" | grep -m1 -E 'error|ALERT|cannot' | cut -c1-200)"
    fi
done < <(awk -F'\t' 'NR > 1 && $7 == "0" { print $1 }' "$corpus/index.tsv")
echo "started: $started of $total"
