#!/usr/bin/env python3
"""A small SPOA (SPOE agent) for the tests: the peer of hapee's and haproxy's SPOE filter.

It speaks SPOP 2.0 from the protocol's description (frames: 32-bit length, type, flags,
stream id, frame id, payload; varints; typed data), in the synchronous mode only (it offers no
capability), and answers:
- message `on-req` (args `path`): txn `seen` = the path;
- message `check-client` (args `ip`, `ua`, `delay`): waits `delay` ms when given, then sets
  txn `score` (50 for a user agent containing "bot", else 10), txn `tag` ("ua:<ua>"), txn `ip`
  (the address it was sent, as an IP) and sess `hits` (requests seen on this connection);
- message `on-be` (args `method`): txn `method` = the method;
- message `on-res` (args `status`): txn `res_status` = the status as an integer.

Usage: agent.py <port> [<ready-file>]: listens on 127.0.0.1:<port>, then writes the ready file.
"""
import socket
import struct
import sys
import threading
import time

HAPROXY_HELLO, HAPROXY_DISCONNECT, NOTIFY = 1, 2, 3
AGENT_HELLO, AGENT_DISCONNECT, ACK = 101, 102, 103
T_NULL, T_BOOL, T_INT32, T_UINT32, T_INT64, T_UINT64, T_IPV4, T_IPV6, T_STR, T_BIN = range(10)


def enc_varint(i):
    if i < 240:
        return bytes([i])
    out = bytearray([(i & 0xFF) | 240])
    i = (i - 240) >> 4
    while i >= 128:
        out.append((i & 0xFF) | 128)
        i = (i - 128) >> 7
    out.append(i)
    return bytes(out)


def dec_varint(b, p):
    i = b[p]
    p += 1
    if i < 240:
        return i, p
    shift = 4
    while True:
        c = b[p]
        p += 1
        i += c << shift
        shift += 7
        if c < 128:
            return i, p


def enc_str(s):
    if isinstance(s, str):
        s = s.encode()
    return enc_varint(len(s)) + s


def dec_bytes(b, p):
    n, p = dec_varint(b, p)
    return b[p:p + n], p + n


def enc_typed(v):
    kind, value = v
    if kind == T_STR:
        return bytes([T_STR]) + enc_str(value)
    if kind in (T_INT32, T_UINT32, T_INT64, T_UINT64):
        return bytes([kind]) + enc_varint(value & 0xFFFFFFFFFFFFFFFF)
    if kind == T_IPV4:
        return bytes([T_IPV4]) + socket.inet_pton(socket.AF_INET, value)
    if kind == T_IPV6:
        return bytes([T_IPV6]) + socket.inet_pton(socket.AF_INET6, value)
    if kind == T_BOOL:
        return bytes([T_BOOL | (0x10 if value else 0)])
    return bytes([T_NULL])


def dec_typed(b, p):
    t = b[p]
    p += 1
    kind = t & 0x0F
    if kind == T_NULL:
        return None, p
    if kind == T_BOOL:
        return bool(t & 0x10), p
    if kind in (T_INT32, T_UINT32, T_INT64, T_UINT64):
        v, p = dec_varint(b, p)
        if kind in (T_INT32, T_INT64) and v >= 1 << 63:
            v -= 1 << 64
        return v, p
    if kind == T_IPV4:
        return socket.inet_ntop(socket.AF_INET, b[p:p + 4]), p + 4
    if kind == T_IPV6:
        return socket.inet_ntop(socket.AF_INET6, b[p:p + 16]), p + 16
    if kind == T_STR:
        s, p = dec_bytes(b, p)
        return s.decode(errors="replace"), p
    if kind == T_BIN:
        return dec_bytes(b, p)
    raise ValueError("unknown type %d" % kind)


def dec_kv(b, p):
    out = {}
    while p < len(b):
        k, p = dec_bytes(b, p)
        v, p = dec_typed(b, p)
        out[k.decode()] = v
    return out


def frame(kind, stream_id, frame_id, payload):
    body = bytes([kind]) + struct.pack(">I", 1) + enc_varint(stream_id) + enc_varint(frame_id) + payload
    return struct.pack(">I", len(body)) + body


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def set_var(scope, name, typed):
    return bytes([1, 3, scope]) + enc_str(name) + enc_typed(typed)


SCOPE_SESS, SCOPE_TXN = 1, 2


def answer(messages, state):
    actions = b""
    for name, args in messages:
        if name == "on-req":
            actions += set_var(SCOPE_TXN, "seen", (T_STR, str(args.get("path"))))
        elif name == "check-client":
            delay = args.get("delay")
            if delay:
                time.sleep(int(delay) / 1000)
            ua = args.get("ua") or ""
            state["hits"] += 1
            actions += set_var(SCOPE_TXN, "score", (T_INT32, 50 if "bot" in ua else 10))
            actions += set_var(SCOPE_TXN, "tag", (T_STR, "ua:" + ua))
            ip = args.get("ip")
            if ip:
                actions += set_var(SCOPE_TXN, "ip", (T_IPV6 if ":" in ip else T_IPV4, ip))
            actions += set_var(SCOPE_SESS, "hits", (T_UINT32, state["hits"]))
        elif name == "on-be":
            actions += set_var(SCOPE_TXN, "method", (T_STR, str(args.get("method"))))
        elif name == "on-res":
            actions += set_var(SCOPE_TXN, "res_status", (T_INT64, int(args.get("status") or 0)))
    return actions


def serve(conn):
    state = {"hits": 0}
    with conn:
        while True:
            head = read_exact(conn, 4)
            if head is None:
                return
            (length,) = struct.unpack(">I", head)
            body = read_exact(conn, length)
            if body is None:
                return
            kind = body[0]
            p = 5
            stream_id, p = dec_varint(body, p)
            frame_id, p = dec_varint(body, p)
            if kind == HAPROXY_HELLO:
                kv = dec_kv(body, p)
                payload = (enc_str("version") + enc_typed((T_STR, "2.0"))
                           + enc_str("max-frame-size") + enc_typed((T_UINT32, kv.get("max-frame-size", 16384)))
                           + enc_str("capabilities") + enc_typed((T_STR, "")))
                conn.sendall(frame(AGENT_HELLO, 0, 0, payload))
                if kv.get("healthcheck"):
                    return
            elif kind == NOTIFY:
                messages = []
                while p < len(body):
                    name, p = dec_bytes(body, p)
                    nargs = body[p]
                    p += 1
                    args = {}
                    for _ in range(nargs):
                        k, p = dec_bytes(body, p)
                        v, p = dec_typed(body, p)
                        args[k.decode()] = v
                    messages.append((name.decode(), args))
                conn.sendall(frame(ACK, stream_id, frame_id, answer(messages, state)))
            elif kind == HAPROXY_DISCONNECT:
                payload = enc_str("status-code") + enc_typed((T_UINT32, 0)) + enc_str("message") + enc_typed((T_STR, "bye"))
                conn.sendall(frame(AGENT_DISCONNECT, 0, 0, payload))
                return


def main():
    port = int(sys.argv[1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write("ready\n")
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
