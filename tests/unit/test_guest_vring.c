/*
 * test_guest_vring.c: the guest's virtqueue driver (guest/virtio/virtio_ring.c, through
 * guest_vring_shim.c) against minivmm's device-side ring walker (devices/virtqueue.c) on one
 * gmem: transmit and receive round trips, EVENT_IDX kick and interrupt suppression in both
 * directions, the enable-callback race, and 16-bit index wrap-around.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <minivmm/virtio.h>

#include "ck_loop.h"
#include "minivmm/hw/gmem.h"
#include "guest_vring_shim.h"
#include "virtqueue.h"

#define MiB (1ull << 20)
#define RAM (32 * MiB) /* gmem_init refuses less than its minimum */
#define POOL_GPA (1 * MiB) /* the guest's "page allocator" hands out [1 MiB, 5 MiB) */
#define POOL_SIZE (4 * MiB)
#define F_EVENT_IDX VIRTIO_BIT(VIRTIO_F_EVENT_IDX)

static struct gmem gm;
static struct virtqueue dev;
static struct gvq *q;

static void start(unsigned int num, bool event_idx)
{
    uint64_t d, a, u;

    ck_assert_int_eq(gmem_init(&gm, RAM), 0);
    gvq_set_memory(gmem_ptr(&gm, POOL_GPA, POOL_SIZE), POOL_GPA, POOL_SIZE);
    q = gvq_create(num, event_idx, &d, &a, &u);
    ck_assert_ptr_nonnull(q);
    virtqueue_init(&dev, &gm);
    ck_assert_int_eq(virtqueue_enable(&dev, (uint16_t)gvq_num(q), d, a, u,
                                      event_idx ? F_EVENT_IDX : 0),
                     0);
}

static void teardown(void)
{
    free(q);
    q = NULL;
    gmem_destroy(&gm);
}

/* Transmit: the guest fills buffers in place; the device reads exactly those bytes. */
START_TEST(tx_round_trip)
{
    struct vq_chain c;
    char got[64];
    uint32_t len;

    start(8, true);
    ck_assert_uint_eq(gvq_num(q), 8);
    for (int i = 0; i < 5; i++) {
        int id = gvq_get_free(q);

        ck_assert_int_ge(id, 0);
        snprintf((char *)gvq_buf(q, (unsigned)id), 64, "frame %d", i);
        gvq_add(q, (unsigned)id, 8, false);
    }
    ck_assert(gvq_kick_prepare(q)); /* avail_event 0 lies in [0, 5) */
    ck_assert(!gvq_kick_prepare(q)); /* nothing new */
    for (int i = 0; i < 5; i++) {
        char want[16];

        ck_assert_int_eq(virtqueue_pop(&dev, &c), 0);
        ck_assert_uint_eq(c.nout, 1);
        ck_assert_uint_eq(c.nin, 0);
        ck_assert_uint_eq(c.out_len, 8);
        ck_assert_int_eq(vq_chain_read(&gm, &c, 0, got, 8), 0);
        snprintf(want, sizeof(want), "frame %d", i);
        ck_assert_int_eq(memcmp(got, want, 8), 0);
        ck_assert_int_eq(virtqueue_push(&dev, c.head, 0), 0);
    }
    ck_assert_int_eq(virtqueue_pop(&dev, &c), -EAGAIN);
    for (int i = 0; i < 5; i++) {
        int id = gvq_get_buf(q, &len);

        ck_assert_int_ge(id, 0);
        gvq_put_free(q, (unsigned)id);
    }
    ck_assert_int_eq(gvq_get_buf(q, &len), -1);
    ck_assert_uint_eq(gvq_nr_free(q), 8);
}
END_TEST

