/*
 * test_virtio_mmio.c: unit tests of the virtio-mmio transport (devices/virtio_mmio.c).
 *
 * A fake device (2 queues of at most 16 entries, 8 bytes of config space, callbacks that
 * record what they were told) sits behind a transport on a real 16 MiB gmem; the tests drive
 * the registers through the bus callbacks as a vCPU does, following the driver init sequence
 * of spec §3.1.1 / §4.2.3, and watch a fake irq line that records every level change. They
 * cover the identity registers, feature negotiation (accepted and refused subsets), queue
 * set-up checks, InterruptStatus/ACK and the line, ConfigGeneration, reset, DEVICE_NEEDS_RESET
 * on a broken queue or a bad notify (and that it stays within one device), wrong-width
 * accesses, and a full round trip where queue_notify processes the queue inline.
 * Each test runs in its own process (CK_FORK), so a crash is a failed test.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/hw/gmem.h"
#include "virtio_mmio.h"
#include "minivmm/util.h"

#define MiB (1ull << 20)
#define TEST_GSI 5
#define QMAX 16
#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define BUF 0x100000

#define F_INDIRECT VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX VIRTIO_BIT(VIRTIO_F_EVENT_IDX)
#define F_VERSION_1 VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define F_MAC VIRTIO_BIT(VIRTIO_NET_F_MAC)

#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK VIRTIO_CONFIG_S_DRIVER_OK
#define S_NEEDS_RESET VIRTIO_CONFIG_S_NEEDS_RESET

#define N(a) ((int)(ARRAY_SIZE(a)))

/* ---- the fake device ---- */

struct fake_dev {
    uint8_t config[8];
    int notified[8];
    unsigned nnotified;
    int driver_ok_calls;
    uint64_t driver_ok_features;
    int reset_calls;
    bool echo; /* queue_notify pops, copies readable to writable, pushes, signals */
    struct virtio_mmio *t;
    int echo_ret;
};

static struct gmem gm;
static struct virtio_mmio t;
static struct fake_dev fd;
static char levels[64];
static unsigned nlevels;

static void fake_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
    struct fake_dev *f = dev;
    ck_assert_uint_le(off + len, sizeof(f->config));
    memcpy(data, f->config + off, len);
}

static void echo(struct fake_dev *f, unsigned q)
{
    struct vq_chain c;
    int ret;
    while ((ret = virtio_mmio_pop(f->t, q, &c)) == 0) {
        uint8_t buf[64];
        uint64_t n = c.out_len < c.in_len ? c.out_len : c.in_len;
        ck_assert_uint_le(n, sizeof(buf));
        ck_assert_int_eq(vq_chain_read(&gm, &c, 0, buf, n), 0);
        ck_assert_int_eq(vq_chain_write(&gm, &c, 0, buf, n), 0);
        ck_assert_int_eq(virtio_mmio_push(f->t, q, &c, (uint32_t)n), 0);
    }
    f->echo_ret = ret;
    virtio_mmio_signal_used(f->t, q);
}

static void fake_queue_notify(void *dev, unsigned q)
{
    struct fake_dev *f = dev;
    ck_assert_uint_lt(f->nnotified, N(f->notified));
    f->notified[f->nnotified++] = (int)q;
    if (f->echo)
        echo(f, q); /* called without the transport lock: may call back in */
}

static void fake_driver_ok(void *dev, uint64_t features)
{
    struct fake_dev *f = dev;
    f->driver_ok_calls++;
    f->driver_ok_features = features;
}

static void fake_reset(void *dev)
{
    struct fake_dev *f = dev;
    f->reset_calls++;
}

static const struct virtio_dev_ops fake_ops = {
    .device_id = VIRTIO_ID_NET,
    /* RING_PACKED and NOTIFICATION_DATA must be masked off by the transport. */
    .features = F_MAC | F_INDIRECT | F_EVENT_IDX | VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
                VIRTIO_BIT(VIRTIO_F_NOTIFICATION_DATA) | VIRTIO_BIT(VIRTIO_NET_F_SPEED_DUPLEX),
    .num_queues = 2,
    .queue_max = QMAX,
    .config_size = 8,
    .config_read = fake_config_read,
    .config_write = NULL,
    .queue_notify = fake_queue_notify,
    .driver_ok = fake_driver_ok,
    .reset = fake_reset,
};

static void fake_set_level(void *opaque, unsigned gsi, int level)
{
    ck_assert_ptr_eq(opaque, &nlevels);
    ck_assert_uint_eq(gsi, TEST_GSI);
    ck_assert_uint_lt(nlevels, sizeof(levels) - 1);
    levels[nlevels++] = level ? '1' : '0';
}

static const struct irq_line_ops fake_line_ops = {.set_level = fake_set_level};

static void setup(void)
{
    struct irq_line line = {.ops = &fake_line_ops, .opaque = &nlevels, .gsi = TEST_GSI};
    ck_assert_int_eq(gmem_init(&gm, 16 * MiB), 0);
    memset(&fd, 0, sizeof(fd));
    memcpy(fd.config, "\x52\x54\x00\x12\x34\x56\x01\x00", 8);
    fd.t = &t;
    memset(levels, 0, sizeof(levels));
    nlevels = 0;
    ck_assert_int_eq(virtio_mmio_init(&t, &fake_ops, &fd, &gm, &line), 0);
}

