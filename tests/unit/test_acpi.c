/*
 * test_acpi.c: the ACPI tables built from the machine description, and the AML encoder.
 *
 * acpi_build() runs on machines like the VMM's (the board's rows; 1 and 4 vCPUs; with and
 * without NIC rows carrying an acpi_hid; the IOAPIC row without ops, as with KVM's full
 * irqchip). Every table is checked for its signature, length and checksum (all bytes sum to
 * 0), the RSDP's two checksums and XSDT pointer, the XSDT's entries, the FADT's
 * hardware-reduced flags and PM registers, the MADT's entries, and COM1's Device in the DSDT
 * byte by byte, decoded by hand from ACPI 6.5 §20 and §6.4. Rows alone decide the FADT's PM
 * registers, \_S5 and the i8042/RTC boot flags. The encoder's PkgLength is checked
 * at each encoding boundary. `test_acpi --iasl` (its own meson test) hands the tables to the
 * ACPICA disassembler, `iasl -d`, and skips (77) when iasl is not installed.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acpi.h"
#include "acpi_pm.h"
#include "aml.h"
#include "board.h"
#include "ck_loop.h"
#include "machine.h"
#include "minivmm/abi.h"
#include "minivmm/hw/gmem.h"
#include "minivmm/memmap.h"
#include "minivmm/uart16550.h"
#include "minivmm/util.h"
#include "nic.h"

#define MiB (1ull << 20)

static struct acpi_tables tables;
static const unsigned windows[2] = {0, 1};
static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

/* The board's rows; with nics, two VF rows and an NE2000 row given ACPI ids, and an ISA row
 * with a level-triggered legacy IRQ (which needs an interrupt source override). */
