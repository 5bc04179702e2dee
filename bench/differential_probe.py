#!/usr/bin/env python3
"""Serves one configuration with one engine inside a sandbox and records what traffic meets.

    unshare -n -p -f -m --propagation private python3 bench/differential_probe.py OUT.json CFG CMD...

Run as pid 1 of new network, pid and mount namespaces (bench/differential.sh does that): loopback
comes up with every IPv4 address the configuration binds or names for a server; every server
host name resolves (through a private /etc/hosts) to an address of its own on loopback; a test
origin answers on every server address and records the requests it receives; /dev/log and
UDP 127.0.0.1:514 are captured as syslog. CMD (the engine, started from CFG's folder) then gets
the same requests on each of its TCP `bind` addresses, one fresh connection each, and OUT.json
records per request: the raw response, what the origin(s) received, and the log lines written.
"""
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

out_path, cfg_path = sys.argv[1], sys.argv[2]
engine_cmd = sys.argv[3:]
cfg_dir = os.path.dirname(os.path.abspath(cfg_path))
work = os.path.dirname(os.path.abspath(out_path))


def read_config(path):
    """(section kind, section name, words) for each non-comment line, lines joined on `\\`."""
    lines = []
    section = ("", "")
    with open(path, errors="replace") as f:
        for raw in f:
            text = raw.split("#", 1)[0] if not re.search(r"\\#", raw) else raw
            # The reg-tests quote their addresses ("127.0.0.1:20000"): quotes are left out.
            words = [w.strip('"') for w in text.split()]
            if not words:
                continue
            # (the reg-tests indent their section lines too)
            if words[0] in (
                "global", "defaults", "frontend", "backend", "listen", "resolvers", "peers",
                "userlist", "cache", "program", "ring", "mailers", "http-errors", "fcgi-app",
            ):
                section = (words[0], words[1] if len(words) > 1 else "")
            lines.append((section[0], section[1], words))
    return lines


def split_host_port(text):
    """'a:80' -> ('a', '80'); '[::1]:80' -> ('::1', '80'); ':::80' -> ('::', '80')."""
    text = re.sub(r"^(ipv4@|ipv6@|tcp@|tcp4@|tcp6@)", "", text)
    if text.startswith("["):
        host, _, port = text[1:].partition("]")
        return host, port.lstrip(":")
    if text.count(":") > 1:
        host, _, port = text.rpartition(":")
        return host, port
    host, _, port = text.partition(":")
    return host, port


# VTest's macros left in the reg-test configurations (`log ${S1_addr}:${S1_port}`): each pair
# gets a loopback address and a port of its own, in the environment both engines read, and a
# syslog receiver there.
macro_syslogs = []
with open(cfg_path, errors="replace") as f:
    for i, macro in enumerate(sorted(set(re.findall(r"\$\{(\w+)_addr\}", f.read())))):
        os.environ.setdefault(macro + "_addr", "127.0.0.1")
        os.environ.setdefault(macro + "_port", str(15140 + i))
        macro_syslogs.append(("127.0.0.1", int(os.environ[macro + "_port"])))
# The reg-test configurations keep their sockets under this folder (a tmpfs of this sandbox).
with open(cfg_path, errors="replace") as f:
    tmp_dirs = sorted({os.path.dirname(m) for m in re.findall(r"/tmp/hapee-corpus-tmp/[^\s\"']+", f.read())})
if tmp_dirs and os.path.isdir("/tmp/hapee-corpus-tmp"):
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/tmp/hapee-corpus-tmp"], check=False)
    for d in tmp_dirs:
        os.makedirs(d, exist_ok=True)