static void teardown(void)
{
    virtio_mmio_destroy(&t);
    gmem_destroy(&gm);
}

/* ---- register access helpers ---- */

static uint32_t rd(uint64_t off)
{
    uint32_t v;
    virtio_mmio_bus_ops.read(&t, 0, off, (uint8_t *)&v, 4);
    return v;
}

static void wr(uint64_t off, uint32_t v)
{
    virtio_mmio_bus_ops.write(&t, 1, off, (const uint8_t *)&v, 4);
}

static void write_features(uint64_t f)
{
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static uint64_t read_device_features(void)
{
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint64_t hi = rd(VIRTIO_MMIO_DEVICE_FEATURES);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    return hi << 32 | rd(VIRTIO_MMIO_DEVICE_FEATURES);
}

/* §3.1.1 steps 1-6; returns the status read back. */
static uint32_t negotiate(uint64_t f)
{
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, S_ACK);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
    write_features(f);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    return rd(VIRTIO_MMIO_STATUS);
}

static void setup_queue_at(unsigned q, uint32_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
    wr(VIRTIO_MMIO_QUEUE_SEL, q);
    wr(VIRTIO_MMIO_QUEUE_NUM, num);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
    wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
    wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
    wr(VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void setup_queue(unsigned q)
{
    setup_queue_at(q, QMAX, DESC + q * 0x100000ull, AVAIL + q * 0x100000ull,
                   USED + q * 0x100000ull);
}

/* Negotiated, queue 0 set up, DRIVER_OK. */
static void bring_up(uint64_t f)
{
    ck_assert_uint_eq(negotiate(f), S_ACK | S_DRIVER | S_FEATURES_OK);
    setup_queue(0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* The driver's side of queue 0: one chain of a readable and a writable buffer. */
static uint16_t drv_avail;

static void drv_post(uint16_t head, const char *out, uint32_t in_len)
{
    struct vring_desc d[2] = {
        {.addr = BUF + head * 0x1000ull,
         .len = (uint32_t)strlen(out),
         .flags = VIRTQ_DESC_F_NEXT,
         .next = (uint16_t)(head + 1)},
        {.addr = BUF + head * 0x1000ull + 0x800, .len = in_len, .flags = VIRTQ_DESC_F_WRITE},
    };
    ck_assert_int_eq(gmem_write(&gm, BUF + head * 0x1000ull, out, strlen(out)), 0);
    ck_assert_int_eq(gmem_write(&gm, DESC + 16ull * head, d, sizeof(d)), 0);
    struct vring_avail *a = gmem_ptr(&gm, AVAIL, vring_avail_size(QMAX));
    a->ring[drv_avail % QMAX] = head;
    __atomic_store_n(&a->idx, ++drv_avail, __ATOMIC_RELEASE); /* after ring and descs */
}

static struct vring_used *used0(void)
{
    return gmem_ptr(&gm, USED, vring_used_size(QMAX));
}

/* ---- identity registers ---- */

static const struct {
    uint32_t off;
    uint32_t value;
} ids[] = {
    {VIRTIO_MMIO_MAGIC_VALUE, 0x74726976},   {VIRTIO_MMIO_VERSION, 2},
    {VIRTIO_MMIO_DEVICE_ID, VIRTIO_ID_NET},  {VIRTIO_MMIO_VENDOR_ID, MINIVMM_VIRTIO_VENDOR_ID},
    {VIRTIO_MMIO_QUEUE_NUM_MAX, QMAX},       {VIRTIO_MMIO_QUEUE_READY, 0},
    {VIRTIO_MMIO_INTERRUPT_STATUS, 0},       {VIRTIO_MMIO_STATUS, 0},
    {VIRTIO_MMIO_CONFIG_GENERATION, 0},      {VIRTIO_MMIO_SHM_LEN_LOW, 0xffffffff},
    {VIRTIO_MMIO_SHM_BASE_HIGH, 0xffffffff}, {VIRTIO_MMIO_QUEUE_RESET, 0},
};

START_TEST(test_identity)
{
    ck_assert_uint_eq(rd(ids[_i].off), ids[_i].value);
    ck_assert_uint_eq(t.bad_reg + t.bad_width, 0);
}
END_TEST

START_TEST(test_magic_bytes)
{
    uint8_t b[4];
    virtio_mmio_bus_ops.read(&t, 0, 0, b, 4);
    ck_assert_mem_eq(b, "virt", 4);
}
END_TEST

START_TEST(test_queue_num_max_absent_queue)
{
    wr(VIRTIO_MMIO_QUEUE_SEL, 1);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
    wr(VIRTIO_MMIO_QUEUE_SEL, 2);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0); /* §4.2.3.2: 0 = not available */
    wr(VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
}
END_TEST

START_TEST(test_device_features_offered)
{
    uint64_t f = read_device_features();
    ck_assert_uint_eq(f, F_VERSION_1 | F_MAC | F_INDIRECT | F_EVENT_IDX |
                             VIRTIO_BIT(VIRTIO_NET_F_SPEED_DUPLEX));
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
}
END_TEST

static const struct {
    uint32_t off;
    bool is_write;
    const char *name;
} reg_names[] = {
    {0x000, false, "MagicValue"},
    {0x004, false, "Version"},
    {0x008, false, "DeviceID"},
    {0x00c, false, "VendorID"},
    {0x010, false, "DeviceFeatures"},
    {0x014, true, "DeviceFeaturesSel"},
    {0x020, true, "DriverFeatures"},
    {0x024, true, "DriverFeaturesSel"},
    {0x030, true, "QueueSel"},
    {0x034, false, "QueueNumMax"},
    {0x038, true, "QueueNum"},
    {0x044, false, "QueueReady"},
    {0x044, true, "QueueReady"},
    {0x050, true, "QueueNotify"},
    {0x060, false, "InterruptStatus"},
    {0x064, true, "InterruptACK"},
    {0x070, false, "Status"},
    {0x070, true, "Status"},
    {0x080, true, "QueueDescLow"},
    {0x084, true, "QueueDescHigh"},
    {0x090, true, "QueueDriverLow"},
    {0x094, true, "QueueDriverHigh"},
    {0x0a0, true, "QueueDeviceLow"},
    {0x0a4, true, "QueueDeviceHigh"},
    {0x0fc, false, "ConfigGeneration"},
    {0x050, false, NULL},
    {0x000, true, NULL},
};

START_TEST(test_reg_names)
{
    struct bus_dev dev = {.name = "virtio0",
                          .space = BUS_MMIO,
                          .base = 0xd0000000,
                          .size = VIRTIO_MMIO_WINDOW_SIZE,
                          .ops = &virtio_mmio_bus_ops,
                          .opaque = &t,
                          .regs = virtio_mmio_regs,
                          .nregs = virtio_mmio_nregs};
    const char *name = bus_reg_name(&dev, reg_names[_i].off, reg_names[_i].is_write);
    if (!reg_names[_i].name)
        ck_assert_ptr_null(name);
    else
        ck_assert_str_eq(name, reg_names[_i].name);
}
END_TEST

/* ---- feature negotiation ---- */

START_TEST(test_negotiate_ok)
{
    ck_assert_uint_eq(negotiate(F_VERSION_1 | F_MAC | F_INDIRECT),
                      S_ACK | S_DRIVER | S_FEATURES_OK);
    ck_assert_uint_eq(virtio_mmio_features(&t), F_VERSION_1 | F_MAC | F_INDIRECT);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    ck_assert_int_eq(fd.driver_ok_calls, 1);
    ck_assert_uint_eq(fd.driver_ok_features, F_VERSION_1 | F_MAC | F_INDIRECT);
}
END_TEST

START_TEST(test_negotiate_minimal)
{
    ck_assert_uint_eq(negotiate(F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
}
END_TEST

static const struct {
    const char *why;
    uint64_t features;
} refused[] = {
    {"no VERSION_1", F_MAC},
    {"nothing", 0},
    {"unoffered device bit", F_VERSION_1 | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {"packed ring masked off", F_VERSION_1 | VIRTIO_BIT(VIRTIO_F_RING_PACKED)},
    {"notification data masked off", F_VERSION_1 | VIRTIO_BIT(VIRTIO_F_NOTIFICATION_DATA)},
    {"bit 62", F_VERSION_1 | VIRTIO_BIT(62)},
};

START_TEST(test_negotiate_refused)
{
    uint32_t st = negotiate(refused[_i].features);
    ck_assert_msg(st == (S_ACK | S_DRIVER), "%s: status %#x", refused[_i].why, st);
    ck_assert_uint_eq(virtio_mmio_features(&t), 0);
    /* DRIVER_OK without FEATURES_OK is refused too. */
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
    ck_assert_int_eq(fd.driver_ok_calls, 0);
}
END_TEST

START_TEST(test_negotiate_refused_high_selector)
{
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
    write_features(F_VERSION_1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* bit 64: never offered */
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
}
END_TEST

START_TEST(test_negotiate_retry_after_refusal)
{
    ck_assert_uint_eq(negotiate(F_MAC), S_ACK | S_DRIVER);
    write_features(F_VERSION_1 | F_MAC);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
}
END_TEST

START_TEST(test_features_frozen_after_features_ok)
{
    negotiate(F_VERSION_1);
    write_features(F_VERSION_1 | F_MAC);
    ck_assert_uint_eq(virtio_mmio_features(&t), F_VERSION_1);
    ck_assert_uint_ge(t.ignored, 1);
}
END_TEST

START_TEST(test_status_bits_cannot_be_cleared)
{
    negotiate(F_VERSION_1);
    wr(VIRTIO_MMIO_STATUS, S_ACK); /* clears DRIVER and FEATURES_OK: ignored */
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
    ck_assert_uint_ge(t.ignored, 1);
}
END_TEST

/* ---- queue set-up ---- */

START_TEST(test_queue_setup_ok)
{
    negotiate(F_VERSION_1);
    setup_queue(0);
    setup_queue(1);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
    wr(VIRTIO_MMIO_QUEUE_SEL, 1);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
    ck_assert_uint_eq(t.queues[1].vq.size, QMAX);
    ck_assert_uint_eq(t.queues[1].vq.desc_gpa, DESC + 0x100000);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(test_queue_setup_small_and_high)
{
    /* QueueNum below the maximum; 64-bit address halves. The high half is outside 16 MiB of
     * RAM, so only the low-half set-up succeeds. */
    negotiate(F_VERSION_1);
    setup_queue_at(0, 4, DESC, AVAIL, USED);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
    ck_assert_uint_eq(t.queues[0].vq.size, 4);
    setup_queue_at(1, 4, DESC | 1ull << 32, AVAIL, USED);
    ck_assert_uint_eq(t.queues[1].desc, DESC | 1ull << 32);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    ck_assert(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
}
END_TEST

static const struct {
    const char *why;
    uint32_t num;
    uint64_t desc, avail, used;
} bad_queues[] = {
    {"size 0", 0, DESC, AVAIL, USED},
    {"size not a power of 2", 12, DESC, AVAIL, USED},
    {"size above QueueNumMax", 2 * QMAX, DESC, AVAIL, USED},
    {"size above 32768", 65536, DESC, AVAIL, USED},
    {"desc outside RAM", QMAX, 16 * MiB, AVAIL, USED},
    {"desc crosses end of RAM", QMAX, 16 * MiB - 128, AVAIL, USED},
    {"desc misaligned", QMAX, DESC + 8, AVAIL, USED},
    {"avail misaligned", QMAX, DESC, AVAIL + 1, USED},
    {"used misaligned", QMAX, DESC, AVAIL, USED + 2},
    {"used in the MMIO hole", QMAX, DESC, AVAIL, 0xd0000000},
    {"avail wraps", QMAX, DESC, 0xfffffffffffffffeull, USED},
};

START_TEST(test_queue_setup_refused)
{
    negotiate(F_VERSION_1);
    setup_queue_at(0, bad_queues[_i].num, bad_queues[_i].desc, bad_queues[_i].avail,
                   bad_queues[_i].used);
    ck_assert_msg(rd(VIRTIO_MMIO_QUEUE_READY) == 0, "%s: queue ready", bad_queues[_i].why);
    ck_assert_msg(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, "%s: no NEEDS_RESET", bad_queues[_i].why);
    ck_assert_uint_eq(t.guest_errors, 1);
    /* Not DRIVER_OK yet: no config interrupt (§2.1.2). */
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    ck_assert_uint_eq(nlevels, 0);
}
END_TEST

START_TEST(test_queue_setup_before_features_ok)
{
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
    setup_queue(0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    ck_assert(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
}
END_TEST

START_TEST(test_queue_regs_frozen_while_ready)
{
    negotiate(F_VERSION_1);
    setup_queue(0);
    uint64_t ignored = t.ignored;
    wr(VIRTIO_MMIO_QUEUE_NUM, 4);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
    ck_assert_uint_eq(t.queues[0].num, QMAX);
    ck_assert_uint_eq(t.queues[0].desc, DESC);
    ck_assert_uint_eq(t.ignored, ignored + 2);
    /* QueueReady 0 stops the queue; then the registers can change. */
    wr(VIRTIO_MMIO_QUEUE_READY, 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    ck_assert(!t.queues[0].vq.ready);
    setup_queue_at(0, 4, DESC, AVAIL, USED);
    ck_assert_uint_eq(t.queues[0].vq.size, 4);
}
END_TEST

START_TEST(test_queue_regs_absent_queue_ignored)
{
    negotiate(F_VERSION_1);
    wr(VIRTIO_MMIO_QUEUE_SEL, 5);
    wr(VIRTIO_MMIO_QUEUE_NUM, 4);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    ck_assert_uint_eq(t.ignored, 2);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}
END_TEST

/* ---- interrupts ---- */

START_TEST(test_used_interrupt_and_ack)
{
    bring_up(F_VERSION_1);
    drv_post(0, "ping", 16);
    struct vq_chain c;
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), 0);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 4), 0);
    ck_assert(virtio_mmio_signal_used(&t, 0));
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    ck_assert_str_eq(levels, "1");
    wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    ck_assert_str_eq(levels, "10");
}
END_TEST

START_TEST(test_interrupt_level_until_all_acked)
{
    bring_up(F_VERSION_1);
    drv_post(0, "x", 1);
    struct vq_chain c;
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), 0);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 1), 0);
    virtio_mmio_signal_used(&t, 0);
    virtio_mmio_config_changed(&t);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 3);
    ck_assert_str_eq(levels, "1"); /* already high: not driven again */
    wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    ck_assert_str_eq(levels, "1");
    wr(VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
    ck_assert_str_eq(levels, "10");
}
END_TEST

START_TEST(test_no_interrupt_flag_respected)
{
    bring_up(F_VERSION_1);
    struct vring_avail *a = gmem_ptr(&gm, AVAIL, vring_avail_size(QMAX));
    a->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    drv_post(0, "x", 1);
    struct vq_chain c;
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), 0);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 1), 0);
    ck_assert(!virtio_mmio_signal_used(&t, 0));
    ck_assert_uint_eq(nlevels, 0);
}
END_TEST

START_TEST(test_event_idx_suppresses)
{
    bring_up(F_VERSION_1 | F_EVENT_IDX);
    uint16_t *used_event = gmem_ptr(&gm, AVAIL + vring_used_event_off(QMAX), 2);
    *used_event = 1; /* interrupt when entry 1 is written */
    struct vq_chain c;
    drv_post(0, "a", 1);
    drv_post(2, "b", 1);
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), 0);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 1), 0);
    ck_assert(virtio_mmio_signal_used(&t, 0)); /* first decision after enable */
    wr(VIRTIO_MMIO_INTERRUPT_ACK, 1);
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), 0);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 1), 0);
    ck_assert(virtio_mmio_signal_used(&t, 0)); /* entry 1 */
    wr(VIRTIO_MMIO_INTERRUPT_ACK, 1);
    drv_post(4, "c", 1);
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), 0);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 1), 0);
    ck_assert(!virtio_mmio_signal_used(&t, 0)); /* entry 2: driver did not ask */
    ck_assert_str_eq(levels, "1010");
}
END_TEST

