#!/usr/bin/env python3
"""The maxconn/queue phase of bench/soak.sh, for one proxy at a time.

`soak_queue.py origin PORT` runs a test origin: GET /fast answers at once, /slow after
200-500 ms, /stall after 8 s (past the proxies' `timeout server`), on keep-alive connections.

`soak_queue.py drive PORT STATS_SOCKET PID LOG ORIGIN_PORT DURATION` sends CLIENTS (default 48)
concurrent clients at a proxy whose servers take 4 connections each (`maxconn 4`), so that most
requests wait in the queue (`timeout queue 2s`); a tenth of the clients go away before their
answer. Every 10 s the first of the two origins is killed (SIGKILL) and comes back 3 s later. Then it checks
that the proxy let go of everything: no request left queued or on a server (`show stat` qcur and
scur 0), the descriptors and connections back to where they were, every request answered with a
status (200, 503 from the queue, 504 from a stalled server) or, for a client that went away,
logged with a client-side termination state, and that a new request is still answered at once.
Prints one JSON line with the figures; exit status 1 when a check failed.
"""
import asyncio
import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time


async def origin(port):
    async def serve(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                if path.startswith(b"/slow"):
                    await asyncio.sleep(random.uniform(0.2, 0.5))
                elif path.startswith(b"/stall"):
                    await asyncio.sleep(8)
                body = b"origin %d\n" % port
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def stats(sock, command):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sock)
    s.sendall(command.encode() + b"\n")
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode()


def stat_rows(sock):
    lines = stats(sock, "show stat").splitlines()
    names = lines[0].lstrip("# ").split(",")
    return [dict(zip(names, l.split(","))) for l in lines[1:] if l]


def proc(pid):
    rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


async def one(port, path, abort, results):
    """One request on a new connection; records its outcome."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        results["refused"] += 1
        return
    results["sent"] += 1
    writer.write(b"GET %s HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n" % path)
    try:
        if abort:
            await asyncio.sleep(random.uniform(0.05, 0.6))
            results["aborted"] += 1
            return
        line = await asyncio.wait_for(reader.readline(), 30)
        status = line.split(b" ")[1].decode() if line.startswith(b"HTTP/1.1 ") else "none"
        results[status] += 1
        await asyncio.wait_for(reader.read(), 30)
    except (ConnectionError, asyncio.TimeoutError, IndexError):
        results["none"] += 1
    finally:
        writer.close()


async def client(port, end, results):
    while time.time() < end:
        r = random.random()
        path = b"/fast" if r < 0.5 else b"/slow" if r < 0.97 else b"/stall"
        await one(port, path, random.random() < 0.1, results)


def start_origin(port):
    return subprocess.Popen([sys.executable, __file__, "origin", str(port)])


async def drive(port, sock, pid, log, origin_port, duration):
    clients = int(os.environ.get("CLIENTS", "48"))
    o1 = start_origin(origin_port)
    o2 = start_origin(origin_port + 1)
    await asyncio.sleep(1.5)
    rows0 = stat_rows(sock)
    rss0, fds0 = proc(pid)
    results = collections.Counter()
    end = time.time() + duration
    peaks = collections.Counter()

    async def faults():
        nonlocal o1
        while time.time() < end:
            await asyncio.sleep(7)
            for row in stat_rows(sock):
                key = row["svname"]
                peaks[key] = max(peaks[key], int(row["qcur"] or 0))
            o1.send_signal(signal.SIGKILL)
            o1.wait()
            await asyncio.sleep(3)
            o1 = start_origin(origin_port)

    await asyncio.gather(faults(), *(client(port, end, results) for _ in range(clients)))
    await asyncio.sleep(10)  # the stalled requests' `timeout server`, the aborted ones' logs
    rss1, fds1 = proc(pid)
    # Idle server connections go with each proxy's purge (every 5 s, gradually in HAProxy).
    for _ in range(20):
        if fds1 <= fds0 + 2:
            break
        await asyncio.sleep(1)
        rss1, fds1 = proc(pid)
    rows = stat_rows(sock)
    left = {r["svname"]: (r["qcur"], r["scur"]) for r in rows if r["svname"] != "FRONTEND"}
    qmax = {r["svname"]: r["qmax"] for r in rows if r["svname"] != "FRONTEND"}
    info = dict(l.split(": ", 1) for l in stats(sock, "show info").splitlines() if ": " in l)
    # Still serving: a new request answered at once.
    t = time.time()
    probe = collections.Counter()
    await one(port, b"/fast", False, probe)
    probe_ms = (time.time() - t) * 1000
    o1.kill()
    o2.kill()
    # The logs: status and termination state of every request.
    logged = collections.Counter()
    for line in open(log, errors="replace"):
        m = re.search(r'\] \S+ \S+/\S+ \S+ (-?\d+) \S+ \S+ \S+ (\S\S)\S\S ', line)
        if m and '"GET /' in line:
            logged[(m.group(1), m.group(2))] += 1
    logged_client = sum(n for (s, t), n in logged.items() if t[0] == "C")
    logged_total = sum(logged.values())
    failures = []
    if results["none"]:
        failures.append(f"{results['none']} requests closed without an answer")
    unexpected = {s: n for s, n in results.items() if s.isdigit() and s not in ("200", "503", "504")}
    if unexpected:
        failures.append(f"unexpected statuses {unexpected}")
    if any(q != "0" or s != "0" for q, s in left.values()):
        failures.append(f"left queued or on a server (qcur, scur): {left}")
    if int(info.get("CurrConns", "0")) > 1:
        failures.append(f"CurrConns {info.get('CurrConns')}")
    if fds1 > fds0 + 2:
        failures.append(f"descriptors {fds0} -> {fds1}")
        if os.environ.get("SHOW_FDS"):
            print(subprocess.run(["ss", "-tanp"], capture_output=True, text=True).stdout
                  .count(f"pid={pid},"), "sockets;",
                  subprocess.run(f"ss -tanp | grep pid={pid}, | awk '{{print $1, $4, $5}}' | sort | uniq -c | sort -rn | head",
                                 shell=True, capture_output=True, text=True).stdout, file=sys.stderr)
    if probe["200"] != 1 or probe_ms > 1000:
        failures.append(f"not serving after the phase: {dict(probe)} in {probe_ms:.0f} ms")
    if logged_total < results["sent"] - 1:  # the probe may not be logged yet
        failures.append(f"{results['sent']} requests sent, {logged_total} logged")
    print(json.dumps({
        "clients": dict(results),
        "aborted_logged": logged_client, "logged": {f"{s} {t}": n for (s, t), n in sorted(logged.items())},
        "qmax": qmax,
        "qcur_seen": dict(peaks),
        "left": left,
        "rss_kb": [rss0, rss1],
        "fds": [fds0, fds1],
        "probe_ms": round(probe_ms),
        "failures": failures,
    }))
    return not failures


if __name__ == "__main__":
    if sys.argv[1] == "origin":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        asyncio.run(origin(int(sys.argv[2])))
    else:
        port, sock, pid, log, oport, duration = sys.argv[2:8]
        ok = asyncio.run(drive(int(port), sock, int(pid), log, int(oport), float(duration)))
        sys.exit(0 if ok else 1)
