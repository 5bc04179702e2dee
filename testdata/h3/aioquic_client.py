#!/usr/bin/env python3
"""An HTTP/3 client built on aioquic's H3Connection, for hapee's interop tests.

On one QUIC connection to 127.0.0.1:PORT (server name "localhost", trusting --ca): a GET,
a POST of --post-size bytes, then --streams GETs at once. Prints one line per check:
  GET <status> name=<origin>
  POST <status> body=<bytes the origin saw>
  STREAMS <ok>/<total>
"""

import argparse
import asyncio
import ssl

from aioquic.asyncio import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration


class H3Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.waiting = {}

    def quic_event_received(self, event):
        for ev in self.h3.handle_event(event):
            stream = getattr(ev, "stream_id", None)
            if stream not in self.waiting:
                continue
            state = self.waiting[stream]
            if isinstance(ev, HeadersReceived):
                state["headers"] = ev.headers
            elif isinstance(ev, DataReceived):
                state["body"] += ev.data
            if getattr(ev, "stream_ended", False):
                state["done"].set_result(None)
                del self.waiting[stream]

    async def request(self, method, authority, path, body=b""):
        stream = self._quic.get_next_available_stream_id()
        headers = [
            (b":method", method.encode()),
            (b":scheme", b"https"),
            (b":authority", authority.encode()),
            (b":path", path.encode()),
        ]
        if body:
            headers.append((b"content-length", str(len(body)).encode()))
        state = {"headers": [], "body": b"", "done": self._loop.create_future()}
        self.waiting[stream] = state
        self.h3.send_headers(stream, headers, end_stream=not body)
        if body:
            self.h3.send_data(stream, body, end_stream=True)
        self.transmit()
        await state["done"]
        status = dict(state["headers"]).get(b":status", b"0").decode()
        return int(status), state["body"]


def field(text, name):
    for line in text.splitlines():
        if line.startswith(name + "="):
            return line[len(name) + 1 :]
    return ""


async def main(args):
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
    config.load_verify_locations(args.ca)
    config.verify_mode = ssl.CERT_REQUIRED
    config.server_name = "localhost"
    authority = f"localhost:{args.port}"
    async with connect("127.0.0.1", args.port, configuration=config, create_protocol=H3Client) as client:
        status, body = await client.request("GET", authority, "/aioquic")
        print(f"GET {status} name={field(body.decode(), 'name')}")
        payload = bytes(ord("a") + i % 26 for i in range(args.post_size))
        status, body = await client.request("POST", authority, "/upload", payload)
        seen = body.decode().split("body=", 1)[1].rstrip("\n") if b"body=" in body else ""
        print(f"POST {status} body={len(seen) if seen.encode() == payload else -1}")
        results = await asyncio.gather(
            *(client.request("GET", authority, f"/s/{i}") for i in range(args.streams))
        )
        ok = sum(1 for i, (s, b) in enumerate(results) if s == 200 and f"path=/s/{i}\n".encode() in b)
        print(f"STREAMS {ok}/{args.streams}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--ca", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--post-size", type=int, default=1024)
    p.add_argument("--streams", type=int, default=10)
    asyncio.run(asyncio.wait_for(main(p.parse_args()), 60))
