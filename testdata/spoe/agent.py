#!/usr/bin/env python3
"""A small SPOA (SPOE agent) for the tests: the peer of hapee's and haproxy's SPOE filter.

It speaks SPOP 2.0 from the protocol's description (frames: 32-bit length, type, flags,
stream id, frame id, payload; varints; typed data), synchronously unless told otherwise (see
the usage below), and answers:
- message `on-req` (args `path`): txn `seen` = the path;
- message `check-client` (args `ip`, `ua`, `delay`): sets
  txn `score` (50 for a user agent containing "bot", else 10), txn `tag` ("ua:<ua>"), txn `ip`
  (the address it was sent, as an IP) and sess `hits` (requests seen on this connection);
- message `on-be` (args `method`): txn `method` = the method;
- message `on-res` (args `status`): txn `res_status` = the status as an integer;
- messages named `echo` or `echo-<scope>` (`txn`, `sess`, `proc`, `req`, `res`; `txn` for
  `echo`): each argument becomes a variable of that scope and name (integers as integers,
  booleans as booleans, anything else as a string); with them come txn `conn` (the number of
  the connection the frame came on, from 1), txn `inflight` (the frames of that connection
  not answered yet when this one arrived, itself included) and txn `replied` (how many
  HAPROXY-DISCONNECT frames came after an AGENT-DISCONNECT so far) and txn `frags` (the
  frames the NOTIFY came in). An argument whose name ends in `_len` is answered with the length
  of its value.
An argument named `delay` of any message holds the answer back that many milliseconds.

Usage: agent.py <port> [<ready-file>] [--caps <list>] [--cross] [--disconnect-after <n>]:
listens on 127.0.0.1:<port>, then writes the ready file.
- `--caps`: the capabilities it takes among those HAProxy offers (`pipelining`, `async`), and
  `fragmentation` (it joins fragmented NOTIFY frames); with `pipelining` each NOTIFY is
  answered from a thread of its own, as soon as it is ready.
- `--cross`: with `async`, answers a frame on another open connection when there is one.
- `--disconnect-after <n>`: sends AGENT-DISCONNECT once it answered n frames on a connection,
  then reads what the peer sends until it closes.
"""
import socket
import struct
import sys
import threading
import time

FRAGMENT, HAPROXY_HELLO, HAPROXY_DISCONNECT, NOTIFY = 0, 1, 2, 3
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


SCOPE_PROC, SCOPE_SESS, SCOPE_TXN, SCOPE_REQ, SCOPE_RES = range(5)
SCOPES = {"proc": SCOPE_PROC, "sess": SCOPE_SESS, "txn": SCOPE_TXN, "req": SCOPE_REQ, "res": SCOPE_RES}

OPTIONS = {"caps": "", "cross": False, "disconnect_after": 0}
LOCK = threading.Lock()
CONNS = []  # the open connections, as Peer objects
COUNTS = {"conns": 0, "replied": 0}


class Peer:
    """One connection from HAProxy: its number, its writer lock, its frames not answered."""

    def __init__(self, sock):
        with LOCK:
            COUNTS["conns"] += 1
            self.number = COUNTS["conns"]
        self.sock = sock
        self.write_lock = threading.Lock()
        self.inflight = 0
        self.answered = 0
        self.closing = False

    def send(self, data):
        with self.write_lock:
            self.sock.sendall(data)


def typed_of(v):
    if isinstance(v, bool):
        return (T_BOOL, v)
    if isinstance(v, int):
        return (T_INT64, v)
    if isinstance(v, bytes):
        return (T_STR, v.decode(errors="replace"))
    return (T_STR, str(v))


def answer(messages, state):
    actions = b""
    for name, args in messages:
        if name == "echo" or name.startswith("echo-"):
            scope = SCOPES.get(name[5:], SCOPE_TXN)
            for k, v in args.items():
                if v is not None and k.endswith("_len"):
                    actions += set_var(scope, k, (T_INT64, len(v)))
                elif v is not None:
                    actions += set_var(scope, k, typed_of(v))
            actions += set_var(SCOPE_TXN, "frags", (T_INT64, state["fragments"]))
            actions += set_var(SCOPE_TXN, "conn", (T_INT64, state["peer"].number))
            actions += set_var(SCOPE_TXN, "inflight", (T_INT64, state["inflight"]))
            actions += set_var(SCOPE_TXN, "replied", (T_INT64, COUNTS["replied"]))
        if name == "on-req":
            actions += set_var(SCOPE_TXN, "seen", (T_STR, str(args.get("path"))))
        elif name == "check-client":
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


