#!/usr/bin/env python3
"""Writes a large, valid HAProxy config.

Usage: gen-config.py LINES OUT.cfg [SHAPE]   (LINES is the approximate number of lines wanted)

Shapes:
  host   (default) N backends x 5 servers with `check`, one host-based use_backend per backend.
  acl    N backends, each routed by its own named ACL, with `option httpchk`,
         `http-check expect status 200` and two checked servers (8 lines per backend).
  httpchk  N backends x 5 servers with `check inter 2s weight W`, `option httpchk` and
         `http-check expect status 200`, one `use_backend … if { hdr(host) -i … }` per backend
         (11 lines per backend: 10,000 backends at 110,000 lines).
"""
import sys

lines_wanted, out = int(sys.argv[1]), sys.argv[2]
shape = sys.argv[3] if len(sys.argv) > 3 else "host"


def addr(k):
    a, b = divmod(k, 250)
    return f"10.{a // 250 % 250}.{a % 250}.{b + 1}:8080"


with open(out, "w") as f:
    f.write("global\n    maxconn 10000\n\n")
    f.write("defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n")
    f.write("frontend www\n    bind 127.0.0.1:18080\n")
    if shape == "acl":
        n = max(1, lines_wanted // 8)
        for i in range(n):
            f.write(f"    acl host_{i} hdr(host) -i app{i}.example.com\n")
            f.write(f"    use_backend be_{i} if host_{i}\n")
        f.write("    default_backend be_0\n\n")
        for i in range(n):
            f.write(f"backend be_{i}\n    option httpchk GET /health\n    http-check expect status 200\n")
            for s in range(2):
                f.write(f"    server s{s} {addr(i * 2 + s)} check\n")
            f.write("\n")
    elif shape == "httpchk":
        n = max(1, lines_wanted // 11)
        for i in range(n):
            f.write(f"    use_backend be_{i} if {{ hdr(host) -i app{i}.example.com }}\n")
        f.write("    default_backend be_0\n\n")
        for i in range(n):
            f.write(f"backend be_{i}\n    balance roundrobin\n    option httpchk GET /health\n")
            f.write("    http-check expect status 200\n")
            for s in range(5):
                f.write(f"    server s{s} {addr(i * 5 + s)} check inter 2s weight {10 + s * 10}\n")
            f.write("\n")
    else:
        per_backend = 9  # header, balance, 5 servers, blank, plus one use_backend line
        n = max(1, lines_wanted // per_backend)
        for i in range(n):
            f.write(f"    use_backend be_{i} if {{ hdr(host) -i app{i}.example.com }}\n")
        f.write("    default_backend be_0\n\n")
        for i in range(n):
            f.write(f"backend be_{i}\n    balance roundrobin\n")
            for s in range(5):
                f.write(f"    server s{s} {addr(i * 5 + s)} check\n")
            f.write("\n")
