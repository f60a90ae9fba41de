/*
 * test_bench_sink.c: unit tests of the UDP sink of `minivmm bench net|io` (cmd/bench/
 * bench_sink.c): it counts what arrives and hands every datagram to its callback; two sinks
 * side by side each see their own bytes (each has its own receive buffer: one static buffer
 * shared by every sink thread was overwritten by the other sink's datagrams while a callback
 * still read it); it stops when asked even with nothing arriving. CK_FORK.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_sink.h"
#include "minivmm/util.h"

static void send_to(uint16_t port, const void *buf, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sendto(fd, buf, n, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)n);
    close(fd);
}

struct counted {
    atomic_uint n;
    atomic_bool bad;
    unsigned char want;
};

static void check_bytes(void *arg, const void *buf, size_t n)
{
    struct counted *c = arg;
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++)
        if (p[i] != c->want)
            atomic_store(&c->bad, true);
    atomic_fetch_add(&c->n, 1);
}

START_TEST(counts_and_hands_over)
{
    struct bench_sink s;
    struct counted c = {.want = 0x5a};
    unsigned char d[1000];
    memset(d, 0x5a, sizeof(d));
    ck_assert_int_eq(bench_sink_start(&s, 0, check_bytes, &c), 0);
    ck_assert_uint_ne(s.port, 0);
    for (int i = 0; i < 10; i++)
        send_to(s.port, d, 100 + (size_t)i);
    bench_sink_stop(&s, 10);
    ck_assert_uint_eq(atomic_load(&s.frames), 10);
    ck_assert_uint_eq(s.bytes, 10 * 100 + 45);
    ck_assert_uint_eq(atomic_load(&c.n), 10);
    ck_assert(!atomic_load(&c.bad));
}
END_TEST

/* Sink A's callback holds its datagram while sink B receives one of other bytes; A then finds
 * its own bytes still there. */
struct held {
    sem_t in_a, b_done;
    atomic_bool bad;
    atomic_uint n_b;
};

static struct held h;

static void hold_a(void *arg, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    sem_post(&h.in_a);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 5;
    sem_timedwait(&h.b_done, &t);
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xaa)
            atomic_store(&h.bad, true);
}

static void count_b(void *arg, const void *buf, size_t n)
{
    atomic_fetch_add(&h.n_b, 1);
    sem_post(&h.b_done);
}

START_TEST(own_buffer_per_sink)
{
    struct bench_sink a, b;
    unsigned char da[512], db[512];
    memset(da, 0xaa, sizeof(da));
    memset(db, 0xbb, sizeof(db));
    sem_init(&h.in_a, 0, 0);
    sem_init(&h.b_done, 0, 0);
    ck_assert_int_eq(bench_sink_start(&a, 0, hold_a, NULL), 0);
    ck_assert_int_eq(bench_sink_start(&b, 0, count_b, NULL), 0);
    send_to(a.port, da, sizeof(da));
    sem_wait(&h.in_a); /* A's thread is inside its callback, on its buffer */
    send_to(b.port, db, sizeof(db));
    bench_sink_stop(&a, 1);
    bench_sink_stop(&b, 1);
    ck_assert_uint_eq(atomic_load(&h.n_b), 1);
    ck_assert_msg(!atomic_load(&h.bad), "sink B's datagram overwrote sink A's buffer");
}
END_TEST

START_TEST(stops_when_idle)
{
    struct bench_sink s;
    ck_assert_int_eq(bench_sink_start(&s, 1 << 20, NULL, NULL), 0);
    uint64_t t0 = now_ns();
    bench_sink_stop(&s, 1000); /* nothing comes: ~100 ms of quiet, then the thread leaves */
    ck_assert_uint_lt(now_ns() - t0, 2000000000ull);
    ck_assert_uint_eq(atomic_load(&s.frames), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("bench_sink");
    TCase *tc = tcase_create("sink");
    tcase_add_test(tc, counts_and_hands_over);
    tcase_add_test(tc, own_buffer_per_sink);
    tcase_add_test(tc, stops_when_idle);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
