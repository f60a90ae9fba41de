/*
 * test_bus.c: registration, overlap refusal and dispatch of the PIO/MMIO bus.
 *
 * The bus is the only thing between a vCPU exit and a device model, so these tests pin down
 * its contract: PIO and MMIO are independent address spaces; a claim that overlaps an existing
 * one in the same space is refused with -EEXIST however it overlaps, while adjacent claims are
 * fine; malformed claims are -EINVAL and the 33rd device is -ENOSPC, none of them changing the
 * table. Dispatch hands the right device the offset from its base, the length, the data and the
 * vCPU index; an access that is not wholly inside one device (unknown address, straddling an
 * end, wrapping) reaches no device, reads all-ones and is reported as -ENOENT.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/hw/bus.h"
#include "minivmm/util.h"

/* What a recording device saw on its last access. */
struct rec {
    unsigned reads, writes;
    unsigned vcpu;
    uint64_t off;
    unsigned len;
    uint8_t data[8];
};

/* Fills every byte it is asked for with 0xa0 + index, so a test can tell device bytes from
 * the bus's 0xff default. */
static void rec_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    struct rec *r = opaque;
    r->reads++;
    r->vcpu = vcpu;
    r->off = off;
    r->len = len;
    for (unsigned i = 0; i < len; i++)
        data[i] = (uint8_t)(0xa0 + i);
}

static void rec_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data, unsigned len)
{
    struct rec *r = opaque;
    r->writes++;
    r->vcpu = vcpu;
    r->off = off;
    r->len = len;
    memcpy(r->data, data, len < sizeof(r->data) ? len : sizeof(r->data));
}

/* Writes only the first byte of a read: the rest must stay 0xff. */
static void partial_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    struct rec *r = opaque;
    r->reads++;
    r->vcpu = vcpu;
    r->off = off;
    r->len = len;
    data[0] = 0x42;
}

static const struct bus_dev_ops rec_ops = {.read = rec_read, .write = rec_write};
static const struct bus_dev_ops partial_ops = {.read = partial_read, .write = NULL};
static const struct bus_dev_ops no_ops = {.read = NULL, .write = NULL};

static struct bus_dev mkdev(const char *name, enum bus_space space, uint64_t base, uint64_t size,
                            void *opaque)
{
    return (struct bus_dev){.name = name,
                            .space = space,
                            .base = base,
                            .size = size,
                            .ops = &rec_ops,
                            .opaque = opaque};
}

/* ---- registration ---- */

START_TEST(test_register_copies_device)
{
    struct bus bus;
    struct rec r = {0};
    bus_init(&bus);
    ck_assert_uint_eq(bus.ndevs, 0);

    struct bus_dev d = mkdev("serial", BUS_PIO, 0x3f8, 8, &r);
    ck_assert_int_eq(bus_register(&bus, &d), 0);
    ck_assert_uint_eq(bus.ndevs, 1);
    /* The bus keeps its own copy: changing the caller's struct afterwards has no effect. */
    d.base = 0x2f8;
    d.name = "changed";
    ck_assert_uint_eq(bus.devs[0].base, 0x3f8);
    ck_assert_uint_eq(bus.devs[0].size, 8);
    ck_assert_str_eq(bus.devs[0].name, "serial");
    ck_assert_ptr_eq(bus.devs[0].opaque, &r);
    ck_assert_ptr_eq(bus.devs[0].ops, &rec_ops);
    ck_assert_int_eq(bus.devs[0].space, BUS_PIO);
}
END_TEST

START_TEST(test_pio_and_mmio_are_independent)
{
    struct bus bus;
    bus_init(&bus);
    struct bus_dev pio = mkdev("pio", BUS_PIO, 0x1000, 0x100, NULL);
    struct bus_dev mmio = mkdev("mmio", BUS_MMIO, 0x1000, 0x100, NULL);
    ck_assert_int_eq(bus_register(&bus, &pio), 0);
    ck_assert_int_eq(bus_register(&bus, &mmio), 0);
    ck_assert_uint_eq(bus.ndevs, 2);

    const struct bus_dev *f = bus_find(&bus, BUS_PIO, 0x1080, 4);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(f->name, "pio");
    f = bus_find(&bus, BUS_MMIO, 0x1080, 4);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(f->name, "mmio");
}
END_TEST

