/*
 * test_ne2000.c: unit tests of the NE2000 (DP8390) model (devices/ne2000.c).
 *
 * Drives the model through its bus callbacks as the vCPU loop does (one access per data-port
 * element, as src/vcpu.c hands string PIO over), on a fake network port (netport.h) that
 * records transmitted frames, and a fake irq line that records level changes. The driver
 * sequences are those of Linux's 8390/ne.c (PROM read in byte mode, DCR 0x49 word mode,
 * BNRY = PSTART, CURR = PSTART + 1).
 * Hostile tests feed nonsense registers and check the observable state (and, under CK_FORK,
 * that nothing crashes); an ASan build (-Db_sanitize=address) checks that no access leaves the
 * card's arrays.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ne2000.h"
#include "pfswitch.h"
#include "minivmm/util.h"

#define TEST_GSI 9

static struct ne2000 nd;
static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static uint8_t txframe[2048];
static size_t txlen, ntx;
static int levels[64];
static size_t nlevels;

static int fake_tx(const struct netport *np, const void *frame, size_t len)
{
    ck_assert_ptr_eq(np->provider, &ntx);
    ck_assert_uint_le(len, sizeof(txframe));
    memcpy(txframe, frame, len);
    txlen = len;
    ntx++;
    return 0;
}

static void fake_set_level(void *opaque, unsigned gsi, int level)
{
    ck_assert_ptr_eq(opaque, &nlevels);
    ck_assert_uint_eq(gsi, TEST_GSI);
    ck_assert_uint_lt(nlevels, ARRAY_SIZE(levels));
    levels[nlevels++] = level;
}

static const struct irq_line_ops fake_line_ops = {.set_level = fake_set_level};

/* A port that only records transmitted frames. */
static const struct netport_ops fake_port_ops = {.transmit = fake_tx};
static const struct netport fake_port = {.ops = &fake_port_ops, .provider = &ntx};

static void setup(void)
{
    struct irq_line line = {.ops = &fake_line_ops, .opaque = &nlevels, .gsi = TEST_GSI};
    ntx = txlen = nlevels = 0;
    ck_assert_int_eq(ne2000_init(&nd, mac, &line, &fake_port), 0);
}

static void teardown(void)
{
    ne2000_destroy(&nd);
}

static uint8_t rd(unsigned off)
{
    uint8_t d = 0xee;
    ne2000_bus_ops.read(&nd, 0, off, &d, 1);
    return d;
}

static void wr(unsigned off, uint8_t v)
{
    ne2000_bus_ops.write(&nd, 0, off, &v, 1);
}

static uint16_t rdw(void)
{
    uint8_t d[2] = {0xee, 0xee};
    ne2000_bus_ops.read(&nd, 0, NE2000_DATAPORT, d, 2);
    return (uint16_t)(d[0] | d[1] << 8);
}

static void wrw(uint16_t v)
{
    uint8_t d[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    ne2000_bus_ops.write(&nd, 0, NE2000_DATAPORT, d, 2);
}

static void page(uint8_t ps)
{
    wr(NE2000_CR, (uint8_t)(ps | NE2000_CR_NODMA | NE2000_CR_STA));
}

static void remote(uint16_t addr, uint16_t count, uint8_t cmd)
{
    page(NE2000_CR_PAGE0);
    wr(NE2000_RBCR0, (uint8_t)count);
    wr(NE2000_RBCR1, (uint8_t)(count >> 8));
    wr(NE2000_RSAR0, (uint8_t)addr);
    wr(NE2000_RSAR1, (uint8_t)(addr >> 8));
    wr(NE2000_CR, (uint8_t)(cmd | NE2000_CR_STA));
}

/* Linux ne.c's NS8390_init for a 16 KiB card: ring 0x46..0x80 (TX pages 0x40-0x45). */
static void start_ring(uint8_t pstart, uint8_t pstop)
{
    wr(NE2000_CR, NE2000_CR_STP | NE2000_CR_NODMA);
    wr(NE2000_DCR, NE2000_DCR_WTS | NE2000_DCR_LS | NE2000_DCR_FT1);
    wr(NE2000_RCR, NE2000_RCR_AB);
    wr(NE2000_PSTART, pstart);
    wr(NE2000_PSTOP, pstop);
    wr(NE2000_BNRY, pstart);
    wr(NE2000_ISR, 0xff);
    wr(NE2000_IMR, 0x3f);
    wr(NE2000_CR, NE2000_CR_PAGE1 | NE2000_CR_STP | NE2000_CR_NODMA);
    wr(NE2000_CURR, (uint8_t)(pstart + 1));
    wr(NE2000_CR, NE2000_CR_STA | NE2000_CR_NODMA);
}

static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
    memcpy(f, mac, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
    f[12] = 0x08;
    f[13] = 0x00;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seed + i);
}

