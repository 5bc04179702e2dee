#!/usr/bin/env bash
# Speed and peak memory of `hapee-lb check --no-env` against `haproxy -c` on generated configs of
# about 22k, 110k and 550k lines, run side by side. Prints a table with the ratios.
# Needs: Debian's haproxy package (installed here if missing), python3, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v haproxy >/dev/null || { apt-get update -qq && apt-get install -y -qq haproxy; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release -p hapee-lb >/dev/null 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hapee=target/release/hapee-lb

# best of 5: wall seconds (nanosecond clock; GNU time only has 10 ms steps) and peak RSS in KiB
measure() {
    local best_t=999999 best_m=0 t0 t1 t m
    for _ in 1 2 3 4 5; do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        t=$(awk "BEGIN{printf \"%.3f\", ($t1 - $t0) / 1e9}")
        /usr/bin/time -f "%M" -o "$work/t" "$@" >/dev/null 2>&1 || true
        read -r m <"$work/t"
        if awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; fi
        best_m=$m
    done
    echo "$best_t $best_m"
}

printf '%-8s | %-12s | %-12s | %-8s | %-12s | %-12s | %-8s\n' lines "haproxy s" "hapee s" speedup "haproxy MiB" "hapee MiB" "mem ratio"
for size in 22000 110000 550000; do
    cfg="$work/gen-$size.cfg"
    python3 bench/gen-config.py "$size" "$cfg"
    lines=$(wc -l <"$cfg")
    read -r ht hm < <(measure haproxy -c -q -f "$cfg")
    read -r pt pm < <(measure "$hapee" check --no-env -q -f "$cfg")
    printf '%-8s | %-12s | %-12s | %-8s | %-12s | %-12s | %-8s\n' "$lines" "$ht" "$pt" \
        "$(awk "BEGIN{printf \"%.1fx\", $ht / ($pt > 0 ? $pt : 0.001)}")" \
        "$(awk "BEGIN{printf \"%.1f\", $hm/1024}")" "$(awk "BEGIN{printf \"%.1f\", $pm/1024}")" \
        "$(awk "BEGIN{printf \"%.2f\", $pm / $hm}")"
done