/* Receive: the device writes into the guest's writable buffers and reports the length. */
START_TEST(rx_round_trip)
{
    struct vq_chain c;
    uint32_t len;
    int id;

    start(16, true);
    while ((id = gvq_get_free(q)) >= 0)
        gvq_add(q, (unsigned)id, 2048, true);
    ck_assert(gvq_kick_prepare(q));
    ck_assert_uint_eq(virtqueue_avail_count(&dev), 16);
    ck_assert(!gvq_enable_cb(q)); /* used_event = 0: nothing used yet */
    ck_assert_int_eq(virtqueue_pop(&dev, &c), 0);
    ck_assert_uint_eq(c.nin, 1);
    ck_assert_uint_eq(c.in_len, 2048);
    ck_assert_int_eq(vq_chain_write(&gm, &c, 0, "hello guest", 11), 0);
    ck_assert_int_eq(virtqueue_push(&dev, c.head, 11), 0);
    ck_assert(virtqueue_should_notify(&dev)); /* used_event 0 crossed */
    id = gvq_get_buf(q, &len);
    ck_assert_int_eq(id, c.head);
    ck_assert_uint_eq(len, 11);
    ck_assert_int_eq(memcmp(gvq_buf(q, (unsigned)id), "hello guest", 11), 0);
    /* Back to the device: the same descriptor and buffer. */
    gvq_add(q, (unsigned)id, 2048, true);
    ck_assert(!gvq_enable_cb(q));
    ck_assert_int_eq(virtqueue_pop(&dev, &c), 0);
    ck_assert_int_eq(virtqueue_push(&dev, c.head, 60), 0);
    ck_assert(virtqueue_should_notify(&dev)); /* used_event 1 crossed */
}
END_TEST

/* EVENT_IDX from the device side: it asks for a kick only at avail entry 3. */
START_TEST(kick_suppression)
{
    start(8, true);
    virtqueue_set_avail_event(&dev, 3);
    for (int i = 0; i < 3; i++) {
        gvq_add(q, (unsigned)gvq_get_free(q), 10, false);
        ck_assert(!gvq_kick_prepare(q)); /* entries 0..2 do not cross 3 */
    }
    gvq_add(q, (unsigned)gvq_get_free(q), 10, false);
    ck_assert(gvq_kick_prepare(q)); /* entry 3 */
    gvq_add(q, (unsigned)gvq_get_free(q), 10, false);
    ck_assert(!gvq_kick_prepare(q));
}
END_TEST

/* Without EVENT_IDX the device's NO_NOTIFY flag decides. */
START_TEST(kick_no_event_idx)
{
    start(8, false);
    virtqueue_disable_notify(&dev);
    gvq_add(q, (unsigned)gvq_get_free(q), 10, false);
    ck_assert(!gvq_kick_prepare(q));
    ck_assert(virtqueue_enable_notify(&dev)); /* one entry waits: the device must pop it */
    gvq_add(q, (unsigned)gvq_get_free(q), 10, false);
    ck_assert(gvq_kick_prepare(q));
}
END_TEST

/* The lost-wakeup race: a used entry that lands before enable_cb is reported by it. */
START_TEST(enable_cb_race)
{
    struct vq_chain c;
    uint32_t len;

    start(8, true);
    gvq_add(q, (unsigned)gvq_get_free(q), 100, true);
    gvq_kick_prepare(q);
    ck_assert_int_eq(virtqueue_pop(&dev, &c), 0);
    ck_assert_int_eq(virtqueue_push(&dev, c.head, 42), 0);
    ck_assert(gvq_enable_cb(q)); /* must poll, not sleep */
    ck_assert_int_ge(gvq_get_buf(q, &len), 0);
    ck_assert(!gvq_enable_cb(q));
}
END_TEST

/* 70000 round trips: avail and used indices wrap past 65535 on both sides. */
START_TEST(index_wrap)
{
    struct vq_chain c;
    uint32_t len;

    start(4, true);
    for (unsigned int i = 0; i < 70000; i++) {
        int id = gvq_get_free(q), got;

        LOOP_ASSERT_MSG(id >= 0, "round %u", i);
        gvq_buf(q, (unsigned)id)[0] = (uint8_t)i;
        gvq_add(q, (unsigned)id, 1, false);
        LOOP_ASSERT_MSG(gvq_kick_prepare(q), "round %u", i); /* the device re-arms at every pop */
        LOOP_ASSERT_MSG(virtqueue_pop(&dev, &c) == 0, "round %u", i);
        virtqueue_enable_notify(&dev);
        LOOP_ASSERT_MSG(virtqueue_push(&dev, c.head, 0) == 0, "round %u", i);
        LOOP_ASSERT_MSG(gvq_enable_cb(q), "round %u", i); /* the entry just pushed */
        got = gvq_get_buf(q, &len);
        LOOP_ASSERT_MSG(got == id, "round %u", i);
        gvq_put_free(q, (unsigned)got);
    }
    ck_assert_uint_eq(gvq_nr_free(q), 4);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("guest_vring");
    TCase *tc = tcase_create("driver_vs_device");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, tx_round_trip);
    tcase_add_test(tc, rx_round_trip);
    tcase_add_test(tc, kick_suppression);
    tcase_add_test(tc, kick_no_event_idx);
    tcase_add_test(tc, enable_cb_race);
    tcase_add_test(tc, index_wrap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