/* Reads the frame at BNRY+1 as Linux's ei_receive does, advances BNRY; returns its length
 * (header excluded) or 0 when the ring is empty. */
static size_t read_frame(uint8_t *buf, size_t cap, uint8_t pstart, uint8_t pstop)
{
    page(NE2000_CR_PAGE1);
    uint8_t curr = rd(NE2000_CURR);
    page(NE2000_CR_PAGE0);
    uint8_t this = (uint8_t)(rd(NE2000_BNRY) + 1);
    if (this >= pstop)
        this = pstart;
    if (this == curr)
        return 0;
    remote((uint16_t)(this << 8), 4, NE2000_CR_RREAD);
    uint16_t w0 = rdw(), w1 = rdw();
    uint8_t status = (uint8_t)w0, next = (uint8_t)(w0 >> 8);
    size_t len = (size_t)w1 - 4;
    ck_assert(status & NE2000_RSR_RXOK);
    ck_assert_uint_le(len, cap);
    remote((uint16_t)((this << 8) + 4), (uint16_t)len, NE2000_CR_RREAD);
    for (size_t i = 0; i < len; i += 2) {
        uint16_t w = rdw();
        buf[i] = (uint8_t)w;
        if (i + 1 < len)
            buf[i + 1] = (uint8_t)(w >> 8);
    }
    ck_assert(rd(NE2000_ISR) & NE2000_ISR_RDC);
    wr(NE2000_ISR, NE2000_ISR_RDC);
    wr(NE2000_BNRY, (uint8_t)(next == pstart ? pstop - 1 : next - 1));
    return len;
}

/* ---- reset and pages ---- */

START_TEST(test_reset_values)
{
    ck_assert_uint_eq(rd(NE2000_CR), 0x21);
    ck_assert_uint_eq(rd(NE2000_ISR), NE2000_ISR_RST);
    page(NE2000_CR_PAGE2);
    ck_assert_uint_eq(rd(NE2000_IMR), 0);
    ck_assert_uint_eq(nlevels, 0);
    /* The reset port: a read resets, ISR.RST set again, IMR cleared, the line lowered. */
    page(NE2000_CR_PAGE0);
    wr(NE2000_IMR, 0x7f);
    wr(NE2000_ISR, 0xff);
    ck_assert_uint_eq(rd(NE2000_ISR), 0);
    rd(NE2000_RESET);
    ck_assert_uint_eq(rd(NE2000_CR), 0x21);
    ck_assert_uint_eq(rd(NE2000_ISR), NE2000_ISR_RST);
    wr(NE2000_CR, NE2000_CR_PAGE2 | NE2000_CR_STP | NE2000_CR_NODMA);
    ck_assert_uint_eq(rd(NE2000_IMR), 0);
}
END_TEST

START_TEST(test_page_select)
{
    page(NE2000_CR_PAGE0);
    wr(NE2000_PSTART, 0x46);
    wr(NE2000_PSTOP, 0x80);
    wr(NE2000_RCR, NE2000_RCR_AB | NE2000_RCR_AM);
    page(NE2000_CR_PAGE1);
    for (unsigned i = 0; i < 6; i++)
        ck_assert_uint_eq(rd(NE2000_PAR0 + i), mac[i]);
    wr(NE2000_PAR0, 0x02);
    wr(NE2000_CURR, 0x47);
    for (unsigned i = 0; i < 8; i++)
        wr(NE2000_MAR0 + i, (uint8_t)(0x10 + i));
    ck_assert_uint_eq(rd(NE2000_CURR), 0x47);
    ck_assert_uint_eq(rd(NE2000_MAR0 + 7), 0x17);
    ck_assert_uint_eq(rd(NE2000_CR) & NE2000_CR_PS_MASK, NE2000_CR_PAGE1);
    page(NE2000_CR_PAGE2);
    ck_assert_uint_eq(rd(NE2000_PSTART), 0x46);
    ck_assert_uint_eq(rd(NE2000_PSTOP), 0x80);
    ck_assert_uint_eq(rd(NE2000_RCR), NE2000_RCR_AB | NE2000_RCR_AM);
    page(NE2000_CR_PAGE0);
    ck_assert_uint_eq(rd(NE2000_BNRY), 0); /* page 0 offset 1 is CLDA0, not PAR0 */
    ck_assert_uint_eq(nd.par[0], 0x02);
}
END_TEST

