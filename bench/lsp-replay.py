#!/usr/bin/env python3
"""A stand-in for hapee-lsp that costs an editor nothing but the diagnostics themselves.

Usage: lsp-replay.py HAPEE_LSP (or with $HAPEE_REPLAY_OF naming HAPEE_LSP, for an editor that
takes a command without arguments)
Speaks LSP over stdio like HAPEE_LSP, which it runs and passes everything to until that server
publishes the diagnostics of the opened file; from then on each didChange is answered at once
with that same publishDiagnostics message (the server no longer sees the edits). bench/lsp.sh
uses it on edits that leave the diagnostics as they were (a backend name swapped for another
one of the same length), so the editor gets exactly what the server would send it, with no
server time: what is left is the editor's own cost of those diagnostics.
"""
import json
import os
import subprocess
import sys
import threading

server = subprocess.Popen([sys.argv[1] if len(sys.argv) > 1 else os.environ["HAPEE_REPLAY_OF"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
editor_in, editor_out = sys.stdin.buffer, sys.stdout.buffer
out_lock = threading.Lock()
opened = None  # the URI of the document the editor opened
captured = None  # the first publishDiagnostics message for it, header included
got_it = threading.Event()


def read(stream):
    """One message from `stream` (header and body as bytes), or None at its end."""
    header = b""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        header += line
        if line in (b"\r\n", b"\n"):
            if length is not None:
                return header + stream.read(length)
            continue
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])


def write(message):
    with out_lock:
        editor_out.write(message)
        editor_out.flush()


def from_server():
    global captured
    while True:
        message = read(server.stdout)
        if message is None:
            return
        if b'"textDocument/publishDiagnostics"' in message[:256]:
            body = json.loads(message.split(b"\r\n\r\n", 1)[1])
            if body["params"]["uri"] == opened:
                if captured is not None:
                    continue
                captured = message
                got_it.set()
        write(message)


threading.Thread(target=from_server, daemon=True).start()
while True:
    message = read(editor_in)
    if message is None:
        break
    body = json.loads(message.split(b"\r\n\r\n", 1)[1])
    if body.get("method") == "textDocument/didOpen" and opened is None:
        opened = body["params"]["textDocument"]["uri"]
    if body.get("method") == "textDocument/didChange" and got_it.wait(60):
        write(captured)
        continue
    server.stdin.write(message)
    server.stdin.flush()
    if body.get("method") == "exit":
        break
server.stdin.close()
server.wait(timeout=10)