config = read_config(cfg_path)
binds = []  # (proxy, host, port, ssl)
servers = set()  # (host, port)
hosts_in_acls, paths_in_acls = [], []
for kind, name, words in config:
    if kind in ("frontend", "listen") and words[0] == "bind":
        for addr in words[1].split(","):
            if "@" in addr and not re.match(r"(ipv4|ipv6|tcp4?|tcp6?)@", addr):
                continue
            host, port = split_host_port(addr)
            if "$" in addr or not port.isdigit():
                continue
            binds.append((name, host, int(port), "ssl" in words[2:]))
    if kind in ("backend", "listen") and words[0] in ("server", "server-template") and len(words) > 2:
        addr = words[2] if words[0] == "server" else (words[3] if len(words) > 3 else "")
        # The engines read "${VAR}" from the environment, empty when unset.
        addr = re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), addr.strip('"'))
        host, port = split_host_port(addr)
        if "$" not in addr and "@" not in addr and (host or port or addr == ":"):
            servers.add((host, int(port) if port.isdigit() else None))
    line = " ".join(words)
    if re.search(r"\b(req\.)?hdr(_beg|_end|_dom|_reg|_sub)?\(host\)|\bhost\b", line):
        for w in words:
            if re.fullmatch(r"[A-Za-z0-9*][A-Za-z0-9.-]*\.[A-Za-z]{2,}", w) and w not in hosts_in_acls:
                hosts_in_acls.append(w)
    if re.search(r"\bpath(_beg|_dir)?\b|\burl_beg\b|\bstats uri\b", line):
        for w in words:
            if re.fullmatch(r"/[A-Za-z0-9._~/-]*", w) and w not in paths_in_acls:
                paths_in_acls.append(w)

# Addresses: every IPv4 named, and one 127.0.1.N per host name.
subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
host_ips = {}
etc_hosts = ["127.0.0.1 localhost", "::1 localhost ip6-localhost"]
for host, _ in sorted(servers):
    if re.fullmatch(r"[0-9.]+", host) or host == "localhost" or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", host):
        continue  # an address, or no host name (a placeholder such as <db-ip>): left unresolved
    host_ips.setdefault(host, "127.0.1.%d" % (len(host_ips) + 1))
for host, ip in host_ips.items():
    etc_hosts.append("%s %s" % (ip, host))
with open(os.path.join(work, "hosts"), "w") as f:
    f.write("\n".join(etc_hosts) + "\n")
subprocess.run(["mount", "--bind", os.path.join(work, "hosts"), "/etc/hosts"], check=False)
for addr in sorted({h for _, h, _, _ in binds} | {h for h, _ in servers}):
    if re.fullmatch(r"([0-9]{1,3}\.){3}[0-9]{1,3}", addr) and not addr.startswith(("127.", "0.")):
        subprocess.run(["ip", "addr", "add", addr + "/32", "dev", "lo"], check=False)

# Syslog: /dev/log (a socket bound over it in this mount namespace) and UDP 514.
log_lines = []
log_lock = threading.Lock()


def note_log(text):
    with log_lock:
        log_lines.append(text)


def syslog_listener(sock):
    while True:
        data = sock.recv(65536)
        note_log(data.decode(errors="replace").rstrip("\n"))


# A short path: a socket's path has at most 107 bytes, and the records' folder may be long.
devlog = os.path.join(tempfile.mkdtemp(prefix="hapee-diff-"), "log")
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(devlog)
    os.chmod(devlog, 0o666)
    subprocess.run(["mount", "--bind", devlog, "/dev/log"], check=False)
    threading.Thread(target=syslog_listener, args=(s,), daemon=True).start()
except OSError:
    pass
# A chroot hides /dev/log: the log socket also goes to the chroot's dev/.
for kind, _, words in config:
    if kind == "global" and words[0] == "chroot" and len(words) > 1 and os.path.isdir(os.path.join(words[1], "dev")):
        chroot_dev = os.path.join(words[1], "dev")
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", chroot_dev], check=False)
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(os.path.join(chroot_dev, "log"))
            os.chmod(os.path.join(chroot_dev, "log"), 0o666)
            threading.Thread(target=syslog_listener, args=(s,), daemon=True).start()
        except OSError:
            pass
for addr, port in [("127.0.0.1", 514), ("127.0.0.2", 514)] + macro_syslogs:
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, port))
        threading.Thread(target=syslog_listener, args=(s,), daemon=True).start()
    except OSError:
        pass

# The origin: answers every request with 200 and a body naming itself; records each request.
received = []
received_lock = threading.Lock()


