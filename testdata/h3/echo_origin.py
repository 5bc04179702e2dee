#!/usr/bin/env python3
"""A small HTTP/1.1 origin for tests run where the Rust one cannot reach (a network namespace):
it answers like the runtime tests' origin, with name, method, path and the request body."""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        text = f"name=py\nmethod={self.command}\npath={path}\nquery={query}\n".encode() + b"body=" + body + b"\n"
        self.send_response(200)
        self.send_header("content-length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    do_GET = answer
    do_POST = answer

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
