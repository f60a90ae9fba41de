/*
 * test_ioapic.c: unit tests of the I/O APIC model (devices/ioapic.c).
 *
 * Drives the model through its MMIO callbacks (IOREGSEL/IOWIN/EOI, 32-bit little-endian) as
 * the vCPU loop does, with fake ops that record every route update and every delivery. Values
 * come from the 82093AA data sheet (register indices, reset masking, read-only bits) and from
 * the MSI format KVM expects in split-irqchip routes (address 0xFEE00000 | dest << 12 |
 * destmode << 2; data vector | delmode << 8 | level ? 0xC000). Each test runs in its own
 * process (CK_FORK).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ioapic.h"
#include "minivmm/util.h"

#define MAX_CALLS 256

struct call {
    unsigned pin;
    struct ioapic_msi msi;
    bool masked;
};

static struct ioapic io;
static struct call routes[MAX_CALLS], delivers[MAX_CALLS];
static unsigned nroutes, ndelivers;
static int deliver_ret;

static void fake_route(void *opaque, unsigned pin, const struct ioapic_msi *msi, bool masked)
{
    ck_assert_ptr_eq(opaque, &nroutes);
    ck_assert_uint_lt(nroutes, MAX_CALLS);
    routes[nroutes++] = (struct call){pin, *msi, masked};
}

static int fake_deliver(void *opaque, unsigned pin, const struct ioapic_msi *msi)
{
    ck_assert_ptr_eq(opaque, &nroutes);
    ck_assert_uint_lt(ndelivers, MAX_CALLS);
    delivers[ndelivers++] = (struct call){pin, *msi, false};
    return deliver_ret;
}

static const struct ioapic_ops fake_ops = {.route = fake_route, .deliver = fake_deliver};

static void setup(void)
{
    nroutes = ndelivers = 0;
    deliver_ret = 0;
    ck_assert_int_eq(ioapic_init(&io, &fake_ops, &nroutes), 0);
}

static void teardown(void)
{
    ioapic_destroy(&io);
}

static uint32_t mmio_rd32(uint64_t off)
{
    uint8_t d[4];
    ioapic_bus_ops.read(&io, 0, off, d, 4);
    return get_le32(d);
}

static void mmio_wr32(uint64_t off, uint32_t v)
{
    uint8_t d[4];
    put_le32(d, v);
    ioapic_bus_ops.write(&io, 1, off, d, 4);
}

static uint32_t reg_rd(uint32_t index)
{
    mmio_wr32(IOAPIC_REGSEL, index);
    return mmio_rd32(IOAPIC_IOWIN);
}

static void reg_wr(uint32_t index, uint32_t v)
{
    mmio_wr32(IOAPIC_REGSEL, index);
    mmio_wr32(IOAPIC_IOWIN, v);
}

static uint64_t rte_rd(unsigned pin)
{
    uint32_t lo = reg_rd(IOAPIC_REG_REDTBL + 2 * pin);
    uint32_t hi = reg_rd(IOAPIC_REG_REDTBL + 2 * pin + 1);
    return (uint64_t)hi << 32 | lo;
}

/* High half first, then low (mask bit last), as Linux's ioapic_write_entry() does. */
static void rte_wr(unsigned pin, uint64_t v)
{
    reg_wr(IOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)(v >> 32));
    reg_wr(IOAPIC_REG_REDTBL + 2 * pin, (uint32_t)v);
}

#define EDGE_PIN 4
#define EDGE_VEC 0x34
#define LEVEL_PIN 5
#define LEVEL_VEC 0x45
#define RTE_EDGE(vec) ((uint64_t)(vec))
#define RTE_LEVEL(vec) ((uint64_t)(vec) | IOAPIC_RTE_LEVEL)

/* ---- registers ------------------------------------------------------------------------ */

START_TEST(test_version)
{
    ck_assert_uint_eq(reg_rd(IOAPIC_REG_VER), 0x00170020);
    reg_wr(IOAPIC_REG_VER, 0);
    ck_assert_uint_eq(reg_rd(IOAPIC_REG_VER), 0x00170020);
}
END_TEST

