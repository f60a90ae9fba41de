/*
 * bench_sink.h: a UDP sink on 127.0.0.1 for QEMU's `-netdev dgram` (bench_sink.c), used by
 * `minivmm bench net` and `minivmm bench io`: a thread counting the datagrams that arrive (and
 * handing each to a callback), and the loopback UDP socket it is built on.
 *
 * Threads: the sink's thread owns the socket and its receive buffer (one per sink, so sinks
 * run side by side); the starting thread reads `frames` while it runs, `bytes` after
 * bench_sink_stop(), and asks it to stop through `stop` (C11 atomics: a plain or volatile bool
 * is a data race).
 */
#ifndef MINIVMM_BENCH_SINK_H
#define MINIVMM_BENCH_SINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_SINK_BUF 65536 /* bytes of the receive buffer: the largest UDP datagram fits */

struct bench_sink {
    int fd;
    uint16_t port;
    atomic_bool stop;
    _Atomic uint64_t frames; /* read while running */
    uint64_t bytes;          /* read after bench_sink_stop() */
    void (*each)(void *arg, const void *buf, size_t n); /* on the sink's thread */
    void *arg;
    unsigned char *buf; /* BENCH_SINK_BUF bytes, the thread's own */
    pthread_t thread;
};

/* A UDP socket bound to 127.0.0.1 on a kernel-chosen port: 0 or -errno. */
int bench_udp_socket(int *fd, uint16_t *port);
/* Opens the socket (with a receive buffer of rcvbuf bytes when rcvbuf > 0: SO_RCVBUFFORCE,
 * else SO_RCVBUF) and starts the thread: 0, or -errno. */
int bench_sink_start(struct bench_sink *s, int rcvbuf,
                     void (*each)(void *arg, const void *buf, size_t n), void *arg);
/* Stops the thread once `want` frames arrived or nothing came for ~100 ms; closes the socket. */
void bench_sink_stop(struct bench_sink *s, uint64_t want);

#endif
