"""Per-request latency as the wire shows it, from a pcap of the proxy's client port (data
segments only): each request's first segment to the response's first segment on the same
connection. With a `show sess` dump (hapee's, which names each session's thread), the
latencies are split by the thread serving the connection.
Usage: http1_wire.py PCAP PROXY_PORT [SHOW_SESS_OUTPUT]"""
import collections
import re
import struct
import sys


def segments(path, port):
    """(time in µs, source port, destination port) of each data segment to or from `port`."""
    with open(path, "rb") as f:
        head = f.read(24)
        nano = struct.unpack("<I", head[:4])[0] == 0xA1B23C4D
        link = struct.unpack("<I", head[20:24])[0]
        skip = 14 if link == 1 else 16  # Ethernet (lo) or Linux cooked capture
        while True:
            record = f.read(16)
            if len(record) < 16:
                return
            sec, frac, captured, _ = struct.unpack("<IIII", record)
            data = f.read(captured)
            ip = data[skip:]
            ihl = (ip[0] & 15) * 4
            total = struct.unpack(">H", ip[2:4])[0]
            tcp = ip[ihl:]
            sport, dport = struct.unpack(">HH", tcp[:4])
            if total - ihl - (tcp[12] >> 4) * 4 > 0 and port in (sport, dport):
                yield sec * 1e6 + (frac / 1000 if nano else frac), sport, dport


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    thread_of = {}
    if len(sys.argv) > 3:
        for line in open(sys.argv[3]):
            m = re.search(r"src=[\d.]+:(\d+) .*\bthread=(\d+)", line)
            if m:
                thread_of[int(m.group(1))] = int(m.group(2))
    asked = {}
    latencies = collections.defaultdict(list)
    for t, sport, dport in segments(path, port):
        if dport == port:
            asked.setdefault(sport, t)
        elif sport == port and dport in asked:
            latencies[thread_of.get(dport, 0)].append(t - asked.pop(dport))

    def line(label, values):
        v = sorted(values)
        q = lambda x: v[min(len(v) - 1, int(len(v) * x))]
        return f"{label}: {len(v)} requests, p50 {q(.5) / 1000:.3f} p90 {q(.9) / 1000:.3f} p99 {q(.99) / 1000:.3f} p99.9 {q(.999) / 1000:.3f} ms"

    print(line("wire", [x for v in latencies.values() for x in v]))
    if len(latencies) > 1:
        for thread, values in sorted(latencies.items()):
            conns = sum(1 for t in thread_of.values() if t == thread)
            print("  " + line(f"thread {thread} ({conns} connections)", values))


main()