def parse_notify(body, p):
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
    return messages


def handle_notify(peer, state, stream_id, frame_id, messages, inflight):
    """Answers one NOTIFY: on its own connection, or on another one with --cross."""
    # An argument `delay` (milliseconds) holds the answer back.
    for _, args in messages:
        if args.get("delay"):
            time.sleep(int(args["delay"]) / 1000)
    with LOCK:
        state["inflight"] = inflight
        actions = answer(messages, state)
    target = peer
    if OPTIONS["cross"]:
        with LOCK:
            others = [c for c in CONNS if c is not peer and not c.closing]
        if others:
            target = others[-1]
    try:
        target.send(frame(ACK, stream_id, frame_id, actions))
    except OSError:
        pass
    with LOCK:
        peer.inflight -= 1
        peer.answered += 1
        leave = OPTIONS["disconnect_after"] and peer.answered == OPTIONS["disconnect_after"]
        if leave:
            peer.closing = True
    if leave:
        payload = enc_str("status-code") + enc_typed((T_UINT32, 0)) + enc_str("message") + enc_typed((T_STR, "bye"))
        try:
            peer.send(frame(AGENT_DISCONNECT, 0, 0, payload))
        except OSError:
            pass


def serve(conn):
    peer = Peer(conn)
    with LOCK:
        CONNS.append(peer)
    state = {"hits": 0, "peer": peer, "frags": {}, "fragments": 1}
    caps = [c for c in OPTIONS["caps"].split(",") if c]
    try:
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
                    offered = [c.strip() for c in str(kv.get("capabilities") or "").split(",")]
                    # HAProxy offers no fragmentation (it reads none) but sends fragments to
                    # an agent that says it takes them.
                    taken = ",".join(c for c in caps if c in offered or c == "fragmentation")
                    payload = (enc_str("version") + enc_typed((T_STR, "2.0"))
                               + enc_str("max-frame-size") + enc_typed((T_UINT32, kv.get("max-frame-size", 16384)))
                               + enc_str("capabilities") + enc_typed((T_STR, taken)))
                    peer.send(frame(AGENT_HELLO, 0, 0, payload))
                    if kv.get("healthcheck"):
                        return
                elif kind in (NOTIFY, FRAGMENT):
                    # A NOTIFY without the FIN flag has fragments to come (type 0, the last
                    # with FIN): their payloads are joined.
                    fin = struct.unpack(">I", body[1:5])[0] & 1
                    key = (stream_id, frame_id)
                    if kind == NOTIFY:
                        state["frags"][key] = [body[p:]]
                    elif key in state["frags"]:
                        state["frags"][key].append(body[p:])
                    else:
                        return
                    if not fin:
                        continue
                    parts = state["frags"].pop(key)
                    state["fragments"] = len(parts)
                    messages = parse_notify(b"".join(parts), 0)
                    with LOCK:
                        peer.inflight += 1
                        inflight = peer.inflight
                    args = (peer, state, stream_id, frame_id, messages, inflight)
                    if "pipelining" in caps:
                        threading.Thread(target=handle_notify, args=args, daemon=True).start()
                    else:
                        handle_notify(*args)
                elif kind == HAPROXY_DISCONNECT:
                    if peer.closing:
                        with LOCK:
                            COUNTS["replied"] += 1
                        return
                    payload = enc_str("status-code") + enc_typed((T_UINT32, 0)) + enc_str("message") + enc_typed((T_STR, "bye"))
                    peer.send(frame(AGENT_DISCONNECT, 0, 0, payload))
                    return
    finally:
        with LOCK:
            if peer in CONNS:
                CONNS.remove(peer)


def main():
    args = sys.argv[1:]
    positional = []
    while args:
        a = args.pop(0)
        if a == "--caps":
            OPTIONS["caps"] = args.pop(0)
        elif a == "--cross":
            OPTIONS["cross"] = True
        elif a == "--disconnect-after":
            OPTIONS["disconnect_after"] = int(args.pop(0))
        else:
            positional.append(a)
    port = int(positional[0])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    if len(positional) > 1:
        with open(positional[1], "w") as f:
            f.write("ready\n")
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