/* ---- PROM and remote DMA ---- */

START_TEST(test_prom_byte_mode)
{
    /* ne.c probe: byte-wide DCR, 32 bytes from 0, every byte doubled. */
    page(NE2000_CR_PAGE0);
    wr(NE2000_DCR, NE2000_DCR_LS | NE2000_DCR_FT1);
    remote(0, 32, NE2000_CR_RREAD);
    uint8_t p[32];
    for (int i = 0; i < 32; i++)
        p[i] = rd(NE2000_DATAPORT);
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(p[2 * i], mac[i]);
        ck_assert_uint_eq(p[2 * i + 1], mac[i]);
    }
    ck_assert_uint_eq(p[28], 0x57);
    ck_assert_uint_eq(p[30], 0x57);
    ck_assert(rd(NE2000_ISR) & NE2000_ISR_RDC);
}
END_TEST

START_TEST(test_prom_word_mode)
{
    page(NE2000_CR_PAGE0);
    wr(NE2000_DCR, NE2000_DCR_WTS | NE2000_DCR_LS);
    remote(0, 32, NE2000_CR_RREAD);
    for (int i = 0; i < 16; i++) {
        uint16_t w = rdw();
        if (i < 6)
            ck_assert_uint_eq(w, (uint16_t)(mac[i] | mac[i] << 8));
        if (i >= 14)
            ck_assert_uint_eq(w, 0x5757);
    }
    ck_assert(rd(NE2000_ISR) & NE2000_ISR_RDC);
    page(NE2000_CR_PAGE0);
    ck_assert_uint_eq(rd(NE2000_CRDA0), 32);
    /* The PROM is read-only. */
    remote(0, 2, NE2000_CR_RWRITE);
    wrw(0xabcd);
    remote(0, 2, NE2000_CR_RREAD);
    ck_assert_uint_eq(rdw(), (uint16_t)(mac[0] | mac[0] << 8));
}
END_TEST

START_TEST(test_remote_dma_roundtrip)
{
    page(NE2000_CR_PAGE0);
    wr(NE2000_DCR, NE2000_DCR_WTS | NE2000_DCR_LS);
    wr(NE2000_IMR, NE2000_ISR_RDC);
    remote(0x4100, 200, NE2000_CR_RWRITE);
    for (unsigned i = 0; i < 100; i++)
        wrw((uint16_t)(i * 3 + 0x100));
    ck_assert(rd(NE2000_ISR) & NE2000_ISR_RDC);
    ck_assert_uint_eq(nlevels, 1);
    ck_assert_int_eq(levels[0], 1);
    wr(NE2000_ISR, NE2000_ISR_RDC);
    ck_assert_uint_eq(nlevels, 2);
    ck_assert_int_eq(levels[1], 0);
    /* Byte mode reads back the same bytes little-endian. */
    wr(NE2000_DCR, NE2000_DCR_LS);
    remote(0x4100, 4, NE2000_CR_RREAD);
    ck_assert_uint_eq(rd(NE2000_DATAPORT), 0x00);
    ck_assert_uint_eq(rd(NE2000_DATAPORT), 0x01);
    ck_assert_uint_eq(rd(NE2000_DATAPORT), 0x03);
    ck_assert_uint_eq(rd(NE2000_DATAPORT), 0x01);
    wr(NE2000_DCR, NE2000_DCR_WTS | NE2000_DCR_LS);
    remote(0x4100, 200, NE2000_CR_RREAD);
    for (unsigned i = 0; i < 100; i++)
        ck_assert_uint_eq(rdw(), (uint16_t)(i * 3 + 0x100));
    /* A zero-count command completes at once (QEMU). */
    wr(NE2000_ISR, 0xff);
    remote(0x4000, 0, NE2000_CR_RREAD);
    ck_assert(rd(NE2000_ISR) & NE2000_ISR_RDC);
}
END_TEST

/* ---- receive ---- */