static void machine(struct machine *m, const struct gmem *gm, unsigned ncpus, bool nics)
{
    char err[256];
    struct board_devs b = {0};
    machine_init(m, ncpus, gm, NULL);
    ck_assert_msg(board_add(m, &b, err, sizeof(err)) == 0, "%s", err);
    if (!nics)
        return;
    struct machine_dev d;
    for (unsigned i = 0; i < 2; i++) {
        nic_vf_row(&d, "vf", &windows[i], 0, NULL); /* LNRO0005, VR0<i>: the row's own */
        ck_assert_msg(machine_add(m, &d, err, sizeof(err)) == 0, "%s", err);
    }
    nic_ne2000_row(&d, MINIVMM_NE2000_PORT, MINIVMM_NE2000_IRQ, NULL, mac);
    d.acpi_hid = "PNP80D6";
    d.acpi_name = "NE20";
    ck_assert_msg(machine_add(m, &d, err, sizeof(err)) == 0, "%s", err);
    d = (struct machine_dev){.bus = {"lvl", BUS_PIO, 0x700, 4, NULL, NULL, NULL, 0},
                             .kind = MACHINE_ISA, .compat = "test,level", .irq = 10,
                             .trigger = MACHINE_IRQ_LEVEL_HIGH, .acpi_hid = "TEST0001",
                             .acpi_name = "LVL0"};
    ck_assert_msg(machine_add(m, &d, err, sizeof(err)) == 0, "%s", err);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static const uint8_t *table(const char *sig, uint32_t *len)
{
    const struct acpi_table *t = acpi_find(&tables, sig);
    ck_assert_msg(t != NULL, "no %s", sig);
    if (len)
        *len = t->len;
    return tables.buf + t->off;
}

static const uint8_t *at(uint64_t gpa)
{
    ck_assert_uint_ge(gpa, tables.base);
    ck_assert_uint_lt(gpa, tables.base + tables.len);
    return tables.buf + (gpa - tables.base);
}

/* _i: 1 or 4 vCPUs, crossed with NIC rows or none. */
static const unsigned cpu_counts[] = {1, 4};

static void build(unsigned i, unsigned *ncpus, bool *nics)
{
    static struct gmem gm;
    *ncpus = cpu_counts[i % 2];
    *nics = i / 2;
    ck_assert_int_eq(gmem_layout(&gm, 128 * MiB), 0);
    static struct machine m;
    machine(&m, &gm, *ncpus, *nics);
    ck_assert_int_eq(acpi_build(&tables, &m, MEMMAP_ACPI), 0);
}

START_TEST(test_headers_and_checksums)
{
    unsigned ncpus;
    bool nics;
    build((unsigned)_i, &ncpus, &nics);
    ck_assert_uint_le(tables.len, MEMMAP_ACPI_MAX);
    ck_assert_uint_eq(tables.n, 5);
    ck_assert_str_eq(tables.t[0].sig, "RSDP");
    ck_assert_uint_eq(tables.t[0].off, 0); /* RSDP first, at MEMMAP_ACPI */

    const uint8_t *rsdp = table("RSDP", NULL);
    ck_assert_int_eq(memcmp(rsdp, "RSD PTR ", 8), 0);
    ck_assert_uint_eq(sum(rsdp, 20), 0);
    ck_assert_uint_eq(sum(rsdp, 36), 0);
    ck_assert_uint_eq(rsdp[15], 2);
    ck_assert_uint_eq(get_le32(rsdp + 20), 36);
    const struct acpi_table *xsdt = acpi_find(&tables, "XSDT");
    ck_assert_uint_eq(get_le64(rsdp + 24), MEMMAP_ACPI + xsdt->off);

    static const char *const sigs[] = {"XSDT", "FACP", "APIC", "DSDT"};
    for (unsigned k = 0; k < ARRAY_SIZE(sigs); k++) {
        uint32_t len;
        const uint8_t *p = table(sigs[k], &len);
        ck_assert_int_eq(memcmp(p, sigs[k], 4), 0);
        ck_assert_uint_eq(get_le32(p + 4), len);
        ck_assert_msg(sum(p, len) == 0, "%s: checksum", sigs[k]);
        ck_assert_uint_eq(tables.t[0].off % 16, 0);
        ck_assert_uint_le((size_t)(p - tables.buf) + len, tables.len);
    }
}
END_TEST

START_TEST(test_xsdt_and_fadt)
{
    unsigned ncpus;
    bool nics;
    uint32_t len;
    build((unsigned)_i, &ncpus, &nics);
    const uint8_t *x = table("XSDT", &len);
    ck_assert_uint_eq(len, 36 + 2 * 8);
    ck_assert_int_eq(memcmp(at(get_le64(x + 36)), "FACP", 4), 0);
    ck_assert_int_eq(memcmp(at(get_le64(x + 44)), "APIC", 4), 0);

    const uint8_t *f = table("FACP", &len);
    ck_assert_uint_eq(len, 276);
    ck_assert_uint_eq(f[8], 6);                            /* revision */
    uint32_t flags = get_le32(f + 112);
    ck_assert(flags & (1u << 20));                         /* HW_REDUCED_ACPI */
    ck_assert(flags & (1u << 10));                         /* RESET_REG_SUP */
    uint16_t boot_arch = get_le16(f + 109);
    ck_assert(!(boot_arch & (1u << 1)));                   /* no 8042 described */
    ck_assert(!(boot_arch & (1u << 5)));                   /* the board's CMOS RTC is described */
    ck_assert(boot_arch & (1u << 0));                      /* ISA devices (COM1) */
    ck_assert_uint_eq(get_le32(f + 40), 0);                /* DSDT: only X_DSDT */
    ck_assert_int_eq(memcmp(at(get_le64(f + 140)), "DSDT", 4), 0);
    /* GAS: SystemIO, 8 bits, offset 0, byte access, port */
    static const struct {
        unsigned off;
        uint64_t port;
    } gas[] = {{116, MINIVMM_ACPI_PM_PORT + MINIVMM_ACPI_PM_RESET},
               {244, MINIVMM_ACPI_PM_PORT + MINIVMM_ACPI_PM_SLEEP_CONTROL},
               {256, MINIVMM_ACPI_PM_PORT + MINIVMM_ACPI_PM_SLEEP_STATUS}};
    for (unsigned k = 0; k < ARRAY_SIZE(gas); k++) {
        const uint8_t *g = f + gas[k].off;
        ck_assert_uint_eq(g[0], 1);
        ck_assert_uint_eq(g[1], 8);
        ck_assert_uint_eq(g[2], 0);
        ck_assert_uint_eq(g[3], 1);
        ck_assert_uint_eq(get_le64(g + 4), gas[k].port);
    }
    ck_assert_uint_eq(f[128], MINIVMM_ACPI_PM_RESET_VALUE);
}
END_TEST

START_TEST(test_madt)
{
    unsigned ncpus;
    bool nics;
    uint32_t len;
    build((unsigned)_i, &ncpus, &nics);
    const uint8_t *p = table("APIC", &len);
    ck_assert_uint_eq(get_le32(p + 36), MEMMAP_LAPIC_BASE);
    ck_assert_uint_eq(get_le32(p + 40), 0);
    unsigned lapics = 0, ioapics = 0, isos = 0;
    for (uint32_t off = 44; off < len; off += p[off + 1]) {
        const uint8_t *e = p + off;
        ck_assert_uint_ge(e[1], 2);
        ck_assert_uint_le(off + e[1], len);
        switch (e[0]) {
        case 0:
            ck_assert_uint_eq(e[1], 8);
            ck_assert_uint_eq(e[2], lapics);           /* processor UID */
            ck_assert_uint_eq(e[3], lapics);           /* APIC ID = vCPU index */
            ck_assert_uint_eq(get_le32(e + 4), 1);     /* enabled */
            lapics++;
            break;
        case 1:
            ck_assert_uint_eq(e[1], 12);
            ck_assert_uint_eq(get_le32(e + 4), MEMMAP_IOAPIC_BASE);
            ck_assert_uint_eq(get_le32(e + 8), 0);     /* GSI base */
            ioapics++;
            break;
        case 2:
            ck_assert_uint_eq(e[1], 10);
            ck_assert_uint_eq(e[2], 0);                /* ISA */
            ck_assert_uint_eq(e[3], 10);               /* the level-triggered test row */
            ck_assert_uint_eq(get_le32(e + 4), 10);
            ck_assert_uint_eq(get_le16(e + 8), 0x0d); /* active high, level */
            isos++;
            break;
        default:
            ck_abort_msg("unexpected MADT entry type %u", e[0]);
        }
    }
    ck_assert_uint_eq(lapics, ncpus);
    ck_assert_uint_eq(ioapics, 1);
    ck_assert_uint_eq(isos, nics ? 1 : 0); /* COM1 and the NE2000 are ISA edge-high */
}
END_TEST

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    const uint8_t *p = memmem(hay, n, needle, m);
    ck_assert_msg(p != NULL, "not found in the DSDT");
    return p;
}

