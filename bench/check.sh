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

# best of 3: wall seconds and peak RSS in KiB
measure() {
    local best_t=999999 best_m=0
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1 || true
        read -r t m <"$work/t"
        if awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_m=$m; fi
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