START_TEST(test_receive_and_read)
{
    uint8_t f[100], buf[2048];
    start_ring(0x46, 0x80);
    make_frame(f, sizeof(f), 7);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0);
    ck_assert(rd(NE2000_ISR) & NE2000_ISR_PRX);
    ck_assert_uint_eq(nlevels, 1);
    ck_assert_int_eq(levels[0], 1);
    page(NE2000_CR_PAGE1);
    ck_assert_uint_eq(rd(NE2000_CURR), 0x48);
    ck_assert_uint_eq(read_frame(buf, sizeof(buf), 0x46, 0x80), sizeof(f));
    ck_assert_mem_eq(buf, f, sizeof(f));
    ck_assert_uint_eq(read_frame(buf, sizeof(buf), 0x46, 0x80), 0);
    page(NE2000_CR_PAGE0);
    wr(NE2000_ISR, NE2000_ISR_PRX);
    ck_assert_int_eq(levels[nlevels - 1], 0);
    /* A runt is padded to 60 bytes. */
    ck_assert_int_eq(ne2000_receive(&nd, f, 20), 0);
    ck_assert_uint_eq(read_frame(buf, sizeof(buf), 0x46, 0x80), 60);
    ck_assert_mem_eq(buf, f, 20);
    ck_assert_uint_eq(buf[59], 0);
}
END_TEST

START_TEST(test_receive_wrap)
{
    uint8_t f[1000], buf[2048];
    /* A small ring of 8 pages: 0x60..0x67. Frames take 4 pages each (1004 bytes). */
    start_ring(0x60, 0x68);
    for (int round = 0; round < 6; round++) {
        make_frame(f, sizeof(f), (uint8_t)round);
        ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0);
        memset(buf, 0, sizeof(buf));
        ck_assert_uint_eq(read_frame(buf, sizeof(buf), 0x60, 0x68), sizeof(f));
        ck_assert_mem_eq(buf, f, sizeof(f));
        page(NE2000_CR_PAGE1);
        uint8_t curr = rd(NE2000_CURR);
        ck_assert_uint_ge(curr, 0x60);
        ck_assert_uint_lt(curr, 0x68);
    }
    /* Six frames of 4 pages from CURR 0x61 through an 8-page ring: CURR = 0x61 + 24 mod 8. */
    page(NE2000_CR_PAGE1);
    ck_assert_uint_eq(rd(NE2000_CURR), 0x61);
    ck_assert_uint_eq(nd.stats.rx_packets, 6);
}
END_TEST

START_TEST(test_ring_full_overflow)
{
    uint8_t f[1000], buf[2048];
    struct ne2000_stats st;
    start_ring(0x60, 0x68); /* 8 pages, BNRY 0x60, CURR 0x61: 7 free, one kept empty */
    make_frame(f, sizeof(f), 1);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0); /* 4 pages: 3 left */
    make_frame(f, sizeof(f), 2);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), -ENOBUFS);
    ck_assert(rd(NE2000_ISR) & NE2000_ISR_OVW);
    ck_assert_uint_eq(rd(NE2000_CNTR2), 1);
    ck_assert_uint_eq(rd(NE2000_CNTR2), 0); /* cleared when read */
    ne2000_get_stats(&nd, &st);
    ck_assert_uint_eq(st.rx_overflows, 1);
    ck_assert_uint_eq(st.rx_packets, 1);
    /* The unread frame is intact. */
    make_frame(f, sizeof(f), 1);
    ck_assert_uint_eq(read_frame(buf, sizeof(buf), 0x60, 0x68), sizeof(f));
    ck_assert_mem_eq(buf, f, sizeof(f));
    /* Room again. */
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0);
    /* Stopped: no room either, but not an overflow. */
    wr(NE2000_CR, NE2000_CR_STP | NE2000_CR_NODMA);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), -ENOBUFS);
    ne2000_get_stats(&nd, &st);
    ck_assert_uint_eq(st.rx_stopped, 1);
}
END_TEST

