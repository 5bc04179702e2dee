"""A gRPC server (grpcio) for the HTTP/2-to-servers tests, without generated code: the
methods take and answer raw bytes.

  /test.Echo/Say      answers "echo:" + the request
  /test.Echo/Missing  fails with NOT_FOUND and a detail message (status in the trailers)
  /test.Echo/Count    streams back N messages, N being the request as a number

Usage: server.py PORT. Prints "ready" once it listens; stops when its standard input closes.
"""

import sys
from concurrent import futures

import grpc


def say(request, context):
    context.set_trailing_metadata((("x-served-by", "grpcio"),))
    return b"echo:" + request


def missing(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing: " + request.decode())


def count(request, context):
    for i in range(int(request.decode())):
        yield ("item %d" % i).encode()


def main():
    port = int(sys.argv[1])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Missing": grpc.unary_unary_rpc_method_handler(missing),
        "Count": grpc.unary_stream_rpc_method_handler(count),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", handlers),))
    server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    print("ready", flush=True)
    sys.stdin.read()
    server.stop(0)


if __name__ == "__main__":
    main()
