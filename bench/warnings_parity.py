#!/usr/bin/env python3
"""Whether `hapee-lb check --format haproxy` prints the [WARNING]/[NOTICE]/[ALERT] lines that
HAProxy 2.7.0's `-c` prints, configuration by configuration, over the regtests corpus (each
checked from its own folder) and testdata/public-corpus (each copied alone into an empty folder,
as HAProxy checked it). See bench/warnings-parity.sh for the usage.

A line is compared once the process id is masked; the two start-up notices (version, path of
the executable) are left out, as they name the binary, not the configuration. A configuration
"agrees" when both print the same lines in the same order; "same set" ignores the order. The
differences are then counted by message template (quoted words, numbers and file:line masked),
as the number of configurations where HAProxy printed a template hapee did not (missing) or the
reverse (extra)."""

import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAPROXY = os.environ.get("HAPROXY", "/tmp/haproxy-2.7.0/haproxy")
HAPEE = os.environ.get("HAPEE", os.path.join(ROOT, "target/debug/hapee-lb"))
REGTESTS = os.environ.get("REGTESTS", "/work/wt/shared/corpus/regtests-2.7")
PUBLIC = os.path.join(ROOT, "testdata/public-corpus")

LEVEL = re.compile(r"^\[(WARNING|NOTICE|ALERT)\] *\(\d+\) : ")
STARTUP = ("haproxy version is", "path to executable is")


def read_index(path):
    with open(path, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            cells = line.rstrip("\n").split("\t")
            yield dict(zip(head, cells + [""] * (len(head) - len(cells))))


def messages(stderr):
    """The messages of one run, in order; a `   | ` continuation joins the line before it."""
    out = []
    for line in stderr.splitlines():
        m = LEVEL.match(line)
        if m:
            rest = line[m.end():]
            if rest.startswith(STARTUP):
                continue
            out.append(f"[{m.group(1)}] {rest}")
        elif line.startswith("   | ") and out:
            out[-1] += "\n" + line
    return out


def template(msg):
    t = re.sub(r"\[[^\]\s]+:\d+\]", "[F:L]", msg)
    t = re.sub(r"'[^']*'", "'_'", t)
    t = re.sub(r'"[^"]*"', '"_"', t)
    t = re.sub(r"\d+", "N", t)
    return t.split("\n")[0][:160]


def run(argv, cwd):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                           errors="replace", timeout=20)
    except subprocess.TimeoutExpired:
        return None
    return messages(p.stderr)


def extra_args(cell):
    """The `-L name` a regtest passed (`-arg "-L A"`); the rest names VTest's own sockets."""
    m = re.search(r'-arg "([^"]*)"', cell)
    return m.group(1).split() if m else []


def cases(only):
    if only in ("", "regtests"):
        for row in read_index(os.path.join(REGTESTS, "index.tsv")):
            if row["haproxy27_exit"] not in ("0", "1", "2"):
                continue
            cfg = os.path.join(REGTESTS, row["cfg"])
            yield ("regtests/" + row["cfg"], os.path.dirname(cfg), os.path.basename(cfg),
                   extra_args(row["args"]), None)
    if only in ("", "public"):
        for row in read_index(os.path.join(PUBLIC, "index.tsv")):
            if row["haproxy27_exit"] not in ("0", "1", "2"):
                continue
            yield ("public/" + row["file"], None, row["file"], row["args"].split(),
                   os.path.join(PUBLIC, row["file"]))


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    show = int(os.environ.get("SHOW", "25"))
    verbose = os.environ.get("VERBOSE")
    scratch = tempfile.mkdtemp(prefix="hapee-warnings-parity-")
    totals = collections.Counter()
    missing = collections.Counter()
    extra = collections.Counter()
    example = {}
    try:
        for name, cwd, file, args, copy_from in cases(only):
            if copy_from:
                cwd = os.path.join(scratch, str(totals["configs"]))
                os.makedirs(cwd)
                shutil.copy(copy_from, os.path.join(cwd, file))
            ha = run([HAPROXY, "-c", *args, "-f", file], cwd)
            if copy_from:
                # A check may leave files behind (a pid file, a socket): start the second clean.
                shutil.rmtree(cwd)
                os.makedirs(cwd)
                shutil.copy(copy_from, os.path.join(cwd, file))
            hp = run([HAPEE, "check", "--format", "haproxy", *args, "-f", file], cwd)
            if ha is None or hp is None:
                totals["timed out"] += 1
                continue
            totals["configs"] += 1
            if ha == hp:
                totals["identical"] += 1
                continue
            a, b = collections.Counter(ha), collections.Counter(hp)
            if a == b:
                totals["same set, other order"] += 1
                if verbose:
                    print(f"== {name} (same lines, other order)")
                    for m in hp:
                        print(f"  ~ {m}")
                continue
            totals["differ"] += 1
            if verbose:
                print(f"== {name}")
                for m in (a - b):
                    print(f"  - {m}")
                for m in (b - a):
                    print(f"  + {m}")
            for t in {template(m) for m in (a - b)}:
                missing[t] += 1
                example.setdefault(("-", t), f"{name}: {[m for m in (a - b) if template(m) == t][0]}")
            for t in {template(m) for m in (b - a)}:
                extra[t] += 1
                example.setdefault(("+", t), f"{name}: {[m for m in (b - a) if template(m) == t][0]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"configurations: {totals['configs']} (timed out: {totals['timed out']})")
    print(f"  identical lines, same order: {totals['identical']}")
    print(f"  same lines, other order:     {totals['same set, other order']}")
    print(f"  differing:                   {totals['differ']}")
    print(f"\nmissing (HAProxy prints, hapee does not), configurations per template, top {show}:")
    for t, n in missing.most_common(show):
        print(f"  {n:4}  {t}")
        if verbose:
            print(f"          e.g. {example[('-', t)]}")
    print(f"\nextra (hapee prints, HAProxy does not), configurations per template, top {show}:")
    for t, n in extra.most_common(show):
        print(f"  {n:4}  {t}")
        if verbose:
            print(f"          e.g. {example[('+', t)]}")


if __name__ == "__main__":
    main()
