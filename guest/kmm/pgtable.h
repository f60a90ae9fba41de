/*
 * pgtable.h: the kernel page tables (guest only; Linux's names from arch/x86/include/asm/
 * pgtable_types.h, much reduced).
 *
 * Layout of the kernel's virtual address space:
 *   0 .. top of RAM               the direct map, identity (virtual == physical), 2 MiB pages:
 *                                 boot.S maps 0-4 GiB, pgtable_init() extends it over RAM
 *                                 above 4 GiB
 *   VMALLOC_START .. VMALLOC_END  4 KiB mappings made by pgtable_map_page() (vmalloc)
 *
 * Page-table pages for new mappings come from alloc_page(GFP_KERNEL | __GFP_ZERO), so
 * pgtable_map_page() may only be called after mm_init(). None of these functions frees
 * page-table pages. Callers serialise mappings of the same VA themselves; the tables are
 * shared by every CPU and protected by one lock inside.
 */
#ifndef KMM_PGTABLE_H
#define KMM_PGTABLE_H

#include <stdint.h>

/* Page-table entry bits (x86-64). */
#define _PAGE_PRESENT 0x001ull
#define _PAGE_RW 0x002ull
#define _PAGE_USER 0x004ull
#define _PAGE_PWT 0x008ull
#define _PAGE_PCD 0x010ull
#define _PAGE_ACCESSED 0x020ull
#define _PAGE_DIRTY 0x040ull
#define _PAGE_PSE 0x080ull
#define _PAGE_GLOBAL 0x100ull
#define _PAGE_NX (1ull << 63)

#define PAGE_KERNEL (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)

/* The vmalloc range: 32 TiB above the direct map, as in Linux's 4-level layout. */
#define VMALLOC_START 0xffffc90000000000ull
#define VMALLOC_END 0xffffe90000000000ull /* exclusive */

/* Extend the direct map over [0, top) with 2 MiB pages (boot.S maps the first 4 GiB).
 * Called by mm_boot_init(). Returns 0 or -ENOMEM. */
int pgtable_init(uint64_t top);

/* Map one 4 KiB page va -> pa with flags (PAGE_KERNEL if 0). va must be page aligned and
 * inside [VMALLOC_START, VMALLOC_END). Returns 0, -EINVAL (bad va/pa, or va already mapped)
 * or -ENOMEM (no page for a table). */
int pgtable_map_page(uint64_t va, uint64_t pa, uint64_t flags);
/* Remove the 4 KiB mapping of va (no-op when unmapped) and invlpg it on this CPU. Other
 * CPUs see the change when they next miss in their TLB: vmalloc never reuses a VA range
 * before it has been unmapped and flushed here, so stale entries elsewhere are only for
 * addresses no one may still use. */
void pgtable_unmap_page(uint64_t va);
/* The physical address va maps to, or 0 when not mapped (any va, 4 KiB or 2 MiB page). */
uint64_t pgtable_virt_to_phys(uint64_t va);

#endif
