/*
 * acpi.c: the ACPI tables from the machine description (acpi.h, docs/acpi.md).
 *
 * Section numbers are the ACPI 6.5 specification's. The tables follow its layouts byte by
 * byte (offsets below); they are written with put_le* into one buffer whose guest-physical
 * base is known, so every pointer between tables is final when written. Nothing here knows a
 * device by name: the DSDT has one Device per row with an acpi_hid, the MADT one I/O APIC per
 * MACHINE_IOAPIC row, the FADT's sleep and reset registers come from the MACHINE_ACPI_PM row.
 * A few well-known _HIDs set IAPC_BOOT_ARCH flags (an i8042, a CMOS RTC), so that adding those
 * devices is again only their rows.
 */
#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"
#include "minivmm/abi.h"
#include "minivmm/ioapic_regs.h"
#include "minivmm/util.h"

#define HDR_LEN 36 /* §5.2.6 system description table header */
#define OEM_ID "MNVMM "
#define OEM_TABLE_ID "MINIVMM "
#define CREATOR_ID "MVMM"

/* §5.2.5.3 RSDP (revision 2) */
#define RSDP_LEN 36
#define RSDP_V1_LEN 20

/* §5.2.9 FADT, revision 6 (ACPI 6.0 and later): field offsets */
#define FADT_LEN 276
#define FADT_REVISION 6
#define FADT_MINOR 5 /* ACPI 6.5 */
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_SLEEP_STATUS_REG 256
#define FADT_HYPERVISOR_ID 268
/* §5.2.9.3 IA-PC boot architecture flags */
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042 (1u << 1)
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1u << 5)
/* §5.2.9 Table 5.10 fixed feature flags */
#define FADT_F_PWR_BUTTON (1u << 4) /* no fixed-feature power button */
#define FADT_F_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)

/* §5.2.3.2 Generic Address Structure */
#define GAS_LEN 12
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* §5.2.12 MADT and its interrupt controller structures */
#define MADT_REVISION 5
#define MADT_LOCAL_APIC 0 /* §5.2.12.2, 8 bytes */
#define MADT_IO_APIC 1    /* §5.2.12.3, 12 bytes */
#define MADT_ISO 2        /* §5.2.12.5, 10 bytes */
#define MADT_LAPIC_ENABLED 1
/* §5.2.12.5 Table 5.26 MPS INTI flags */
#define MPS_ACTIVE_HIGH 0x1
#define MPS_ACTIVE_LOW 0x3
#define MPS_EDGE (0x1 << 2)
#define MPS_LEVEL (0x3 << 2)
#define ISA_IRQS 16

#define DSDT_REVISION 2 /* 64-bit integers (§19.6.138 DefinitionBlock ComplianceRevision) */
#define XSDT_REVISION 1

#define S5_SLP_TYP MINIVMM_ACPI_PM_SLP_TYP_S5

static const char hid_i8042[] = "PNP0303";   /* IBM Enhanced keyboard (101/102-key) */
static const char hid_cmos_rtc[] = "PNP0B00"; /* AT real-time clock */

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return (uint8_t)(0 - s);
}

/* Lays out one table: 16-byte aligned after the previous. Its buffer space, or NULL. */
static uint8_t *alloc_table(struct acpi_tables *t, const char *sig, size_t len)
{
    size_t off = (t->len + 15) & ~(size_t)15;
    if (t->n == ACPI_MAX_TABLES || off > sizeof(t->buf) || len > sizeof(t->buf) - off)
        return NULL;
    struct acpi_table *e = &t->t[t->n++];
    memcpy(e->sig, sig, 4);
    e->sig[4] = '\0';
    e->off = (uint32_t)off;
    e->len = (uint32_t)len;
    t->len = off + len;
    memset(t->buf + off, 0, len);
    return t->buf + off;
}

static uint64_t table_addr(const struct acpi_tables *t, const char *sig)
{
    const struct acpi_table *e = acpi_find(t, sig);
    return e ? t->base + e->off : 0;
}

/* §5.2.6: the header of a table of len bytes; the checksum is set by finish_table(). */
static void header(uint8_t *p, const char *sig, size_t len, uint8_t revision)
{
    memcpy(p, sig, 4);
    put_le32(p + 4, (uint32_t)len);
    p[8] = revision;
    memcpy(p + 10, OEM_ID, 6);
    memcpy(p + 16, OEM_TABLE_ID, 8);
    put_le32(p + 24, 1); /* OEM revision */
    memcpy(p + 28, CREATOR_ID, 4);
    put_le32(p + 32, 1); /* creator revision */
}