START_TEST(test_config_generation)
{
    ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
    virtio_mmio_config_changed(&t); /* before DRIVER_OK: no interrupt */
    ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    ck_assert_uint_eq(nlevels, 0);
    bring_up(F_VERSION_1);
    virtio_mmio_config_changed(&t);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 2);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    ck_assert_str_eq(levels, "1");
}
END_TEST

/* ---- notifications ---- */

START_TEST(test_notify_reaches_device)
{
    bring_up(F_VERSION_1);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(fd.nnotified, 1);
    ck_assert_int_eq(fd.notified[0], 0);
    ck_assert_uint_eq(t.notifies, 1);
}
END_TEST

START_TEST(test_notify_before_driver_ok_ignored)
{
    negotiate(F_VERSION_1);
    setup_queue(0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(fd.nnotified, 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}
END_TEST

static const uint32_t bad_notify[] = {1 /* not ready */, 2 /* absent */, 0x10000, 0xffffffff};

START_TEST(test_notify_bad_queue_needs_reset)
{
    bring_up(F_VERSION_1);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, bad_notify[_i]);
    ck_assert_uint_eq(fd.nnotified, 0);
    ck_assert(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    ck_assert_str_eq(levels, "1");
    /* Now dead until reset: even a good notify is ignored. */
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(fd.nnotified, 0);
}
END_TEST

START_TEST(test_round_trip_inline_notify)
{
    fd.echo = true;
    bring_up(F_VERSION_1 | F_INDIRECT);
    drv_post(0, "hello", 32);
    drv_post(2, "world!", 32);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_int_eq(fd.echo_ret, -EAGAIN);
    ck_assert_uint_eq(used0()->idx, 2);
    ck_assert_uint_eq(used0()->ring[0].id, 0);
    ck_assert_uint_eq(used0()->ring[0].len, 5);
    ck_assert_uint_eq(used0()->ring[1].id, 2);
    ck_assert_uint_eq(used0()->ring[1].len, 6);
    ck_assert_mem_eq(gmem_ptr(&gm, BUF + 0x2000 + 0x800, 6), "world!", 6);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
}
END_TEST

/* ---- reset ---- */

START_TEST(test_reset_restores_state)
{
    bring_up(F_VERSION_1 | F_MAC);
    setup_queue(1);
    virtio_mmio_config_changed(&t);
    ck_assert_str_eq(levels, "1");
    struct vq_chain c;
    drv_post(0, "x", 1);
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), 0);

    wr(VIRTIO_MMIO_STATUS, 0);
    ck_assert_int_eq(fd.reset_calls, 2); /* negotiate() reset first, as a driver does */
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    ck_assert_str_eq(levels, "10");
    ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1); /* keeps counting */
    ck_assert_uint_eq(virtio_mmio_features(&t), 0);
    for (unsigned q = 0; q < 2; q++) {
        wr(VIRTIO_MMIO_QUEUE_SEL, q);
        ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
        ck_assert(!t.queues[q].vq.ready);
    }
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), -ENODEV);
    /* A chain popped before the reset cannot be pushed, even once the queue is back. */
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 1), -ESTALE);
    drv_avail = 0;
    bring_up(F_VERSION_1);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 1), -ESTALE);
    ck_assert_uint_eq(used0()->idx, 0);
}
END_TEST

