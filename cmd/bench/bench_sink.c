/*
 * bench_sink.c: the UDP sink of the QEMU runs of `minivmm bench net` and `minivmm bench io`
 * (bench_sink.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_sink.h"

static void *sink_thread(void *arg)
{
    struct bench_sink *s = arg;
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        struct pollfd pf = {.fd = s->fd, .events = POLLIN};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t n;
        while ((n = recv(s->fd, s->buf, BENCH_SINK_BUF, MSG_DONTWAIT)) >= 0) {
            if (s->each)
                s->each(s->arg, s->buf, (size_t)n);
            s->bytes += (uint64_t)n;
            atomic_fetch_add_explicit(&s->frames, 1, memory_order_relaxed);
        }
    }
    return NULL;
}

int bench_udp_socket(int *fd, uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    *fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return -errno;
    if (bind(*fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(*fd, (struct sockaddr *)&a, &len) < 0) {
        int e = -errno;
        close(*fd);
        *fd = -1;
        return e;
    }
    *port = ntohs(a.sin_port);
    return 0;
}

int bench_sink_start(struct bench_sink *s, int rcvbuf,
                     void (*each)(void *arg, const void *buf, size_t n), void *arg)
{
    int ret;

    memset(s, 0, sizeof(*s));
    atomic_init(&s->stop, false);
    atomic_init(&s->frames, 0);
    s->each = each;
    s->arg = arg;
    s->buf = malloc(BENCH_SINK_BUF);
    if (!s->buf)
        return -ENOMEM;
    ret = bench_udp_socket(&s->fd, &s->port);
    if (ret)
        goto err_free_buf;
    if (rcvbuf > 0 && setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    ret = -pthread_create(&s->thread, NULL, sink_thread, s);
    if (ret)
        goto err_close;
    return 0;

err_close:
    close(s->fd);
err_free_buf:
    free(s->buf);
    s->buf = NULL;
    return ret;
}

void bench_sink_stop(struct bench_sink *s, uint64_t want)
{
    uint64_t last = atomic_load_explicit(&s->frames, memory_order_relaxed);
    for (int quiet = 0; quiet < 5 && last < want; quiet++) {
        usleep(20000);
        uint64_t now = atomic_load_explicit(&s->frames, memory_order_relaxed);
        if (now != last)
            quiet = 0;
        last = now;
    }
    atomic_store_explicit(&s->stop, true, memory_order_release);
    pthread_join(s->thread, NULL);
    close(s->fd);
    free(s->buf);
    s->buf = NULL;
}