def read_request(conn, buf):
    """One request from conn (buf: bytes already read). Returns (record, rest) or (None, buf)."""
    while b"\r\n\r\n" not in buf and b"\n\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    sep = b"\r\n\r\n" if b"\r\n\r\n" in buf else b"\n\n"
    head, _, buf = buf.partition(sep)
    lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append([name, value.strip()])
    lower = {n.lower(): v for n, v in headers}
    body = b""
    if "content-length" in lower and lower["content-length"].isdigit():
        want = int(lower["content-length"])
        while len(buf) < want:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        body, buf = buf[:want], buf[want:]
    elif "chunked" in lower.get("transfer-encoding", "").lower():
        body, buf = read_chunked(conn, buf)
    record = {
        "method": parts[0],
        "target": parts[1] if len(parts) > 1 else "",
        "version": parts[2] if len(parts) > 2 else "",
        "headers": headers,
        "body": body.decode("latin-1"),
    }
    return record, buf


def read_chunked(conn, buf):
    """A chunked body as it came (sizes, extensions, trailers), and what follows it."""
    pos = 0

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            buf += chunk
        return True

    def line_end(at):
        nonlocal buf
        while b"\r\n" not in buf[at:]:
            chunk = conn.recv(65536)
            if not chunk:
                return -1
            buf += chunk
        return buf.index(b"\r\n", at)

    while True:
        end = line_end(pos)
        if end < 0:
            return buf, b""
        size_text = buf[pos:end].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return buf, b""
        pos = end + 2
        if size == 0:
            # Trailer lines, up to an empty one.
            while True:
                end = line_end(pos)
                if end < 0:
                    return buf, b""
                empty = end == pos
                pos = end + 2
                if empty:
                    return buf[:pos], buf[pos:]
        if not need(pos + size + 2):
            return buf, b""
        pos += size + 2


PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def read_proxy_header(conn, buf):
    """Strips a PROXY protocol header (v1 or v2) from the connection's start: (text, rest)."""
    while len(buf) < 16:
        chunk = conn.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    if buf.startswith(PROXY_V2_SIGNATURE):
        end = 16 + int.from_bytes(buf[14:16], "big")
        while len(buf) < end:
            buf += conn.recv(65536)
        return "v2 " + buf[12:16].hex(), buf[end:]
    if buf.startswith(b"PROXY "):
        while b"\r\n" not in buf:
            buf += conn.recv(65536)
        line, _, rest = buf.partition(b"\r\n")
        # The client's port differs from run to run.
        return re.sub(r" \d+ (\d+)$", r" PORT \1", line.decode("latin-1")), rest
    return None, buf


def origin_conn(conn, me):
    buf = b""
    try:
        conn.settimeout(10)
        proxy_header, buf = read_proxy_header(conn, buf)
        while True:
            record, buf = read_request(conn, buf)
            if record is None:
                return
            record["origin"] = me
            record["proxy_header"] = proxy_header
            proxy_header = None
            # Only the probe's requests (health checks also come here, at their own pace).
            if any(n.lower() == "x-diff-probe" for n, _ in record["headers"]):
                with received_lock:
                    received.append(record)
            if record["method"] == "CONNECT":
                # A tunnel: established, then whatever comes is taken in silence.
                conn.sendall(b"HTTP/1.1 200 Connection established\r\nX-Origin: %s\r\n\r\n" % me.encode())
                while conn.recv(65536):
                    pass
                return
            body = ("origin %s\n" % me).encode()
            close = record["version"] != "HTTP/1.1" or any(
                n.lower() == "connection" and "close" in v.lower() for n, v in record["headers"]
            )
            head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nX-Origin: %s\r\n" % (
                len(body),
                me,
            )
            if close:
                head += "Connection: close\r\n"
            conn.sendall(head.encode() + b"\r\n" + body)
            if close:
                return
    except OSError:
        pass
    finally:
        conn.close()


def origin(sock, me):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=origin_conn, args=(conn, me), daemon=True).start()


def connect_addr(host):
    if host in ("", "*", "0.0.0.0", "::", "localhost"):
        return "127.0.0.1"
    if host in host_ips:
        return host_ips[host]
    return host