/* An existing MMIO device at [0x1000, 0x2000) against each candidate claim. */
static const struct {
    const char *what;
    uint64_t base, size;
    int want;
} overlap_cases[] = {
    {"exact", 0x1000, 0x1000, -EEXIST},
    {"partial at the low end", 0x800, 0x1000, -EEXIST},
    {"partial at the high end", 0x1800, 0x1000, -EEXIST},
    {"first byte only", 0xfff, 2, -EEXIST},
    {"last byte only", 0x1fff, 1, -EEXIST},
    {"containing", 0x0, 0x10000, -EEXIST},
    {"contained", 0x1400, 0x100, -EEXIST},
    {"same base, smaller", 0x1000, 1, -EEXIST},
    {"same end, smaller", 0x1ff0, 0x10, -EEXIST},
    {"adjacent below", 0x0, 0x1000, 0},
    {"adjacent above", 0x2000, 0x1000, 0},
    {"one byte adjacent below", 0xfff, 1, 0},
    {"far away", 0xfec00000, 0x1000, 0},
};

START_TEST(test_overlap_table)
{
    struct bus bus;
    bus_init(&bus);
    struct bus_dev first = mkdev("first", BUS_MMIO, 0x1000, 0x1000, NULL);
    ck_assert_int_eq(bus_register(&bus, &first), 0);

    struct bus_dev d =
        mkdev("second", BUS_MMIO, overlap_cases[_i].base, overlap_cases[_i].size, NULL);
    int ret = bus_register(&bus, &d);
    ck_assert_msg(ret == overlap_cases[_i].want, "%s [0x%llx, +0x%llx): got %d, want %d",
                  overlap_cases[_i].what, (unsigned long long)overlap_cases[_i].base,
                  (unsigned long long)overlap_cases[_i].size, ret, overlap_cases[_i].want);
    ck_assert_uint_eq(bus.ndevs, ret == 0 ? 2 : 1);

    /* The same range in the other space never conflicts. */
    d.space = BUS_PIO;
    d.name = "pio";
    if (d.base + d.size <= 0x10000)
        ck_assert_int_eq(bus_register(&bus, &d), 0);
}
END_TEST

START_TEST(test_overlap_with_later_device)
{
    /* The check covers every registered device, not only the first or the last. */
    struct bus bus;
    bus_init(&bus);
    struct bus_dev a = mkdev("a", BUS_PIO, 0x10, 0x10, NULL);
    struct bus_dev b = mkdev("b", BUS_PIO, 0x40, 0x10, NULL);
    struct bus_dev c = mkdev("c", BUS_PIO, 0x80, 0x10, NULL);
    ck_assert_int_eq(bus_register(&bus, &a), 0);
    ck_assert_int_eq(bus_register(&bus, &b), 0);
    ck_assert_int_eq(bus_register(&bus, &c), 0);
    struct bus_dev x = mkdev("x", BUS_PIO, 0x4f, 1, NULL);
    ck_assert_int_eq(bus_register(&bus, &x), -EEXIST);
    x.base = 0x50;
    ck_assert_int_eq(bus_register(&bus, &x), 0);
    ck_assert_uint_eq(bus.ndevs, 4);
}
END_TEST

static const char name23[] = "abcdefghijklmnopqrstuvw";  /* BUS_NAME_MAX - 1 chars */
static const char name24[] = "abcdefghijklmnopqrstuvwx"; /* BUS_NAME_MAX chars */

static const struct bus_reg one_reg[] = {{0, "R", "W"}};

