"""A gRPC client (grpcio) for the HTTP/2-to-servers tests: makes the calls of server.py
through the address given and prints one line per outcome.

Usage: client.py HOST:PORT
"""

import sys

import grpc


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    grpc.channel_ready_future(channel).result(timeout=20)
    say = channel.unary_unary("/test.Echo/Say")
    reply, call = say.with_call(b"hello", timeout=20)
    trailers = dict(call.trailing_metadata())
    print("say:", reply.decode(), call.code().name, trailers.get("x-served-by"))
    try:
        channel.unary_unary("/test.Echo/Missing")(b"widget", timeout=20)
        print("missing: no error")
    except grpc.RpcError as e:
        print("missing:", e.code().name, e.details())
    items = [m.decode() for m in channel.unary_stream("/test.Echo/Count")(b"3", timeout=20)]
    print("count:", ",".join(items))


if __name__ == "__main__":
    main()