START_TEST(test_reset_clears_needs_reset)
{
    bring_up(F_VERSION_1);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 7);
    ck_assert(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
    wr(VIRTIO_MMIO_STATUS, 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
    memset(gmem_ptr(&gm, AVAIL, vring_avail_size(QMAX)), 0, vring_avail_size(QMAX));
    drv_avail = 0;
    fd.echo = true;
    bring_up(F_VERSION_1);
    drv_post(0, "again", 8);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(used0()->idx, 1);
}
END_TEST

/* ---- NEEDS_RESET on a broken queue, and only for this device ---- */

START_TEST(test_broken_queue_needs_reset)
{
    bring_up(F_VERSION_1);
    struct vring_avail *a = gmem_ptr(&gm, AVAIL, vring_avail_size(QMAX));
    a->ring[0] = QMAX; /* head out of range */
    a->idx = 1;
    struct vq_chain c;
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), -EINVAL);
    ck_assert_int_eq(t.queues[0].vq.error, VQ_ERR_HEAD);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS),
                      S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK | S_NEEDS_RESET);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    ck_assert_str_eq(levels, "1");
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), -ENODEV);
    ck_assert(!virtio_mmio_signal_used(&t, 0));
    /* The driver cannot clear the device's bit by writing status back. */
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    ck_assert(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
}
END_TEST