/* Malformed claims: each must be refused and leave the table empty. */
static const struct {
    const char *what;
    struct bus_dev dev;
    int want;
} invalid_cases[] = {
    {"size 0", {"d", BUS_MMIO, 0x1000, 0, &rec_ops, NULL, NULL, 0}, -EINVAL},
    {"size 0 PIO", {"d", BUS_PIO, 0x10, 0, &rec_ops, NULL, NULL, 0}, -EINVAL},
    {"wrapping base+size",
     {"d", BUS_MMIO, UINT64_MAX - 0xff, 0x200, &rec_ops, NULL, NULL, 0},
     -EINVAL},
    {"wrapping, huge size", {"d", BUS_MMIO, 0x1000, UINT64_MAX, &rec_ops, NULL, NULL, 0}, -EINVAL},
    {"PIO straddling 0x10000", {"d", BUS_PIO, 0xfff8, 0x10, &rec_ops, NULL, NULL, 0}, -EINVAL},
    {"PIO at 0x10000", {"d", BUS_PIO, 0x10000, 1, &rec_ops, NULL, NULL, 0}, -EINVAL},
    {"PIO far beyond", {"d", BUS_PIO, 0x3f8 + (1ull << 32), 8, &rec_ops, NULL, NULL, 0}, -EINVAL},
    {"NULL ops", {"d", BUS_MMIO, 0x1000, 0x10, NULL, NULL, NULL, 0}, -EINVAL},
    {"NULL name", {NULL, BUS_MMIO, 0x1000, 0x10, &rec_ops, NULL, NULL, 0}, -EINVAL},
    {"empty name", {"", BUS_MMIO, 0x1000, 0x10, &rec_ops, NULL, NULL, 0}, -EINVAL},
    {"name of BUS_NAME_MAX chars",
     {name24, BUS_MMIO, 0x1000, 0x10, &rec_ops, NULL, NULL, 0},
     -EINVAL},
    {"nregs without regs", {"d", BUS_MMIO, 0x1000, 0x10, &rec_ops, NULL, NULL, 1}, -EINVAL},
    {"unknown space", {"d", (enum bus_space)2, 0x1000, 0x10, &rec_ops, NULL, NULL, 0}, -EINVAL},
    /* Boundary cases that are valid. */
    {"PIO ending at 0x10000", {"d", BUS_PIO, 0xfff0, 0x10, &rec_ops, NULL, NULL, 0}, 0},
    {"name of BUS_NAME_MAX-1 chars", {name23, BUS_MMIO, 0x1000, 0x10, &rec_ops, NULL, NULL, 0}, 0},
    {"ops with no callbacks", {"d", BUS_MMIO, 0x1000, 0x10, &no_ops, NULL, NULL, 0}, 0},
    {"regs given", {"d", BUS_MMIO, 0x1000, 0x10, &rec_ops, NULL, one_reg, 1}, 0},
    {"MMIO high", {"d", BUS_MMIO, UINT64_MAX - 0xfff, 0x800, &rec_ops, NULL, NULL, 0}, 0},
};

START_TEST(test_invalid_table)
{
    struct bus bus;
    bus_init(&bus);
    int ret = bus_register(&bus, &invalid_cases[_i].dev);
    ck_assert_msg(ret == invalid_cases[_i].want, "%s: got %d, want %d", invalid_cases[_i].what, ret,
                  invalid_cases[_i].want);
    ck_assert_uint_eq(bus.ndevs, ret == 0 ? 1 : 0);
}
END_TEST

START_TEST(test_full_table)
{
    struct bus bus;
    bus_init(&bus);
    for (unsigned i = 0; i < BUS_MAX_DEVS; i++) {
        struct bus_dev d = mkdev("dev", BUS_MMIO, 0x10000 + i * 0x1000ull, 0x1000, NULL);
        ck_assert_int_eq(bus_register(&bus, &d), 0);
    }
    ck_assert_uint_eq(bus.ndevs, BUS_MAX_DEVS);
    struct bus_dev extra = mkdev("extra", BUS_PIO, 0x3f8, 8, NULL);
    ck_assert_int_eq(bus_register(&bus, &extra), -ENOSPC);
    extra.space = BUS_MMIO;
    extra.base = 0x100000;
    ck_assert_int_eq(bus_register(&bus, &extra), -ENOSPC);
    ck_assert_uint_eq(bus.ndevs, BUS_MAX_DEVS);
    /* The last device is reachable. */
    const struct bus_dev *f = bus_find(&bus, BUS_MMIO, 0x10000 + (BUS_MAX_DEVS - 1) * 0x1000ull, 4);
    ck_assert_ptr_eq(f, &bus.devs[BUS_MAX_DEVS - 1]);
}
END_TEST

/* ---- dispatch ---- */

struct machine {
    struct bus bus;
    struct rec serial, ioapic, exitp;
    int i_serial, i_ioapic, i_exit;
};

static void machine_init(struct machine *m)
{
    memset(m, 0, sizeof(*m));
    bus_init(&m->bus);
    struct bus_dev serial = mkdev("serial", BUS_PIO, 0x3f8, 8, &m->serial);
    struct bus_dev ioapic = mkdev("ioapic", BUS_MMIO, 0xfec00000, 0x1000, &m->ioapic);
    struct bus_dev exitp = mkdev("exit", BUS_PIO, 0x501, 1, &m->exitp);
    ck_assert_int_eq(bus_register(&m->bus, &serial), 0);
    ck_assert_int_eq(bus_register(&m->bus, &ioapic), 0);
    ck_assert_int_eq(bus_register(&m->bus, &exitp), 0);
    m->i_serial = 0;
    m->i_ioapic = 1;
    m->i_exit = 2;
}

