#!/usr/bin/env python3
"""Regenerates the `check -q` group of tools/lb/hot.ld (the functions `hapee-lb check` runs, laid
out after the request path's) from callgrind profiles of `check --no-env -q`, keeping the request
group as it is.

Usage: bench/check_group.py BINARY HOT_LD CALLGRIND_OUT... (rewrites HOT_LD in place)

The profiles are taken with `--dump-instr=yes` from the release binary to order, e.g. on the
shapes of bench/check.sh (`python3 bench/gen-config.py 20000 acl.cfg acl`, likewise host 22000
and 2000, httpchk 5000):
    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=cg.acl \\
        BINARY check --no-env -q -f acl.cfg
Every function one of them ran is taken (bench/cg_order.py with one "request" per run), in
cg_order's order, but for those the request group lists already; each is named with its
`.text.unlikely.` twin too, where LLVM puts cold functions such as `OnceLock` initialisers.
Generic instances keep their hash in the patterns, so the group wants regenerating when the
code `check` runs changes (the names it holds then stop matching and the linker leaves those
functions where they were)."""
import contextlib
import fnmatch
import io
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the bench scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cg_order  # noqa: E402

MARK = "    /* `check -q` (bench/check.sh's shapes)"


def main():
    binary, hot_ld, profiles = sys.argv[1], sys.argv[2], sys.argv[3:]
    text = open(hot_ld).read()
    request, _, _ = text.partition(MARK)
    listed = [p for grp in re.findall(r"\*\(([^)]*)\)", request) for p in grp.split()]
    out = io.StringIO()
    argv = sys.argv
    sys.argv = [argv[0], binary] + [a for p in profiles for a in (p, "1")]
    with contextlib.redirect_stdout(out):
        cg_order.main()
    sys.argv = argv
    entries = re.findall(r"^    \*\(\.text\.(\S+)\)$", out.getvalue(), re.M)
    group = []
    for e in entries:
        base = e.rstrip("*")
        if any(fnmatch.fnmatchcase(f".text.{base}", p) or p == f".text.{e}" for p in listed):
            continue
        group.append(f"    *(.text.{base}* .text.unlikely.{base}*)")
    head = (MARK + ": the functions it runs, after the request path's;\n"
            "       cold ones are in .text.unlikely.<symbol>. Made by bench/check_group.py. */\n")
    with open(hot_ld, "w") as f:
        f.write(request + head + "\n".join(group) + "\n  }\n}\nINSERT BEFORE .init;\n")
    print(f"{len(group)} functions in the check group", file=sys.stderr)


if __name__ == "__main__":
    main()
