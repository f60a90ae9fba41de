/*
 * mm_boot.h: the guest's memory set-up at boot (mm_boot.c).
 */
#ifndef KMM_MM_BOOT_H
#define KMM_MM_BOOT_H

#include <stdbool.h>

/* mm_init() (mm/page_alloc.c) from the PVH memory map, then the direct map above 4 GiB.
 * Returns 0 or -errno; mm_boot_done() tells whether it succeeded. */
int mm_boot_init(void);
bool mm_boot_done(void);

#endif