START_TEST(test_id_write)
{
    ck_assert_uint_eq(reg_rd(IOAPIC_REG_ID), 0);
    reg_wr(IOAPIC_REG_ID, 0xffffffff);
    ck_assert_uint_eq(reg_rd(IOAPIC_REG_ID), 0x0f000000);
    ck_assert_uint_eq(reg_rd(IOAPIC_REG_ARB), 0x0f000000);
    reg_wr(IOAPIC_REG_ID, 0x05000000);
    ck_assert_uint_eq(reg_rd(IOAPIC_REG_ID), 0x05000000);
    reg_wr(IOAPIC_REG_ARB, 0);
    ck_assert_uint_eq(reg_rd(IOAPIC_REG_ARB), 0x05000000);
}
END_TEST

START_TEST(test_ioregsel_readback)
{
    mmio_wr32(IOAPIC_REGSEL, 0x12345617);
    ck_assert_uint_eq(mmio_rd32(IOAPIC_REGSEL), 0x17);
}
END_TEST

static const struct bus_reg expect_regs[] = {
    {0x00, "IOREGSEL", "IOREGSEL"}, {0x10, "IOWIN", "IOWIN"}, {0x40, NULL, "EOI"}};

START_TEST(test_reg_names)
{
    const struct bus_reg *r = &ioapic_regs[_i], *e = &expect_regs[_i];
    ck_assert_uint_eq(ioapic_nregs, 3);
    ck_assert_uint_eq(r->off, e->off);
    if (e->rd)
        ck_assert_str_eq(r->rd, e->rd);
    else
        ck_assert_ptr_null(r->rd);
    ck_assert_str_eq(r->wr, e->wr);
}
END_TEST

/* ---- redirection entries -------------------------------------------------------------- */

START_TEST(test_rte_masked_at_reset)
{
    ck_assert_uint_eq(rte_rd((unsigned)_i), 0x0000000000010000ull);
}
END_TEST

START_TEST(test_rte_round_trip)
{
    unsigned pin = (unsigned)_i;
    rte_wr(pin, ~0ull);
    /* Writable: dest 63:56, mask, trigger, polarity, destmode, delmode, vector. DELIVS and
     * Remote IRR cannot be set by a write; reserved bits read 0. */
    ck_assert_uint_eq(rte_rd(pin), 0xff0000000001afffull);
    rte_wr(pin, 0x0300000000000830ull);
    ck_assert_uint_eq(rte_rd(pin), 0x0300000000000830ull);
}
END_TEST

START_TEST(test_rte_read_only_bits_kept)
{
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0xc045);
    /* Write the low half with Remote IRR clear and DELIVS set: neither sticks. */
    reg_wr(IOAPIC_REG_REDTBL + 2 * LEVEL_PIN, 0x9046);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0xc046);
    /* Turning the entry edge-triggered clears Remote IRR (Linux's old-IOAPIC EOI trick). */
    reg_wr(IOAPIC_REG_REDTBL + 2 * LEVEL_PIN, 0x10046);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0x10046);
}
END_TEST

/* ---- route callback ------------------------------------------------------------------- */

START_TEST(test_route_at_init)
{
    ck_assert_uint_eq(nroutes, IOAPIC_NUM_PINS);
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        ck_assert_uint_eq(routes[pin].pin, pin);
        ck_assert(routes[pin].masked);
        ck_assert_uint_eq(routes[pin].msi.addr, 0xfee00000);
        ck_assert_uint_eq(routes[pin].msi.data, 0);
    }
    ck_assert_uint_eq(ndelivers, 0);
}
END_TEST

static const struct {
    uint64_t rte;
    uint64_t addr;
    uint32_t data;
    bool masked;
} msi_table[] = {
    {0x0300000000000030ull, 0xfee03000, 0x0030, false}, /* physical dest 3, fixed, edge */
    {0x0f00000000000831ull, 0xfee0f004, 0x0031, false}, /* logical dest 0x0f */
    {0x0100000000000132ull, 0xfee01000, 0x0132, false}, /* lowest priority */
    {0x0000000000008045ull, 0xfee00000, 0xc045, false}, /* level: trigger + assert bits */
    {0x000000000000a046ull, 0xfee00000, 0xc046, false}, /* level, active low: same MSI (and
                                                          input 0 is asserted: delivered) */
    {0xff00000000000400ull, 0xfeeff000, 0x0400, false}, /* NMI to broadcast 0xff */
    {0x0200000000010050ull, 0xfee02000, 0x0050, true},  /* masked */
    {0x0000000000000700ull, 0xfee00000, 0x0700, false}, /* ExtINT */
};

