/*
 * test_virtqueue.c: unit tests of the split virtqueue (devices/virtqueue.c), driven as a guest
 * driver would drive it.
 *
 * Each test gets a real 32 MiB gmem and lays out the rings itself (descriptor table, avail and
 * used rings at fixed guest addresses), writes descriptors and avail entries like a driver and
 * checks what virtqueue_pop() returns or which vq_error breaks the queue. Hostile chains come
 * from one table (tcase_add_loop_test), each entry a small function that builds one bad
 * chain: buffers outside RAM or wrapping 64 bits, loops, bad indices, avail->idx jumps, every
 * indirect-table misuse, writable-before-readable, chains too long in segments or bytes. The
 * used ring and the EVENT_IDX decisions are checked across the 16-bit wrap of the indices.
 * Each test runs in its own process (CK_FORK), so a crash is a failed test.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ck_loop.h"
#include "minivmm/hw/gmem.h"
#include "virtqueue.h"
#include "minivmm/util.h"

#define MiB (1ull << 20)
#define RAM (32 * MiB)
#define QSIZE 8
#define DESC 0x10000
#define AVAIL 0x20000
#define USED 0x30000
#define TABLE 0x40000 /* indirect tables */
#define BUF 0x100000  /* data buffers */

#define F_INDIRECT VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX VIRTIO_BIT(VIRTIO_F_EVENT_IDX)

#define N(a) ((int)(ARRAY_SIZE(a)))

static struct gmem gm;
static struct virtqueue vq;
static struct vq_chain chain;
static uint16_t shadow_avail; /* the "driver's" avail idx */

static void *gp(gpa_t gpa, uint64_t len)
{
    void *p = gmem_ptr(&gm, gpa, len);
    ck_assert_ptr_nonnull(p);
    return p;
}

static struct vring_avail *avail(void)
{
    return gp(AVAIL, vring_avail_size(QSIZE));
}

static struct vring_used *used(void)
{
    return gp(USED, vring_used_size(QSIZE));
}

static void enable(uint64_t features)
{
    ck_assert_int_eq(virtqueue_enable(&vq, QSIZE, DESC, AVAIL, USED, features), 0);
    shadow_avail = 0;
}

static void setup(void)
{
    ck_assert_int_eq(gmem_init(&gm, RAM), 0);
    virtqueue_init(&vq, &gm);
    enable(F_INDIRECT | F_EVENT_IDX);
}

static void teardown(void)
{
    gmem_destroy(&gm);
}

static void set_desc_at(gpa_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                        uint16_t next)
{
    struct vring_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};
    ck_assert_int_eq(gmem_write(&gm, table + 16ull * i, &d, sizeof(d)), 0);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    set_desc_at(DESC, i, addr, len, flags, next);
}

/* Publishes head as the driver does: ring entry, then idx (§2.7.13). */
static void publish(uint16_t head)
{
    avail()->ring[shadow_avail % QSIZE] = head;
    shadow_avail++;
    __atomic_store_n(&avail()->idx, shadow_avail, __ATOMIC_RELEASE);
}

static void expect_broken(enum vq_error err)
{
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), -EINVAL);
    ck_assert(vq.broken);
    ck_assert_msg(vq.error == err, "error %d (%s), expected %d (%s)", vq.error,
                  vq_error_str(vq.error), err, vq_error_str(err));
}

static void expect_seg(unsigned i, gpa_t gpa, uint32_t len, bool is_write)
{
    ck_assert_uint_eq(chain.segs[i].gpa, gpa);
    ck_assert_uint_eq(chain.segs[i].len, len);
    ck_assert_int_eq(chain.segs[i].is_write, is_write);
}

/* ---- enable checks the layout ---- */

static const struct {
    uint32_t size;
    gpa_t desc, avail, used;
    int ret;
} layouts[] = {
    {8, DESC, AVAIL, USED, 0},
    {1, DESC, AVAIL, USED, 0},
    {32768, 0x100000, 0x200000, 0x300000, 0},
    {0, DESC, AVAIL, USED, -EINVAL},
    {3, DESC, AVAIL, USED, -EINVAL},
    {6, DESC, AVAIL, USED, -EINVAL},
    {8, DESC + 8, AVAIL, USED, -EINVAL}, /* desc needs 16 */
    {8, DESC, AVAIL + 1, USED, -EINVAL}, /* avail needs 2 */
    {8, DESC, AVAIL, USED + 2, -EINVAL}, /* used needs 4 */
    {8, RAM - 64, AVAIL, USED, -EINVAL}, /* 128-byte table crosses the end of RAM */
    {8, RAM - 128, AVAIL, USED, 0},      /* ... and ends exactly at it */
    {8, DESC, RAM - 20, USED, -EINVAL},  /* avail is 22 bytes */
    {8, DESC, AVAIL, RAM - 68, -EINVAL}, /* used is 70 bytes */
    {8, DESC, AVAIL, RAM - 72, 0},
    {8, 0xfffffffffffffff0ull, AVAIL, USED, -EINVAL}, /* wraps */
    {8, DESC, AVAIL, 0x100000000ull, -EINVAL},        /* not RAM */
};

