/*
 * test_virtio_worker.c: unit tests of the ioeventfd worker thread (devices/virtio_worker.c):
 * a kick on an entry's eventfd runs that entry's work on the thread and is counted; entries
 * are fixed once started; destroy stops the thread and closes the eventfds, also when the
 * thread never started. CK_FORK.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "virtio_worker.h"

static struct virtio_worker w;
static unsigned runs[2]; /* atomic: written by the worker */

static void work(void *dev)
{
    __atomic_fetch_add((unsigned *)dev, 1, __ATOMIC_RELAXED);
}

static void kick(int fd)
{
    uint64_t one = 1;
    ck_assert_int_eq(write(fd, &one, sizeof(one)), sizeof(one));
}

/* Waits (at most 5 s) for *p to reach n. */
static void wait_for(unsigned *p, unsigned n)
{
    for (int i = 0; i < 5000 && __atomic_load_n(p, __ATOMIC_RELAXED) < n; i++)
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    ck_assert_uint_eq(__atomic_load_n(p, __ATOMIC_RELAXED), n);
}

START_TEST(test_kick_runs_the_entry)
{
    int fd[2];
    unsigned idx[2];
    virtio_worker_init(&w);
    ck_assert_int_eq(virtio_worker_add(&w, work, &runs[0], &fd[0], &idx[0]), 0);
    ck_assert_int_eq(virtio_worker_add(&w, work, &runs[1], &fd[1], &idx[1]), 0);
    ck_assert_uint_eq(idx[0], 0);
    ck_assert_uint_eq(idx[1], 1);
    ck_assert_int_eq(virtio_worker_start(&w, "test-io"), 0);
    kick(fd[1]);
    wait_for(&runs[1], 1);
    kick(fd[0]);
    wait_for(&runs[0], 1);
    kick(fd[1]);
    wait_for(&runs[1], 2);
    ck_assert_uint_eq(virtio_worker_kicks(&w, 0), 1);
    ck_assert_uint_eq(virtio_worker_kicks(&w, 1), 2);
    ck_assert_uint_eq(virtio_worker_kicks(&w, VIRTIO_WORKER_MAX), 0);
    int efd;
    unsigned i;
    ck_assert_int_eq(virtio_worker_add(&w, work, &runs[0], &efd, &i), -EBUSY);
    virtio_worker_destroy(&w);
    ck_assert_int_eq(fcntl(fd[0], F_GETFD), -1); /* closed */
    ck_assert_uint_eq(virtio_worker_kicks(&w, 1), 2);
}
END_TEST

START_TEST(test_full_and_never_started)
{
    int fd;
    unsigned idx;
    virtio_worker_init(&w);
    virtio_worker_destroy(&w); /* nothing to undo */
    virtio_worker_init(&w);
    for (unsigned i = 0; i < VIRTIO_WORKER_MAX; i++)
        ck_assert_int_eq(virtio_worker_add(&w, work, &runs[0], &fd, &idx), 0);
    ck_assert_int_eq(virtio_worker_add(&w, work, &runs[0], &fd, &idx), -ENOSPC);
    virtio_worker_destroy(&w);
    ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("virtio_worker");
    TCase *tc = tcase_create("worker");
    tcase_add_test(tc, test_kick_runs_the_entry);
    tcase_add_test(tc, test_full_and_never_started);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
