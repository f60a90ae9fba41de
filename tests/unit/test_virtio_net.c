/*
 * test_virtio_net.c: unit tests of the virtio-net VF device (devices/virtio_net.c).
 *
 * Two VFs of a real pfswitch, each a virtio_net behind its virtio-mmio transport on one 16 MiB
 * gmem, with the queue work run in QueueNotify (notify=exit). A fake driver lays out the three
 * rings of each device in guest memory and drives the registers through the bus callbacks as a
 * vCPU would; the uplink is a fake port that keeps the frames it gets. Covered: feature
 * negotiation, TX to the uplink and to the other VF, RX into posted buffers (one buffer, and
 * merged buffers), -ENOBUFS with no buffer, control commands (PROMISC/ALLMULTI, MAC_ADDR_SET
 * trusted and untrusted, MAC_TABLE_SET good and malformed), link status with its config
 * interrupt, hostile TX chains (NEEDS_RESET on one VF while the other still works) and an
 * oversize frame. CK_FORK: a crash is a failed test.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/hw/gmem.h"
#include "pfswitch.h"
#include "virtio_mmio.h"
#include "virtio_net.h"

#define MiB (1ull << 20)
#define QN 16
#define NVF 2
#define GSI0 16

#define FB(b) VIRTIO_BIT(b)
#define F_ALL                                                                                      \
    (FB(VIRTIO_F_VERSION_1) | FB(VIRTIO_NET_F_MAC) | FB(VIRTIO_NET_F_STATUS) |                     \
     FB(VIRTIO_NET_F_MRG_RXBUF) | FB(VIRTIO_NET_F_CTRL_VQ) | FB(VIRTIO_NET_F_CTRL_RX) |            \
     FB(VIRTIO_NET_F_CTRL_MAC_ADDR) | FB(VIRTIO_F_EVENT_IDX) | FB(VIRTIO_F_INDIRECT_DESC))
#define F_BASIC                                                                                    \
    (FB(VIRTIO_F_VERSION_1) | FB(VIRTIO_NET_F_MAC) | FB(VIRTIO_NET_F_STATUS) |                     \
     FB(VIRTIO_NET_F_CTRL_VQ) | FB(VIRTIO_NET_F_CTRL_RX) | FB(VIRTIO_NET_F_CTRL_MAC_ADDR))

#define S_UP                                                                                       \
    (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |          \
     VIRTIO_CONFIG_S_DRIVER_OK)

static struct gmem gm;
static struct pfswitch sw;
static struct virtio_net vn[NVF];
static int level[NVF];
static const uint8_t mac[NVF][6] = {{0x02, 0, 0, 0, 0, 0x10}, {0x02, 0, 0, 0, 0, 0x11}};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- the fake uplink and interrupt lines ---- */

static uint8_t up_frame[2048];
static size_t up_len;
static unsigned up_count;

static int up_deliver(void *opaque, const void *frame, size_t len)
{
    (void)opaque;
    ck_assert_uint_le(len, sizeof(up_frame));
    memcpy(up_frame, frame, len);
    up_len = len;
    up_count++;
    return 0;
}

static const struct pfswitch_port_ops up_ops = {.deliver = up_deliver};

static void set_level(void *opaque, unsigned gsi, int lvl)
{
    (void)opaque;
    ck_assert_uint_ge(gsi, GSI0);
    ck_assert_uint_lt(gsi, GSI0 + NVF);
    level[gsi - GSI0] = lvl;
}

static const struct irq_line_ops line_ops = {.set_level = set_level};

/* ---- the fake driver: rings of device d, queue q at RING(d, q); buffers at BUFS ---- */

#define RING(d, q) (0x100000ull + (d)*0x200000ull + (q)*0x10000ull)
#define DESC(d, q) RING(d, q)
#define AVAIL(d, q) (RING(d, q) + 0x1000)
#define USED(d, q) (RING(d, q) + 0x2000)
#define BUF(d, q, i) (0x100000ull + (d)*0x200000ull + 0x100000ull + (q)*0x20000ull + (i)*0x1000ull)

static uint16_t drv_avail[NVF][3];
static uint16_t drv_next[NVF][3]; /* next free descriptor */

static uint32_t rd(unsigned d, uint64_t off)
{
    uint32_t v;
    virtio_mmio_bus_ops.read(&vn[d].t, 0, off, (uint8_t *)&v, 4);
    return v;
}

static void wr(unsigned d, uint64_t off, uint32_t v)
{
    virtio_mmio_bus_ops.write(&vn[d].t, 0, off, (const uint8_t *)&v, 4);
}

