/*
 * test_console.c: unit tests of the console's output side (src/console.c) on a pipe: output
 * arrives byte-exact and in order; console_tx never blocks when nobody reads the pipe, and
 * console_stop then completes within the flush stall limit, counting what it dropped (the
 * bytes that did reach the pipe are the head of the output, in order); a reader that is only
 * slow still gets everything at stop; a closed reader (EPIPE) drops and says so; output
 * queued before console_start is flushed by console_stop. CK_FORK.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "minivmm/util.h"

static struct console *con;
static int pfd[2];

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* as minivmm does: EPIPE, not death */
    con = malloc(sizeof(*con));
    ck_assert_ptr_nonnull(con);
    ck_assert_int_eq(pipe(pfd), 0);
    console_init(con, -1, pfd[1]);
}

static void teardown(void)
{
    close(pfd[0]);
    close(pfd[1]);
    free(con);
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + i / 251);
}

static double secs(void)
{
    return now_ns() / 1e9;
}

/* Reads fd until EOF or `want` bytes, after sleeping pause_ms first. */
struct reader {
    int fd;
    unsigned pause_ms;
    size_t want, got;
    uint8_t *buf;
    pthread_t t;
};

static void *reader_thread(void *arg)
{
    struct reader *r = arg;
    if (r->pause_ms) {
        struct timespec ts = {r->pause_ms / 1000, (long)(r->pause_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    while (r->got < r->want) {
        ssize_t n = read(r->fd, r->buf + r->got, r->want - r->got);
        if (n <= 0)
            break;
        r->got += (size_t)n;
    }
    return NULL;
}

static void reader_start(struct reader *r, int fd, size_t want, unsigned pause_ms)
{
    *r = (struct reader){.fd = fd, .pause_ms = pause_ms, .want = want, .buf = malloc(want)};
    ck_assert_ptr_nonnull(r->buf);
    ck_assert_int_eq(pthread_create(&r->t, NULL, reader_thread, r), 0);
}

static void check_prefix(const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != pattern(i))
            ck_abort_msg("byte %zu: 0x%02x, want 0x%02x", i, buf[i], pattern(i));
}

/* ---- Output delivered ---- */

START_TEST(output_exact)
{
    const size_t total = 200000; /* over the pipe's 64 KiB, under the ring */
    struct reader r;
    reader_start(&r, pfd[0], total, 0);
    ck_assert_int_eq(console_start(con, NULL, NULL, NULL), 0);
    for (size_t i = 0; i < total; i++)
        console_tx(con, pattern(i));
    console_stop(con);
    pthread_join(r.t, NULL);
    ck_assert_uint_eq(r.got, total);
    check_prefix(r.buf, total);
    ck_assert_uint_eq(con->out_dropped, 0);
    free(r.buf);
}
END_TEST

START_TEST(output_slow_reader_flushed_at_stop)
{
    /* The reader wakes up only after the stop began, but within the stall limit. */
    const size_t total = 150000;
    struct reader r;
    ck_assert_int_eq(console_start(con, NULL, NULL, NULL), 0);
    for (size_t i = 0; i < total; i++)
        console_tx(con, pattern(i));
    reader_start(&r, pfd[0], total, CONSOLE_FLUSH_STALL_MS / 2);
    console_stop(con);
    pthread_join(r.t, NULL);
    ck_assert_uint_eq(r.got, total);
    check_prefix(r.buf, total);
    ck_assert_uint_eq(con->out_dropped, 0);
    free(r.buf);
}
END_TEST

START_TEST(output_before_start_flushed_at_stop)
{
    const char *msg = "early\r\n";
    for (const char *p = msg; *p; p++)
        console_tx(con, (uint8_t)*p);
    console_stop(con);
    char buf[32] = {0};
    ck_assert_int_eq(read(pfd[0], buf, sizeof(buf) - 1), (int)strlen(msg));
    ck_assert_str_eq(buf, msg);
}
END_TEST

/* ---- Nobody reads stdout ---- */

/* The defect this guards against: console_tx wrote to the pipe from the vCPU thread and
 * retried forever, so the vCPU (holding the UART lock) hung and a stop never completed. */
START_TEST(stalled_reader_tx_returns_stop_completes)
{
    const size_t total = CONSOLE_OUT_SIZE + 4 * 65536; /* more than the ring and the pipe */
    ck_assert_int_eq(console_start(con, NULL, NULL, NULL), 0);
    double t0 = secs();
    for (size_t i = 0; i < total; i++)
        console_tx(con, pattern(i));
    double t_tx = secs() - t0;
    ck_assert_msg(t_tx < 2.0, "console_tx blocked: %.2f s for %zu bytes", t_tx, total);
    t0 = secs();
    console_stop(con);
    double t_stop = secs() - t0;
    ck_assert_msg(t_stop < CONSOLE_FLUSH_STALL_MS / 1000.0 + 2.0, "stop took %.2f s", t_stop);
}
END_TEST

START_TEST(stalled_reader_drops_counted_order_kept)
{
    const size_t total = CONSOLE_OUT_SIZE + 4 * 65536;
    ck_assert_int_eq(console_start(con, NULL, NULL, NULL), 0);
    for (size_t i = 0; i < total; i++)
        console_tx(con, pattern(i));
    console_stop(con);
    ck_assert_uint_gt(con->out_dropped, 0);
    ck_assert_int_eq(con->out_errno, 0); /* not a failure: the reader is just not reading */
    /* What reached the pipe is the output's head, in order; the rest was counted. */
    ck_assert_int_eq(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
    uint8_t *buf = malloc(total);
    ck_assert_ptr_nonnull(buf);
    size_t got = 0;
    ssize_t n;
    while (got < total && (n = read(pfd[0], buf + got, total - got)) > 0)
        got += (size_t)n;
    ck_assert_uint_gt(got, 0);
    check_prefix(buf, got);
    ck_assert_uint_eq(got + con->out_dropped, total);
    free(buf);
}
END_TEST

START_TEST(reader_gone_drops_with_epipe)
{
    close(pfd[0]);
    pfd[0] = open("/dev/null", O_RDONLY); /* for teardown */
    ck_assert_int_eq(console_start(con, NULL, NULL, NULL), 0);
    for (size_t i = 0; i < 1000; i++)
        console_tx(con, pattern(i));
    double t0 = secs();
    console_stop(con);
    ck_assert_msg(secs() - t0 < 1.0, "stop waited on a closed pipe");
    ck_assert_int_eq(con->out_errno, EPIPE);
    ck_assert_uint_eq(con->out_dropped, 1000);
}
END_TEST

START_TEST(stop_twice)
{
    ck_assert_int_eq(console_start(con, NULL, NULL, NULL), 0);
    console_tx(con, 'x');
    console_stop(con);
    console_stop(con);
    char c = 0;
    ck_assert_int_eq(read(pfd[0], &c, 1), 1);
    ck_assert_int_eq(c, 'x');
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("console");
    TCase *tc = tcase_create("output");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, output_exact);
    tcase_add_test(tc, output_slow_reader_flushed_at_stop);
    tcase_add_test(tc, output_before_start_flushed_at_stop);
    tcase_add_test(tc, stop_twice);
    suite_add_tcase(s, tc);
    tc = tcase_create("stalled_stdout");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, stalled_reader_tx_returns_stop_completes);
    tcase_add_test(tc, stalled_reader_drops_counted_order_kept);
    tcase_add_test(tc, reader_gone_drops_with_epipe);
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
