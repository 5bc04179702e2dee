#!/usr/bin/env bash
# Warning parity of `hapee-lb check --format haproxy` with HAProxy 2.7.0's `haproxy -c`: over the
# regtests corpus and testdata/public-corpus, how many configurations get the same
# [WARNING]/[NOTICE]/[ALERT] lines (process ids masked), and which message templates differ in
# the most configurations (bench/warnings_parity.py does the work).
#
#   bash bench/warnings-parity.sh [regtests|public]     # default: both corpora
#   VERBOSE=1 …    # also each differing configuration's lines, and one example per template
#   SHOW=50 …      # how many templates to list (default 25)
#
# Reference: HAProxy 2.7.0 built from its tag at /tmp/haproxy-2.7.0/haproxy ($HAPROXY); Debian's
# 2.6 words some messages otherwise. hapee: target/debug/hapee-lb ($HAPEE), built unless NO_BUILD
# is set.
set -euo pipefail
cd "$(dirname "$0")/.."
haproxy=${HAPROXY:-/tmp/haproxy-2.7.0/haproxy}
if [ ! -x "$haproxy" ]; then
    echo "no HAProxy 2.7.0 at $haproxy: build it from the v2.7.0 tag (see the README's bench notes)" >&2
    exit 1
fi
export CARGO_INCREMENTAL=0
[ -n "${NO_BUILD:-}" ] || nice -n 10 cargo build -q -p hapee-lb 2>/dev/null
exec python3 bench/warnings_parity.py "$@"
