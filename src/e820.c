/*
 * e820.c: the guest memory map shared by the PVH and Linux boot protocols (e820.h).
 */
#include "e820.h"
#include "minivmm/memmap.h"

unsigned e820_build(const struct gmem *gm, struct e820_range *out)
{
    unsigned n = 0;

    out[n++] = (struct e820_range){0, MEMMAP_EBDA_START, E820_RAM};
    out[n++] = (struct e820_range){MEMMAP_EBDA_START, MEMMAP_HIMEM_START - MEMMAP_EBDA_START,
                                   E820_RESERVED};
    for (unsigned i = 0; i < gm->nregions; i++) {
        const struct gmem_region *r = &gm->regions[i];
        gpa_t start = r->gpa < MEMMAP_HIMEM_START ? MEMMAP_HIMEM_START : r->gpa;
        if (r->gpa + r->size > start)
            out[n++] = (struct e820_range){start, r->gpa + r->size - start, E820_RAM};
    }
    return n;
}