START_TEST(test_route_msi_from_rte)
{
    struct ioapic_msi m;
    const unsigned pin = 7;

    ioapic_msi_from_rte(msi_table[_i].rte, &m);
    ck_assert_uint_eq(m.addr, msi_table[_i].addr);
    ck_assert_uint_eq(m.data, msi_table[_i].data);

    nroutes = 0;
    rte_wr(pin, msi_table[_i].rte);
    ck_assert_uint_eq(nroutes, 2); /* one per half */
    ck_assert_uint_eq(routes[1].pin, pin);
    ck_assert_uint_eq(routes[1].msi.addr, msi_table[_i].addr);
    ck_assert_uint_eq(routes[1].msi.data, msi_table[_i].data);
    ck_assert_int_eq(routes[1].masked, msi_table[_i].masked);
    /* Inputs are low: only the active-low level entry sees its line asserted. */
    ck_assert_uint_eq(ndelivers, (msi_table[_i].rte & IOAPIC_RTE_POLARITY) ? 1 : 0);
}
END_TEST

START_TEST(test_route_on_unchanged_write)
{
    rte_wr(3, RTE_EDGE(0x33));
    nroutes = 0;
    reg_wr(IOAPIC_REG_REDTBL + 2 * 3, 0x33);
    ck_assert_uint_eq(nroutes, 1);
    ck_assert_uint_eq(routes[0].pin, 3);
    ck_assert_uint_eq(routes[0].msi.data, 0x33);
    ck_assert(!routes[0].masked);
}
END_TEST

/* ---- edge-triggered pins -------------------------------------------------------------- */

START_TEST(test_edge_once_per_rising_edge)
{
    rte_wr(EDGE_PIN, RTE_EDGE(EDGE_VEC));
    ioapic_set_irq(&io, EDGE_PIN, 1);
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(delivers[0].pin, EDGE_PIN);
    ck_assert_uint_eq(delivers[0].msi.addr, 0xfee00000);
    ck_assert_uint_eq(delivers[0].msi.data, EDGE_VEC);
    ioapic_set_irq(&io, EDGE_PIN, 1); /* still high: no new edge */
    ck_assert_uint_eq(ndelivers, 1);
    ioapic_set_irq(&io, EDGE_PIN, 0);
    ck_assert_uint_eq(ndelivers, 1);
    ioapic_set_irq(&io, EDGE_PIN, 1);
    ck_assert_uint_eq(ndelivers, 2);
    ck_assert_uint_eq(io.delivered[EDGE_PIN], 2);
    ck_assert_uint_eq(rte_rd(EDGE_PIN), EDGE_VEC); /* no Remote IRR on edge entries */
    rte_wr(EDGE_PIN, RTE_EDGE(EDGE_VEC));          /* rewriting the entry is not an edge */
    ck_assert_uint_eq(ndelivers, 2);
    ioapic_eoi(&io, EDGE_VEC); /* EOI means nothing to edge entries */
    ck_assert_uint_eq(ndelivers, 2);
}
END_TEST

START_TEST(test_edge_masked_pending_delivered_on_unmask)
{
    rte_wr(EDGE_PIN, RTE_EDGE(EDGE_VEC) | IOAPIC_RTE_MASKED);
    ioapic_set_irq(&io, EDGE_PIN, 1);
    ioapic_set_irq(&io, EDGE_PIN, 0);
    ioapic_set_irq(&io, EDGE_PIN, 1);
    ck_assert_uint_eq(ndelivers, 0);
    rte_wr(EDGE_PIN, RTE_EDGE(EDGE_VEC));
    ck_assert_uint_eq(ndelivers, 1); /* edges while masked collapse into one */
    ck_assert_uint_eq(delivers[0].msi.data, EDGE_VEC);
    rte_wr(EDGE_PIN, RTE_EDGE(EDGE_VEC) | IOAPIC_RTE_MASKED);
    rte_wr(EDGE_PIN, RTE_EDGE(EDGE_VEC));
    ck_assert_uint_eq(ndelivers, 1); /* the latch was consumed */
}
END_TEST