START_TEST(test_dsdt_com1)
{
    unsigned ncpus;
    bool nics;
    uint32_t len;
    build((unsigned)_i, &ncpus, &nics);
    const uint8_t *d = table("DSDT", &len);
    ck_assert_uint_eq(d[8], 2);
    /* Device (COM1) { Name (_HID, EisaId ("PNP0501")) Name (_UID, Zero)
     *   Name (_CRS, ResourceTemplate () { IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
     *     Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { 4 } }) } */
    static const uint8_t com1[] = {
        0x5b, 0x82, 0x31, 'C', 'O', 'M', '1',                /* DeviceOp, PkgLength 49 */
        0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01, /* DWord 0x0105d041 */
        0x08, '_', 'U', 'I', 'D', 0x00,                      /* Zero */
        0x08, '_', 'C', 'R', 'S', 0x11, 0x16, 0x0a, 0x13,    /* Buffer, PkgLength 22, 19 bytes */
        0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,      /* IO */
        0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0x00, 0x00, 0x00, /* Interrupt: consumer|edge */
        0x79, 0x00,                                          /* EndTag */
    };
    find(d + 36, len - 36, com1, sizeof(com1));
    /* Scope (\_SB) encloses the devices */
    static const uint8_t sb[] = {'\\', '_', 'S', 'B', '_'};
    ck_assert_uint_eq(d[36], 0x10);
    find(d + 36, 8, sb, sizeof(sb));
    /* Name (\_S5, Package (0x02) { 0x05, Zero }) */
    static const uint8_t s5[] = {0x08, '\\', '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05,
                                 0x00};
    find(d + 36, len - 36, s5, sizeof(s5));
    static const uint8_t vr01[] = {'V', 'R', '0', '1', 0x08, '_', 'H', 'I', 'D', 0x0d,
                                   'L', 'N', 'R', 'O', '0', '0', '0', '5', 0,
                                   0x08, '_', 'U', 'I', 'D', 0x01};
    static const uint8_t vr01_mem_irq[] = {0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0xb0, 0xfe,
                                           0x00, 0x10, 0x00, 0x00, /* Memory32Fixed */
                                           0x89, 0x06, 0x00, 0x01, 0x01, 17, 0, 0, 0}; /* level */
    if (nics) {
        find(d + 36, len - 36, vr01, sizeof(vr01));
        find(d + 36, len - 36, vr01_mem_irq, sizeof(vr01_mem_irq));
    } else {
        ck_assert_ptr_null(memmem(d, len, "VR00", 4));
    }
}
END_TEST