START_TEST(test_broken_device_leaves_others_alone)
{
    struct virtio_mmio t2;
    struct fake_dev fd2 = {.t = &t2};
    ck_assert_int_eq(virtio_mmio_init(&t2, &fake_ops, &fd2, &gm, NULL), 0);
    bring_up(F_VERSION_1);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* queue 1 not ready */
    ck_assert(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
    uint32_t v;
    virtio_mmio_bus_ops.read(&t2, 0, VIRTIO_MMIO_STATUS, (uint8_t *)&v, 4);
    ck_assert_uint_eq(v, 0);
    ck_assert_uint_eq(t2.guest_errors, 0);
    virtio_mmio_destroy(&t2);
}
END_TEST

START_TEST(test_pop_before_driver_ok)
{
    negotiate(F_VERSION_1);
    setup_queue(0);
    drv_post(0, "x", 1);
    struct vq_chain c;
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), -ENODEV); /* §2.1.2 */
    ck_assert_int_eq(virtio_mmio_pop(&t, 5, &c), -ENODEV);
}
END_TEST

START_TEST(test_push_len_checked)
{
    bring_up(F_VERSION_1);
    drv_post(0, "x", 4);
    struct vq_chain c;
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &c), 0);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 5), -EINVAL);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &c, 4), 0);
}
END_TEST