bind_ports = {(h, p) for _, h, p, _ in binds}
origins = []
loops = []
# A server without a port takes the port the client connected to: it is answered on each
# bound port.
bound_ports = sorted({p for _, _, p, _ in binds})
servers = {(h, p) for h, p in servers if p is not None} | {(h, b) for h, p in servers if p is None for b in bound_ports}
# `localhost` resolves to ::1 as well as 127.0.0.1 (an engine may try either first): its
# origins answer on both.
servers |= {("::1", p) for h, p in servers if h == "localhost"}
for host, port in sorted(servers):
    ip = host_ips.get(host, host)
    if ip in ("localhost", "*", "", "0.0.0.0"):
        ip = "127.0.0.1"
    if any(connect_addr(h) == ip and p == port for h, p in bind_ports):
        # The proxy itself listens there: a loop in either engine, whose answers depend on
        # timing (checks, file descriptors running out); the comparison leaves it out.
        loops.append("%s:%d" % (host, port))
        continue
    try:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # A server on the port of a wildcard bind (`bind *:80`, `server a 10.0.0.5:80`): both
        # engines set SO_REUSEPORT on their listeners, so both sockets bind, and the kernel
        # gives each connection to the most specific one.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind((ip, port))
        s.listen(64)
        me = "%s:%d" % ("localhost" if host == "::1" else host, port)
        origins.append(me)
        threading.Thread(target=origin, args=(s, me), daemon=True).start()
    except OSError as e:
        origins.append("%s:%d unavailable (%s)" % (host, port, e))