/* Without a PM row: no sleep or reset registers and no \_S5; an i8042 and an RTC row set and
 * clear their IAPC_BOOT_ARCH flags. acpi.c learns all of it from the rows. */
START_TEST(test_rows_drive_fadt)
{
    static struct gmem gm;
    static struct machine m;
    char err[256];
    uint32_t len;
    ck_assert_int_eq(gmem_layout(&gm, 128 * MiB), 0);
    machine_init(&m, 2, &gm, NULL);
    const struct machine_dev rows[] = {
        {.bus = {"ioapic", BUS_MMIO, MEMMAP_IOAPIC_BASE, MEMMAP_IOAPIC_SIZE, NULL, NULL, NULL, 0},
         .kind = MACHINE_IOAPIC, .compat = "x", .irq = -1},
        {.bus = {"i8042", BUS_PIO, 0x60, 1, NULL, NULL, NULL, 0}, .kind = MACHINE_ISA,
         .compat = "x", .irq = 1, .acpi_hid = "PNP0303", .acpi_name = "KBD_"},
        {.bus = {"rtc", BUS_PIO, 0x70, 2, NULL, NULL, NULL, 0}, .kind = MACHINE_ISA,
         .compat = "x", .irq = 8, .acpi_hid = "PNP0B00", .acpi_name = "RTC_"},
    };
    ck_assert_msg(machine_add_all(&m, rows, ARRAY_SIZE(rows), err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(acpi_build(&tables, &m, MEMMAP_ACPI), 0);
    const uint8_t *f = table("FACP", &len);
    uint32_t flags = get_le32(f + 112);
    ck_assert(flags & (1u << 20));
    ck_assert(!(flags & (1u << 10)));
    static const uint8_t zero[12];
    ck_assert_int_eq(memcmp(f + 116, zero, 12), 0);
    ck_assert_int_eq(memcmp(f + 244, zero, 12), 0);
    ck_assert_int_eq(memcmp(f + 256, zero, 12), 0);
    uint16_t boot_arch = get_le16(f + 109);
    ck_assert(boot_arch & (1u << 1));    /* 8042 */
    ck_assert(!(boot_arch & (1u << 5))); /* a CMOS RTC is described */
    const uint8_t *d = table("DSDT", &len);
    ck_assert_ptr_null(memmem(d, len, "_S5_", 4));
    static const uint8_t kbd_hid[] = {'K', 'B', 'D', '_', 0x08, '_', 'H', 'I', 'D',
                                      0x0c, 0x41, 0xd0, 0x03, 0x03};
    find(d + 36, len - 36, kbd_hid, sizeof(kbd_hid));
}
END_TEST

/* ---- refusals ---- */

START_TEST(test_bad_rows)
{
    static struct gmem gm;
    static struct machine m;
    char err[256];
    ck_assert_int_eq(gmem_layout(&gm, 128 * MiB), 0);
    machine(&m, &gm, 1, false);
    struct machine_dev d = {.bus = {"x", BUS_PIO, 0x700, 4, NULL, NULL, NULL, 0},
                            .kind = MACHINE_ISA, .compat = "x", .irq = -1, .acpi_hid = "PNP0C02",
                            .acpi_name = "bad"};
    ck_assert_int_eq(machine_add(&m, &d, err, sizeof(err)), -EINVAL); /* lower case */
    d.acpi_name = "TOOLONG";
    ck_assert_int_eq(machine_add(&m, &d, err, sizeof(err)), -EINVAL);
    d.acpi_name = NULL;
    ck_assert_int_eq(machine_add(&m, &d, err, sizeof(err)), -EINVAL);
    /* an MMIO window above 4 GiB cannot be a Memory32Fixed */
    d = (struct machine_dev){.bus = {"hi", BUS_MMIO, 0x100000000ull, 0x1000, NULL, NULL, NULL, 0},
                             .kind = MACHINE_VIRTIO_MMIO, .compat = "x", .irq = 20,
                             .acpi_hid = "LNRO0005", .acpi_name = "HIGH"};
    ck_assert_int_eq(machine_add(&m, &d, err, sizeof(err)), 0);
    ck_assert_int_eq(acpi_build(&tables, &m, MEMMAP_ACPI), -EINVAL);
    machine_init(&m, 0, &gm, NULL);
    ck_assert_int_eq(acpi_build(&tables, &m, MEMMAP_ACPI), -EINVAL);
}
END_TEST

/* ---- the encoder ---- */

static uint8_t amlbuf[1 << 17];

/* A Buffer of n bytes: PkgLength at each boundary of its 1- to 4-byte encodings. */
static const size_t buffer_sizes[] = {0, 58, 59, 60, 61, 62, 4085, 4086, 4087, 1048566, 1048567};

static size_t decode_pkglength(const uint8_t *p, size_t *nbytes)
{
    unsigned extra = p[0] >> 6;
    size_t v = extra ? (p[0] & 0xf) : (p[0] & 0x3f);
    for (unsigned i = 0; i < extra; i++)
        v |= (size_t)p[1 + i] << (4 + 8 * i);
    *nbytes = 1 + extra;
    return v;
}

START_TEST(test_pkglength)
{
    static uint8_t big[1 << 21];
    size_t n = buffer_sizes[_i], nb;
    struct aml a;
    aml_init(&a, big, sizeof(big));
    aml_buffer_begin(&a);
    for (size_t k = 0; k < n; k++) {
        uint8_t b = (uint8_t)k;
        aml_bytes(&a, &b, 1);
    }
    aml_end(&a);
    long len = aml_finish(&a);
    ck_assert_int_gt(len, 0);
    ck_assert_uint_eq(big[0], 0x11);
    size_t pkg = decode_pkglength(big + 1, &nb);
    ck_assert_uint_eq(1 + pkg, (size_t)len); /* PkgLength counts itself, not the opcode */
    /* the shortest encoding: one byte up to 63, then 12, 20, 28 bits */
    ck_assert_uint_eq(nb, pkg <= 63 ? 1 : pkg < 4096 ? 2 : pkg < (1u << 20) ? 3 : 4);
    /* the size: an integer, then the bytes unmoved */
    const uint8_t *q = big + 1 + nb;
    uint64_t size;
    size_t ilen;
    switch (q[0]) {
    case 0x00: size = 0, ilen = 1; break;
    case 0x01: size = 1, ilen = 1; break;
    case 0x0a: size = q[1], ilen = 2; break;
    case 0x0b: size = get_le16(q + 1), ilen = 3; break;
    case 0x0c: size = get_le32(q + 1), ilen = 5; break;
    default: ck_abort_msg("bad size encoding 0x%x", q[0]);
    }
    ck_assert_uint_eq(size, n);
    ck_assert_uint_eq((size_t)(q + ilen - big) + n, (size_t)len);
    for (size_t k = 0; k < n; k++)
        LOOP_ASSERT_MSG(q[ilen + k] == (uint8_t)k, "byte %zu", k);
}
END_TEST

START_TEST(test_integers_names)
{
    struct aml a;
    aml_init(&a, amlbuf, sizeof(amlbuf));
    aml_integer(&a, 0);
    aml_integer(&a, 1);
    aml_integer(&a, 2);
    aml_integer(&a, 0x1234);
    aml_integer(&a, 0x12345678);
    aml_integer(&a, 0x123456789aull);
    aml_integer(&a, UINT64_MAX);
    aml_name_string(&a, "\\_SB_.COM1");
    aml_name_string(&a, "_S5");
    aml_string(&a, "AB");
    static const uint8_t want[] = {
        0x00, 0x01, 0x0a, 0x02, 0x0b, 0x34, 0x12, 0x0c, 0x78, 0x56, 0x34, 0x12,
        0x0e, 0x9a, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0xff,
        '\\', 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1', '_', 'S', '5', '_',
        0x0d, 'A', 'B', 0x00};
    ck_assert_int_eq(aml_finish(&a), (long)sizeof(want));
    ck_assert_int_eq(memcmp(amlbuf, want, sizeof(want)), 0);
    ck_assert_uint_eq(aml_eisaid("PNP0501"), 0x0105d041u);
    ck_assert_uint_eq(aml_eisaid("PNP0B00"), 0x000bd041u);
    ck_assert(!aml_is_eisaid("LNRO0005"));
    ck_assert(!aml_is_eisaid("PNP050G"));
    /* errors are sticky */
    aml_init(&a, amlbuf, 3);
    aml_integer(&a, 0x12345678);
    aml_integer(&a, 0);
    ck_assert_int_eq(aml_finish(&a), -ENOSPC);
    aml_init(&a, amlbuf, sizeof(amlbuf));
    aml_name_string(&a, "com1");
    ck_assert_int_eq(aml_finish(&a), -EINVAL);
    aml_init(&a, amlbuf, sizeof(amlbuf));
    aml_device_begin(&a, "DEV0");
    ck_assert_int_eq(aml_finish(&a), -EINVAL); /* still open */
    aml_end(&a);
    aml_end(&a);
    ck_assert_int_eq(aml_finish(&a), -EINVAL); /* one end too many */
}
END_TEST

/* ---- the outside check: ACPICA's disassembler ---- */

static char iasl_dir[] = "/tmp/test_acpi.XXXXXX";

/* _i as for the tables: each table of each machine through iasl -d, which must exit 0 and
 * print no error or warning (-vi hides the banner; the summary line appears only when there
 * are some). */
START_TEST(test_iasl)
{
    unsigned ncpus;
    bool nics;
    build((unsigned)_i, &ncpus, &nics);
    /* The RSDP has no table header: iasl -d refuses it (acpidump's RSDP is read through
     * acpixtract); test_headers_and_checksums checks it. */
    for (unsigned i = 1; i < tables.n; i++) {
        char path[128], cmd[512];
        snprintf(path, sizeof(path), "%s/%s%d.dat", iasl_dir, tables.t[i].sig, _i);
        FILE *f = fopen(path, "wb");
        ck_assert_msg(f != NULL, "%s", path);
        ck_assert_uint_eq(fwrite(tables.buf + tables.t[i].off, 1, tables.t[i].len, f),
                          tables.t[i].len);
        ck_assert_int_eq(fclose(f), 0);
        snprintf(cmd, sizeof(cmd),
                 "cd %s && iasl -vi -d %s%d.dat >iasl%d.out 2>&1; r=$?; cat iasl%d.out; "
                 "[ $r -eq 0 ] && ! grep -Eqi 'error|warning' iasl%d.out",
                 iasl_dir, tables.t[i].sig, _i, _i, _i, _i);
        fflush(stdout);
        ck_assert_msg(system(cmd) == 0, "iasl -d %s (%u vCPUs%s) failed; tables in %s",
                      tables.t[i].sig, ncpus, nics ? ", NICs" : "", iasl_dir);
    }
}
END_TEST

static int run_iasl(void)
{
    if (system("command -v iasl >/dev/null 2>&1") != 0) {
        printf("SKIP: iasl not installed (Debian package acpica-tools)\n");
        return 77;
    }
    if (!mkdtemp(iasl_dir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("acpi_iasl");
    TCase *tc = tcase_create("iasl");
    tcase_add_loop_test(tc, test_iasl, 0, 4);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (!failed) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", iasl_dir);
        if (system(cmd) != 0)
            return EXIT_FAILURE;
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static Suite *acpi_suite(void)
{
    Suite *s = suite_create("acpi");
    TCase *tc = tcase_create("tables");
    tcase_add_loop_test(tc, test_headers_and_checksums, 0, 4);
    tcase_add_loop_test(tc, test_xsdt_and_fadt, 0, 4);
    tcase_add_loop_test(tc, test_madt, 0, 4);
    tcase_add_loop_test(tc, test_dsdt_com1, 0, 4);
    tcase_add_test(tc, test_rows_drive_fadt);
    tcase_add_test(tc, test_bad_rows);
    suite_add_tcase(s, tc);
    tc = tcase_create("aml");
    tcase_add_loop_test(tc, test_pkglength, 0, (int)ARRAY_SIZE(buffer_sizes));
    tcase_add_test(tc, test_integers_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--iasl") == 0)
        return run_iasl();
    SRunner *sr = srunner_create(acpi_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