START_TEST(test_edge_failed_delivery_dropped)
{
    rte_wr(EDGE_PIN, RTE_EDGE(EDGE_VEC));
    deliver_ret = -EPERM;
    ioapic_set_irq(&io, EDGE_PIN, 1);
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(io.delivered[EDGE_PIN], 0);
    ck_assert_uint_eq(io.deliver_errors, 1);
    deliver_ret = 0;
    rte_wr(EDGE_PIN, RTE_EDGE(EDGE_VEC));
    ck_assert_uint_eq(ndelivers, 1);
}
END_TEST

/* ---- level-triggered pins ------------------------------------------------------------- */

START_TEST(test_level_remote_irr_blocks_redelivery)
{
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    ck_assert_uint_eq(ndelivers, 0);
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(delivers[0].pin, LEVEL_PIN);
    ck_assert_uint_eq(delivers[0].msi.data, 0xc045);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0xc045); /* Remote IRR set */
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ioapic_set_irq(&io, LEVEL_PIN, 0);
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ck_assert_uint_eq(ndelivers, 1); /* no re-delivery before EOI */
}
END_TEST

START_TEST(test_level_eoi_redelivers_while_high)
{
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ioapic_eoi(&io, LEVEL_VEC + 1); /* another vector: nothing */
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0xc045);
    ck_assert_uint_eq(ndelivers, 1);
    ioapic_eoi(&io, LEVEL_VEC);
    ck_assert_uint_eq(ndelivers, 2);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0xc045);
    ck_assert_uint_eq(io.delivered[LEVEL_PIN], 2);
}
END_TEST

START_TEST(test_level_eoi_when_low)
{
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ioapic_set_irq(&io, LEVEL_PIN, 0);
    ioapic_eoi(&io, LEVEL_VEC);
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0x8045); /* Remote IRR clear */
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ck_assert_uint_eq(ndelivers, 2);
}
END_TEST

START_TEST(test_level_eoi_register)
{
    uint8_t one = LEVEL_VEC;
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ioapic_set_irq(&io, LEVEL_PIN, 0);
    ioapic_bus_ops.write(&io, 0, IOAPIC_EOI, &one, 1); /* wrong width: ignored */
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0xc045);
    mmio_wr32(IOAPIC_EOI, 0xffffff00u | LEVEL_VEC); /* only the low byte is the vector */
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0x8045);
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(mmio_rd32(IOAPIC_EOI), 0xffffffff); /* write-only */
}
END_TEST

START_TEST(test_level_shared_vector)
{
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    rte_wr(LEVEL_PIN + 1, RTE_LEVEL(LEVEL_VEC));
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ioapic_set_irq(&io, LEVEL_PIN + 1, 1);
    ck_assert_uint_eq(ndelivers, 2);
    ioapic_set_irq(&io, LEVEL_PIN, 0);
    ioapic_eoi(&io, LEVEL_VEC);
    ck_assert_uint_eq(ndelivers, 3);
    ck_assert_uint_eq(delivers[2].pin, LEVEL_PIN + 1);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0x8045);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN + 1), 0xc045);
}
END_TEST

START_TEST(test_level_masked_then_unmasked)
{
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC) | IOAPIC_RTE_MASKED);
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ck_assert_uint_eq(ndelivers, 0);
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0xc045);
    /* Masked with Remote IRR set: the EOI clears it but delivers nothing until unmasked. */
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC) | IOAPIC_RTE_MASKED);
    ioapic_eoi(&io, LEVEL_VEC);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0x18045);
    ck_assert_uint_eq(ndelivers, 1);
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    ck_assert_uint_eq(ndelivers, 2);
}
END_TEST

START_TEST(test_level_failed_delivery_leaves_remote_irr_clear)
{
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    deliver_ret = -EPERM;
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(io.delivered[LEVEL_PIN], 0);
    ck_assert_uint_eq(io.deliver_errors, 1);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0x8045);
    deliver_ret = 0;
    ioapic_set_irq(&io, LEVEL_PIN, 1); /* the still-high line is tried again */
    ck_assert_uint_eq(ndelivers, 2);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0xc045);
}
END_TEST

