/*
 * mm_boot.c: the guest's memory set-up at boot: the usable RAM from the PVH
 * memory map, the ranges to keep out, then mm_init() (mm/page_alloc.c) and the direct map above
 * 4 GiB (pgtable.c). Cheap by design: a few dozen free-list insertions plus 512 page-directory
 * stores per GiB above 4 GiB.
 */
#include <minivmm/abi.h>
#include <minivmm/memmap.h>

#include "mm_boot.h"

#include "../bootinfo.h"
#include "../kernel.h"
#include "../mm/mm.h"
#include "../platform.h"
#include "pgtable.h"

extern char _end[]; /* kernel.ld: end of the image (.bss included) */

#define MM_MAX_RAM_REGIONS 64

static struct mm_region ram[MM_MAX_RAM_REGIONS];
static bool mm_ready;

bool mm_boot_done(void)
{
    return mm_ready;
}

int mm_boot_init(void)
{
    const struct hvm_memmap_table_entry *e = bootinfo.memmap;
    struct mm_region reserved[2] = {
        {0, MEMMAP_BOOT_END}, /* boot structures; includes the AP trampoline (0x8000) */
        {MEMMAP_HIMEM_START, ((uint64_t)(uintptr_t)_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)},
    };
    unsigned int n = 0;
    uint64_t top = 0;
    int ret;

    for (uint32_t i = 0; e && i < bootinfo.nr_memmap && n < MM_MAX_RAM_REGIONS; i++) {
        uint64_t s = (e[i].addr + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        uint64_t end = (e[i].addr + e[i].size) & ~(PAGE_SIZE - 1);

        if (e[i].type != HVM_MEMMAP_TYPE_RAM || s >= end)
            continue;
        ram[n].start = s;
        ram[n].end = end;
        if (end > top)
            top = end;
        n++;
    }
    if (!n && platform.ram_bytes) { /* no memory map: the device tree's size, below the hole */
        uint64_t size = platform.ram_bytes;

        ram[0].start = MEMMAP_HIMEM_START;
        ram[0].end = size < MEMMAP_HOLE_START ? size : MEMMAP_HOLE_START;
        top = ram[0].end;
        n = 1;
    }
    if (!n)
        return -MM_EINVAL;
    ret = mm_init(0, ram, n, reserved, 2);
    if (ret)
        return ret;
    ret = pgtable_init(top);
    if (ret)
        return ret;
    mm_ready = true;
    return 0;
}
