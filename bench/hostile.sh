#!/bin/sh
# The differential suite of hostile HTTP/1 requests, hapee next to Debian's haproxy: prints the
# whole table and writes it to docs/hostile-requests.md. The cases are in
# testdata/hostile/requests.txt, the reasons for each difference in differences.txt.
set -eu
cd "$(dirname "$0")/.."
command -v haproxy >/dev/null || { echo "hostile.sh needs Debian's haproxy" >&2; exit 1; }
cargo test -p hapee-lb --test runtime hostile_requests_table -- --ignored --nocapture
