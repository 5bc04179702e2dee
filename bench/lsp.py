#!/usr/bin/env python3
"""Drives hapee-lsp over stdio like an editor and measures it.

Usage: lsp.py HAPEE_LSP CONFIG
Prints: diagnostics-after-edit median/p90 (ms), completion median/p90 (ms), peak RSS (MiB).
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

request("initialize", {"capabilities": {}, "processId": None, "rootUri": None})
notify("initialized", {})
notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "haproxy", "version": 1, "text": text}})
wait_diagnostics()

lines = text.split("\n")
edit_line = next(i for i, l in enumerate(lines) if l.strip().startswith("default_backend"))
def cpu_ms():
    """The server's user+system CPU time so far, in ms (what an edit costs it, whatever the
    machine's load does to the wall clock)."""
    fields = open("/proc/%d/stat" % proc.pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")

diag = []
cpu_before = cpu_ms()
for v in range(20):
    old_len = len(lines[edit_line])
    lines[edit_line] = "    default_backend be_%d" % (v % 3)
    # Incremental sync, as editors send it: only the edited line.
    change = {"range": {"start": {"line": edit_line, "character": 0}, "end": {"line": edit_line, "character": old_len}},
              "text": lines[edit_line]}
    sent = time.perf_counter()
    notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v + 2}, "contentChanges": [change]})
    diag.append((wait_diagnostics() - sent) * 1000)

cpu_per_edit = (cpu_ms() - cpu_before) / 20
comp = []
for _ in range(100):
    took, _ = request("textDocument/completion", {"textDocument": {"uri": uri}, "position": {"line": edit_line, "character": 20}})
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

def p90(xs):
    return sorted(xs)[int(len(xs) * 0.9) - 1]

name = os.environ.get("SHAPE", os.path.basename(cfg))
print("%s | %d lines | diagnostics after edit: median %.1f ms, p90 %.1f ms, server CPU %.1f ms per edit | completion: median %.2f ms, p90 %.2f ms | peak RSS %.1f MiB"
      % (name, len(lines), statistics.median(diag), p90(diag), cpu_per_edit, statistics.median(comp), p90(comp), rss))
