/*
 * machine.h: the one description of the machine: a table of its devices.
 *
 * Every device of a VM is one row: its bus window (name, PIO/MMIO, base, size, ops, register
 * names: struct bus_dev), its interrupt, and how the guest finds it. Everything that describes
 * the machine is generated from the rows, so that adding a device is its model, its row and
 * its test:
 *   - the buses (machine_add registers the row's window on the VM's bus; the exit log's bus map
 *     is then read from the bus, exitlog_busmap_from_bus),
 *   - the device tree (fdt_build.c walks the rows),
 *   - the ACPI tables (acpi.c: the DSDT's Devices, the MADT's I/O APICs, the FADT's PM
 *     registers),
 *   - the `virtio_mmio.device=` words of the guest command line (machine_cmdline).
 * Rows are kept in the order they were added; the bus map and the tree list devices in it.
 */
#ifndef MINIVMM_MACHINE_H
#define MINIVMM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/hw/bus.h"
#include "minivmm/hw/gmem.h"

#define MACHINE_MAX_DEVS BUS_MAX_DEVS

/* Where the guest finds a device, i.e. which node of the device tree describes it. */
enum machine_kind {
    MACHINE_HIDDEN,      /* on the bus only (the bench device): not described */
    MACHINE_ISA,         /* /isa/<node>@i<port>: reg <1 port size>, interrupts <pin 3> */
    MACHINE_IOAPIC,      /* /ioapic@<base>, the interrupt parent of everything else */
    MACHINE_VIRTIO_MMIO, /* /pf@<first>/virtio_mmio@<addr> (abi.h) and a command-line word */
    MACHINE_ACPI_PM,     /* not in the tree: the FADT's sleep and reset registers (acpi.c) */
};

/* Interrupt trigger as the device tree's CE4100 IOAPIC cells say it (Linux of_ioapic_type). */
#define MACHINE_IRQ_LEVEL_HIGH 1
#define MACHINE_IRQ_EDGE_HIGH 3

struct machine_dev;

/* Device-specific properties of the row's node (clock-frequency, local-mac-address, ...),
 * written after reg and interrupts; libfdt sequential-write calls, returning < 0 on error. */
typedef int (*machine_fdt_props_fn)(void *fdt, const struct machine_dev *d);

struct machine_dev {
    struct bus_dev bus; /* bus.ops NULL: described to the guest but emulated elsewhere (the
                         * IOAPIC with KVM's full irqchip): not registered on our bus */
    enum machine_kind kind;
    const char *node;   /* node name before '@' ("serial"); default bus.name */
    const char *compat; /* "compatible" */
    int irq;            /* IOAPIC pin, or -1 */
    unsigned trigger;   /* MACHINE_IRQ_*; 0: the kind's default (ISA edge, virtio level) */
    bool stdout_path;   /* /chosen/stdout-path points here (the console UART) */
    unsigned group;     /* MACHINE_VIRTIO_MMIO: the PF (one per --nic) the VF belongs to */
    /* ACPI (the DSDT): a Device(\_SB.acpi_name) with _HID acpi_hid (an EISA id such as
     * "PNP0501" is compressed, other ids are strings), _UID its number among the rows with
     * that _HID, and the row's window and interrupt as _CRS; acpi_hid NULL: not in the DSDT.
     * ISA rows must be PIO windows of at most 255 ports, others below 4 GiB. */
    const char *acpi_hid;  /* "PNP0501", "PNP0B00", "LNRO0005", ... */
    const char *acpi_name; /* 4 characters, [A-Z_][A-Z0-9_]{3} ("COM1") */
    machine_fdt_props_fn fdt_props; /* may be NULL */
    const void *data;               /* for fdt_props (e.g. the MAC) */
};

struct machine {
    unsigned ncpus;
    const struct gmem *gm;
    struct bus *bus; /* rows are registered here as they are added; NULL: none (tests) */
    struct machine_dev devs[MACHINE_MAX_DEVS];
    unsigned ndevs;
};

void machine_init(struct machine *m, unsigned ncpus, const struct gmem *gm, struct bus *bus);
/* Adds a row and registers its window on the bus: 0, or -ENOSPC (table full), -EINVAL (bad
 * row), or bus_register's -EEXIST/-EINVAL, with "bus: cannot register NAME at ADDR: reason"
 * in err. The row's strings and data must outlive the machine. */
int machine_add(struct machine *m, const struct machine_dev *d, char *err, size_t errlen);
/* machine_add() for each of rows[0..n), stopping at the first error. */
int machine_add_all(struct machine *m, const struct machine_dev *rows, size_t n, char *err,
                    size_t errlen);
/* Appends " virtio_mmio.device=<size>@0x<addr>:<pin>" per virtio-mmio row (the words our
 * guest and Linux's virtio_mmio.device= parser take) to the NUL-terminated bootargs.
 * 0, or -E2BIG (bootargs unchanged). */
int machine_cmdline(const struct machine *m, char *bootargs, size_t size);

#endif
