/*
 * e820.h: the guest's physical memory map as the firmware would report it (BIOS INT 15h
 * E820), built once from the guest RAM layout and rendered by both boot protocols: the PVH
 * memory map (pvh.c) and the Linux zero page's e820_table (bzimage.c).
 */
#ifndef MINIVMM_E820_H
#define MINIVMM_E820_H

#include <stdint.h>

#include "minivmm/hw/gmem.h"

#define E820_RAM 1 /* same values as HVM_MEMMAP_TYPE_* and Linux's E820_TYPE_* */
#define E820_RESERVED 2

/* At most this many ranges: low RAM, the legacy area, one per RAM region. */
#define E820_MAX_RANGES (2 + GMEM_MAX_REGIONS)

struct e820_range {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};

/* Fills out[] (E820_MAX_RANGES entries) in ascending address order: RAM [0, EBDA), reserved
 * [EBDA, 1 MiB) (legacy BIOS area, where the ACPI tables live), then each RAM region from
 * 1 MiB on. Returns the number of ranges. The boot structures below MEMMAP_BOOT_END sit in
 * RAM marked usable: the guest treats them as reserved until it has read them. */
unsigned e820_build(const struct gmem *gm, struct e820_range *out);

#endif