START_TEST(test_level_edge_to_level_switch)
{
    rte_wr(LEVEL_PIN, RTE_EDGE(LEVEL_VEC) | IOAPIC_RTE_MASKED);
    ioapic_set_irq(&io, LEVEL_PIN, 1);
    /* Linux's EOI emulation for old IOAPICs: masked edge, then level and unmasked. */
    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(rte_rd(LEVEL_PIN), 0xc045);
}
END_TEST

/* ---- polarity ------------------------------------------------------------------------- */

START_TEST(test_active_low_level)
{
    /* Input 0 on an active-low entry is asserted: delivered as soon as it is unmasked. */
    rte_wr(9, RTE_LEVEL(0x49) | IOAPIC_RTE_POLARITY);
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(delivers[0].msi.data, 0xc049);
    ioapic_set_irq(&io, 9, 1); /* deasserted */
    ioapic_eoi(&io, 0x49);
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(rte_rd(9), 0xa049);
    ioapic_set_irq(&io, 9, 0);
    ck_assert_uint_eq(ndelivers, 2);
}
END_TEST

START_TEST(test_active_low_edge)
{
    rte_wr(9, RTE_EDGE(0x49) | IOAPIC_RTE_POLARITY);
    ck_assert_uint_eq(ndelivers, 0); /* reprogramming makes no edge */
    ioapic_set_irq(&io, 9, 1);       /* falling asserted level */
    ck_assert_uint_eq(ndelivers, 0);
    ioapic_set_irq(&io, 9, 0); /* asserted edge */
    ck_assert_uint_eq(ndelivers, 1);
}
END_TEST

/* ---- bad accesses --------------------------------------------------------------------- */

static const struct {
    uint64_t off;
    unsigned len;
    bool write_too; /* also check that a write there changes nothing */
} bad_access[] = {
    {0x00, 8, true}, {0x00, 1, true}, {0x00, 2, true}, {0x10, 1, true},  {0x10, 2, true},
    {0x10, 8, true}, {0x01, 4, true}, {0x12, 4, true}, {0x04, 4, true},  {0x20, 4, true},
    {0x30, 4, true}, {0x44, 4, true}, {0x80, 4, true}, {0xff0, 4, true}, {0x40, 4, false},
    {0x40, 8, true}, {0x41, 4, true},
};

START_TEST(test_bad_access_harmless)
{
    uint8_t buf[8];
    uint64_t off = bad_access[_i].off;
    unsigned len = bad_access[_i].len;

    rte_wr(LEVEL_PIN, RTE_LEVEL(LEVEL_VEC));
    ioapic_set_irq(&io, LEVEL_PIN, 1); /* Remote IRR set: an EOI would show */
    mmio_wr32(IOAPIC_REGSEL, IOAPIC_REG_REDTBL + 2 * LEVEL_PIN);
    unsigned routes_before = nroutes, delivers_before = ndelivers;

    memset(buf, 0x5a, sizeof(buf));
    ioapic_bus_ops.read(&io, 0, off, buf, len);
    for (unsigned i = 0; i < len; i++)
        ck_assert_uint_eq(buf[i], 0xff);
    if (bad_access[_i].write_too) {
        memset(buf, 0, sizeof(buf));
        buf[0] = LEVEL_VEC;
        ioapic_bus_ops.write(&io, 0, off, buf, len);
    }
    ck_assert_uint_eq(mmio_rd32(IOAPIC_REGSEL), IOAPIC_REG_REDTBL + 2 * LEVEL_PIN);
    ck_assert_uint_eq(mmio_rd32(IOAPIC_IOWIN), 0xc045);
    ck_assert_uint_eq(reg_rd(IOAPIC_REG_ID), 0);
    ck_assert_uint_eq(nroutes, routes_before);
    ck_assert_uint_eq(ndelivers, delivers_before);
}
END_TEST

/* IOREGSEL indices with no register behind them: 0x03-0x0f, past the table (0x40), 0xff. */
static const uint32_t nowhere[] = {0x03, 0x0f, 0x40, 0x41, 0x80, 0xff};

START_TEST(test_ioregsel_nowhere)
{
    mmio_wr32(IOAPIC_REGSEL, nowhere[_i]);
    ck_assert_uint_eq(mmio_rd32(IOAPIC_IOWIN), 0xffffffff);
    unsigned routes_before = nroutes;
    mmio_wr32(IOAPIC_IOWIN, 0);
    ck_assert_uint_eq(nroutes, routes_before);
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
        ck_assert_uint_eq(rte_rd(pin), 0x10000);
    ck_assert_uint_eq(reg_rd(IOAPIC_REG_ID), 0);
}
END_TEST