static uint64_t device_features(unsigned d)
{
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint64_t hi = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    return hi << 32 | rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

static void drv_init(unsigned d, uint64_t f)
{
    wr(d, VIRTIO_MMIO_STATUS, 0);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
    wr(d, VIRTIO_MMIO_STATUS, S_UP & ~VIRTIO_CONFIG_S_DRIVER_OK);
    ck_assert_uint_eq(rd(d, VIRTIO_MMIO_STATUS), S_UP & ~VIRTIO_CONFIG_S_DRIVER_OK);
    for (unsigned q = 0; q < 3; q++) {
        memset(gmem_ptr(&gm, RING(d, q), 0x3000), 0, 0x3000);
        wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
        wr(d, VIRTIO_MMIO_QUEUE_NUM, QN);
        wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC(d, q));
        wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
        wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)AVAIL(d, q));
        wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
        wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)USED(d, q));
        wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
        wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
        drv_avail[d][q] = drv_next[d][q] = 0;
    }
    wr(d, VIRTIO_MMIO_STATUS, S_UP);
    ck_assert_uint_eq(rd(d, VIRTIO_MMIO_STATUS), S_UP);
}

struct seg {
    uint64_t gpa;
    uint32_t len;
    bool write;
};

/* Posts one chain of n segments; returns its head. */
static uint16_t drv_post(unsigned d, unsigned q, const struct seg *s, unsigned n)
{
    struct vring_desc *desc = gmem_ptr(&gm, DESC(d, q), 16 * QN);
    uint16_t head = drv_next[d][q] % QN;
    for (unsigned i = 0; i < n; i++) {
        uint16_t idx = (uint16_t)((head + i) % QN);
        desc[idx] = (struct vring_desc){.addr = s[i].gpa,
                                        .len = s[i].len,
                                        .flags = (uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
                                                            (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
                                        .next = (uint16_t)((idx + 1) % QN)};
    }
    drv_next[d][q] = (uint16_t)(drv_next[d][q] + n);
    struct vring_avail *a = gmem_ptr(&gm, AVAIL(d, q), 4 + 2 * QN + 2);
    a->ring[drv_avail[d][q] % QN] = head;
    __atomic_store_n(&a->idx, ++drv_avail[d][q], __ATOMIC_RELEASE);
    return head;
}

static struct vring_used *used(unsigned d, unsigned q)
{
    return gmem_ptr(&gm, USED(d, q), 4 + 8 * QN + 2);
}

static void kick(unsigned d, unsigned q)
{
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* A frame from VF d's MAC to dst, `len` bytes in all. */
static void make_frame(uint8_t *f, size_t len, unsigned d, const uint8_t *dst)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(i * 7);
    memcpy(f, dst, 6);
    memcpy(f + 6, mac[d], 6);
    f[12] = 0x08;
    f[13] = 0x00;
}

/* Header and frame in two descriptors, as Linux does without ANY_LAYOUT tricks. */
static void drv_tx(unsigned d, const uint8_t *frame, uint32_t len)
{
    unsigned slot = drv_next[d][VIRTIO_NET_TXQ] % QN;
    uint64_t buf = BUF(d, VIRTIO_NET_TXQ, slot);
    uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0};
    ck_assert_int_eq(gmem_write(&gm, buf, hdr, sizeof(hdr)), 0);
    ck_assert_int_eq(gmem_write(&gm, buf + 0x10, frame, len), 0);
    struct seg s[2] = {{buf, VIRTIO_NET_HDR_LEN, false}, {buf + 0x10, len, false}};
    drv_post(d, VIRTIO_NET_TXQ, s, 2);
    kick(d, VIRTIO_NET_TXQ);
}

static void drv_post_rx(unsigned d, unsigned n, uint32_t size)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned slot = drv_next[d][VIRTIO_NET_RXQ] % QN;
        struct seg s = {BUF(d, VIRTIO_NET_RXQ, slot), size, true};
        drv_post(d, VIRTIO_NET_RXQ, &s, 1);
    }
    kick(d, VIRTIO_NET_RXQ);
}

