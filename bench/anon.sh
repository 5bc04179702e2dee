#!/usr/bin/env bash
# Throughput of `hapee-anon log` (single thread) on a generated HAProxy log, next to `sed -E`
# masking IPv4 addresses on the same file, in the same run; also with `--config`, where each
# line is read by the log format its frontend declares. Default 1024 MB; pass another size.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
cargo build --release -p hapee-anon >/dev/null 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen-log.py "$size" "$work/in.log"
bytes=$(stat -c %s "$work/in.log")
run() { /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null; read -r t m <"$work/t"; echo "$t $m"; }
# Flush the generator's writes first. The timed runs write to /dev/null: writing a second
# gigabyte to disk (or through a pipe) would time the disk or the pipe, not the tools. An
# untimed run through `wc -l` then checks that every line came out.
sync
read -r at am < <(run sh -c "target/release/hapee-anon log --key bench '$work/in.log' > /dev/null")
# The configuration that wrote such a log: its formats and its names.
cat >"$work/haproxy.cfg" <<'CFG'
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend www_http
    bind :80
    option httplog
    capture request header Host len 64
    capture request header User-Agent len 128
    default_backend web_servers
frontend www_clf
    bind :81
    option httplog clf
    default_backend web_servers
frontend db_tcp
    mode tcp
    bind :5432
    option tcplog
    default_backend tcp_origin
backend web_servers
    server web-01.internal.example.com 10.0.0.1:80
    server web-02.internal.example.com 10.0.0.2:80
    server web-03.internal.example.com 10.0.0.3:80
backend tcp_origin
    mode tcp
    server pg-primary 10.0.0.9:5432
CFG
read -r ct cm < <(run sh -c "target/release/hapee-anon log --key bench --config '$work/haproxy.cfg' '$work/in.log' > /dev/null")
read -r st sm < <(run sh -c "sed -E 's/[0-9]{1,3}(\.[0-9]{1,3}){3}/IPV4/g' '$work/in.log' > /dev/null")
lines_in=$(wc -l <"$work/in.log")
lines_out=$(target/release/hapee-anon log --key bench "$work/in.log" | wc -l)
printf '%-22s | %-10s | %-10s | %-12s\n' tool seconds "MB/s" "peak MiB"
printf '%-22s | %-10s | %-10s | %-12s\n' "hapee-anon log" "$at" "$(awk "BEGIN{printf \"%.0f\", $bytes/1048576/$at}")" "$(awk "BEGIN{printf \"%.1f\", $am/1024}")"
printf '%-22s | %-10s | %-10s | %-12s\n' "hapee-anon log --config" "$ct" "$(awk "BEGIN{printf \"%.0f\", $bytes/1048576/$ct}")" "$(awk "BEGIN{printf \"%.1f\", $cm/1024}")"
printf '%-22s | %-10s | %-10s | %-12s\n' "sed -E (IPv4 only)" "$st" "$(awk "BEGIN{printf \"%.0f\", $bytes/1048576/$st}")" "$(awk "BEGIN{printf \"%.1f\", $sm/1024}")"
echo "input $((bytes / 1048576)) MB, $lines_in lines in, $lines_out lines out"