/* ---- pins ----------------------------------------------------------------------------- */

START_TEST(test_pin_out_of_range_ignored)
{
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
        rte_wr(pin, RTE_EDGE(0x20 + pin));
    ioapic_set_irq(&io, IOAPIC_NUM_PINS, 1);
    ioapic_set_irq(&io, 32, 1);
    ioapic_set_irq(&io, UINT_MAX, 1);
    ck_assert_uint_eq(ndelivers, 0);
    ck_assert_uint_eq(io.irr, 0);
    ck_assert_uint_eq(io.input, 0);
}
END_TEST

START_TEST(test_irq_line_ops)
{
    struct irq_line line = {.ops = &ioapic_irq_ops, .opaque = &io, .gsi = EDGE_PIN};
    rte_wr(EDGE_PIN, RTE_EDGE(EDGE_VEC));
    irq_line_set(&line, 1);
    ck_assert_uint_eq(ndelivers, 1);
    ck_assert_uint_eq(delivers[0].pin, EDGE_PIN);
}
END_TEST

START_TEST(test_null_ops)
{
    struct ioapic quiet;
    ck_assert_int_eq(ioapic_init(&quiet, NULL, NULL), 0);
    ioapic_set_irq(&quiet, 1, 1);
    ioapic_eoi(&quiet, 0);
    ioapic_destroy(&quiet);
}
END_TEST

static Suite *ioapic_suite(void)
{
    Suite *su = suite_create("ioapic");
    TCase *tc;

#define TC(name)                                                                                   \
    tc = tcase_create(name);                                                                       \
    tcase_add_checked_fixture(tc, setup, teardown);                                                \
    suite_add_tcase(su, tc)

    TC("registers");
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_id_write);
    tcase_add_test(tc, test_ioregsel_readback);
    tcase_add_loop_test(tc, test_reg_names, 0, ARRAY_SIZE(expect_regs));

    TC("redirection_entries");
    tcase_add_loop_test(tc, test_rte_masked_at_reset, 0, IOAPIC_NUM_PINS);
    tcase_add_loop_test(tc, test_rte_round_trip, 0, IOAPIC_NUM_PINS);
    tcase_add_test(tc, test_rte_read_only_bits_kept);

    TC("route_mirrors_entries");
    tcase_add_test(tc, test_route_at_init);
    tcase_add_loop_test(tc, test_route_msi_from_rte, 0, ARRAY_SIZE(msi_table));
    tcase_add_test(tc, test_route_on_unchanged_write);

    TC("edge_delivers_once_per_rising_edge");
    tcase_add_test(tc, test_edge_once_per_rising_edge);
    tcase_add_test(tc, test_edge_masked_pending_delivered_on_unmask);
    tcase_add_test(tc, test_edge_failed_delivery_dropped);

    TC("level_waits_for_eoi");
    tcase_add_test(tc, test_level_remote_irr_blocks_redelivery);
    tcase_add_test(tc, test_level_eoi_redelivers_while_high);
    tcase_add_test(tc, test_level_eoi_when_low);
    tcase_add_test(tc, test_level_eoi_register);
    tcase_add_test(tc, test_level_shared_vector);
    tcase_add_test(tc, test_level_masked_then_unmasked);
    tcase_add_test(tc, test_level_failed_delivery_leaves_remote_irr_clear);
    tcase_add_test(tc, test_level_edge_to_level_switch);

    TC("polarity_inverts_input");
    tcase_add_test(tc, test_active_low_level);
    tcase_add_test(tc, test_active_low_edge);

    TC("bad_accesses_are_harmless");
    tcase_add_loop_test(tc, test_bad_access_harmless, 0,
                        ARRAY_SIZE(bad_access));
    tcase_add_loop_test(tc, test_ioregsel_nowhere, 0, ARRAY_SIZE(nowhere));

    TC("pins");
    tcase_add_test(tc, test_pin_out_of_range_ignored);
    tcase_add_test(tc, test_irq_line_ops);
    tcase_add_test(tc, test_null_ops);
#undef TC
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(ioapic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
