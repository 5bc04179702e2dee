#!/usr/bin/env python3
"""Where a binary's instruction-cache footprint is, from a callgrind profile taken with
`--dump-instr=yes` (e.g. `CG_OPTS=--dump-instr=yes KEEP=dir bash bench/http1_callgrind.sh 8 hapee`).

Usage: bench/cg_lines.py CALLGRIND_OUT REQUESTS BINARY [TOP [SOURCES]]

Prints the 64-byte code lines of BINARY that hold an instruction run at least every other request
("hot lines"), per function (the TOP largest, default 30), then, for those functions, the bytes that
sit in hot lines without running, by the first source line of the inline chain in the project's own
code (runtime/, vendor/) (the SOURCES largest, default 40). Needs objdump, nm and addr2line."""
import bisect
import collections
import re
import subprocess
import sys


def symbols(binary, demangle=True):
    """(address, size, name) of the binary's functions, by address; names demangled unless told."""
    flags = ["-C"] if demangle else []
    out = subprocess.run(["nm", *flags, "-S", "--defined-only", binary], capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        p = line.split(" ", 3)
        if len(p) == 4 and p[2].lower() in "tw":
            syms.append((int(p[0], 16), int(p[1], 16), p[3]))
    syms.sort()
    return syms


def executed(path, binary):
    """Instruction address -> times run, for the code of `binary` (calls' inclusive costs skipped)."""
    names, ob, addr, skip = {}, "?", 0, False
    runs = collections.Counter()

    def name(s):
        m = re.match(r"\((\d+)\)(?: (.*))?", s)
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names[m.group(1)]

    def pos(s, cur):
        if s == "*":
            return cur
        if s[0] in "+-":
            return cur + int(s)
        return int(s, 16) if s.startswith("0x") else int(s)

    for raw in open(path):
        raw = raw.rstrip("\n")
        if not raw:
            continue
        if raw[0].isdigit() or raw[0] in "+-*":
            p = raw.split()
            addr = pos(p[0], addr)
            if skip:
                skip = False
            elif binary in ob and len(p) > 2:
                runs[addr] += int(p[2])
        elif raw.startswith("ob="):
            ob = name(raw[3:])
        elif raw.startswith("cob="):
            name(raw[4:])
        elif raw.startswith("calls="):
            skip = True
    return runs


def main():
    path, reqs, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    nsrc = int(sys.argv[5]) if len(sys.argv) > 5 else 40
    syms = symbols(binary)
    starts = [s[0] for s in syms]
    runs = executed(path, binary)
    hot = {a >> 6 for a, n in runs.items() if n >= reqs / 2}

    def owner(a):
        i = bisect.bisect_right(starts, a) - 1
        return i if i >= 0 and a < syms[i][0] + syms[i][1] else None

    per_sym = collections.Counter(owner(line << 6) for line in hot)
    per_sym.pop(None, None)
    print(f"hot lines: {len(hot)} in {len(per_sym)} functions")
    by_src = collections.Counter()
    for i, lines in per_sym.most_common(top):
        start, size, fname = syms[i]
        dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={start}",
                              f"--stop-address={start + size}", binary], capture_output=True, text=True).stdout
        ins = [int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):", dis, re.M)] + [start + size]
        idle = [(a, b - a) for a, b in zip(ins, ins[1:]) if a >> 6 in hot and runs.get(a, 0) == 0]
        print(f"{lines:5d} lines, {sum(n for _, n in idle):6d} bytes in them not run  {fname[:110]}")
        if idle:
            out = subprocess.run(["addr2line", "-a", "-i", "-e", binary] + [hex(a) for a, _ in idle],
                                 capture_output=True, text=True).stdout
            chains = []
            for line in out.splitlines():
                if line.startswith("0x"):
                    chains.append([])
                elif chains:
                    chains[-1].append(line)
            for (_, n), chain in zip(idle, chains):
                own = [x for x in chain if "/runtime/src/" in x or "/vendor/" in x] or chain or ["?"]
                by_src[re.sub(r".*/(runtime|vendor)/", r"\1/", own[0]).split(" (")[0]] += n
    print("--- bytes in hot lines not run, by source ---")
    for src, n in by_src.most_common(nsrc):
        print(f"{n:6d}  {src}")


if __name__ == "__main__":
    main()
