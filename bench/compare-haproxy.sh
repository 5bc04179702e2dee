#!/usr/bin/env bash
# Verdict parity on any set of configurations: runs Debian's `haproxy -c` and
# `hapee-lb check --format haproxy` on each file (from the file's folder, with environment checks,
# as HAProxy does) and compares the verdicts and the line of the first alert.
# Usage: bench/compare-haproxy.sh FILE|DIR...   (directories: every *.cfg below them)
# Note: Debian 12 ships HAProxy 2.6; expect differences where 2.7 changed (and where the
# reference 2.7 build lacks a module, such as the Prometheus exporter).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v haproxy >/dev/null || { apt-get update -qq && apt-get install -y -qq haproxy; }
cargo build --release -q -p hapee-lb --manifest-path "$root/Cargo.toml" || exit 1
hapee=$root/target/release/hapee-lb
files=()
for a in "$@"; do
    if [ -d "$a" ]; then
        while IFS= read -r f; do files+=("$f"); done < <(find "$a" -type f -name '*.cfg' | sort)
    else
        files+=("$a")
    fi
done
same=0
differ=0
first_line() { grep -m1 -oE "ALERT.*\[$1:[0-9]+\]" | grep -oE '[0-9]+\]$' | tr -d ']'; }
for f in "${files[@]}"; do
    dir=$(dirname "$f")
    base=$(basename "$f")
    theirs=$(cd "$dir" && timeout 20 haproxy -c -f "$base" 2>&1)
    t=$?
    ours=$(cd "$dir" && timeout 20 "$hapee" check --format haproxy -f "$base" 2>&1)
    o=$?
    verdict() { case $1 in 0) echo valid ;; 2) echo no-listener ;; *) echo invalid ;; esac; }
    tv=$(verdict $t)
    ov=$(verdict $o)
    tl=$(first_line "$base" <<<"$theirs")
    ol=$(first_line "$base" <<<"$ours")
    if [ "$tv" = "$ov" ] && [ "$tl" = "$ol" ]; then
        same=$((same + 1))
    else
        differ=$((differ + 1))
        echo "DIFFERS $f: haproxy $tv${tl:+ (line $tl)}, hapee $ov${ol:+ (line $ol)}"
        grep -m2 ALERT <<<"$theirs" | sed 's/^/    haproxy: /'
        grep -m2 ALERT <<<"$ours" | sed 's/^/    hapee:   /'
    fi
done
echo "$same of $((same + differ)) configurations: same verdict and same first alert line"