static void finish_table(uint8_t *p, size_t len)
{
    p[9] = 0;
    p[9] = checksum(p, len);
}

static void gas_io8(uint8_t *p, uint64_t port)
{
    p[0] = GAS_SYSTEM_IO;
    p[1] = 8; /* register bit width */
    p[2] = 0; /* bit offset */
    p[3] = GAS_ACCESS_BYTE;
    put_le64(p + 4, port);
}

static const struct machine_dev *find_kind(const struct machine *m, enum machine_kind kind)
{
    for (unsigned i = 0; i < m->ndevs; i++)
        if (m->devs[i].kind == kind)
            return &m->devs[i];
    return NULL;
}

static bool has_hid(const struct machine *m, const char *hid)
{
    for (unsigned i = 0; i < m->ndevs; i++)
        if (m->devs[i].acpi_hid && strcmp(m->devs[i].acpi_hid, hid) == 0)
            return true;
    return false;
}

/* The row's trigger as (level, active_low): MACHINE_IRQ_* are the CE4100 IOAPIC binding's
 * types (0 edge-low, 1 level-high, 2 level-low, 3 edge-high); 0 in a row means the kind's
 * default: ISA edge-high, everything else level-high. */
static void irq_type(const struct machine_dev *d, bool *level, bool *active_low)
{
    unsigned t = d->trigger;
    if (!t)
        t = d->kind == MACHINE_ISA ? MACHINE_IRQ_EDGE_HIGH : MACHINE_IRQ_LEVEL_HIGH;
    *level = t == 1 || t == 2;
    *active_low = t == 0 || t == 2;
}

/* _UID: the row's number among the rows with the same _HID (§6.1.12). */
static unsigned uid(const struct machine *m, unsigned i)
{
    unsigned n = 0;
    for (unsigned j = 0; j < i; j++)
        if (m->devs[j].acpi_hid && strcmp(m->devs[j].acpi_hid, m->devs[i].acpi_hid) == 0)
            n++;
    return n;
}

static int dsdt_device(struct aml *a, const struct machine *m, unsigned i)
{
    const struct machine_dev *d = &m->devs[i];
    bool level, active_low;

    if (!aml_valid_nameseg(d->acpi_name))
        return -EINVAL;
    aml_device_begin(a, d->acpi_name);
    aml_name(a, "_HID");
    if (aml_is_eisaid(d->acpi_hid))
        aml_integer(a, aml_eisaid(d->acpi_hid));
    else
        aml_string(a, d->acpi_hid);
    aml_name(a, "_UID");
    aml_integer(a, uid(m, i));
    /* A fixed _CRS (§6.2.2), a Buffer of resource descriptors ending with an EndTag. */
    aml_name(a, "_CRS");
    aml_buffer_begin(a);
    if (d->bus.space == BUS_PIO) {
        if (d->bus.base > 0xffff || d->bus.size > 0xff || d->bus.base + d->bus.size > 0x10000)
            return -EINVAL;
        aml_res_io(a, (uint16_t)d->bus.base, (uint8_t)d->bus.size);
    } else {
        if (d->bus.base + d->bus.size > 0x100000000ull || d->bus.size > 0xffffffffull)
            return -EINVAL;
        aml_res_mem32_fixed(a, (uint32_t)d->bus.base, (uint32_t)d->bus.size);
    }
    if (d->irq >= 0) {
        irq_type(d, &level, &active_low);
        aml_res_interrupt(a, (uint32_t)d->irq, !level, active_low);
    }
    aml_res_end(a);
    aml_end(a); /* Buffer */
    aml_end(a); /* Device */
    return 0;
}

