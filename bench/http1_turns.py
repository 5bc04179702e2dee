#!/usr/bin/env python3
"""Reads `perf script -F comm,pid,tid,cpu,time,event,trace` of a `perf sched record` (or of
sched_switch and sched_waking or sched_wakeup events recorded otherwise) over one
proxy run (bench/http1_sched.sh) and prints how the proxy's serving threads' turns on a CPU
ended, per request:

- preempted: turns that ended with the thread still runnable (the scheduler took the CPU);
- at once: of those, the turns taken by the very task the thread had just woken (its send to
  wrk or nginx): under EEVDF a woken task preempts only a thread that is past its fair share
  or past its protected slice, so this counts how often the thread was there;
- long waits: waits of over 1 ms per 1,000 requests for a CPU (runnable after a preemption
  or a wake-up), i.e. a thread holding ready connections off the CPU for longer than the
  latency bar: what a p99 of milliseconds is made of;
- one CPU: the share of the bench's run time (serving threads, wrk, nginx) spent on the CPU
  where most of it ran; 100 means the whole bench ran on one CPU, as happens when other
  sessions load the machine and the scheduler balances the bench's autogroup as one entity.

Usage: http1_turns.py SCRIPT_FILE PROXY_PID CLIENT_PID REQUESTS
"""
import collections
import re
import sys

LINE = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:(\w+):\s+(.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")
LONG_WAIT = 0.001


def parse(path):
    """The events of the file as (time, cpu, pid, tid, event, fields)."""
    events = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                _, pid, tid, cpu, ts, ev, rest = m.groups()
                events.append((float(ts), int(cpu), int(pid), int(tid), ev, dict(FIELD.findall(rest))))
    return events


def main():
    path, proxy, client, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    events = parse(path)
    owner = {tid: pid for _, _, pid, tid, _, _ in events}
    names = {}
    for _, _, _, _, ev, f in events:
        if ev == "sched_switch":
            names[int(f["prev_pid"])] = f["prev_comm"]
            names[int(f["next_pid"])] = f["next_comm"]
    serving = {
        t for t, p in owner.items() if p == proxy and names.get(t, "").startswith(("haproxy", "hapee-worker"))
    }
    # The measured window: while the client ran.
    seen = [e[0] for e in events if e[2] == client]
    if not serving or not seen:
        print("- - - -")
        return
    start, end = min(seen), max(seen)

    # The origin: the nginx threads the serving threads wake (other sessions may run nginx too).
    origin = {
        int(f["pid"])
        for _, _, _, tid, ev, f in events
        if ev in ("sched_waking", "sched_wakeup") and tid in serving and f["comm"] == "nginx"
    }

    def bench(tid):
        return tid in serving or tid in origin or owner.get(tid) == client

    preempted = at_once = long_waits = 0
    off_since = {}  # thread -> since when it has been runnable off the CPU
    woke = {}  # cpu -> (serving thread, the task it just woke)
    on_cpu = {}  # cpu -> (tid, since)
    bench_time = collections.Counter()  # cpu -> run time of the bench's tasks
    for ts, cpu, _, tid, ev, f in events:
        inside = start <= ts <= end
        if ev in ("sched_waking", "sched_wakeup"):
            if tid in serving:
                woke[cpu] = (tid, int(f["pid"]))
            # A serving thread woken by its events waits, runnable, from here.
            if int(f["pid"]) in serving:
                off_since.setdefault(int(f["pid"]), ts)
        if ev != "sched_switch":
            continue
        prev, nxt = int(f["prev_pid"]), int(f["next_pid"])
        running = on_cpu.get(cpu)
        if inside and running and running[0] == prev and bench(prev):
            bench_time[cpu] += ts - running[1]
        on_cpu[cpu] = (nxt, ts)
        waker = woke.pop(cpu, None)
        if prev in serving and f["prev_state"].startswith("R"):
            off_since[prev] = ts
            if inside:
                preempted += 1
                at_once += waker == (prev, nxt)
        if nxt in serving and nxt in off_since:
            waited = ts - off_since.pop(nxt)
            long_waits += inside and waited > LONG_WAIT
    n = max(requests, 1)
    total = sum(bench_time.values())
    one_cpu = 100 * max(bench_time.values()) / total if total else 0
    print(f"{preempted / n:.3f} {at_once / n:.3f} {1000 * long_waits / n:.2f} {one_cpu:.0f}")


if __name__ == "__main__":
    main()
