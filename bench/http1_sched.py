#!/usr/bin/env python3
"""Reads `perf sched timehist -w -M` output of one proxy run (bench/http1_sched.sh) and prints
where the proxy's serving threads ran: the share of 50 ms windows in which both ran mostly on
the same CPU (stacked), their migrations per second, and how often they woke the origin and
the client per request.

Usage: http1_sched.py TIMEHIST_FILE PROXY_PID REQUESTS
"""
import collections
import re
import sys

WINDOW = 0.05
SERVING = ("haproxy", "hapee-worker")


def thread_of(field, pid):
    """The thread id when `field` (comm[tid/pid] or comm[pid]) is a serving thread of pid."""
    m = re.match(r"(.+)\[(\d+)(?:/(\d+))?\]$", field)
    if not m or not m.group(1).startswith(SERVING):
        return None
    owner = m.group(3) or m.group(2)
    return m.group(2) if owner == pid else None


def main():
    path, pid, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
    runs = collections.defaultdict(lambda: collections.defaultdict(lambda: [0.0, 0.0]))
    migrations = 0
    woke = collections.Counter()
    first = last = None
    line_re = re.compile(r"\s*([\d.]+) \[(\d+)\]\s+(\S+)\s+(.*)$")
    with open(path) as f:
        for line in f:
            m = line_re.match(line)
            if not m:
                continue
            t, cpu, task, rest = float(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
            first = first if first is not None else t
            last = t
            if rest.startswith("awakened:"):
                if thread_of(task, pid):
                    wakee = rest.split()[1].split("[")[0]
                    if wakee in ("nginx", "wrk"):
                        woke[wakee] += 1
                continue
            if rest.startswith("migrated:"):
                if thread_of(rest.split()[1], pid):
                    migrations += 1
                continue
            tid = thread_of(task, pid)
            fields = rest.split()
            if tid is None or len(fields) != 3 or cpu > 1:
                continue
            runs[int((t - first) / WINDOW)][tid][cpu] += float(fields[2])
    threads = sorted({tid for w in runs.values() for tid in w})
    stacked = windows = 0
    if len(threads) == 2:
        for w in runs.values():
            a, b = w[threads[0]], w[threads[1]]
            if sum(a) + sum(b) < 1.0:
                continue
            windows += 1
            stacked += (a[0] > a[1]) == (b[0] > b[1])
    seconds = max((last or 0) - (first or 0), 1e-9)
    per_req = {k: woke[k] / max(requests, 1) for k in ("nginx", "wrk")}
    print(
        f"{100 * stacked / max(windows, 1):.0f} {migrations / seconds:.1f} "
        f"{per_req['nginx']:.3f} {per_req['wrk']:.3f}"
    )


if __name__ == "__main__":
    main()
