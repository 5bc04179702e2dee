#!/usr/bin/env python3
"""The language server's work per edit, counted by callgrind rather than timed (the machine's
load does not change it): instructions from an incremental didChange to its publishDiagnostics
(or, when the diagnostics did not change and none is published, to the answer to a hover sent
after it, that small hover included), every thread's, averaged over the edits of a frontend line and of a backend line (the edits
bench/lsp.py makes).

Usage: lsp_callgrind.py HAPEE_LSP CONFIG [EDITS, default 20]
Optional: KEEP=dir keeps the callgrind output files there (for callgrind_annotate).
"""
import glob, json, os, subprocess, sys, tempfile

exe, cfg = sys.argv[1], sys.argv[2]
EDITS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
work = os.environ.get("KEEP") or tempfile.mkdtemp()
out_file = os.path.join(work, "cg.lsp.%p")
text = open(cfg).read()
uri = "file://" + os.path.abspath(cfg)
proc = subprocess.Popen(
    ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_file, exe],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def send(msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def receive():
    length = 0
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("server exited")
        line = line.strip()
        if not line:
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(proc.stdout.read(length))


def wait_diagnostics():
    while True:
        m = receive()
        if m.get("method") == "textDocument/publishDiagnostics":
            return


def edit_handled(request_id):
    """Waits for the answer to a hover sent after the edits: the server answers it once it has
    published what they changed (nothing, when the diagnostics stay as they were)."""
    send({"jsonrpc": "2.0", "id": request_id, "method": "textDocument/hover",
          "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}})
    while receive().get("id") != request_id:
        pass


def control(flag):
    subprocess.run(["callgrind_control", flag, str(proc.pid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def dumped_total():
    """The instructions of the newest dump."""
    files = sorted(glob.glob(os.path.join(work, "cg.lsp.%d.*" % proc.pid)), key=os.path.getmtime)
    for line in open(files[-1]):
        if line.startswith("totals:") or line.startswith("summary:"):
            return int(line.split()[1])
    raise SystemExit("no totals in " + files[-1])


send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
      "params": {"capabilities": {}, "processId": None, "rootUri": None}})
receive()
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": {"textDocument": {"uri": uri, "languageId": "haproxy", "version": 1, "text": text}}})
wait_diagnostics()

lines = text.split("\n")
front_line = next(i for i, l in enumerate(lines) if l.strip().startswith("default_backend"))
servers = [i for i, l in enumerate(lines) if l.strip().startswith("server ")]
back_line = servers[len(servers) // 2]
version = 1
rows = []
for what, at, variants in [
    ("frontend line", front_line, ["    default_backend be_%d" % k for k in range(3)]),
    ("backend line", back_line, [lines[back_line] + " weight %d" % (k + 1) for k in range(3)]),
]:
    control("-z")
    for v in range(EDITS):
        old_len = len(lines[at])
        lines[at] = variants[v % len(variants)]
        version += 1
        send({"jsonrpc": "2.0", "method": "textDocument/didChange",
              "params": {"textDocument": {"uri": uri, "version": version},
                         "contentChanges": [{"range": {"start": {"line": at, "character": 0},
                                                       "end": {"line": at, "character": old_len}},
                                             "text": lines[at]}]}})
        edit_handled(100 + version)
    control("-d")
    rows.append((what, dumped_total() / EDITS))

send({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
receive()
send({"jsonrpc": "2.0", "method": "exit", "params": None})
proc.stdin.close()
proc.wait(timeout=120)
name = os.path.basename(cfg)
for what, ir in rows:
    print("| %s | %d | %s | %d | %.1f M |" % (name, len(lines), what, EDITS, ir / 1e6))