START_TEST(test_receive_filter)
{
    uint8_t f[64];
    start_ring(0x46, 0x80);
    make_frame(f, sizeof(f), 0);
    f[0] = 0x02; /* another unicast */
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), -EPERM);
    memset(f, 0xff, 6);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0); /* broadcast, RCR.AB */
    memcpy(f, "\x01\x00\x5e\x00\x00\x01", 6);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), -EPERM); /* multicast, AM off */
    wr(NE2000_RCR, NE2000_RCR_AB | NE2000_RCR_AM);
    page(NE2000_CR_PAGE1);
    for (unsigned i = 0; i < 8; i++)
        wr(NE2000_MAR0 + i, 0xff);
    page(NE2000_CR_PAGE0);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0);
    wr(NE2000_RCR, NE2000_RCR_PRO);
    f[0] = 0x02;
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0);
    ck_assert_uint_eq(nd.stats.rx_filtered, 2);
}
END_TEST

/* ---- interrupts ---- */

START_TEST(test_isr_imr_line)
{
    uint8_t f[64];
    start_ring(0x46, 0x80);
    page(NE2000_CR_PAGE0);
    wr(NE2000_IMR, 0); /* masked: no edge */
    make_frame(f, sizeof(f), 0);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0);
    ck_assert_uint_eq(nlevels, 0);
    wr(NE2000_IMR, NE2000_ISR_PRX); /* unmasking a pending cause raises the line */
    ck_assert_uint_eq(nlevels, 1);
    ck_assert_int_eq(levels[0], 1);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0); /* already high: no new call */
    ck_assert_uint_eq(nlevels, 1);
    wr(NE2000_ISR, NE2000_ISR_PTX); /* clearing another bit changes nothing */
    ck_assert(rd(NE2000_ISR) & NE2000_ISR_PRX);
    ck_assert_uint_eq(nlevels, 1);
    wr(NE2000_ISR, NE2000_ISR_PRX);
    ck_assert_uint_eq(rd(NE2000_ISR) & NE2000_ISR_PRX, 0);
    ck_assert_uint_eq(nlevels, 2);
    ck_assert_int_eq(levels[1], 0);
    ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), 0); /* a new 0->1 edge */
    ck_assert_uint_eq(nlevels, 3);
    ck_assert_int_eq(levels[2], 1);
    wr(NE2000_IMR, 0);
    ck_assert_int_eq(levels[3], 0);
}
END_TEST

/* ---- transmit ---- */

static void load_tx(uint8_t tpsr, const uint8_t *f, size_t len)
{
    page(NE2000_CR_PAGE0);
    wr(NE2000_DCR, NE2000_DCR_WTS | NE2000_DCR_LS);
    remote((uint16_t)(tpsr << 8), (uint16_t)((len + 1) & ~1u), NE2000_CR_RWRITE);
    for (size_t i = 0; i < len; i += 2)
        wrw((uint16_t)(f[i] | (i + 1 < len ? f[i + 1] << 8 : 0)));
    wr(NE2000_ISR, 0xff);
}

static void send(uint8_t tpsr, uint16_t count)
{
    page(NE2000_CR_PAGE0);
    wr(NE2000_TPSR, tpsr);
    wr(NE2000_TBCR0, (uint8_t)count);
    wr(NE2000_TBCR1, (uint8_t)(count >> 8));
    wr(NE2000_CR, NE2000_CR_STA | NE2000_CR_TXP | NE2000_CR_NODMA);
}

START_TEST(test_transmit)
{
    uint8_t f[301];
    start_ring(0x46, 0x80);
    make_frame(f, sizeof(f), 9);
    load_tx(0x40, f, sizeof(f));
    send(0x40, sizeof(f));
    ck_assert_uint_eq(ntx, 1);
    ck_assert_uint_eq(txlen, sizeof(f));
    ck_assert_mem_eq(txframe, f, sizeof(f));
    ck_assert_uint_eq(rd(NE2000_ISR) & (NE2000_ISR_PTX | NE2000_ISR_TXE), NE2000_ISR_PTX);
    ck_assert_uint_eq(rd(NE2000_TSR), NE2000_TSR_PTX);
    ck_assert_uint_eq(rd(NE2000_CR) & NE2000_CR_TXP, 0);
    ck_assert_int_eq(levels[nlevels - 1], 1);
    /* Stopped: TXP is ignored. */
    wr(NE2000_CR, NE2000_CR_STP | NE2000_CR_TXP | NE2000_CR_NODMA);
    ck_assert_uint_eq(ntx, 1);
}
END_TEST

static int sw_deliver(void *opaque, const void *frame, size_t len)
{
    (void)frame;
    *(size_t *)opaque += len;
    return 0;
}

static const struct pfswitch_port_ops sw_vf_ops = {.deliver = sw_deliver};

