/* What one response write costs the kernel, by call shape: a 169-byte response (124-byte head,
 * 45-byte body, the bench/http1.sh origin's) written on a loopback TCP connection as a two-part
 * writev, as a one-part writev, and as one send. Each write is timed alone (the reader drains
 * it untimed, then answers one byte so that ACKs ride on data as in request/response traffic);
 * the medians of many writes move little on a loaded machine where whole-process CPU figures
 * move by 10 %. Built and run by bench/send_shape.sh. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof at;
    if (bind(listener, (void *)&at, sizeof at) || listen(listener, 1) ||
        getsockname(listener, (void *)&at, &len))
        return perror("listen"), 1;
    int writer = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(writer, (void *)&at, sizeof at)) return perror("connect"), 1;
    int reader = accept(listener, 0, 0);
    int one = 1;
    setsockopt(writer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char head[124], body[45], whole[169], drain[4096];
    memset(head, 'h', sizeof head);
    memset(body, 'b', sizeof body);
    memcpy(whole, head, sizeof head);
    memcpy(whole + sizeof head, body, sizeof body);
    struct iovec two[2] = {{head, sizeof head}, {body, sizeof body}};
    struct iovec single[1] = {{whole, sizeof whole}};
    long *took[3];
    for (int s = 0; s < 3; s++) took[s] = malloc(n * sizeof(long));
    for (int i = 0; i < n; i++) {
        for (int shape = 0; shape < 3; shape++) {
            long t0 = now_ns();
            if (shape == 0) writev(writer, two, 2);
            else if (shape == 1) writev(writer, single, 1);
            else send(writer, whole, sizeof whole, MSG_NOSIGNAL);
            took[shape][i] = now_ns() - t0;
            recv(reader, drain, sizeof drain, 0);
            send(reader, "x", 1, 0);
            recv(writer, drain, 1, 0);
        }
    }
    const char *names[3] = {"writev, 2 parts", "writev, 1 part ", "send           "};
    for (int s = 0; s < 3; s++) {
        qsort(took[s], n, sizeof(long), by_value);
        printf("%s median %ld ns, quartiles %ld-%ld ns\n", names[s], took[s][n / 2], took[s][n / 4],
               took[s][3 * n / 4]);
    }
    return 0;
}
