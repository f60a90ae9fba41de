/*
 * acpi.h: the ACPI tables, generated from the machine description (machine.h) as the device
 * tree is (docs/acpi.md).
 *
 * acpi_build() lays out, for a given guest-physical base (MEMMAP_ACPI): the RSDP first, then
 * the DSDT (one Device per row with an acpi_hid, \_S5 when a PM row exists), the FADT
 * (hardware-reduced, sleep and reset registers at the MACHINE_ACPI_PM row), the MADT (a Local
 * APIC per vCPU, the MACHINE_IOAPIC rows, interrupt source overrides for legacy IRQs that are
 * not edge-triggered active-high) and the XSDT listing the FADT and MADT. The tables are
 * built in a host buffer; the caller copies it into guest RAM at base.
 */
#ifndef MINIVMM_ACPI_H
#define MINIVMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"
#include "minivmm/memmap.h"

#define ACPI_MAX_TABLES 8

struct acpi_table {
    char sig[5];   /* "RSDP" for the RSDP ("RSD PTR "), else the table's signature */
    uint32_t off;  /* from the start of the buffer */
    uint32_t len;
};

struct acpi_tables {
    uint8_t buf[MEMMAP_ACPI_MAX];
    size_t len; /* bytes of buf in use, from base */
    uint64_t base;
    struct acpi_table t[ACPI_MAX_TABLES]; /* in the order they lie in buf: RSDP first */
    unsigned n;
};

/* 0, or -EINVAL (no vCPU, more than 255 vCPUs, a described row that ACPI cannot express: an
 * I/O window over 255 ports, an MMIO window above 4 GiB, a bad acpi_name), -ENOSPC (the tables
 * exceed MEMMAP_ACPI_MAX). */
int acpi_build(struct acpi_tables *t, const struct machine *m, uint64_t base);
/* The table with that signature ("DSDT", "RSDP"), or NULL. */
const struct acpi_table *acpi_find(const struct acpi_tables *t, const char *sig);

#endif