/* The NE2000 as the extra port of a real switch: its frames reach VF 0, VF 0's reach it. */
START_TEST(test_switch_port)
{
    static struct pfswitch sw;
    static const uint8_t vfmac[6] = {0x02, 0, 0, 0, 0, 0x10};
    size_t vf_bytes = 0;
    unsigned port;
    uint8_t f[200], buf[2048];

    ck_assert_int_eq(pfswitch_init(&sw, 1), 0);
    ck_assert_int_eq(pfswitch_add_port(&sw, &port), 0);
    ck_assert_uint_eq(port, 1);
    ck_assert_int_eq(pfswitch_set_mac(&sw, 0, vfmac, false), 0);
    ck_assert_int_eq(pfswitch_set_mac(&sw, port, mac, false), 0);
    ne2000_destroy(&nd);
    struct netport np;
    ck_assert_int_eq(pfswitch_netport(&sw, port, &np), 0);
    ck_assert_int_eq(ne2000_init(&nd, mac, NULL, &np), 0);
    ck_assert_int_eq(pfswitch_attach(&sw, 0, &sw_vf_ops, &vf_bytes), 0);
    ck_assert_int_eq(ne2000_attach(&nd), 0);
    struct pfswitch_port_info pi; /* a DP8390 filters multicast itself: it asks for all */
    ck_assert_int_eq(pfswitch_port_info(&sw, port, &pi), 0);
    ck_assert(pi.allmulti);
    start_ring(0x46, 0x80);

    memcpy(f, vfmac, 6);
    memcpy(f + 6, mac, 6);
    f[12] = 0x08;
    f[13] = 0;
    memset(f + 14, 0x5a, sizeof(f) - 14);
    load_tx(0x40, f, sizeof(f));
    send(0x40, sizeof(f));
    ck_assert_uint_eq(vf_bytes, sizeof(f));

    make_frame(f, sizeof(f), 3);
    memcpy(f + 6, vfmac, 6);
    ck_assert_int_eq(pfswitch_tx_from_vf(&sw, 0, f, sizeof(f)), 0);
    ck_assert_uint_eq(read_frame(buf, sizeof(buf), 0x46, 0x80), sizeof(f));
    ck_assert_mem_eq(buf, f, sizeof(f));

    struct pfswitch_port_stats st;
    ck_assert_int_eq(pfswitch_stats(&sw, port, &st), 0);
    ck_assert_uint_eq(st.tx_packets, 1);
    ck_assert_uint_eq(st.rx_packets, 1);
    ne2000_detach(&nd);
    pfswitch_destroy(&sw);
}
END_TEST

/* ---- hostile values ---- */

START_TEST(test_hostile_remote_dma)
{
    page(NE2000_CR_PAGE0);
    wr(NE2000_DCR, NE2000_DCR_WTS | NE2000_DCR_LS);
    /* Writes that run from the buffer's end up past 0xffff and around: nothing outside. */
    remote(0x7ffe, 0xffff, NE2000_CR_RWRITE);
    for (unsigned i = 0; i < 0x8000 + 16; i++)
        wrw(0xa5a5);
    /* It wrapped at 0x10000 into the PROM (read-only) and on into the buffer again. */
    remote(0, 32, NE2000_CR_RREAD);
    ck_assert_uint_eq(rdw(), (uint16_t)(mac[0] | mac[0] << 8));
    remote(0x8000, 4, NE2000_CR_RREAD);
    ck_assert_uint_eq(rdw(), 0xffff);
    remote(0x7ffe, 2, NE2000_CR_RREAD);
    ck_assert_uint_eq(rdw(), 0xa5a5);
    /* An odd count in word mode moves one byte more and ends at 0 with RDC. */
    wr(NE2000_ISR, 0xff);
    remote(0x4000, 3, NE2000_CR_RREAD);
    rdw();
    ck_assert_uint_eq(rd(NE2000_ISR) & NE2000_ISR_RDC, 0);
    rdw();
    ck_assert(rd(NE2000_ISR) & NE2000_ISR_RDC);
    ck_assert_uint_eq(rd(NE2000_CRDA0), 4);
    /* Wider and narrower accesses to every port, and a read past the count: harmless. */
    for (unsigned off = 0; off < NE2000_IO_SIZE; off++) {
        uint8_t d[4] = {0xff, 0xff, 0xff, 0xff};
        ne2000_bus_ops.read(&nd, 0, off, d, off == NE2000_DATAPORT ? 4 : 1);
        if (off != NE2000_RESET && off != NE2000_CR)
            ne2000_bus_ops.write(&nd, 0, off, d, 2);
    }
}
END_TEST

