/*
 * platform.h: the machine we run on, as the device tree describes it (or the defaults of a
 * VMM without one, such as QEMU microvm).
 */
#ifndef GUEST_PLATFORM_H
#define GUEST_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct platform {
    bool have_fdt;
    unsigned nr_cpus;             /* CPU nodes found (at least 1) */
    uint32_t apic_ids[NR_CPUS];   /* in device-tree order; unknown (BSP only) when !have_fdt */
    uint16_t uart_port;
    uint8_t uart_irq;
    uint64_t ioapic_base;
    uint16_t exit_port;
    const char *bootargs;         /* /chosen bootargs, or NULL */
    uint64_t ram_bytes;           /* sum of /memory reg sizes, or 0 */
};

extern struct platform platform;

/* Fill `platform` from the FDT at blob (NULL: defaults). Prints nothing. */
void platform_probe(const void *blob, uint64_t size);
/* Print what probing found odd (or the no-device-tree note), one line each. */
void platform_print_notes(void);

#endif
