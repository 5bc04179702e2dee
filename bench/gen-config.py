#!/usr/bin/env python3
"""Writes a large, valid HAProxy config: N backends x 5 servers, one host-based use_backend per backend.

Usage: gen-config.py LINES OUT.cfg   (LINES is the approximate number of lines wanted)
"""
import sys

lines_wanted, out = int(sys.argv[1]), sys.argv[2]
per_backend = 9  # header, balance, 5 servers, blank, plus one use_backend line in the frontend
n = max(1, lines_wanted // per_backend)
with open(out, "w") as f:
    f.write("global\n    maxconn 10000\n\n")
    f.write("defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n")
    f.write("frontend www\n    bind 127.0.0.1:18080\n")
    for i in range(n):
        f.write(f"    use_backend be_{i} if {{ hdr(host) -i app{i}.example.com }}\n")
    f.write("    default_backend be_0\n\n")
    for i in range(n):
        f.write(f"backend be_{i}\n    balance roundrobin\n")
        for s in range(5):
            a, b = divmod(i * 5 + s, 250)
            f.write(f"    server s{s} 10.{a // 250 % 250}.{a % 250}.{b + 1}:8080 check\n")
        f.write("\n")