# The engine.
engine_out = os.path.join(work, "engine.out")
out_file = open(engine_out, "wb")
engine = subprocess.Popen(engine_cmd, cwd=cfg_dir, stdout=out_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def engine_output():
    with open(engine_out, "rb") as f:
        return f.read().decode(errors="replace")


def listening(host, port):
    try:
        with socket.create_connection((connect_addr(host), port), timeout=0.5):
            return True
    except OSError:
        return False


result = {"origins": origins, "loops": loops, "binds": [], "started": False}
deadline = time.time() + 10
# Each bind is connected to until it first answers, and no more: a TCP bind's connection
# takes a server from the balancing, and one more for a bind that came up before another
# would shift its round robin against the other engine's.
waiting = [(h, p) for _, h, p, _ in binds]
while time.time() < deadline and engine.poll() is None:
    waiting = [(h, p) for h, p in waiting if not listening(h, p)]
    if binds and not waiting:
        result["started"] = True
        break
    time.sleep(0.1)
time.sleep(0.5)  # let the servers' first checks and the start-up log settle
# An engine that bound its first listeners and then failed on a later one (HAProxy exits
# once its listeners failed to start) answered for a moment: it did not start.
if engine.poll() is not None:
    result["started"] = False
    result["exit"] = engine.returncode
    result["output"] = engine_output()[-3000:]
    json.dump(result, open(out_path, "w"), indent=1)
    sys.exit(0)
result["startup_log"] = engine_output().splitlines()[-20:]
startup_syslog = len(log_lines)

hosts_to_try = hosts_in_acls[:3]
paths_to_try = paths_in_acls[:3]


def requests_for(port):
    host = hosts_to_try[0] if hosts_to_try else "example.com"
    reqs = [
        ("get_root", "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: diff/1\r\nAccept: */*\r\n\r\n" % host),
        ("get_query", "GET /a/b.html?x=1&y=%%20z HTTP/1.1\r\nHost: %s\r\nUser-Agent: diff/1\r\n\r\n" % host),
        ("post_body", "POST /submit HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2" % host),
        ("http10", "GET /old HTTP/1.0\r\nUser-Agent: diff/1\r\n\r\n"),
        ("bad_header", "GET / HTTP/1.1\r\nHost: %s\r\nBad Header: x\r\n\r\n" % host),
        ("keepalive_two", "GET /one HTTP/1.1\r\nHost: %s\r\n\r\nGET /two HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (host, host)),
    ]
    big = "b" * 7000
    reqs += [
        ("head", "HEAD /a/b.html HTTP/1.1\r\nHost: %s\r\n\r\n" % host),
        ("put_chunked", "PUT /upload HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" % host),
        ("delete", "DELETE /item/1 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host),
        ("options_star", "OPTIONS * HTTP/1.1\r\nHost: %s\r\n\r\n" % host),
        ("absolute_uri", "GET http://%s/abs?q=1 HTTP/1.1\r\nHost: %s\r\n\r\n" % (host, host)),
        ("large_header", "GET / HTTP/1.1\r\nHost: %s\r\nCookie: a=%s\r\n\r\n" % (host, big)),
        ("too_large_header", "GET / HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n" % (host, big * 3)),
        ("http10_keepalive", "GET /ka HTTP/1.0\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n" % host),
        ("bad_request_line", "GET /a b c HTTP/1.1\r\nHost: %s\r\n\r\n" % host),
        ("pipelined_three", "GET /p1 HTTP/1.1\r\nHost: %s\r\n\r\nHEAD /p2 HTTP/1.1\r\nHost: %s\r\n\r\nPOST /p3 HTTP/1.1\r\nHost: %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok" % (host, host, host)),
        ("cl_and_te", "POST /smuggle HTTP/1.1\r\nHost: %s\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % host),
    ]
    for h in hosts_to_try[1:] + ["unknown.invalid"]:
        reqs.append(("host " + h, "GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (h, port)))
    for p in paths_to_try:
        reqs.append(("path " + p, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (p, host)))
    # Round 39: framing, targets and header forms real clients send.
    reqs += [
        ("pct_path", "GET /a%%20b/%%2e%%2E/c%%2Fd/%%7Euser?x=%%41&y=%%zz HTTP/1.1\r\nHost: %s\r\n\r\n" % host),
        ("header_case", "GET /case HTTP/1.1\r\nhOsT: %s\r\nX-MiXeD-CaSe: v\r\ncontent-TYPE: text/x\r\nACCEPT: */*\r\n\r\n" % host),
        ("multi_host_same", "GET /mh HTTP/1.1\r\nHost: %s\r\nHost: %s\r\n\r\n" % (host, host)),
        ("multi_host_diff", "GET /mh2 HTTP/1.1\r\nHost: %s\r\nHost: other.invalid\r\n\r\n" % host),
        ("abs_other_host", "GET http://other.invalid/abs2 HTTP/1.1\r\nHost: %s\r\n\r\n" % host),
        ("abs_no_path", "GET http://%s HTTP/1.1\r\nHost: %s\r\n\r\n" % (host, host)),
        ("abs_https", "GET https://%s:8443/s?q HTTP/1.1\r\nHost: %s:8443\r\n\r\n" % (host, host)),
        ("http10_post", "POST /p10 HTTP/1.0\r\nHost: %s\r\nContent-Length: 3\r\n\r\nxyz" % host),
        ("chunked_trailers", "POST /ct HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n" % host),
        ("cl_dup_same", "POST /cl2 HTTP/1.1\r\nHost: %s\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc" % host),
        ("cl_dup_diff", "POST /cl3 HTTP/1.1\r\nHost: %s\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd" % host),
        ("get_with_body", "GET /gb HTTP/1.1\r\nHost: %s\r\nContent-Length: 4\r\n\r\nbody" % host),
        ("close_11", "GET /c11 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host),
        ("conn_tokens", "GET /ct2 HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 300\r\n\r\n" % host),
        ("upgrade_ws", "GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" % host),
        ("trace", "TRACE /tr HTTP/1.1\r\nHost: %s\r\n\r\n" % host),
        ("lower_method", "get /lm HTTP/1.1\r\nHost: %s\r\n\r\n" % host),
        ("bare_lf", "GET /lf HTTP/1.1\nHost: %s\nUser-Agent: diff/1\n\n" % host),
        ("space_before_colon", "GET /sp HTTP/1.1\r\nHost : %s\r\n\r\n" % host),
        ("empty_header_value", "GET /ev HTTP/1.1\r\nHost: %s\r\nX-Empty:\r\nX-Spaces:   \r\n\r\n" % host),
        ("long_uri", "GET /%s HTTP/1.1\r\nHost: %s\r\n\r\n" % ("u" * 20000, host)),
        ("http09", "GET /nine\r\n\r\n"),
        ("connect", "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (host, host)),
    ]
    # Last, those hapee answers otherwise on purpose (docs/hostile-requests.md) (one refused does not take a server's
    # turn, which would shift the rotation for the requests after it).
    reqs += [
        ("cl_list", "POST /cl4 HTTP/1.1\r\nHost: %s\r\nContent-Length: 3, 3\r\n\r\nabc" % host),
        ("obs_fold", "GET /fold HTTP/1.1\r\nHost: %s\r\nX-Folded: a\r\n  b\r\n\r\n" % host),
        ("expect_100", "POST /form HTTP/1.1\r\nHost: %s\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd" % host),
        ("no_host_11", "GET / HTTP/1.1\r\nUser-Agent: diff/1\r\n\r\n"),
        ("bad_version", "GET / HTTP/2.5\r\nHost: %s\r\n\r\n" % host),
    ]
    return reqs


def marked(request):
    """request with an X-Diff-Probe header in each head, by which the origin tells it from a
    health check (after the request line, whatever its line ending)."""
    return re.sub(r"(HTTP/1\.[01])(\r?\n)", r"\1\2X-Diff-Probe: 1\2", request)


def exchange(host, port, use_ssl, request):
    """Sends request on a fresh connection; reads until the server closes, a complete response
    (or two, for a pipelined pair) is in, or 3 s pass."""
    try:
        sock = socket.create_connection((connect_addr(host), port), timeout=2)
    except OSError as e:
        return "connect error: %s" % e.strerror
    if use_ssl:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            sock = ctx.wrap_socket(sock)
        except (OSError, ssl.SSLError) as e:
            return "tls error: %s" % e
    methods = request_methods(request)
    want = max(1, len(methods))
    data = b""
    try:
        sock.sendall(request.encode("latin-1"))
        end = time.time() + 2
        while time.time() < end:
            if complete_responses(data, methods) >= want:
                break
            sock.settimeout(max(0.01, end - time.time()))
            chunk = sock.recv(65536)
            if not chunk:
                data += b"<closed>"
                break
            data += chunk
        else:
            data += b"<timeout>"
    except socket.timeout:
        data += b"<timeout>"
    except OSError as e:
        data += ("<error %s>" % e.strerror).encode()
    sock.close()
    return data.decode("latin-1")


def request_methods(request):
    """The method of each request in request (several when pipelined)."""
    return re.findall(r"(?:^|\r\n\r\n)([A-Z]+) \S+ HTTP/1\.\d\r\n", request)


def complete_responses(data, methods=()):
    """How many final responses data holds complete (an interim 1xx one is not counted; the
    answer to the n-th HEAD of methods has no body)."""
    count = 0
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            return count
        head = data[:head_end].decode("latin-1").lower()
        m = re.search(r"\ncontent-length:\s*(\d+)", head)
        if re.match(r"http/1\.. 1\d\d", head):
            data = data[head_end + 4 :]
            continue
        if count < len(methods) and methods[count] == "HEAD":
            end = head_end + 4
        elif m:
            end = head_end + 4 + int(m.group(1))
        elif "transfer-encoding: chunked" in head:
            z = data.find(b"\r\n0\r\n\r\n", head_end)
            if z < 0:
                return count
            end = z + 7
        elif re.match(r"http/1\.. (1\d\d|204|304)", head):
            end = head_end + 4
        else:
            return count  # body until close
        if len(data) < end:
            return count
        count += 1
        data = data[end:]


for proxy, host, port, use_ssl in binds:
    entry = {"proxy": proxy, "bind": "%s:%d" % (host, port), "ssl": use_ssl, "requests": []}
    for label, request in requests_for(port):
        with received_lock:
            seen = len(received)
        out_before = len(engine_output())
        with log_lock:
            logs_before = len(log_lines)
        response = exchange(host, port, use_ssl, marked(request))
        # Logs come at the end of a stream: wait for the output to stay quiet 100 ms (at most 600 ms).
        settle_end, quiet_since, last = time.time() + 0.6, time.time(), None
        while time.time() < settle_end:
            now = (len(engine_output()), len(log_lines), len(received))
            if now != last:
                last, quiet_since = now, time.time()
            elif time.time() - quiet_since > 0.1:
                break
            time.sleep(0.02)
        with received_lock:
            got = received[seen:]
        with log_lock:
            logs = log_lines[logs_before:]
        entry["requests"].append(
            {
                "label": label,
                "methods": request_methods(request),
                "response": response[:4000],
                "origin": got,
                "stdout": engine_output()[out_before:].splitlines()[:10],
                "syslog": logs[:10],
            }
        )
    result["binds"].append(entry)
result["alive"] = engine.poll() is None
engine.kill()
shutil.rmtree(os.path.dirname(devlog), ignore_errors=True)
json.dump(result, open(out_path, "w"), indent=1)