/* One control command; returns the ack byte (0xee if the device did not write it). */
static uint8_t drv_ctrl(unsigned d, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
    unsigned slot = drv_next[d][VIRTIO_NET_CTRLQ] % QN;
    uint64_t buf = BUF(d, VIRTIO_NET_CTRLQ, slot);
    uint8_t hdr[2] = {cls, cmd}, ack = 0xee;
    uint16_t before = used(d, VIRTIO_NET_CTRLQ)->idx;
    ck_assert_int_eq(gmem_write(&gm, buf, hdr, 2), 0);
    if (len)
        ck_assert_int_eq(gmem_write(&gm, buf + 0x10, data, len), 0);
    ck_assert_int_eq(gmem_write(&gm, buf + 0xff0, &ack, 1), 0);
    struct seg s[3] = {{buf, 2, false}, {buf + 0x10, len, false}, {buf + 0xff0, 1, true}};
    if (len) {
        drv_post(d, VIRTIO_NET_CTRLQ, s, 3);
    } else { /* header, then the ack */
        s[1] = s[2];
        drv_post(d, VIRTIO_NET_CTRLQ, s, 2);
    }
    kick(d, VIRTIO_NET_CTRLQ);
    ck_assert_uint_eq(used(d, VIRTIO_NET_CTRLQ)->idx, (uint16_t)(before + 1));
    ck_assert_int_eq(gmem_read(&gm, buf + 0xff0, &ack, 1), 0);
    return ack;
}

static void config(unsigned d, uint32_t off, void *out, unsigned len)
{
    virtio_mmio_bus_ops.read(&vn[d].t, 0, VIRTIO_MMIO_CONFIG + off, out, len);
}

/* ---- fixture ---- */

static void setup_event_idx(bool event_idx)
{
    ck_assert_int_eq(gmem_init(&gm, 16 * MiB), 0);
    ck_assert_int_eq(pfswitch_init(&sw, NVF), 0);
    ck_assert_int_eq(pfswitch_attach(&sw, PFSWITCH_UPLINK, &up_ops, NULL), 0);
    up_len = up_count = 0;
    for (unsigned d = 0; d < NVF; d++) {
        struct irq_line line = {.ops = &line_ops, .opaque = NULL, .gsi = GSI0 + d};
        ck_assert_int_eq(pfswitch_set_mac(&sw, d, mac[d], false), 0);
        struct netport port;
        ck_assert_int_eq(pfswitch_netport(&sw, d, &port), 0);
        ck_assert_int_eq(virtio_net_init(&vn[d], &gm, &line, &port, event_idx), 0);
        ck_assert_int_eq(virtio_net_attach(&vn[d]), 0);
        level[d] = 0;
    }
}

static void setup(void)
{
    setup_event_idx(true);
}

static void teardown(void)
{
    for (unsigned d = 0; d < NVF; d++) {
        virtio_net_detach(&vn[d]);
        virtio_net_destroy(&vn[d]);
    }
    pfswitch_destroy(&sw);
    gmem_destroy(&gm);
}

static uint64_t sw_drop(unsigned port, enum pfswitch_drop r, bool rx)
{
    struct pfswitch_port_stats st;
    ck_assert_int_eq(pfswitch_stats(&sw, port, &st), 0);
    return rx ? st.rx_drops[r] : st.tx_drops[r];
}

/* ---- features and config ---- */

