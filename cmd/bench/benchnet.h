/*
 * benchnet.h: `minivmm bench net`, the NIC benchmark (benchnet.c, docs/BENCHMARKS.md).
 */
#ifndef MINIVMM_BENCHNET_H
#define MINIVMM_BENCHNET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* argv[0] is "net". Returns the exit status: 0, or 1 when a run failed or on bad usage. */
int benchnet_main(int argc, char **argv);

/* Lent to `minivmm bench io` (benchio.c), over a run's captured output: */
struct bench_child;
/* The first line of text starting with key, or NULL. */
const char *benchnet_find_line(const char *text, const char *key);
/* Userspace exits between the guest's xfer-start and xfer-done markers (the run summary's
 * phase table); -1 when absent. */
int64_t benchnet_xfer_exits(const struct bench_child *c);
/* From "minivmm: nic: vf0 rx R tx T ...": T, whether a drop is listed, the ioeventfd reads (-1
 * when not shown). 0, or -1 without the line. */
int benchnet_parse_nic(const struct bench_child *c, uint64_t *tx, bool *drops, int64_t *reads);
/* A UDP socket bound to 127.0.0.1 on a kernel-chosen port: 0 or -errno. */
int benchnet_udp_socket(int *fd, uint16_t *port);

/* A UDP sink on 127.0.0.1 for QEMU's -netdev dgram: a thread counting datagrams (and handing
 * each to `each`, when set, on that thread). */
struct benchnet_sink {
    int fd;
    uint16_t port;
    volatile bool stop;
    uint64_t frames; /* atomically read while running */
    uint64_t bytes;  /* read after the join */
    void (*each)(void *arg, const void *buf, size_t n);
    void *arg;
    pthread_t thread;
};
/* Opens the socket (with a receive buffer of rcvbuf bytes when rcvbuf > 0: SO_RCVBUFFORCE,
 * else SO_RCVBUF) and starts the thread: 0, or -errno. */
int benchnet_sink_start(struct benchnet_sink *s, int rcvbuf,
                        void (*each)(void *arg, const void *buf, size_t n), void *arg);
/* Stops the thread once `want` frames arrived or nothing came for ~100 ms; closes the socket. */
void benchnet_sink_stop(struct benchnet_sink *s, uint64_t want);

#endif
