#!/usr/bin/env bash
# Speed and peak memory of `hapee-lb check --no-env` against `haproxy -c` on generated configs
# (bench/gen-config.py) run side by side: the `host` shape at about 22k, 110k and 550k lines, the
# `acl` shape (2,500 backends, each routed by its own ACL, `option httpchk`, two servers) at 20k
# lines and the `httpchk` shape (10,000 backends of five servers with `check inter 2s weight N`,
# `option httpchk`, `http-check expect status 200`, host-routed) at 110k lines. Prints a table
# with the ratios (the target is a speed-up of at least 10x with at most 1/4 of the memory).
# SHAPES="host:22000 acl:20000" picks the runs; HAPEE=<binary> measures that one (no build).
# Needs: Debian's haproxy package (installed here if missing), python3, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v haproxy >/dev/null || { apt-get update -qq && apt-get install -y -qq haproxy; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
# HAPEE=path/to/hapee-lb: that binary (a profile-guided one from bench/pgo_build.sh, say)
# instead of a fresh release build.
if [ -z "${HAPEE:-}" ]; then
    cargo build --release -p hapee-lb >/dev/null 2>&1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hapee=${HAPEE:-target/release/hapee-lb}

# Wall seconds of one run, read from bash's own microsecond clock: no `date` process is
# started around the run, whose start-up (about a millisecond) was counted in both programs'
# times and weighed most on the faster one.
wall() {
    local t0 t1
    t0=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    t1=$EPOCHREALTIME
    awk "BEGIN{printf \"%.4f\", $t1 - $t0}"
}
# Peak RSS in KiB and CPU seconds (user + system) of one run, from GNU time's report. CPU time
# hardly moves with the machine's load, where wall time does: on a busy machine compare those.
peak() {
    /usr/bin/time -v -o "$work/t" "$@" >/dev/null 2>&1 || true
    awk -F': ' '/Maximum resident set size/ {rss = $2} /User time|System time/ {cpu += $2}
        END {printf "%s %.2f\n", rss, cpu}' "$work/t"
}
min() { awk "BEGIN{print ($1 < $2) ? $1 : $2}"; }

# Each program runs ROUNDS times (default 10) in a row, after WARMUP untimed runs (default 3),
# and keeps its best time. On a VM that hands freed memory back to its host, the program that
# runs after another one's large free (HAProxy frees 1.7 GB at 550k lines) faults its pages in
# from the host for several runs; the warm-up runs keep that machine effect out of both
# programs' times.
rounds=${ROUNDS:-10}
warmup=${WARMUP:-3}
printf '%-7s | %-8s | %-10s | %-10s | %-8s | %-11s | %-11s | %-9s | %-11s | %-11s | %-9s | %s\n' shape lines "haproxy s" "hapee s" speedup "haproxy cpu" "hapee cpu" "cpu ratio" "haproxy MiB" "hapee MiB" "mem ratio" target
for run in ${SHAPES:-host:22000 host:110000 host:550000 acl:20000 httpchk:110000}; do
    shape=${run%%:*} size=${run#*:}
    cfg="$work/gen-$shape-$size.cfg"
    python3 bench/gen-config.py "$size" "$cfg" "$shape"
    lines=$(wc -l <"$cfg")
    ht=999999 pt=999999
    for _ in $(seq "$warmup"); do wall haproxy -c -q -f "$cfg" >/dev/null; done
    for _ in $(seq "$rounds"); do
        ht=$(min "$ht" "$(wall haproxy -c -q -f "$cfg")")
    done
    for _ in $(seq "$warmup"); do wall "$hapee" check --no-env -q -f "$cfg" >/dev/null; done
    for _ in $(seq "$rounds"); do
        pt=$(min "$pt" "$(wall "$hapee" check --no-env -q -f "$cfg")")
    done
    read -r hm hc < <(peak haproxy -c -q -f "$cfg")
    read -r pm pc < <(peak "$hapee" check --no-env -q -f "$cfg")
    speedup=$(awk "BEGIN{printf \"%.1f\", $ht / ($pt > 0 ? $pt : 0.001)}")
    cpu_ratio=$(awk "BEGIN{printf \"%.1f\", $hc / ($pc > 0 ? $pc : 0.01)}")
    ratio=$(awk "BEGIN{printf \"%.2f\", $pm / $hm}")
    met=$(awk "BEGIN{print ($speedup >= 10 && $ratio <= 0.25) ? \"met\" : \"missed\"}")
    printf '%-7s | %-8s | %-10s | %-10s | %-8s | %-11s | %-11s | %-9s | %-11s | %-11s | %-9s | %s\n' "$shape" "$lines" \
        "$ht" "$pt" "${speedup}x" "$hc" "$pc" "${cpu_ratio}x" \
        "$(awk "BEGIN{printf \"%.1f\", $hm/1024}")" "$(awk "BEGIN{printf \"%.1f\", $pm/1024}")" "$ratio" "$met"
done