/* A device gives popped chains back (the next pop returns them again); chains from before a
 * reset are stale. The per-queue counters see it all and survive the reset. */
START_TEST(test_unpop_and_queue_stats)
{
    bring_up(F_VERSION_1);
    drv_post(0, "x", 4);
    drv_post(2, "y", 4);
    struct vq_chain a, b;
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &a), 0);
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &b), 0);
    ck_assert_int_eq(virtio_mmio_unpop(&t, 0, &a, 3), -EINVAL);
    ck_assert_int_eq(virtio_mmio_unpop(&t, 0, &a, 2), 0);
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &b), 0);
    ck_assert_uint_eq(b.head, a.head);
    ck_assert_int_eq(virtio_mmio_push(&t, 0, &b, 1), 0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    struct virtio_mmio_stats st;
    virtio_mmio_get_stats(&t, &st);
    ck_assert_uint_eq(st.num_queues, 2);
    ck_assert_uint_eq(st.queue[0].popped, 3);
    ck_assert_uint_eq(st.queue[0].returned, 2);
    ck_assert_uint_eq(st.queue[0].used, 1);
    ck_assert_uint_eq(st.queue[0].notifies, 1);
    ck_assert_uint_eq(st.notifies, 1);
    ck_assert_uint_eq(st.guest_errors, 0);
    ck_assert_int_eq(virtio_mmio_pop(&t, 0, &b), 0);
    wr(VIRTIO_MMIO_STATUS, 0);
    ck_assert_int_eq(virtio_mmio_unpop(&t, 0, &b, 1), -ESTALE);
    virtio_mmio_get_stats(&t, &st);
    ck_assert_uint_eq(st.queue[0].popped, 4);
}
END_TEST

START_TEST(test_device_needs_reset_api)
{
    bring_up(F_VERSION_1);
    virtio_mmio_needs_reset(&t);
    virtio_mmio_needs_reset(&t); /* once is enough: no second edge */
    ck_assert(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET);
    ck_assert_str_eq(levels, "1");
}
END_TEST

/* ---- access widths ---- */

static const struct {
    uint32_t off;
    unsigned len;
} bad_widths[] = {
    {VIRTIO_MMIO_MAGIC_VALUE, 1},
    {VIRTIO_MMIO_MAGIC_VALUE, 2},
    {VIRTIO_MMIO_MAGIC_VALUE, 8},
    {VIRTIO_MMIO_MAGIC_VALUE + 1, 4},
    {VIRTIO_MMIO_STATUS, 1},
    {VIRTIO_MMIO_STATUS + 2, 2},
    {VIRTIO_MMIO_CONFIG_GENERATION, 8},
    {VIRTIO_MMIO_CONFIG + 6, 4}, /* past config */
    {VIRTIO_MMIO_CONFIG + 8, 1},
    {0xffc, 4},
};

START_TEST(test_bad_width_read)
{
    uint8_t d[8] = {0};
    virtio_mmio_bus_ops.read(&t, 0, bad_widths[_i].off, d, bad_widths[_i].len);
    for (unsigned i = 0; i < bad_widths[_i].len; i++)
        ck_assert_uint_eq(d[i], 0xff);
    ck_assert_uint_eq(t.bad_width, 1);
}
END_TEST