START_TEST(test_enable_layout)
{
    int r = virtqueue_enable(&vq, (uint16_t)layouts[_i].size, layouts[_i].desc, layouts[_i].avail,
                             layouts[_i].used, 0);
    ck_assert_int_eq(r, layouts[_i].ret);
    ck_assert_int_eq(vq.ready, r == 0);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), r == 0 ? -EAGAIN : -ENODEV);
}
END_TEST

START_TEST(test_enable_65535_is_not_a_size)
{
    ck_assert_int_eq(virtqueue_enable(&vq, 65535, DESC, AVAIL, USED, 0), -EINVAL);
}
END_TEST

START_TEST(test_disable_bumps_epoch)
{
    uint32_t e = vq.epoch;
    virtqueue_disable(&vq);
    ck_assert(!vq.ready);
    ck_assert_uint_ne(vq.epoch, e);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), -ENODEV);
    ck_assert_int_eq(virtqueue_push(&vq, 0, 0), -ENODEV);
}
END_TEST

/* ---- pop walks good chains ---- */

START_TEST(test_pop_empty)
{
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), -EAGAIN);
    ck_assert_uint_eq(virtqueue_avail_count(&vq), 0);
    ck_assert(!vq.broken);
}
END_TEST

START_TEST(test_pop_single)
{
    set_desc(3, BUF, 100, 0, 0);
    publish(3);
    ck_assert_uint_eq(virtqueue_avail_count(&vq), 1);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(chain.head, 3);
    ck_assert_uint_eq(chain.nout, 1);
    ck_assert_uint_eq(chain.nin, 0);
    ck_assert_uint_eq(chain.out_len, 100);
    expect_seg(0, BUF, 100, false);
    ck_assert_uint_eq(vq.last_avail_idx, 1);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), -EAGAIN);
}
END_TEST

/* Given-back chains come out of the next pops again, in order; only chains in flight (popped,
 * not pushed) can be given back. */
START_TEST(test_unpop)
{
    set_desc(3, BUF, 100, VIRTQ_DESC_F_WRITE, 0);
    set_desc(4, BUF + 0x1000, 100, VIRTQ_DESC_F_WRITE, 0);
    publish(3);
    publish(4);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_int_eq(virtqueue_unpop(&vq, 3), -EINVAL);
    ck_assert_int_eq(virtqueue_unpop(&vq, 2), 0);
    ck_assert_uint_eq(virtqueue_avail_count(&vq), 2);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(chain.head, 3);
    ck_assert_int_eq(virtqueue_push(&vq, chain.head, 0), 0);
    ck_assert_int_eq(virtqueue_unpop(&vq, 1), -EINVAL); /* pushed: the driver's again */
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(chain.head, 4);
    ck_assert_int_eq(virtqueue_unpop(&vq, 1), 0);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(chain.head, 4);
    virtqueue_disable(&vq);
    ck_assert_int_eq(virtqueue_unpop(&vq, 1), -ENODEV);
}
END_TEST

