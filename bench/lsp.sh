#!/usr/bin/env bash
# hapee-lsp driven over stdio like an editor (bench/lsp.py), on two generated configurations:
#   host: ~24k lines, backends of five checked servers routed by anonymous host ACLs;
#   acl:  20k lines, 2,500 backends each routed by its own named ACL, `option httpchk` and two
#         servers.
# Measures the time from an incremental didChange to its publishDiagnostics (median and p90 of
# 20), completion latency (median and p90 of 100) and peak RSS.
# Targets: diagnostics <= 30 ms, completion <= 5 ms, memory <= 100 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p hapee-lsp >/dev/null 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen-config.py "${HOST_LINES:-24000}" "$work/host.cfg" host
python3 bench/gen-config.py "${ACL_LINES:-20000}" "$work/acl.cfg" acl
for shape in host acl; do
    SHAPE=$shape python3 bench/lsp.py target/release/hapee-lsp "$work/$shape.cfg"
done