static int build_dsdt(struct acpi_tables *t, const struct machine *m)
{
    struct acpi_table *e;
    struct aml a;
    int ret;

    /* The DSDT grows as the rows say: build it in the space left, then claim what it used. */
    uint8_t *p = alloc_table(t, "DSDT", HDR_LEN);
    if (!p)
        return -ENOSPC;
    e = &t->t[t->n - 1];
    aml_init(&a, p, sizeof(t->buf) - e->off);
    a.len = HDR_LEN;
    aml_scope_begin(&a, "\\_SB_");
    for (unsigned i = 0; i < m->ndevs; i++)
        if (m->devs[i].acpi_hid && (ret = dsdt_device(&a, m, i)) != 0)
            return ret;
    aml_end(&a);
    if (find_kind(m, MACHINE_ACPI_PM)) {
        /* §7.4.2: \_S5's first element is the SLP_TYP for the sleep control register
         * (hardware-reduced: §4.8.3.7); the second (PM1b) is unused. */
        aml_name(&a, "\\_S5_");
        aml_package_begin(&a, 2);
        aml_integer(&a, S5_SLP_TYP);
        aml_integer(&a, 0);
        aml_end(&a);
    }
    long len = aml_finish(&a);
    if (len < 0)
        return (int)len;
    e->len = (uint32_t)len;
    t->len = e->off + (size_t)len;
    header(p, "DSDT", (size_t)len, DSDT_REVISION);
    finish_table(p, (size_t)len);
    return 0;
}

static int build_fadt(struct acpi_tables *t, const struct machine *m)
{
    const struct machine_dev *pm = find_kind(m, MACHINE_ACPI_PM);
    uint32_t flags = FADT_F_HW_REDUCED_ACPI | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON;
    uint16_t boot_arch = BOOT_ARCH_VGA_NOT_PRESENT;
    uint64_t dsdt = table_addr(t, "DSDT");

    uint8_t *p = alloc_table(t, "FACP", FADT_LEN);
    if (!p)
        return -ENOSPC;
    header(p, "FACP", FADT_LEN, FADT_REVISION);
    /* FIRMWARE_CTRL and DSDT (32-bit) stay 0: no FACS (optional when hardware-reduced,
     * §5.2.10) and X_DSDT is used, as §5.2.9 asks when it is not zero. */
    for (unsigned i = 0; i < m->ndevs; i++)
        if (m->devs[i].kind == MACHINE_ISA && m->devs[i].acpi_hid)
            boot_arch |= BOOT_ARCH_LEGACY_DEVICES;
    if (has_hid(m, hid_i8042))
        boot_arch |= BOOT_ARCH_8042;
    if (!has_hid(m, hid_cmos_rtc))
        boot_arch |= BOOT_ARCH_CMOS_RTC_NOT_PRESENT;
    put_le16(p + FADT_IAPC_BOOT_ARCH, boot_arch);
    if (pm) {
        flags |= FADT_F_RESET_REG_SUP;
        gas_io8(p + FADT_RESET_REG, pm->bus.base + MINIVMM_ACPI_PM_RESET);
        p[FADT_RESET_VALUE] = MINIVMM_ACPI_PM_RESET_VALUE;
        gas_io8(p + FADT_SLEEP_CONTROL_REG, pm->bus.base + MINIVMM_ACPI_PM_SLEEP_CONTROL);
        gas_io8(p + FADT_SLEEP_STATUS_REG, pm->bus.base + MINIVMM_ACPI_PM_SLEEP_STATUS);
    }
    put_le32(p + FADT_FLAGS, flags);
    p[FADT_MINOR_VERSION] = FADT_MINOR;
    put_le64(p + FADT_X_DSDT, dsdt);
    memcpy(p + FADT_HYPERVISOR_ID, "minivmm", 8);
    finish_table(p, FADT_LEN);
    return 0;
}