START_TEST(test_pop_mixed_out_in)
{
    /* A virtio-net-like TX-then-status layout: 2 readable, 2 writable, scattered indices. */
    set_desc(5, BUF, 12, VIRTQ_DESC_F_NEXT, 2);
    set_desc(2, BUF + 0x1000, 1500, VIRTQ_DESC_F_NEXT, 7);
    set_desc(7, BUF + 0x2000, 64, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
    set_desc(0, BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
    publish(5);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(chain.head, 5);
    ck_assert_uint_eq(chain.nout, 2);
    ck_assert_uint_eq(chain.nin, 2);
    ck_assert_uint_eq(chain.out_len, 1512);
    ck_assert_uint_eq(chain.in_len, 65);
    expect_seg(0, BUF, 12, false);
    expect_seg(1, BUF + 0x1000, 1500, false);
    expect_seg(2, BUF + 0x2000, 64, true);
    expect_seg(3, BUF + 0x3000, 1, true);
}
END_TEST

START_TEST(test_pop_full_length_chain)
{
    /* Exactly QSIZE descriptors: the longest legal chain. */
    for (unsigned i = 0; i < QSIZE; i++)
        set_desc(i, BUF + 0x100 * i, 0x100, i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0,
                 (uint16_t)(i + 1));
    publish(0);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(chain.nout, QSIZE);
    ck_assert_uint_eq(chain.out_len, 0x100 * QSIZE);
}
END_TEST

START_TEST(test_pop_indirect)
{
    set_desc_at(TABLE, 0, BUF, 12, VIRTQ_DESC_F_NEXT, 2);
    set_desc_at(TABLE, 2, BUF + 0x1000, 1000, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    set_desc_at(TABLE, 1, BUF + 0x2000, 500, VIRTQ_DESC_F_WRITE, 0);
    /* WRITE on the pointing descriptor is ignored (§2.7.5.3). */
    set_desc(4, TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
    publish(4);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(chain.head, 4);
    ck_assert_uint_eq(chain.nout, 1);
    ck_assert_uint_eq(chain.nin, 2);
    expect_seg(0, BUF, 12, false);
    expect_seg(1, BUF + 0x1000, 1000, true);
    expect_seg(2, BUF + 0x2000, 500, true);
}
END_TEST

START_TEST(test_pop_direct_then_indirect)
{
    /* §2.7.5.3: N normal descriptors, then one indirect one ends the chain. */
    set_desc(0, BUF, 10, VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, TABLE + 8, 32, VIRTQ_DESC_F_INDIRECT, 0); /* tables need no alignment */
    set_desc_at(TABLE + 8, 0, BUF + 0x100, 20, VIRTQ_DESC_F_NEXT, 1);
    set_desc_at(TABLE + 8, 1, BUF + 0x200, 30, VIRTQ_DESC_F_WRITE, 0);
    publish(0);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(chain.nout, 2);
    ck_assert_uint_eq(chain.nin, 1);
    ck_assert_uint_eq(chain.out_len, 30);
    ck_assert_uint_eq(chain.in_len, 30);
}
END_TEST

START_TEST(test_pop_zero_length_skipped)
{
    set_desc(0, 0xdead0000000ull, 0, VIRTQ_DESC_F_NEXT, 1); /* address of an empty buffer */
    set_desc(1, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
    publish(0);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(chain.nout, 0);
    ck_assert_uint_eq(chain.nin, 1);
    expect_seg(0, BUF, 4, true);
}
END_TEST

START_TEST(test_pop_many_in_order)
{
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < QSIZE; i++) {
            set_desc(i, BUF + i, 1 + i, 0, 0);
            publish((uint16_t)(QSIZE - 1 - i));
        }
        ck_assert_uint_eq(virtqueue_avail_count(&vq), QSIZE);
        for (unsigned i = 0; i < QSIZE; i++) {
            ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
            ck_assert_uint_eq(chain.head, QSIZE - 1 - i);
            ck_assert_uint_eq(chain.out_len, QSIZE - i);
        }
        ck_assert_int_eq(virtqueue_pop(&vq, &chain), -EAGAIN);
    }
}
END_TEST

START_TEST(test_pop_avail_idx_wraps)
{
    /* Free-running 16-bit indices: 65534, 65535, 0, 1. */
    vq.last_avail_idx = 65534;
    shadow_avail = 65534;
    set_desc(1, BUF, 8, 0, 0);
    for (unsigned i = 0; i < 4; i++)
        publish(1);
    ck_assert_uint_eq(avail()->idx, 2);
    ck_assert_uint_eq(virtqueue_avail_count(&vq), 4);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_uint_eq(vq.last_avail_idx, 2);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), -EAGAIN);
}
END_TEST

START_TEST(test_pop_full_ring)
{
    /* avail idx exactly `size` ahead is legal. */
    set_desc(0, BUF, 8, 0, 0);
    for (unsigned i = 0; i < QSIZE; i++)
        publish(0);
    ck_assert_uint_eq(virtqueue_avail_count(&vq), QSIZE);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
}
END_TEST

/* ---- pop refuses hostile chains ---- */

static void h_addr_out_of_ram(void)
{
    set_desc(0, RAM, 16, 0, 0);
    publish(0);
}

static void h_addr_crosses_end(void)
{
    set_desc(0, RAM - 8, 16, 0, 0);
    publish(0);
}

static void h_addr_in_hole(void)
{
    set_desc(0, 0xc0000000ull, 16, 0, 0); /* 3 GiB: MMIO hole */
    publish(0);
}

static void h_addr_wraps(void)
{
    set_desc(0, UINT64_MAX - 7, 16, 0, 0);
    publish(0);
}

static void h_len_huge(void)
{
    set_desc(0, BUF, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
    publish(0);
}

static void h_second_desc_bad(void)
{
    set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, 0xffffffffffff0000ull, 0x10000, VIRTQ_DESC_F_WRITE, 0);
    publish(0);
}

static void h_self_loop(void)
{
    set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
    publish(0);
}

static void h_loop_back(void)
{
    set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
    set_desc(2, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    publish(0);
}

static void h_longer_than_size(void)
{
    /* Visits all QSIZE descriptors and then goes on: chain QSIZE + 1 long. */
    for (unsigned i = 0; i < QSIZE; i++)
        set_desc(i, BUF, 1, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % QSIZE));
    publish(0);
}

static void h_next_out_of_range(void)
{
    set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, QSIZE);
    publish(0);
}