START_TEST(test_features)
{
    ck_assert_uint_eq(rd(0, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
    ck_assert_uint_eq(device_features(0), F_ALL);
    uint8_t m[6];
    uint16_t status;
    config(0, 0, m, 6);
    ck_assert_mem_eq(m, mac[0], 6);
    config(1, 0, m, 6);
    ck_assert_mem_eq(m, mac[1], 6);
    config(0, 6, &status, 2);
    ck_assert_uint_eq(status, VIRTIO_NET_S_LINK_UP);
    drv_init(0, F_ALL);
    ck_assert_uint_eq(virtio_mmio_features(&vn[0].t), F_ALL);
}
END_TEST

START_TEST(test_features_no_event_idx)
{
    teardown();
    setup_event_idx(false);
    ck_assert_uint_eq(device_features(0), F_BASIC | FB(VIRTIO_NET_F_MRG_RXBUF));
    drv_init(0, F_BASIC);
    ck_assert_uint_eq(virtio_mmio_features(&vn[0].t), F_BASIC);
}
END_TEST

START_TEST(test_link_status)
{
    drv_init(0, F_ALL);
    uint32_t gen = rd(0, VIRTIO_MMIO_CONFIG_GENERATION);
    virtio_net_set_link(&vn[0], false);
    uint16_t status = 0xffff;
    config(0, 6, &status, 2);
    ck_assert_uint_eq(status, 0);
    ck_assert_uint_ne(rd(0, VIRTIO_MMIO_CONFIG_GENERATION), gen);
    ck_assert_uint_eq(rd(0, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG,
                      VIRTIO_MMIO_INT_CONFIG);
    ck_assert_int_eq(level[0], 1);
    wr(0, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
    ck_assert_int_eq(level[0], 0);
    virtio_net_set_link(&vn[0], true);
    config(0, 6, &status, 2);
    ck_assert_uint_eq(status, VIRTIO_NET_S_LINK_UP);
}
END_TEST

/* ---- TX and RX ---- */

START_TEST(test_tx_to_uplink_and_vf)
{
    uint8_t f[60];
    drv_init(0, F_ALL);
    drv_init(1, F_ALL);
    drv_post_rx(1, 2, 2048);
    make_frame(f, sizeof(f), 0, bcast);
    drv_tx(0, f, sizeof(f));
    /* TX chain returned, interrupt raised. */
    ck_assert_uint_eq(used(0, VIRTIO_NET_TXQ)->idx, 1);
    ck_assert_uint_eq(used(0, VIRTIO_NET_TXQ)->ring[0].len, 0);
    ck_assert_int_eq(level[0], 1);
    /* The broadcast reached the uplink as sent... */
    ck_assert_uint_eq(up_count, 1);
    ck_assert_uint_eq(up_len, sizeof(f));
    ck_assert_mem_eq(up_frame, f, sizeof(f));
    /* ...and VF1's RX buffer, behind a 12-byte header with num_buffers 1. */
    ck_assert_uint_eq(used(1, VIRTIO_NET_RXQ)->idx, 1);
    ck_assert_uint_eq(used(1, VIRTIO_NET_RXQ)->ring[0].len, VIRTIO_NET_HDR_LEN + sizeof(f));
    struct virtio_net_hdr_v1 h;
    uint8_t got[60];
    ck_assert_int_eq(gmem_read(&gm, BUF(1, VIRTIO_NET_RXQ, 0), &h, sizeof(h)), 0);
    ck_assert_uint_eq(h.num_buffers, 1);
    ck_assert_uint_eq(h.flags, 0);
    ck_assert_int_eq(gmem_read(&gm, BUF(1, VIRTIO_NET_RXQ, 0) + 12, got, sizeof(got)), 0);
    ck_assert_mem_eq(got, f, sizeof(f));
    ck_assert_int_eq(level[1], 1);
    struct virtio_net_stats st;
    virtio_net_get_stats(&vn[0], &st);
    ck_assert_uint_eq(st.tx_frames, 1);
}
END_TEST

START_TEST(test_rx_from_uplink)
{
    uint8_t f[100];
    drv_init(0, F_BASIC);
    drv_post_rx(0, 1, 1526);
    make_frame(f, sizeof(f), 1, mac[0]); /* source: any */
    memset(f + 6, 0x42, 6);
    f[6] = 0x02;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    ck_assert_uint_eq(used(0, VIRTIO_NET_RXQ)->idx, 1);
    ck_assert_uint_eq(used(0, VIRTIO_NET_RXQ)->ring[0].len, 12 + sizeof(f));
    uint8_t got[100];
    ck_assert_int_eq(gmem_read(&gm, BUF(0, VIRTIO_NET_RXQ, 0) + 12, got, sizeof(got)), 0);
    ck_assert_mem_eq(got, f, sizeof(f));
}
END_TEST

START_TEST(test_rx_mergeable)
{
    uint8_t f[1000];
    drv_init(0, F_ALL);
    drv_post_rx(0, 3, 512);
    make_frame(f, sizeof(f), 1, mac[0]);
    memset(f + 6, 0x42, 6);
    f[6] = 0x02;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    struct vring_used *u = used(0, VIRTIO_NET_RXQ);
    ck_assert_uint_eq(u->idx, 2);
    ck_assert_uint_eq(u->ring[0].len, 512);
    ck_assert_uint_eq(u->ring[1].len, 12 + 1000 - 512);
    struct virtio_net_hdr_v1 h;
    ck_assert_int_eq(gmem_read(&gm, BUF(0, VIRTIO_NET_RXQ, 0), &h, sizeof(h)), 0);
    ck_assert_uint_eq(h.num_buffers, 2);
    uint8_t got[1000];
    ck_assert_int_eq(gmem_read(&gm, BUF(0, VIRTIO_NET_RXQ, 0) + 12, got, 500), 0);
    ck_assert_int_eq(gmem_read(&gm, BUF(0, VIRTIO_NET_RXQ, 1), got + 500, 500), 0);
    ck_assert_mem_eq(got, f, sizeof(f));
}
END_TEST

START_TEST(test_rx_mergeable_short_gives_back)
{
    uint8_t f[1000];
    drv_init(0, F_ALL);
    drv_post_rx(0, 1, 512); /* not enough for 1012 bytes */
    make_frame(f, sizeof(f), 1, mac[0]);
    memset(f + 6, 0x42, 6);
    f[6] = 0x02;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    ck_assert_uint_eq(used(0, VIRTIO_NET_RXQ)->idx, 0);
    ck_assert_uint_eq(sw_drop(0, PFSWITCH_DROP_NOBUF, true), 1);
    /* The buffer was given back: with one more, the next frame uses both. */
    drv_post_rx(0, 1, 512);
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    ck_assert_uint_eq(used(0, VIRTIO_NET_RXQ)->idx, 2);
    ck_assert_uint_eq(used(0, VIRTIO_NET_RXQ)->ring[0].id, 0);
}
END_TEST

/* A failed copy into RX buffers (-EIO, an ERROR drop) leaves no buffer popped: those the frame
 * took are given back and the next frame uses them. The device's own gmem is swapped for one that
 * refuses part of RAM, so the transport's ring checks still pass and only the copies fail. */
START_TEST(test_rx_write_error_gives_back)
{
    struct gmem part = gm, none = gm;
    uint8_t f[1000];
    part.regions[0].size = BUF(0, VIRTIO_NET_RXQ, 1); /* buffer 0 in RAM, buffer 1 not */
    none.nregions = 0;
    drv_init(0, F_ALL);
    drv_post_rx(0, 2, 512);
    make_frame(f, sizeof(f), 1, mac[0]);
    memset(f + 6, 0x42, 6);
    f[6] = 0x02;
    /* The second buffer's copy fails, after the first was filled. */
    vn[0].gm = &part;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    ck_assert_uint_eq(used(0, VIRTIO_NET_RXQ)->idx, 0);
    ck_assert_uint_eq(sw_drop(0, PFSWITCH_DROP_ERROR, true), 1);
    /* The header's copy fails. */
    vn[0].gm = &none;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    ck_assert_uint_eq(used(0, VIRTIO_NET_RXQ)->idx, 0);
    ck_assert_uint_eq(sw_drop(0, PFSWITCH_DROP_ERROR, true), 2);
    /* Both buffers are still the guest's to fill, in order. */
    vn[0].gm = &gm;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    struct vring_used *u = used(0, VIRTIO_NET_RXQ);
    ck_assert_uint_eq(u->idx, 2);
    ck_assert_uint_eq(u->ring[0].id, 0);
    ck_assert_uint_eq(u->ring[1].id, 1);
    ck_assert_int_eq(rd(0, VIRTIO_MMIO_STATUS), S_UP);
    struct virtio_mmio_stats ts;
    virtio_mmio_get_stats(&vn[0].t, &ts);
    ck_assert_uint_eq(ts.queue[VIRTIO_NET_RXQ].popped, 5);
    ck_assert_uint_eq(ts.queue[VIRTIO_NET_RXQ].returned, 3);
    ck_assert_uint_eq(ts.queue[VIRTIO_NET_RXQ].used, 2);
}
END_TEST

START_TEST(test_rx_no_buffer)
{
    uint8_t f[60];
    drv_init(0, F_ALL);
    make_frame(f, sizeof(f), 1, mac[0]);
    memset(f + 6, 0x42, 6);
    f[6] = 0x02;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    ck_assert_uint_eq(sw_drop(0, PFSWITCH_DROP_NOBUF, true), 1);
    /* Before DRIVER_OK on VF1 too: no buffer. */
    make_frame(f, sizeof(f), 0, mac[1]);
    memset(f + 6, 0x42, 6);
    f[6] = 0x02;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    ck_assert_uint_eq(sw_drop(1, PFSWITCH_DROP_NOBUF, true), 1);
}
END_TEST

START_TEST(test_rx_small_buffer_without_mrg)
{
    uint8_t f[200];
    drv_init(0, F_BASIC);
    drv_post_rx(0, 1, 100);
    make_frame(f, sizeof(f), 1, mac[0]);
    memset(f + 6, 0x42, 6);
    f[6] = 0x02;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    ck_assert_uint_eq(used(0, VIRTIO_NET_RXQ)->idx, 0);
    struct virtio_net_stats st;
    virtio_net_get_stats(&vn[0], &st);
    ck_assert_uint_eq(st.rx_small, 1);
}
END_TEST

START_TEST(test_tx_oversize)
{
    static uint8_t f[VIRTIO_NET_MAX_FRAME + 1];
    drv_init(0, F_ALL);
    make_frame(f, sizeof(f), 0, bcast);
    drv_tx(0, f, sizeof(f));
    ck_assert_uint_eq(used(0, VIRTIO_NET_TXQ)->idx, 1);
    ck_assert_uint_eq(up_count, 0);
    struct virtio_net_stats st;
    virtio_net_get_stats(&vn[0], &st);
    ck_assert_uint_eq(st.tx_oversize, 1);
    ck_assert_uint_eq(rd(0, VIRTIO_MMIO_STATUS), S_UP);
    /* The largest legal frame still goes. */
    drv_tx(0, f, VIRTIO_NET_MAX_FRAME);
    ck_assert_uint_eq(up_count, 1);
    ck_assert_uint_eq(up_len, VIRTIO_NET_MAX_FRAME);
}
END_TEST

START_TEST(test_tx_gso_header_dropped)
{
    uint8_t f[60];
    drv_init(0, F_ALL);
    make_frame(f, sizeof(f), 0, bcast);
    uint64_t buf = BUF(0, VIRTIO_NET_TXQ, 0);
    uint8_t hdr[12] = {0, VIRTIO_NET_HDR_GSO_TCPV4};
    gmem_write(&gm, buf, hdr, 12);
    gmem_write(&gm, buf + 12, f, sizeof(f));
    struct seg s = {buf, 12 + sizeof(f), false}; /* header and frame in one descriptor */
    drv_post(0, VIRTIO_NET_TXQ, &s, 1);
    kick(0, VIRTIO_NET_TXQ);
    ck_assert_uint_eq(used(0, VIRTIO_NET_TXQ)->idx, 1);
    ck_assert_uint_eq(up_count, 0);
    struct virtio_net_stats st;
    virtio_net_get_stats(&vn[0], &st);
    ck_assert_uint_eq(st.tx_bad_hdr, 1);
}
END_TEST

/* ---- hostile input ---- */

START_TEST(test_hostile_tx_addr)
{
    uint8_t f[60];
    drv_init(0, F_ALL);
    drv_init(1, F_ALL);
    struct seg s[2] = {{BUF(0, 1, 0), 12, false}, {gmem_end(&gm) - 8, 64, false}};
    drv_post(0, VIRTIO_NET_TXQ, s, 2);
    kick(0, VIRTIO_NET_TXQ);
    ck_assert_uint_eq(rd(0, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
                      VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_uint_eq(used(0, VIRTIO_NET_TXQ)->idx, 0);
    /* VF0 is dead until reset; VF1 keeps working. */
    make_frame(f, sizeof(f), 1, bcast);
    drv_tx(1, f, sizeof(f));
    ck_assert_uint_eq(up_count, 1);
    ck_assert_uint_eq(rd(1, VIRTIO_MMIO_STATUS), S_UP);
    /* A reset brings VF0 back. */
    drv_init(0, F_ALL);
    make_frame(f, sizeof(f), 0, bcast);
    drv_tx(0, f, sizeof(f));
    ck_assert_uint_eq(up_count, 2);
}
END_TEST

START_TEST(test_hostile_tx_short_header)
{
    uint8_t f[60];
    drv_init(0, F_ALL);
    drv_init(1, F_ALL);
    struct seg s = {BUF(0, 1, 0), 8, false};
    drv_post(0, VIRTIO_NET_TXQ, &s, 1);
    kick(0, VIRTIO_NET_TXQ);
    ck_assert_uint_eq(rd(0, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
                      VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_uint_eq(rd(0, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG,
                      VIRTIO_MMIO_INT_CONFIG);
    make_frame(f, sizeof(f), 1, bcast);
    drv_tx(1, f, sizeof(f));
    ck_assert_uint_eq(up_count, 1);
    struct virtio_net_stats st;
    virtio_net_get_stats(&vn[0], &st);
    ck_assert_uint_eq(st.resets, 1);
}
END_TEST

START_TEST(test_hostile_tx_loop)
{
    drv_init(0, F_ALL);
    drv_init(1, F_ALL);
    /* A descriptor chained to itself. */
    struct vring_desc *desc = gmem_ptr(&gm, DESC(0, VIRTIO_NET_TXQ), 16 * QN);
    desc[0] =
        (struct vring_desc){.addr = BUF(0, 1, 0), .len = 64, .flags = VIRTQ_DESC_F_NEXT, .next = 0};
    struct vring_avail *a = gmem_ptr(&gm, AVAIL(0, VIRTIO_NET_TXQ), 4 + 2 * QN);
    a->ring[0] = 0;
    __atomic_store_n(&a->idx, 1, __ATOMIC_RELEASE);
    kick(0, VIRTIO_NET_TXQ);
    ck_assert_uint_eq(rd(0, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
                      VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_uint_eq(rd(1, VIRTIO_MMIO_STATUS), S_UP);
    /* A ring violation (found by the virtqueue, not by virtio_net) is counted too. */
    struct virtio_net_stats st;
    virtio_net_get_stats(&vn[0], &st);
    ck_assert_uint_eq(st.resets, 1);
    virtio_net_get_stats(&vn[1], &st);
    ck_assert_uint_eq(st.resets, 0);
}
END_TEST

START_TEST(test_hostile_ctrl_no_ack)
{
    drv_init(0, F_ALL);
    uint64_t buf = BUF(0, VIRTIO_NET_CTRLQ, 0);
    uint8_t cmd[3] = {0, 0, 1};
    gmem_write(&gm, buf, cmd, 3);
    struct seg s = {buf, 3, false}; /* no writable byte for the ack */
    drv_post(0, VIRTIO_NET_CTRLQ, &s, 1);
    kick(0, VIRTIO_NET_CTRLQ);
    ck_assert_uint_eq(rd(0, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
                      VIRTIO_CONFIG_S_NEEDS_RESET);
}
END_TEST

/* ---- control queue ---- */

START_TEST(test_ctrl_promisc_allmulti)
{
    struct pfswitch_port_info info;
    uint8_t on = 1, off = 0;
    drv_init(0, F_ALL);
    drv_init(1, F_ALL);
    ck_assert_int_eq(pfswitch_set_trust(&sw, 1, true), 0);
    /* Untrusted: promisc refused; allmulti allowed. */
    ck_assert_uint_eq(drv_ctrl(0, 0, 0, &on, 1), 1);
    ck_assert_uint_eq(drv_ctrl(0, 0, 1, &on, 1), 0);
    ck_assert_int_eq(pfswitch_port_info(&sw, 0, &info), 0);
    ck_assert(!info.promisc);
    ck_assert(info.allmulti);
    ck_assert_uint_eq(drv_ctrl(0, 0, 1, &off, 1), 0);
    ck_assert_int_eq(pfswitch_port_info(&sw, 0, &info), 0);
    ck_assert(!info.allmulti);
    /* Trusted. */
    ck_assert_uint_eq(drv_ctrl(1, 0, 0, &on, 1), 0);
    ck_assert_int_eq(pfswitch_port_info(&sw, 1, &info), 0);
    ck_assert(info.promisc);
    /* Malformed: wrong data length, unknown command and class. */
    uint8_t two[2] = {1, 1};
    ck_assert_uint_eq(drv_ctrl(1, 0, 0, two, 2), 1);
    ck_assert_uint_eq(drv_ctrl(1, 0, 9, &on, 1), 1);
    ck_assert_uint_eq(drv_ctrl(1, 7, 0, &on, 1), 1);
    ck_assert_uint_eq(drv_ctrl(1, 0, 0, NULL, 0), 1); /* header only: the ack is refused */
    ck_assert_uint_eq(rd(1, VIRTIO_MMIO_STATUS), S_UP);
}
END_TEST

START_TEST(test_ctrl_mac_addr_set)
{
    const uint8_t m0[6] = {0x02, 0xaa, 0, 0, 0, 1};
    uint8_t got[6];
    struct pfswitch_port_info info;
    drv_init(0, F_ALL);
    drv_init(1, F_ALL);
    /* Untrusted VF0: refused, config unchanged. */
    ck_assert_uint_eq(drv_ctrl(0, 1, 1, m0, 6), 1);
    config(0, 0, got, 6);
    ck_assert_mem_eq(got, mac[0], 6);
    /* Trusted VF1: accepted, in the switch and config space. */
    ck_assert_int_eq(pfswitch_set_trust(&sw, 1, true), 0);
    ck_assert_uint_eq(drv_ctrl(1, 1, 1, m0, 6), 0);
    config(1, 0, got, 6);
    ck_assert_mem_eq(got, m0, 6);
    ck_assert_int_eq(pfswitch_port_info(&sw, 1, &info), 0);
    ck_assert_mem_eq(info.mac, m0, 6);
    /* Bad length; a multicast MAC. */
    ck_assert_uint_eq(drv_ctrl(1, 1, 1, m0, 5), 1);
    const uint8_t mc[6] = {0x01, 0, 0x5e, 0, 0, 1};
    ck_assert_uint_eq(drv_ctrl(1, 1, 1, mc, 6), 1);
    /* A driver reset (rmmod virtio_net) leaves no stale state: the next driver finds the
     * assigned MAC in config space and in the switch, and promiscuous mode off. */
    ck_assert_uint_eq(drv_ctrl(1, 0, 0, (const uint8_t[]){1}, 1), 0); /* RX PROMISC on */
    ck_assert_int_eq(pfswitch_port_info(&sw, 1, &info), 0);
    ck_assert(info.promisc);
    wr(1, VIRTIO_MMIO_STATUS, 0);
    config(1, 0, got, 6);
    ck_assert_mem_eq(got, mac[1], 6);
    ck_assert_int_eq(pfswitch_port_info(&sw, 1, &info), 0);
    ck_assert_mem_eq(info.mac, mac[1], 6);
    ck_assert(!info.promisc);
}
END_TEST

START_TEST(test_ctrl_mac_addr_set_not_negotiated)
{
    const uint8_t m0[6] = {0x02, 0xaa, 0, 0, 0, 1};
    drv_init(1, F_BASIC & ~FB(VIRTIO_NET_F_CTRL_MAC_ADDR));
    ck_assert_int_eq(pfswitch_set_trust(&sw, 1, true), 0);
    ck_assert_uint_eq(drv_ctrl(1, 1, 1, m0, 6), 1);
}
END_TEST

START_TEST(test_ctrl_mac_table_set)
{
    uint8_t tbl[4 + 4 + 2 * 6] = {0};
    tbl[4] = 2; /* 0 unicast, 2 multicast */
    const uint8_t mc[2][6] = {{0x01, 0, 0x5e, 0, 0, 1}, {0x33, 0x33, 0, 0, 0, 1}};
    memcpy(tbl + 8, mc, sizeof(mc));
    drv_init(0, F_ALL);
    drv_post_rx(0, 2, 2048);
    ck_assert_uint_eq(drv_ctrl(0, 1, 0, tbl, sizeof(tbl)), 0);
    /* A listed multicast frame from the uplink now reaches VF0. */
    uint8_t f[60];
    make_frame(f, sizeof(f), 0, mc[0]);
    memset(f + 6, 0x42, 6);
    f[6] = 0x02;
    ck_assert_int_eq(pfswitch_rx_from_uplink(&sw, f, sizeof(f)), 0);
    ck_assert_uint_eq(used(0, VIRTIO_NET_RXQ)->idx, 1);
    /* Malformed: the counts do not match the length. */
    ck_assert_uint_eq(drv_ctrl(0, 1, 0, tbl, sizeof(tbl) - 1), 1);
    tbl[0] = 0xff;
    ck_assert_uint_eq(drv_ctrl(0, 1, 0, tbl, sizeof(tbl)), 1);
    ck_assert_uint_eq(drv_ctrl(0, 1, 0, tbl, 3), 1);
    /* Untrusted VF: a unicast entry is refused. */
    uint8_t uc[4 + 6 + 4] = {1, 0, 0, 0, 0x02, 1, 2, 3, 4, 5, 0, 0, 0, 0};
    ck_assert_uint_eq(drv_ctrl(0, 1, 0, uc, sizeof(uc)), 1);
    ck_assert_uint_eq(rd(0, VIRTIO_MMIO_STATUS), S_UP);
}
END_TEST

static TCase *tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    suite_add_tcase(s, tc);
    return tc;
}

static Suite *suite(void)
{
    Suite *s = suite_create("virtio_net");
    TCase *tc = tcase(s, "features and config");
    tcase_add_test(tc, test_features);
    tcase_add_test(tc, test_features_no_event_idx);
    tcase_add_test(tc, test_link_status);
    tc = tcase(s, "TX and RX");
    tcase_add_test(tc, test_tx_to_uplink_and_vf);
    tcase_add_test(tc, test_rx_from_uplink);
    tcase_add_test(tc, test_rx_mergeable);
    tcase_add_test(tc, test_rx_mergeable_short_gives_back);
    tcase_add_test(tc, test_rx_write_error_gives_back);
    tcase_add_test(tc, test_rx_no_buffer);
    tcase_add_test(tc, test_rx_small_buffer_without_mrg);
    tcase_add_test(tc, test_tx_oversize);
    tcase_add_test(tc, test_tx_gso_header_dropped);
    tc = tcase(s, "hostile input breaks one VF only");
    tcase_add_test(tc, test_hostile_tx_addr);
    tcase_add_test(tc, test_hostile_tx_short_header);
    tcase_add_test(tc, test_hostile_tx_loop);
    tcase_add_test(tc, test_hostile_ctrl_no_ack);
    tc = tcase(s, "control queue");
    tcase_add_test(tc, test_ctrl_promisc_allmulti);
    tcase_add_test(tc, test_ctrl_mac_addr_set);
    tcase_add_test(tc, test_ctrl_mac_addr_set_not_negotiated);
    tcase_add_test(tc, test_ctrl_mac_table_set);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
