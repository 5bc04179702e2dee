#!/usr/bin/env python3
"""Where the instructions of one function of a callgrind profile come from, by the code inlined
into it: release builds inline most of `check`'s helpers (`checks::check` runs some twenty
checks, none of them a call of its own), so callgrind charges their cost to the caller and its
per-function figures cannot tell them apart.

Usage: bench/cg_inline.py CALLGRIND_OUT BINARY FUNCTION_REGEX [DEPTH]

The profile is taken with `--dump-instr=yes` from BINARY (which needs its line tables, as the
release profile keeps them), e.g.
    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=cg BINARY check --no-env -q -f CFG
Each instruction that ran in a function whose demangled name matches FUNCTION_REGEX (e.g.
'^hapee_compiler::ir::checks::check$') is placed by addr2line's inline chain: its cost goes to
the function inlined at the first DEPTH levels (default 1) below the matched one, with the line
of the call. Prints the 40 largest. Needs nm and addr2line."""
import bisect
import collections
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the bench scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cg_lines import executed, symbols  # noqa: E402


def main():
    profile, binary, pattern = sys.argv[1], sys.argv[2], re.compile(sys.argv[3])
    depth = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    syms = symbols(binary)
    starts = [s[0] for s in syms]
    cost = collections.Counter()
    for addr, n in executed(profile, binary).items():
        i = bisect.bisect_right(starts, addr) - 1
        if i >= 0 and addr < syms[i][0] + syms[i][1] and pattern.search(syms[i][2]):
            cost[addr] += n
    print(f"{sum(cost.values())} instructions")
    addrs = sorted(cost)
    out = subprocess.run(
        ["addr2line", "-i", "-f", "-C", "-a", "-e", binary] + [hex(a) for a in addrs],
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    places = collections.Counter()
    at, frames = None, []

    def place():
        # addr2line lists the innermost frame first; the matched function is the outermost.
        chain = frames[::-1]
        key = [
            f"{chain[k][0][:70]} @{chain[k - 1][1].rsplit('/', 1)[-1]}"
            for k in range(1, min(depth + 1, len(chain)))
        ]
        places[" <- ".join(key[::-1]) or "itself " + chain[0][1].rsplit("/", 1)[-1]] += cost[at]

    i = 0
    while i < len(out):
        if out[i].startswith("0x"):
            if at is not None:
                place()
            at, frames = int(out[i], 16), []
            i += 1
        else:
            frames.append((out[i], out[i + 1] if i + 1 < len(out) else "?"))
            i += 2
    if at is not None:
        place()
    for key, n in places.most_common(40):
        print(f"{n:>10} {key}")


if __name__ == "__main__":
    main()