static unsigned total_calls(const struct machine *m)
{
    return m->serial.reads + m->serial.writes + m->ioapic.reads + m->ioapic.writes +
           m->exitp.reads + m->exitp.writes;
}

START_TEST(test_read_dispatch)
{
    struct machine m;
    machine_init(&m);
    uint8_t data[8];
    memset(data, 0x11, sizeof(data));
    ck_assert_int_eq(bus_access(&m.bus, BUS_PIO, 3, 0x3fd, data, 1, false), m.i_serial);
    ck_assert_uint_eq(m.serial.reads, 1);
    ck_assert_uint_eq(m.serial.vcpu, 3);
    ck_assert_uint_eq(m.serial.off, 5);
    ck_assert_uint_eq(m.serial.len, 1);
    ck_assert_uint_eq(data[0], 0xa0);
    ck_assert_uint_eq(data[1], 0x11); /* beyond len: untouched */
    ck_assert_uint_eq(total_calls(&m), 1);

    memset(data, 0x11, sizeof(data));
    ck_assert_int_eq(bus_access(&m.bus, BUS_MMIO, 7, 0xfec00ff8, data, 8, false), m.i_ioapic);
    ck_assert_uint_eq(m.ioapic.reads, 1);
    ck_assert_uint_eq(m.ioapic.vcpu, 7);
    ck_assert_uint_eq(m.ioapic.off, 0xff8);
    ck_assert_uint_eq(m.ioapic.len, 8);
    static const uint8_t want[8] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7};
    ck_assert_mem_eq(data, want, 8);
    ck_assert_uint_eq(total_calls(&m), 2);
}
END_TEST

START_TEST(test_write_dispatch)
{
    struct machine m;
    machine_init(&m);
    uint8_t data[4] = {0xde, 0xad, 0xbe, 0xef};
    ck_assert_int_eq(bus_access(&m.bus, BUS_MMIO, 1, 0xfec00010, data, 4, true), m.i_ioapic);
    ck_assert_uint_eq(m.ioapic.writes, 1);
    ck_assert_uint_eq(m.ioapic.reads, 0);
    ck_assert_uint_eq(m.ioapic.vcpu, 1);
    ck_assert_uint_eq(m.ioapic.off, 0x10);
    ck_assert_uint_eq(m.ioapic.len, 4);
    ck_assert_mem_eq(m.ioapic.data, data, 4);

    uint8_t status = 3;
    ck_assert_int_eq(bus_access(&m.bus, BUS_PIO, 0, 0x501, &status, 1, true), m.i_exit);
    ck_assert_uint_eq(m.exitp.writes, 1);
    ck_assert_uint_eq(m.exitp.off, 0);
    ck_assert_uint_eq(m.exitp.data[0], 3);
    ck_assert_uint_eq(total_calls(&m), 2);
}
END_TEST

START_TEST(test_access_at_device_ends)
{
    struct machine m;
    machine_init(&m);
    uint8_t data[4];
    /* First and last bytes of the serial port range, and a 4-byte access ending exactly at the
     * device end. */
    ck_assert_int_eq(bus_access(&m.bus, BUS_PIO, 0, 0x3f8, data, 1, false), m.i_serial);
    ck_assert_uint_eq(m.serial.off, 0);
    ck_assert_int_eq(bus_access(&m.bus, BUS_PIO, 0, 0x3ff, data, 1, false), m.i_serial);
    ck_assert_uint_eq(m.serial.off, 7);
    ck_assert_int_eq(bus_access(&m.bus, BUS_PIO, 0, 0x3fc, data, 4, false), m.i_serial);
    ck_assert_uint_eq(m.serial.off, 4);
    ck_assert_uint_eq(m.serial.len, 4);
    ck_assert_uint_eq(m.serial.reads, 3);
}
END_TEST

