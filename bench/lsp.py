#!/usr/bin/env python3
"""Drives hapee-lsp over stdio like an editor and measures it.

Usage: lsp.py HAPEE_LSP CONFIG
Prints rows of a Markdown table: p50/p95 of edit → the server's first message after it (ms: its
diagnostics, or, when they did not change and it publishes none, its answer to a hover sent
after the edit) for an edit of a frontend line and of a backend line, the server's CPU per edit, completion p50/p95, peak RSS.
"""
import json, os, statistics, subprocess, sys, threading, time, queue

exe, cfg = sys.argv[1], sys.argv[2]
text = open(cfg).read()
uri = "file://" + os.path.abspath(cfg)
proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
inbox = queue.Queue()

def reader():
    out = proc.stdout
    while True:
        length = 0
        first_byte = None
        while True:
            line = out.readline()
            if not line:
                return
            # The server's latency ends when its message starts arriving; parsing a large
            # message is the editor's time, not the server's.
            first_byte = first_byte or time.perf_counter()
            line = line.strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        inbox.put((first_byte, json.loads(out.read(length))))

threading.Thread(target=reader, daemon=True).start()
next_id = 0

def send(msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()

def request(method, params):
    global next_id
    next_id += 1
    sent = time.perf_counter()
    send({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params})
    while True:
        at, m = inbox.get(timeout=60)
        if m.get("id") == next_id:
            return at - sent, m

def notify(method, params):
    send({"jsonrpc": "2.0", "method": method, "params": params})

def wait_diagnostics():
    while True:
        at, m = inbox.get(timeout=60)
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
            return at

def edit_handled():
    """Waits until the server has handled the edits sent before: it publishes diagnostics only
    when they changed, and answers a request (a hover, sent here) once it has published what it
    owes. Returns when the first message after the edit started arriving (the diagnostics, or the
    hover's answer when none were published) and whether diagnostics were published."""
    global next_id
    next_id += 1
    send({"jsonrpc": "2.0", "id": next_id, "method": "textDocument/hover",
          "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}})
    first, published = None, False
    while True:
        at, m = inbox.get(timeout=60)
        first = first or at
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
            published = True
        if m.get("id") == next_id:
            return first, published

request("initialize", {"capabilities": {}, "processId": None, "rootUri": None})
notify("initialized", {})
notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "haproxy", "version": 1, "text": text}})
wait_diagnostics()

lines = text.split("\n")
EDITS = int(os.environ.get("EDITS", "50"))

def cpu_ms():
    """The server's user+system CPU time so far, in ms (what an edit costs it, whatever the
    machine's load does to the wall clock)."""
    fields = open("/proc/%d/stat" % proc.pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")

version = 1
def edits(edit_line, variants):
    """Replaces line `edit_line` EDITS times, as a keystroke's incremental didChange does, and
    returns each edit's time to the server's first message after it (its diagnostics, or its
    answer to the hover sent after it when it published none) in ms, the server's CPU per edit
    and how many edits had their diagnostics published."""
    global version
    took = []
    sent_diagnostics = 0
    cpu_before = cpu_ms()
    for v in range(EDITS):
        old_len = len(lines[edit_line])
        lines[edit_line] = variants[v % len(variants)]
        change = {"range": {"start": {"line": edit_line, "character": 0}, "end": {"line": edit_line, "character": old_len}},
                  "text": lines[edit_line]}
        version += 1
        sent = time.perf_counter()
        notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        at, published = edit_handled()
        took.append((at - sent) * 1000)
        sent_diagnostics += published
    return took, (cpu_ms() - cpu_before) / EDITS, sent_diagnostics

# A routing line of the frontend, and a server line of a backend in the middle of the file.
front_line = next(i for i, l in enumerate(lines) if l.strip().startswith("default_backend"))
servers = [i for i, l in enumerate(lines) if l.strip().startswith("server ")]
back_line = servers[len(servers) // 2]
back_text = lines[back_line]
results = [
    ("frontend line", edits(front_line, ["    default_backend be_%d" % k for k in range(3)])),
    ("backend line", edits(back_line, [back_text + " weight %d" % (k + 1) for k in range(3)])),
]
comp = []
for _ in range(100):
    took, _ = request("textDocument/completion", {"textDocument": {"uri": uri}, "position": {"line": front_line, "character": 20}})
    comp.append(took * 1000)

rss = 0
with open("/proc/%d/status" % proc.pid) as f:
    for l in f:
        if l.startswith("VmHWM"):
            rss = int(l.split()[1]) / 1024
request("shutdown", None)
notify("exit", None)
proc.stdin.close()
proc.wait(timeout=10)

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(len(xs) * p / 100.0)) - 1))]

name = os.environ.get("SHAPE", os.path.basename(cfg))
for what, (took, cpu, published) in results:
    print("| %s | %d | %s | edit → diagnostics or answer (%d published) | %d | %.1f | %.1f | %.1f |"
          % (name, len(lines), what, published, len(took), pct(took, 50), pct(took, 95), cpu))
print("| %s | %d | | completion | %d | %.2f | %.2f | |" % (name, len(lines), len(comp), pct(comp, 50), pct(comp, 95)))
print("| %s | %d | | peak RSS: %.1f MiB | | | | |" % (name, len(lines), rss))