START_TEST(test_hostile_ring)
{
    uint8_t f[1500];
    static const uint8_t pairs[][4] = {
        /* pstart, pstop, bnry, curr */
        {0x80, 0x40, 0x80, 0x81}, {0x00, 0x10, 0x00, 0x01}, {0x46, 0x46, 0x46, 0x47},
        {0x46, 0xff, 0x46, 0x47}, {0x46, 0x80, 0x46, 0x90}, {0x46, 0x80, 0x10, 0x47},
        {0x7f, 0x80, 0x7f, 0x7f}, {0xff, 0xff, 0xff, 0xff},
    };
    make_frame(f, sizeof(f), 0);
    for (unsigned i = 0; i < ARRAY_SIZE(pairs); i++) {
        start_ring(pairs[i][0], pairs[i][1]);
        wr(NE2000_BNRY, pairs[i][2]);
        page(NE2000_CR_PAGE1);
        wr(NE2000_CURR, pairs[i][3]);
        page(NE2000_CR_PAGE0);
        ck_assert_int_eq(ne2000_receive(&nd, f, sizeof(f)), -ENOBUFS);
        /* Even 0x7f-0x80 holds nothing: its one page is the page kept free. */
        ck_assert_int_eq(ne2000_receive(&nd, f, 60), -ENOBUFS);
        /* Remote DMA with the nonsense ring still stays inside. */
        remote(0x7f00, 0x200, NE2000_CR_RREAD);
        for (unsigned k = 0; k < 0x100; k++)
            rdw();
    }
    /* Oversize frames are refused. */
    start_ring(0x46, 0x80);
    uint8_t big[2000];
    make_frame(big, sizeof(big), 0);
    ck_assert_int_eq(ne2000_receive(&nd, big, sizeof(big)), -EMSGSIZE);
}
END_TEST

START_TEST(test_hostile_transmit)
{
    static const struct {
        uint8_t tpsr;
        uint16_t count;
    } bad[] = {{0x40, 0},   {0x40, 1519}, {0x40, 0xffff}, {0x00, 64},
               {0x7f, 300}, {0xff, 64},   {0x20, 100}};
    start_ring(0x46, 0x80);
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        wr(NE2000_ISR, 0xff);
        send(bad[i].tpsr, bad[i].count);
        ck_assert_uint_eq(rd(NE2000_ISR) & (NE2000_ISR_PTX | NE2000_ISR_TXE), NE2000_ISR_TXE);
        ck_assert_uint_eq(rd(NE2000_TSR), NE2000_TSR_ABT);
    }
    ck_assert_uint_eq(ntx, 0);
    ck_assert_uint_eq(nd.stats.tx_errors, ARRAY_SIZE(bad));
    /* The largest legal frame at the very end of the buffer is fine. */
    send(0x7a, 1518);
    ck_assert_uint_eq(ntx, 1);
    ck_assert_uint_eq(txlen, 1518);
}
END_TEST

static Suite *ne2000_suite(void)
{
    Suite *su = suite_create("ne2000");
    TCase *tc;

    tc = tcase_create("registers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reset_values);
    tcase_add_test(tc, test_page_select);
    suite_add_tcase(su, tc);

    tc = tcase_create("remote_dma");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_prom_byte_mode);
    tcase_add_test(tc, test_prom_word_mode);
    tcase_add_test(tc, test_remote_dma_roundtrip);
    suite_add_tcase(su, tc);

    tc = tcase_create("receive");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_receive_and_read);
    tcase_add_test(tc, test_receive_wrap);
    tcase_add_test(tc, test_ring_full_overflow);
    tcase_add_test(tc, test_receive_filter);
    suite_add_tcase(su, tc);

    tc = tcase_create("interrupts");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_isr_imr_line);
    suite_add_tcase(su, tc);

    tc = tcase_create("transmit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_transmit);
    tcase_add_test(tc, test_switch_port);
    suite_add_tcase(su, tc);

    tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hostile_remote_dma);
    tcase_add_test(tc, test_hostile_ring);
    tcase_add_test(tc, test_hostile_transmit);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(ne2000_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