/* Accesses that no single device claims as a whole: reads give all-ones, no device runs. */
static const struct {
    const char *what;
    enum bus_space space;
    uint64_t addr;
    unsigned len;
} miss_cases[] = {
    {"straddling the end of serial", BUS_PIO, 0x3fe, 4},
    {"straddling the end by one byte", BUS_PIO, 0x3ff, 2},
    {"straddling the start of serial", BUS_PIO, 0x3f7, 2},
    {"one past the end of serial", BUS_PIO, 0x400, 1},
    {"one before serial", BUS_PIO, 0x3f7, 1},
    {"straddling the end of the 1-byte exit port", BUS_PIO, 0x501, 2},
    {"straddling the end of the ioapic", BUS_MMIO, 0xfec00ffc, 8},
    {"unknown PIO address", BUS_PIO, 0x60, 1},
    {"unknown MMIO address", BUS_MMIO, 0xd0000000, 4},
    {"serial address in MMIO space", BUS_MMIO, 0x3f8, 1},
    {"ioapic address in PIO space", BUS_PIO, 0xfec00000, 4},
    {"wrapping address", BUS_MMIO, UINT64_MAX - 1, 4},
    {"last address", BUS_MMIO, UINT64_MAX, 1},
};

START_TEST(test_miss_table)
{
    struct machine m;
    machine_init(&m);
    uint8_t data[8];
    memset(data, 0x11, sizeof(data));
    unsigned len = miss_cases[_i].len;
    int ret = bus_access(&m.bus, miss_cases[_i].space, 2, miss_cases[_i].addr, data, len, false);
    ck_assert_msg(ret == -ENOENT, "%s: read returned %d", miss_cases[_i].what, ret);
    for (unsigned i = 0; i < len; i++)
        ck_assert_msg(data[i] == 0xff, "%s: byte %u = 0x%02x", miss_cases[_i].what, i, data[i]);
    for (unsigned i = len; i < sizeof(data); i++)
        ck_assert_uint_eq(data[i], 0x11);
    ck_assert_ptr_null(bus_find(&m.bus, miss_cases[_i].space, miss_cases[_i].addr, len));

    /* A write to the same place is ignored and leaves the caller's data alone. */
    memset(data, 0x22, sizeof(data));
    ret = bus_access(&m.bus, miss_cases[_i].space, 2, miss_cases[_i].addr, data, len, true);
    ck_assert_msg(ret == -ENOENT, "%s: write returned %d", miss_cases[_i].what, ret);
    for (unsigned i = 0; i < sizeof(data); i++)
        ck_assert_uint_eq(data[i], 0x22);
    ck_assert_msg(total_calls(&m) == 0, "%s: a device was called", miss_cases[_i].what);
}
END_TEST

START_TEST(test_empty_bus)
{
    struct bus bus;
    bus_init(&bus);
    uint8_t data[2] = {0, 0};
    ck_assert_int_eq(bus_access(&bus, BUS_PIO, 0, 0x3f8, data, 2, false), -ENOENT);
    ck_assert_uint_eq(data[0], 0xff);
    ck_assert_uint_eq(data[1], 0xff);
    ck_assert_ptr_null(bus_find(&bus, BUS_MMIO, 0, 1));
}
END_TEST

START_TEST(test_find_len_zero)
{
    struct machine m;
    machine_init(&m);
    ck_assert_ptr_null(bus_find(&m.bus, BUS_PIO, 0x3f8, 0));
    ck_assert_ptr_eq(bus_find(&m.bus, BUS_PIO, 0x3f8, 1), &m.bus.devs[m.i_serial]);
}
END_TEST

START_TEST(test_unfilled_bytes_read_ff)
{
    struct bus bus;
    struct rec r = {0};
    bus_init(&bus);
    struct bus_dev d = mkdev("partial", BUS_MMIO, 0x1000, 0x100, &r);
    d.ops = &partial_ops;
    ck_assert_int_eq(bus_register(&bus, &d), 0);
    uint8_t data[4] = {0, 0, 0, 0};
    ck_assert_int_eq(bus_access(&bus, BUS_MMIO, 0, 0x1004, data, 4, false), 0);
    ck_assert_uint_eq(r.reads, 1);
    ck_assert_uint_eq(data[0], 0x42);
    ck_assert_uint_eq(data[1], 0xff);
    ck_assert_uint_eq(data[2], 0xff);
    ck_assert_uint_eq(data[3], 0xff);

    /* No write callback: the write is accepted (device index) and dropped. */
    ck_assert_int_eq(bus_access(&bus, BUS_MMIO, 0, 0x1004, data, 4, true), 0);
}
END_TEST