static void h_head_out_of_range(void)
{
    publish(QSIZE);
}

static void h_head_ffff(void)
{
    publish(0xffff);
}

static void h_avail_jump(void)
{
    set_desc(0, BUF, 16, 0, 0);
    publish(0);
    avail()->idx = QSIZE + 1;
}

static void h_avail_backwards(void)
{
    avail()->idx = 0xffff; /* one behind last_avail_idx 0: 65535 ahead */
}

static void h_indirect_not_negotiated(void)
{
    enable(0);
    set_desc_at(TABLE, 0, BUF, 16, 0, 0);
    set_desc(0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_indirect_table_out_of_ram(void)
{
    set_desc(0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_indirect_table_wraps(void)
{
    set_desc(0, UINT64_MAX - 15, 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_indirect_size_not_16(void)
{
    set_desc_at(TABLE, 0, BUF, 16, 0, 0);
    set_desc(0, TABLE, 24, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_indirect_size_0(void)
{
    set_desc(0, TABLE, 0, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_indirect_size_huge(void)
{
    set_desc(0, TABLE, 16 * (VQ_INDIRECT_MAX + 1), VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_indirect_nested(void)
{
    set_desc_at(TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc_at(TABLE, 1, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
    set_desc_at(TABLE + 0x100, 0, BUF, 16, 0, 0);
    set_desc(0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_indirect_with_next(void)
{
    set_desc_at(TABLE, 0, BUF, 16, 0, 0);
    set_desc(0, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, BUF, 16, 0, 0);
    publish(0);
}

static void h_indirect_loop(void)
{
    set_desc_at(TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc_at(TABLE, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
    set_desc(0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_indirect_next_out_of_table(void)
{
    set_desc_at(TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 2); /* table has 2 entries */
    set_desc(0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_indirect_entry_out_of_ram(void)
{
    set_desc_at(TABLE, 0, RAM - 1, 2, 0, 0);
    set_desc(0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_write_before_read(void)
{
    set_desc(0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, BUF, 16, 0, 0);
    publish(0);
}

static void h_zero_len_write_before_read(void)
{
    set_desc(0, BUF, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, BUF, 16, 0, 0);
    publish(0);
}

static void h_write_before_indirect_read(void)
{
    set_desc(0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
    set_desc_at(TABLE, 0, BUF, 16, 0, 0);
    publish(0);
}

static void h_write_before_read_in_table(void)
{
    set_desc_at(TABLE, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    set_desc_at(TABLE, 1, BUF, 16, 0, 0);
    set_desc(0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_too_many_segments(void)
{
    /* One direct descriptor plus a full indirect table: VQ_CHAIN_MAX_SEGS + 1 segments. */
    for (unsigned i = 0; i < VQ_INDIRECT_MAX; i++)
        set_desc_at(TABLE, i, BUF, 1, i + 1 < VQ_INDIRECT_MAX ? VIRTQ_DESC_F_NEXT : 0,
                    (uint16_t)(i + 1));
    set_desc(0, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, TABLE, 16 * VQ_INDIRECT_MAX, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static void h_total_over_4g(void)
{
    /* 256 buffers of 16 MiB + 1 each: each in RAM, together more than 2^32 bytes. */
    for (unsigned i = 0; i < VQ_INDIRECT_MAX; i++)
        set_desc_at(TABLE, i, 0, (uint32_t)(16 * MiB + 1),
                    i + 1 < VQ_INDIRECT_MAX ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    set_desc(0, TABLE, 16 * VQ_INDIRECT_MAX, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
}

static const struct {
    const char *name;
    void (*build)(void);
    enum vq_error err;
} hostile[] = {
    {"addr out of RAM", h_addr_out_of_ram, VQ_ERR_DESC_ADDR},
    {"addr+len crosses end of RAM", h_addr_crosses_end, VQ_ERR_DESC_ADDR},
    {"addr in MMIO hole", h_addr_in_hole, VQ_ERR_DESC_ADDR},
    {"addr+len wraps 64 bits", h_addr_wraps, VQ_ERR_DESC_ADDR},
    {"len 4 GiB - 1", h_len_huge, VQ_ERR_DESC_ADDR},
    {"second descriptor bad", h_second_desc_bad, VQ_ERR_DESC_ADDR},
    {"next points at itself", h_self_loop, VQ_ERR_LOOP},
    {"next points back", h_loop_back, VQ_ERR_LOOP},
    {"chain longer than size", h_longer_than_size, VQ_ERR_LOOP},
    {"next >= size", h_next_out_of_range, VQ_ERR_NEXT},
    {"head == size", h_head_out_of_range, VQ_ERR_HEAD},
    {"head 0xffff", h_head_ffff, VQ_ERR_HEAD},
    {"avail idx jumps by size + 1", h_avail_jump, VQ_ERR_AVAIL_IDX},
    {"avail idx goes backwards", h_avail_backwards, VQ_ERR_AVAIL_IDX},
    {"indirect not negotiated", h_indirect_not_negotiated, VQ_ERR_INDIRECT_NOFEAT},
    {"indirect table out of RAM", h_indirect_table_out_of_ram, VQ_ERR_INDIRECT_ADDR},
    {"indirect table wraps", h_indirect_table_wraps, VQ_ERR_INDIRECT_ADDR},
    {"indirect size 24", h_indirect_size_not_16, VQ_ERR_INDIRECT_SIZE},
    {"indirect size 0", h_indirect_size_0, VQ_ERR_INDIRECT_SIZE},
    {"indirect table too big", h_indirect_size_huge, VQ_ERR_INDIRECT_SIZE},
    {"nested indirect", h_indirect_nested, VQ_ERR_INDIRECT_NESTED},
    {"INDIRECT with NEXT", h_indirect_with_next, VQ_ERR_INDIRECT_NEXT},
    {"loop inside indirect table", h_indirect_loop, VQ_ERR_LOOP},
    {"next past indirect table", h_indirect_next_out_of_table, VQ_ERR_NEXT},
    {"indirect entry out of RAM", h_indirect_entry_out_of_ram, VQ_ERR_DESC_ADDR},
    {"writable before readable", h_write_before_read, VQ_ERR_ORDER},
    {"empty writable before readable", h_zero_len_write_before_read, VQ_ERR_ORDER},
    {"writable before indirect readable", h_write_before_indirect_read, VQ_ERR_ORDER},
    {"writable before readable in table", h_write_before_read_in_table, VQ_ERR_ORDER},
    {"too many segments", h_too_many_segments, VQ_ERR_TOO_MANY},
    {"more than 2^32 bytes", h_total_over_4g, VQ_ERR_TOTAL_LEN},
};

START_TEST(test_hostile_chain)
{
    hostile[_i].build();
    ck_assert_msg(virtqueue_pop(&vq, &chain) == -EINVAL, "%s: accepted", hostile[_i].name);
    ck_assert_msg(vq.error == hostile[_i].err, "%s: error %s, expected %s", hostile[_i].name,
                  vq_error_str(vq.error), vq_error_str(hostile[_i].err));
    ck_assert_uint_eq(vq.last_avail_idx, 0);
}
END_TEST

START_TEST(test_broken_stays_broken)
{
    publish(QSIZE);
    expect_broken(VQ_ERR_HEAD);
    /* Fixing the ring does not help: only a re-enable (device or queue reset) does. */
    set_desc(0, BUF, 16, 0, 0);
    avail()->ring[0] = 0;
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), -EINVAL);
    ck_assert_int_eq(virtqueue_push(&vq, 0, 0), -EINVAL);
    ck_assert(!virtqueue_should_notify(&vq));
    ck_assert(!virtqueue_enable_notify(&vq));
    ck_assert_uint_eq(virtqueue_avail_count(&vq), 0);
    ck_assert_uint_eq(used()->idx, 0);
    enable(0);
    publish(0);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert(!vq.broken);
}
END_TEST

START_TEST(test_avail_count_breaks_on_jump)
{
    avail()->idx = QSIZE + 1;
    ck_assert_uint_eq(virtqueue_avail_count(&vq), 0);
    ck_assert(vq.broken);
    ck_assert_int_eq(vq.error, VQ_ERR_AVAIL_IDX);
}
END_TEST

START_TEST(test_error_strings)
{
    for (int e = VQ_OK; e <= VQ_ERR_INDIRECT_ADDR; e++)
        ck_assert_str_ne(vq_error_str((enum vq_error)e), "unknown error");
    ck_assert_str_eq(vq_error_str((enum vq_error)999), "unknown error");
}
END_TEST

/* ---- push fills the used ring ---- */

START_TEST(test_push_used_entry)
{
    ck_assert_int_eq(virtqueue_push(&vq, 5, 1234), 0);
    ck_assert_uint_eq(used()->idx, 1);
    ck_assert_uint_eq(used()->ring[0].id, 5);
    ck_assert_uint_eq(used()->ring[0].len, 1234);
    ck_assert_int_eq(virtqueue_push(&vq, 7, 0), 0);
    ck_assert_uint_eq(used()->idx, 2);
    ck_assert_uint_eq(used()->ring[1].id, 7);
}
END_TEST

START_TEST(test_push_wraps)
{
    vq.used_idx = 65535;
    ck_assert_int_eq(virtqueue_push(&vq, 1, 10), 0);
    ck_assert_uint_eq(used()->idx, 0);
    ck_assert_uint_eq(used()->ring[65535 % QSIZE].id, 1);
    ck_assert_int_eq(virtqueue_push(&vq, 2, 20), 0);
    ck_assert_uint_eq(used()->idx, 1);
    ck_assert_uint_eq(used()->ring[0].id, 2);
    ck_assert_uint_eq(used()->ring[0].len, 20);
}
END_TEST

START_TEST(test_push_bad_head)
{
    ck_assert_int_eq(virtqueue_push(&vq, QSIZE, 0), -EINVAL);
    ck_assert_uint_eq(used()->idx, 0);
    ck_assert(!vq.broken); /* a device bug, not the guest's */
}
END_TEST

START_TEST(test_pop_push_round_trip)
{
    set_desc(2, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
    publish(2);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert_int_eq(vq_chain_write(&gm, &chain, 0, "abcdefgh", 8), 0);
    ck_assert_int_eq(virtqueue_push(&vq, chain.head, 8), 0);
    ck_assert_uint_eq(used()->ring[0].id, 2);
    ck_assert_uint_eq(used()->ring[0].len, 8);
    ck_assert_mem_eq(gp(BUF, 8), "abcdefgh", 8);
}
END_TEST

/* ---- interrupt decisions (EVENT_IDX / NO_INTERRUPT) ---- */

START_TEST(test_notify_no_event_idx)
{
    enable(0);
    ck_assert_int_eq(virtqueue_push(&vq, 0, 0), 0);
    ck_assert(virtqueue_should_notify(&vq));
    avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    ck_assert_int_eq(virtqueue_push(&vq, 0, 0), 0);
    ck_assert(!virtqueue_should_notify(&vq));
    avail()->flags = 0;
    ck_assert(virtqueue_should_notify(&vq)); /* without EVENT_IDX: every time, a hint */
}
END_TEST

/* used idx before the pushes (= last decision), pushes, used_event, expected decision. */
static const struct {
    uint16_t old;
    unsigned pushes;
    uint16_t used_event;
    bool notify;
} event_cases[] = {
    {0, 1, 0, true},  /* §2.7.7 example: used_event 0 -> after the first buffer */
    {1, 1, 0, false}, /* ... and not again until the 65536th */
    {0, 3, 2, true},  /* entry 2 written within [0, 3) */
    {0, 3, 3, false}, /* not yet */
    {0, 3, 5, false},        {5, 2, 4, false}, /* event behind old: already notified */
    {65534, 3, 65535, true},                   /* wrap: new = 1, entries 65534, 65535, 0 */
    {65534, 3, 0, true},     {65534, 3, 1, false}, {65535, 1, 65535, true},
    {65535, 1, 0, false},    {100, 0, 99, false}, /* no push since the last decision: never */
    {7, 65535, 5, true}, /* almost a full lap: entries 7 .. 65535, 0 .. 5 */
    {7, 65535, 6, false},
};

START_TEST(test_notify_event_idx)
{
    uint16_t old = event_cases[_i].old;
    vq.used_idx = old;
    vq.signalled_used = old;
    vq.signalled_used_valid = true;
    uint16_t *used_event = gp(AVAIL + vring_used_event_off(QSIZE), 2);
    *used_event = event_cases[_i].used_event;
    avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT; /* ignored with EVENT_IDX */
    for (unsigned i = 0; i < event_cases[_i].pushes; i++)
        LOOP_ASSERT_MSG(virtqueue_push(&vq, 0, 0) == 0, "push %u", i); /* up to 65535 */
    ck_assert_int_eq(virtqueue_should_notify(&vq), event_cases[_i].notify);
    ck_assert_uint_eq(vq.signalled_used, (uint16_t)(old + event_cases[_i].pushes));
}
END_TEST

START_TEST(test_notify_event_idx_first_and_repeat)
{
    uint16_t *used_event = gp(AVAIL + vring_used_event_off(QSIZE), 2);
    *used_event = 10;
    ck_assert_int_eq(virtqueue_push(&vq, 0, 0), 0);
    ck_assert(virtqueue_should_notify(&vq));  /* first decision after enable: yes */
    ck_assert(!virtqueue_should_notify(&vq)); /* nothing new */
    *used_event = 1;
    ck_assert_int_eq(virtqueue_push(&vq, 0, 0), 0);
    ck_assert(virtqueue_should_notify(&vq));
}
END_TEST

START_TEST(test_need_event_helper)
{
    ck_assert(vring_need_event(0, 1, 0));
    ck_assert(!vring_need_event(1, 1, 0));
    ck_assert(vring_need_event(65535, 0, 65535));
    ck_assert(!vring_need_event(5, 5, 5));
}
END_TEST

/* ---- kick suppression (device side) ---- */

START_TEST(test_kick_suppression_flags)
{
    enable(0);
    virtqueue_disable_notify(&vq);
    ck_assert_uint_eq(used()->flags, VIRTQ_USED_F_NO_NOTIFY);
    ck_assert(!virtqueue_enable_notify(&vq));
    ck_assert_uint_eq(used()->flags, 0);
    set_desc(0, BUF, 1, 0, 0);
    publish(0);
    ck_assert(virtqueue_enable_notify(&vq)); /* arrived meanwhile: process it */
    virtqueue_set_avail_event(&vq, 9);       /* no EVENT_IDX: no-op */
    ck_assert_uint_eq(*(uint16_t *)gp(USED + vring_avail_event_off(QSIZE), 2), 0);
}
END_TEST

START_TEST(test_kick_suppression_event_idx)
{
    uint16_t *avail_event = gp(USED + vring_avail_event_off(QSIZE), 2);
    virtqueue_set_avail_event(&vq, 1234);
    ck_assert_uint_eq(*avail_event, 1234);
    virtqueue_disable_notify(&vq);
    ck_assert_uint_eq(used()->flags, 0); /* flags unused with EVENT_IDX */
    set_desc(0, BUF, 1, 0, 0);
    publish(0);
    publish(0);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert(virtqueue_enable_notify(&vq)); /* one still pending */
    ck_assert_uint_eq(*avail_event, 1);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
    ck_assert(!virtqueue_enable_notify(&vq));
    ck_assert_uint_eq(*avail_event, 2);
    /* The driver's view: it kicks when it publishes entry avail_event (§2.7.10). */
    ck_assert(vring_need_event(*avail_event, 3, 2));
}
END_TEST

/* ---- copying from and to chains ---- */

static void build_scatter(void)
{
    /* readable: 3 + 5 + 2 bytes; writable: 4 + 6 bytes */
    memcpy(gp(BUF, 3), "abc", 3);
    memcpy(gp(BUF + 0x100, 5), "defgh", 5);
    memcpy(gp(BUF + 0x200, 2), "ij", 2);
    set_desc(0, BUF, 3, VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, BUF + 0x100, 5, VIRTQ_DESC_F_NEXT, 2);
    set_desc(2, BUF + 0x200, 2, VIRTQ_DESC_F_NEXT, 3);
    set_desc(3, BUF + 0x300, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 4);
    set_desc(4, BUF + 0x400, 6, VIRTQ_DESC_F_WRITE, 0);
    publish(0);
    ck_assert_int_eq(virtqueue_pop(&vq, &chain), 0);
}

START_TEST(test_chain_read_across_segments)
{
    char buf[16] = {0};
    build_scatter();
    ck_assert_int_eq(vq_chain_read(&gm, &chain, 0, buf, 10), 0);
    ck_assert_mem_eq(buf, "abcdefghij", 10);
    memset(buf, 0, sizeof(buf));
    ck_assert_int_eq(vq_chain_read(&gm, &chain, 2, buf, 7), 0);
    ck_assert_mem_eq(buf, "cdefghi", 7);
    ck_assert_int_eq(vq_chain_read(&gm, &chain, 10, buf, 0), 0);
}
END_TEST

START_TEST(test_chain_read_bounds)
{
    char buf[16];
    build_scatter();
    ck_assert_int_eq(vq_chain_read(&gm, &chain, 0, buf, 11), -EINVAL);
    ck_assert_int_eq(vq_chain_read(&gm, &chain, 11, buf, 0), -EINVAL);
    ck_assert_int_eq(vq_chain_read(&gm, &chain, UINT64_MAX, buf, 2), -EINVAL);
    ck_assert_int_eq(vq_chain_read(&gm, &chain, 5, buf, UINT64_MAX), -EINVAL);
}
END_TEST

START_TEST(test_chain_write_across_segments)
{
    build_scatter();
    ck_assert_int_eq(vq_chain_write(&gm, &chain, 2, "WXYZUV", 6), 0);
    ck_assert_mem_eq(gp(BUF + 0x300 + 2, 2), "WX", 2);
    ck_assert_mem_eq(gp(BUF + 0x400, 4), "YZUV", 4);
    ck_assert_int_eq(vq_chain_write(&gm, &chain, 5, "0123456", 6), -EINVAL);
    ck_assert_int_eq(vq_chain_write(&gm, &chain, 4, "012345", 6), 0);
    /* the readable part is untouched */
    ck_assert_mem_eq(gp(BUF, 3), "abc", 3);
}
END_TEST

static Suite *virtqueue_suite(void)
{
    Suite *su = suite_create("virtqueue");
    TCase *tc;

#define TC(name)                                                                                   \
    tc = tcase_create(name);                                                                       \
    tcase_add_checked_fixture(tc, setup, teardown);                                                \
    suite_add_tcase(su, tc)

    TC("enable_checks_layout");
    tcase_add_loop_test(tc, test_enable_layout, 0, N(layouts));
    tcase_add_test(tc, test_enable_65535_is_not_a_size);
    tcase_add_test(tc, test_disable_bumps_epoch);

    TC("pop_walks_good_chains");
    tcase_add_test(tc, test_pop_empty);
    tcase_add_test(tc, test_pop_single);
    tcase_add_test(tc, test_pop_mixed_out_in);
    tcase_add_test(tc, test_pop_full_length_chain);
    tcase_add_test(tc, test_pop_indirect);
    tcase_add_test(tc, test_pop_direct_then_indirect);
    tcase_add_test(tc, test_pop_zero_length_skipped);
    tcase_add_test(tc, test_pop_many_in_order);
    tcase_add_test(tc, test_pop_avail_idx_wraps);
    tcase_add_test(tc, test_pop_full_ring);
    tcase_add_test(tc, test_unpop);

    TC("pop_breaks_queue_on_hostile_chains");
    tcase_add_loop_test(tc, test_hostile_chain, 0, N(hostile));
    tcase_add_test(tc, test_broken_stays_broken);
    tcase_add_test(tc, test_avail_count_breaks_on_jump);
    tcase_add_test(tc, test_error_strings);

    TC("push_fills_used_ring");
    tcase_add_test(tc, test_push_used_entry);
    tcase_add_test(tc, test_push_wraps);
    tcase_add_test(tc, test_push_bad_head);
    tcase_add_test(tc, test_pop_push_round_trip);

    TC("should_notify_follows_event_idx");
    tcase_add_test(tc, test_notify_no_event_idx);
    tcase_add_loop_test(tc, test_notify_event_idx, 0, N(event_cases));
    tcase_add_test(tc, test_notify_event_idx_first_and_repeat);
    tcase_add_test(tc, test_need_event_helper);

    TC("device_suppresses_kicks");
    tcase_add_test(tc, test_kick_suppression_flags);
    tcase_add_test(tc, test_kick_suppression_event_idx);

    TC("chain_copy_stays_in_chain");
    tcase_add_test(tc, test_chain_read_across_segments);
    tcase_add_test(tc, test_chain_read_bounds);
    tcase_add_test(tc, test_chain_write_across_segments);
#undef TC
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(virtqueue_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
