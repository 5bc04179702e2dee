#!/usr/bin/env bash
# hapee-lsp on a generated 24k-line configuration, driven over stdio like an editor
# (bench/lsp.py): time from a didChange to its publishDiagnostics (median of 20), completion
# latency (median of 100), and peak RSS. Targets: diagnostics <= 30 ms, completion <= 5 ms,
# memory <= 100 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p hapee-lsp >/dev/null 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen-config.py "${1:-24000}" "$work/big.cfg"
python3 bench/lsp.py target/release/hapee-lsp "$work/big.cfg"