START_TEST(test_no_callbacks)
{
    struct bus bus;
    bus_init(&bus);
    struct bus_dev d = mkdev("mute", BUS_PIO, 0x80, 1, NULL);
    d.ops = &no_ops;
    ck_assert_int_eq(bus_register(&bus, &d), 0);
    uint8_t v = 0;
    ck_assert_int_eq(bus_access(&bus, BUS_PIO, 0, 0x80, &v, 1, false), 0);
    ck_assert_uint_eq(v, 0xff);
    v = 7;
    ck_assert_int_eq(bus_access(&bus, BUS_PIO, 0, 0x80, &v, 1, true), 0);
    ck_assert_uint_eq(v, 7);
}
END_TEST

/* ---- register names ---- */

static const struct bus_reg uart_regs[] = {
    {0, "RBR", "THR"},
    {1, "IER", "IER"},
    {5, "LSR", NULL},
    {7, NULL, "SCR-W"},
};

START_TEST(test_reg_names)
{
    struct bus bus;
    bus_init(&bus);
    struct bus_dev d = mkdev("serial", BUS_PIO, 0x3f8, 8, NULL);
    d.regs = uart_regs;
    d.nregs = 4;
    ck_assert_int_eq(bus_register(&bus, &d), 0);
    const struct bus_dev *f = bus_find(&bus, BUS_PIO, 0x3f8, 1);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(bus_reg_name(f, 0, false), "RBR");
    ck_assert_str_eq(bus_reg_name(f, 0, true), "THR");
    ck_assert_str_eq(bus_reg_name(f, 1, false), "IER");
    ck_assert_str_eq(bus_reg_name(f, 5, false), "LSR");
    ck_assert_ptr_null(bus_reg_name(f, 5, true));
    ck_assert_ptr_null(bus_reg_name(f, 7, false));
    ck_assert_str_eq(bus_reg_name(f, 7, true), "SCR-W");
    /* Offsets with no entry, including ones that only match in the low 32 bits. */
    ck_assert_ptr_null(bus_reg_name(f, 3, false));
    ck_assert_ptr_null(bus_reg_name(f, 8, true));
    ck_assert_ptr_null(bus_reg_name(f, 1ull << 32, false));

    /* nregs limits the search: the same table with nregs 2 does not know LSR. */
    struct bus_dev short_dev = d;
    short_dev.nregs = 2;
    ck_assert_str_eq(bus_reg_name(&short_dev, 1, true), "IER");
    ck_assert_ptr_null(bus_reg_name(&short_dev, 5, false));
}
END_TEST

START_TEST(test_reg_names_none)
{
    struct bus_dev d = mkdev("plain", BUS_PIO, 0x80, 1, NULL);
    ck_assert_ptr_null(bus_reg_name(&d, 0, false));
    ck_assert_ptr_null(bus_reg_name(&d, 0, true));
}
END_TEST

#define N(a) ((int)(ARRAY_SIZE(a)))

static Suite *bus_suite(void)
{
    Suite *s = suite_create("bus");
    TCase *tc;

    tc = tcase_create("registration");
    tcase_add_test(tc, test_register_copies_device);
    tcase_add_test(tc, test_pio_and_mmio_are_independent);
    tcase_add_test(tc, test_full_table);
    suite_add_tcase(s, tc);

    tc = tcase_create("overlap refused, adjacency allowed");
    tcase_add_loop_test(tc, test_overlap_table, 0, N(overlap_cases));
    tcase_add_test(tc, test_overlap_with_later_device);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid ranges refused");
    tcase_add_loop_test(tc, test_invalid_table, 0, N(invalid_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("dispatch reaches the right device");
    tcase_add_test(tc, test_read_dispatch);
    tcase_add_test(tc, test_write_dispatch);
    tcase_add_test(tc, test_access_at_device_ends);
    tcase_add_test(tc, test_unfilled_bytes_read_ff);
    tcase_add_test(tc, test_no_callbacks);
    suite_add_tcase(s, tc);

    tc = tcase_create("unclaimed accesses read all-ones");
    tcase_add_loop_test(tc, test_miss_table, 0, N(miss_cases));
    tcase_add_test(tc, test_empty_bus);
    tcase_add_test(tc, test_find_len_zero);
    suite_add_tcase(s, tc);

    tc = tcase_create("register names");
    tcase_add_test(tc, test_reg_names);
    tcase_add_test(tc, test_reg_names_none);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bus_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