START_TEST(test_bad_width_write)
{
    negotiate(F_VERSION_1);
    uint32_t before = rd(VIRTIO_MMIO_STATUS);
    uint8_t zero[8] = {0};
    virtio_mmio_bus_ops.write(&t, 0, VIRTIO_MMIO_STATUS, zero, 1); /* would be a reset */
    virtio_mmio_bus_ops.write(&t, 0, VIRTIO_MMIO_STATUS, zero, 8);
    virtio_mmio_bus_ops.write(&t, 0, VIRTIO_MMIO_STATUS + 2, zero, 2);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), before);
    ck_assert_uint_eq(t.bad_width, 3);
    ck_assert_int_eq(fd.reset_calls, 1); /* from negotiate() only */
}
END_TEST

START_TEST(test_config_any_width)
{
    uint8_t b = 0;
    uint16_t w = 0;
    uint32_t l = 0;
    uint64_t q = 0;
    virtio_mmio_bus_ops.read(&t, 0, VIRTIO_MMIO_CONFIG + 1, &b, 1);
    ck_assert_uint_eq(b, 0x54);
    virtio_mmio_bus_ops.read(&t, 0, VIRTIO_MMIO_CONFIG + 6, (uint8_t *)&w, 2);
    ck_assert_uint_eq(w, 1); /* "status" field: link up */
    virtio_mmio_bus_ops.read(&t, 0, VIRTIO_MMIO_CONFIG + 2, (uint8_t *)&l, 4);
    ck_assert_uint_eq(l, 0x56341200);
    virtio_mmio_bus_ops.read(&t, 0, VIRTIO_MMIO_CONFIG, (uint8_t *)&q, 8);
    ck_assert_uint_eq(q, 0x0001563412005452ull);
    ck_assert_uint_eq(t.bad_width, 0);
    /* Read-only config (no config_write): writes are ignored. */
    virtio_mmio_bus_ops.write(&t, 0, VIRTIO_MMIO_CONFIG, &b, 1);
    ck_assert_uint_eq(t.ignored, 1);
    ck_assert_uint_eq(fd.config[0], 0x52);
}
END_TEST

START_TEST(test_unknown_and_write_only_regs)
{
    ck_assert_uint_eq(rd(0x028), 0); /* legacy GuestPageSize: absent in version 2 */
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NOTIFY), 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
    ck_assert_uint_eq(t.bad_reg, 3);
    wr(VIRTIO_MMIO_MAGIC_VALUE, 0); /* read-only */
    wr(0x040, 1);                   /* legacy QueuePFN */
    ck_assert_uint_eq(t.bad_reg, 5);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
}
END_TEST

/* ---- threads: an I/O thread works the queue while a vCPU resets and re-initialises ---- */

static volatile int stop_worker;
static unsigned long worker_pushed;

static void *worker(void *arg)
{
    struct vq_chain c;
    (void)arg;
    while (!__atomic_load_n(&stop_worker, __ATOMIC_ACQUIRE)) {
        int ret = virtio_mmio_pop(&t, 0, &c);
        if (ret != 0)
            continue;
        /* Copy outside the lock, as a device does; a reset may come in between. */
        vq_chain_write(&gm, &c, 0, "pong", 4);
        if (virtio_mmio_push(&t, 0, &c, 4) == 0)
            worker_pushed++;
        virtio_mmio_signal_used(&t, 0);
    }
    return NULL;
}

START_TEST(test_io_thread_races_reset)
{
    pthread_t th;
    /* No irq line here: the recorder holds only 63 level changes. */
    virtio_mmio_destroy(&t);
    ck_assert_int_eq(virtio_mmio_init(&t, &fake_ops, &fd, &gm, NULL), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, worker, NULL), 0);
    unsigned long completed = 0;
    for (unsigned cycle = 0; cycle < 200; cycle++) {
        memset(gmem_ptr(&gm, AVAIL, vring_avail_size(QMAX)), 0, vring_avail_size(QMAX));
        memset(gmem_ptr(&gm, USED, vring_used_size(QMAX)), 0, vring_used_size(QMAX));
        drv_avail = 0;
        bring_up(F_VERSION_1 | (cycle & 1 ? F_EVENT_IDX : 0));
        for (uint16_t h = 0; h < 4; h++)
            drv_post((uint16_t)(2 * h), "ping", 8);
        if (cycle % 4 == 0) {
            /* Let the worker finish every fourth round before resetting. */
            for (unsigned spin = 0;
                 spin < 1000000 && __atomic_load_n(&used0()->idx, __ATOMIC_ACQUIRE) != 4; spin++)
                sched_yield();
            ck_assert_uint_eq(used0()->idx, 4);
        }
        completed += __atomic_load_n(&used0()->idx, __ATOMIC_ACQUIRE);
        wr(VIRTIO_MMIO_STATUS, 0);
        ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
        ck_assert_uint_eq(t.guest_errors, 0);
    }
    __atomic_store_n(&stop_worker, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_uint_ge(completed, 50 * 4);
    ck_assert_uint_ge(worker_pushed, completed);
}
END_TEST

