#!/usr/bin/env python3
"""Writes a large HAProxy log (httplog, clf and tcplog lines with varied clients and paths).

Usage: gen-log.py MEGABYTES OUT.log
"""
import sys

size, out = int(sys.argv[1]) * 1024 * 1024, sys.argv[2]
templates = [
    '{ip}:{port} [24/Nov/2026:00:01:09.795] www_http web_servers/web-0{s}.internal.example.com 0/0/0/0/{t} 200 141 - - ---- 1/1/0/0/0 0/0 {{shop{n}.example.org|Mozilla/5.0 (X11; Linux) client-{n}}} "GET /products/{n}?user=alice{n}&token=s3cr3t{n} HTTP/1.1"\n',
    '{ip} - - [24/Nov/2026:00:01:12 +0000] "GET /clf/{n} HTTP/1.1" 200 141 "" "" {port} 873 "www_clf" "web_servers" "web-0{s}" 0 0 0 0 {t} ---- 1 1 0 0 0 0 0 "" "" \n',
    '{ip}:{port} [24/Nov/2026:00:01:22.015] db_tcp tcp_origin/pg-primary 1/0/{t} 166 -- 1/1/0/0/0 0/0\n',
]
written = 0
n = 0
with open(out, "w") as f:
    while written < size:
        n += 1
        line = templates[n % 3].format(ip=f"198.{n % 251}.{n // 251 % 251}.{n % 97 + 1}", port=1024 + n % 60000, s=n % 3 + 1, n=n % 10007, t=n % 50)
        f.write(line)
        written += len(line)