static int build_madt(struct acpi_tables *t, const struct machine *m)
{
    size_t len = HDR_LEN + 8, n_ioapic = 0;
    bool level, active_low;

    if (m->ncpus > 255)
        return -EINVAL; /* beyond 8-bit APIC IDs, x2APIC structures would be needed */
    len += 8 * (size_t)m->ncpus;
    for (unsigned i = 0; i < m->ndevs; i++) {
        const struct machine_dev *d = &m->devs[i];
        if (d->kind == MACHINE_IOAPIC)
            len += 12;
        if (d->acpi_hid && d->irq >= 0 && d->irq < ISA_IRQS)
            len += 10; /* at most: see below */
    }
    uint8_t *p = alloc_table(t, "APIC", len);
    if (!p)
        return -ENOSPC;
    put_le32(p + 36, MEMMAP_LAPIC_BASE);
    put_le32(p + 40, 0); /* flags: no PCAT_COMPAT, there is no 8259 */
    uint8_t *q = p + HDR_LEN + 8;
    for (unsigned i = 0; i < m->ncpus; i++, q += 8) {
        q[0] = MADT_LOCAL_APIC;
        q[1] = 8;
        q[2] = (uint8_t)i; /* ACPI processor UID */
        q[3] = (uint8_t)i; /* APIC ID: vCPU index, as KVM's vcpu id */
        put_le32(q + 4, MADT_LAPIC_ENABLED);
    }
    for (unsigned i = 0; i < m->ndevs; i++) {
        const struct machine_dev *d = &m->devs[i];
        if (d->kind != MACHINE_IOAPIC)
            continue;
        q[0] = MADT_IO_APIC;
        q[1] = 12;
        q[2] = (uint8_t)n_ioapic; /* I/O APIC ID: the ID register's reset value is 0 */
        put_le32(q + 4, (uint32_t)d->bus.base);
        put_le32(q + 8, (uint32_t)(n_ioapic * IOAPIC_NUM_PINS)); /* GSI base */
        n_ioapic++;
        q += 12;
    }
    /* ISA IRQs 0-15 map to GSIs 0-15 edge-triggered active-high unless overridden (§5.2.12.5):
     * an override for each described legacy IRQ of another type. */
    for (unsigned i = 0; i < m->ndevs; i++) {
        const struct machine_dev *d = &m->devs[i];
        if (!d->acpi_hid || d->irq < 0 || d->irq >= ISA_IRQS)
            continue;
        irq_type(d, &level, &active_low);
        if (!level && !active_low)
            continue;
        q[0] = MADT_ISO;
        q[1] = 10;
        q[2] = 0; /* bus: ISA */
        q[3] = (uint8_t)d->irq;
        put_le32(q + 4, (uint32_t)d->irq);
        put_le16(q + 8, (uint16_t)((active_low ? MPS_ACTIVE_LOW : MPS_ACTIVE_HIGH) |
                                   (level ? MPS_LEVEL : MPS_EDGE)));
        q += 10;
    }
    len = (size_t)(q - p);
    t->t[t->n - 1].len = (uint32_t)len;
    t->len = t->t[t->n - 1].off + len;
    header(p, "APIC", len, MADT_REVISION);
    finish_table(p, len);
    return 0;
}

/* §5.2.8: the XSDT lists every table but the DSDT (the FADT points at it) and the RSDP. */
static int build_xsdt(struct acpi_tables *t)
{
    static const char *const listed[] = {"FACP", "APIC"};
    size_t len = HDR_LEN + 8 * ARRAY_SIZE(listed);
    uint64_t addr[ARRAY_SIZE(listed)];

    for (size_t i = 0; i < ARRAY_SIZE(listed); i++)
        addr[i] = table_addr(t, listed[i]);
    uint8_t *p = alloc_table(t, "XSDT", len);
    if (!p)
        return -ENOSPC;
    header(p, "XSDT", len, XSDT_REVISION);
    for (size_t i = 0; i < ARRAY_SIZE(listed); i++)
        put_le64(p + HDR_LEN + 8 * i, addr[i]);
    finish_table(p, len);
    return 0;
}

/* §5.2.5.3: revision 2, no RSDT; the first checksum covers the ACPI 1.0 part (20 bytes), the
 * extended checksum the whole structure. */
static void build_rsdp(struct acpi_tables *t, uint8_t *p)
{
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, OEM_ID, 6);
    p[15] = 2; /* revision */
    put_le32(p + 16, 0); /* RsdtAddress: none */
    put_le32(p + 20, RSDP_LEN);
    put_le64(p + 24, table_addr(t, "XSDT"));
    p[8] = checksum(p, RSDP_V1_LEN);
    p[32] = checksum(p, RSDP_LEN);
}

const struct acpi_table *acpi_find(const struct acpi_tables *t, const char *sig)
{
    for (unsigned i = 0; i < t->n; i++)
        if (strcmp(t->t[i].sig, sig) == 0)
            return &t->t[i];
    return NULL;
}

int acpi_build(struct acpi_tables *t, const struct machine *m, uint64_t base)
{
    int ret;

    t->len = 0;
    t->n = 0;
    t->base = base;
    if (m->ncpus == 0 || base % 16)
        return -EINVAL;
    /* The RSDP first, where a scan of 0xe0000-0xfffff finds it (§5.2.5.1); filled last. */
    uint8_t *rsdp = alloc_table(t, "RSDP", RSDP_LEN);
    if (!rsdp)
        return -ENOSPC;
    if ((ret = build_dsdt(t, m)) != 0 || (ret = build_fadt(t, m)) != 0 ||
        (ret = build_madt(t, m)) != 0 || (ret = build_xsdt(t)) != 0)
        return ret;
    build_rsdp(t, rsdp);
    return 0;
}
