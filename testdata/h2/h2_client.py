#!/usr/bin/env python3
"""HTTP/2 clients for hapee's interop tests: httpx (HTTP/2 only) and the h2 library driven
directly for legal but unusual client behaviours. One cleartext (prior knowledge) HTTP/2
connection per case to 127.0.0.1:PORT, in front of the test harness's echo origin. Prints
one line per case:
  httpx-get <status> <http version> host=<Host the origin saw>
  httpx-post <status> body=<bytes the origin saw>
  authority-and-host <status> host=<Host the origin saw>
  priority-storm <status> host=...        (2000 PRIORITY frames before the request)
  header-table-0 <status> <status> <status> (three requests, SETTINGS_HEADER_TABLE_SIZE 0)
  small-window <status> <bytes>           (INITIAL_WINDOW_SIZE 1000, GET /big: a 1 MB answer)
"""

import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import httpx

PORT = int(sys.argv[1])
BASE = f"http://127.0.0.1:{PORT}"


def origin_field(body, name):
    for line in body.decode("latin1").splitlines():
        if line.startswith(name + "="):
            return line[len(name) + 1 :]
    return "-"


class Conn:
    def __init__(self, settings=None):
        self.sock = socket.create_connection(("127.0.0.1", PORT))
        self.sock.settimeout(10)
        config = h2.config.H2Configuration(
            client_side=True,
            header_encoding="utf-8",
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self.h2 = h2.connection.H2Connection(config)
        self.h2.initiate_connection()
        if settings:
            self.h2.update_settings(settings)
        self.flush()

    def flush(self):
        self.sock.sendall(self.h2.data_to_send())

    def request(self, headers, body=None, before=b""):
        stream = self.h2.get_next_available_stream_id()
        self.h2.send_headers(stream, headers, end_stream=body is None)
        if body is not None:
            self.h2.send_data(stream, body, end_stream=True)
        self.sock.sendall(before + self.h2.data_to_send())
        status, got = "-", b""
        deadline = time.time() + 20
        while time.time() < deadline:
            data = self.sock.recv(65536)
            if not data:
                return "EOF", got
            for ev in self.h2.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == stream:
                    status = dict(ev.headers)[":status"]
                elif isinstance(ev, h2.events.DataReceived):
                    got += ev.data
                    self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == stream:
                    return f"RST{ev.error_code}", got
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    return f"GOAWAY{ev.error_code}", got
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == stream:
                    self.flush()
                    return status, got
            self.flush()
        return "TIMEOUT", got


def get(path, authority="t.example", extra=()):
    return [(":method", "GET"), (":scheme", "http"), (":authority", authority), (":path", path), *extra]


with httpx.Client(http1=False, http2=True, timeout=20) as client:
    r = client.get(BASE + "/httpx")
    print("httpx-get", r.status_code, r.http_version, "host=" + origin_field(r.content, "hdr:host"))
    r = client.post(BASE + "/httpx", content=b"p" * 100_000)
    print("httpx-post", r.status_code, "body=%d" % len(origin_field(r.content, "body")))

status, body = Conn().request(get("/a", "a.example", [("host", "b.example")]))
print("authority-and-host", status, "host=" + origin_field(body, "hdr:host"))

storm = b"".join(
    struct.pack(">I", 5)[1:] + bytes([2, 0]) + struct.pack(">I", 101 + 2 * i) + struct.pack(">I", 0) + bytes([15])
    for i in range(2000)
)
status, body = Conn().request(get("/p"), before=storm)
print("priority-storm", status, "host=" + origin_field(body, "hdr:host"))

conn = Conn({h2.settings.SettingCodes.HEADER_TABLE_SIZE: 0})
print("header-table-0", *(conn.request(get(f"/t{i}"))[0] for i in range(3)))

conn = Conn({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000})
status, body = conn.request(get("/big"))
print("small-window", status, len(body))