/* ---- construction ---- */

START_TEST(test_init_refuses_bad_ops)
{
    struct virtio_mmio t2;
    struct virtio_dev_ops o = fake_ops;
    o.queue_max = 12;
    ck_assert_int_eq(virtio_mmio_init(&t2, &o, NULL, &gm, NULL), -EINVAL);
    o = fake_ops;
    o.num_queues = VIRTIO_MMIO_MAX_QUEUES + 1;
    ck_assert_int_eq(virtio_mmio_init(&t2, &o, NULL, &gm, NULL), -EINVAL);
    o = fake_ops;
    o.device_id = 0;
    ck_assert_int_eq(virtio_mmio_init(&t2, &o, NULL, &gm, NULL), -EINVAL);
    o = fake_ops;
    o.config_read = NULL;
    ck_assert_int_eq(virtio_mmio_init(&t2, &o, NULL, &gm, NULL), -EINVAL);
    o = fake_ops;
    o.config_size = 0xf01;
    ck_assert_int_eq(virtio_mmio_init(&t2, &o, NULL, &gm, NULL), -EINVAL);
    o = fake_ops;
    o.queue_notify = NULL;
    ck_assert_int_eq(virtio_mmio_init(&t2, &o, NULL, &gm, NULL), -EINVAL);
}
END_TEST

static Suite *virtio_mmio_suite(void)
{
    Suite *su = suite_create("virtio_mmio");
    TCase *tc;

#define TC(name)                                                                                   \
    tc = tcase_create(name);                                                                       \
    tcase_add_checked_fixture(tc, setup, teardown);                                                \
    suite_add_tcase(su, tc)

    TC("identity_registers");
    tcase_add_loop_test(tc, test_identity, 0, N(ids));
    tcase_add_test(tc, test_magic_bytes);
    tcase_add_test(tc, test_queue_num_max_absent_queue);
    tcase_add_test(tc, test_device_features_offered);
    tcase_add_loop_test(tc, test_reg_names, 0, N(reg_names));
    tcase_add_test(tc, test_init_refuses_bad_ops);

    TC("feature_negotiation");
    tcase_add_test(tc, test_negotiate_ok);
    tcase_add_test(tc, test_negotiate_minimal);
    tcase_add_loop_test(tc, test_negotiate_refused, 0, N(refused));
    tcase_add_test(tc, test_negotiate_refused_high_selector);
    tcase_add_test(tc, test_negotiate_retry_after_refusal);
    tcase_add_test(tc, test_features_frozen_after_features_ok);
    tcase_add_test(tc, test_status_bits_cannot_be_cleared);

    TC("queue_setup_validated");
    tcase_add_test(tc, test_queue_setup_ok);
    tcase_add_test(tc, test_queue_setup_small_and_high);
    tcase_add_loop_test(tc, test_queue_setup_refused, 0, N(bad_queues));
    tcase_add_test(tc, test_queue_setup_before_features_ok);
    tcase_add_test(tc, test_queue_regs_frozen_while_ready);
    tcase_add_test(tc, test_queue_regs_absent_queue_ignored);

    TC("interrupt_line_follows_status");
    tcase_add_test(tc, test_used_interrupt_and_ack);
    tcase_add_test(tc, test_interrupt_level_until_all_acked);
    tcase_add_test(tc, test_no_interrupt_flag_respected);
    tcase_add_test(tc, test_event_idx_suppresses);
    tcase_add_test(tc, test_config_generation);

    TC("queue_notify_reaches_device");
    tcase_add_test(tc, test_notify_reaches_device);
    tcase_add_test(tc, test_notify_before_driver_ok_ignored);
    tcase_add_loop_test(tc, test_notify_bad_queue_needs_reset, 0, N(bad_notify));
    tcase_add_test(tc, test_round_trip_inline_notify);

    TC("reset_restores_initial_state");
    tcase_add_test(tc, test_reset_restores_state);
    tcase_add_test(tc, test_reset_clears_needs_reset);

    TC("misbehaving_guest_breaks_only_its_device");
    tcase_add_test(tc, test_broken_queue_needs_reset);
    tcase_add_test(tc, test_broken_device_leaves_others_alone);
    tcase_add_test(tc, test_pop_before_driver_ok);
    tcase_add_test(tc, test_push_len_checked);
    tcase_add_test(tc, test_unpop_and_queue_stats);
    tcase_add_test(tc, test_device_needs_reset_api);

    TC("io_thread_and_vcpu_share_the_transport");
    /* Two threads spin-waiting for each other: ~40 ms here, slower where threads take turns
     * (valgrind runs one at a time). */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_io_thread_races_reset);

    TC("access_width_checked");
    tcase_add_loop_test(tc, test_bad_width_read, 0, N(bad_widths));
    tcase_add_test(tc, test_bad_width_write);
    tcase_add_test(tc, test_config_any_width);
    tcase_add_test(tc, test_unknown_and_write_only_regs);
#undef TC
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(virtio_mmio_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
