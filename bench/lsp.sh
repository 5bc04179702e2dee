#!/usr/bin/env bash
# hapee-lsp driven over stdio like an editor (bench/lsp.py), on two generated configurations:
#   host: ~24k lines, backends of five checked servers routed by anonymous host ACLs;
#   acl:  20k lines, 2,500 backends each routed by its own named ACL, `option httpchk` and two
#         servers.
# Measures the time from an incremental didChange to its publishDiagnostics (p50 and p95 of
# $EDITS, 50 by default, on a frontend line and on a backend line), completion latency (p50 and
# p95 of 100) and peak RSS; prints them as a Markdown table.
# Targets: diagnostics <= 30 ms, completion <= 5 ms, memory <= 100 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p hapee-lsp >/dev/null 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen-config.py "${HOST_LINES:-24000}" "$work/host.cfg" host
python3 bench/gen-config.py "${ACL_LINES:-20000}" "$work/acl.cfg" acl
echo "| shape | lines | edited | measure | n | p50 ms | p95 ms | server CPU ms/edit |"
echo "|---|---|---|---|---|---|---|---|"
for shape in host acl; do
    SHAPE=$shape nice -n 19 python3 bench/lsp.py target/release/hapee-lsp "$work/$shape.cfg"
done
# The same edits seen from a real editor: Neovim (headless, its own LSP client, incremental
# sync, no debounce) times each edit from the buffer change to the diagnostics it shows.
if command -v nvim >/dev/null; then
    cfg="$work/acl.cfg"
    line=$(grep -n 'default_backend' "$cfg" | head -1 | cut -d: -f1)
    HAPEE_LSP="$PWD/target/release/hapee-lsp" HAPEE_NVIM_CFG="$cfg" HAPEE_NVIM_OUT="$work/nvim.out" \
        HAPEE_NVIM_EDIT_LINE=$((line - 1)) HAPEE_NVIM_EDIT_TEXT="    default_backend be_1" HAPEE_NVIM_EDITS=${EDITS:-50} \
        nvim --headless --clean -u NONE -c "luafile lsp/tests/nvim/drive.lua" >/dev/null 2>&1
    python3 - "$work/nvim.out" <<'PY'
import json, sys
ms = [e["ms"] for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "edit"]
ms.sort()
pct = lambda p: ms[min(len(ms) - 1, max(0, round(len(ms) * p / 100) - 1))]
print("| acl in Neovim 0.7 | | frontend line | buffer change → diagnostics shown | %d | %.1f | %.1f | |"
      % (len(ms), pct(50), pct(95)))
PY
fi
