/*
 * pgtable.c: the kernel page tables after boot (guest only; see pgtable.h).
 *
 * boot.S's static tables identity-map 0-4 GiB with 2 MiB pages under PML4 entry 0. Here:
 *  - pgtable_init() adds one page directory per GiB of RAM above 4 GiB to boot.S's PDPT
 *    (512 stores per GiB, ~1.5 ms of emulated time each; nothing else at boot);
 *  - pgtable_map_page()/pgtable_unmap_page() manage 4 KiB mappings in the vmalloc range,
 *    creating PDPT/PD/PT pages on demand from the page allocator.
 * Physical addresses of tables are also their virtual addresses (identity direct map).
 */
#include "pgtable.h"

#include "../mm/mm.h"
#include "../mm/mm_env.h"
#include "../x86.h"

#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define PTE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED)
#define PTE_LARGE (PAGE_KERNEL | _PAGE_PSE)
#define GIB (1ull << 30)
#define PMD_SIZE (1ull << 21)

static mm_spinlock_t pgtable_lock;

static inline uint64_t *pml4_table(void)
{
    return (uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR_MASK);
}

static inline uint64_t *entry_table(uint64_t e)
{
    return (uint64_t *)(uintptr_t)(e & PTE_ADDR_MASK);
}

static inline unsigned int pt_index(uint64_t va, unsigned int level)
{
    return (unsigned int)(va >> (12 + 9 * level)) & 511; /* level 3 = PML4 ... 0 = PT */
}

static inline void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* One page directory of 2 MiB pages from `base` up to `top`, zero beyond. Unrolled: each
 * emulated instruction costs ~1 us, and this runs 512 times per GiB above 4 GiB at boot. */
static void fill_pd(uint64_t *pd, uint64_t base, uint64_t top)
{
    unsigned int n = top - base >= GIB ? 512 : (unsigned int)((top - base) / PMD_SIZE), i = 0;
    uint64_t e = base | PTE_LARGE;

    for (; i + 8 <= n; i += 8, e += 8 * PMD_SIZE) {
        pd[i] = e;
        pd[i + 1] = e + PMD_SIZE;
        pd[i + 2] = e + 2 * PMD_SIZE;
        pd[i + 3] = e + 3 * PMD_SIZE;
        pd[i + 4] = e + 4 * PMD_SIZE;
        pd[i + 5] = e + 5 * PMD_SIZE;
        pd[i + 6] = e + 6 * PMD_SIZE;
        pd[i + 7] = e + 7 * PMD_SIZE;
    }
    for (; i < n; i++, e += PMD_SIZE)
        pd[i] = e;
    for (; i < 512; i++)
        pd[i] = 0;
}

int pgtable_init(uint64_t top)
{
    uint64_t *pml4 = pml4_table();
    uint64_t *pdpt = entry_table(pml4[0]);

    top = (top + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
    if (top > 512 * GIB)
        top = 512 * GIB; /* one PDPT: 512 GiB is far beyond what minivmm gives a guest */
    for (uint64_t gib = 4; gib * GIB < top; gib++) {
        struct page *page;
        uint64_t *pd;

        if (pdpt[gib] & _PAGE_PRESENT)
            continue;
        /* Below 4 GiB, so already mapped; every entry is written, so no zeroing. */
        page = alloc_page(GFP_DMA32);
        if (!page)
            return -MM_ENOMEM;
        pd = page_address(page);
        fill_pd(pd, gib * GIB, top);
        pdpt[gib] = (uint64_t)(uintptr_t)pd | PTE_TABLE;
    }
    return 0;
}

/* The entry at `level` for va, creating missing tables above it when `create`; NULL if
 * absent (or no memory). Lock held. */
static uint64_t *walk(uint64_t va, bool create)
{
    uint64_t *table = pml4_table();

    for (unsigned int level = 3; level > 0; level--) {
        uint64_t *e = &table[pt_index(va, level)];

        if (!(*e & _PAGE_PRESENT)) {
            unsigned long t;

            if (!create)
                return NULL;
            t = get_zeroed_page(GFP_KERNEL);
            if (!t)
                return NULL;
            *e = (uint64_t)t | PTE_TABLE;
        } else if (*e & _PAGE_PSE) {
            return NULL; /* a large page: not ours to split */
        }
        table = entry_table(*e);
    }
    return &table[pt_index(va, 0)];
}

int pgtable_map_page(uint64_t va, uint64_t pa, uint64_t flags)
{
    unsigned long irq;
    uint64_t *pte;
    int ret = 0;

    if ((va & (PAGE_SIZE - 1)) || (pa & (PAGE_SIZE - 1)) || va < VMALLOC_START ||
        va >= VMALLOC_END || (pa & ~PTE_ADDR_MASK))
        return -MM_EINVAL;
    if (!flags)
        flags = PAGE_KERNEL;
    irq = mm_irq_save();
    mm_spin_lock(&pgtable_lock);
    pte = walk(va, true);
    if (!pte)
        ret = -MM_ENOMEM;
    else if (*pte & _PAGE_PRESENT)
        ret = -MM_EINVAL;
    else
        *pte = pa | flags | _PAGE_PRESENT;
    mm_spin_unlock(&pgtable_lock);
    mm_irq_restore(irq);
    return ret;
}

void pgtable_unmap_page(uint64_t va)
{
    unsigned long irq;
    uint64_t *pte;

    if (va < VMALLOC_START || va >= VMALLOC_END)
        return;
    irq = mm_irq_save();
    mm_spin_lock(&pgtable_lock);
    pte = walk(va & ~(PAGE_SIZE - 1), false);
    if (pte && (*pte & _PAGE_PRESENT)) {
        *pte = 0;
        invlpg(va);
    }
    mm_spin_unlock(&pgtable_lock);
    mm_irq_restore(irq);
}

uint64_t pgtable_virt_to_phys(uint64_t va)
{
    const uint64_t *table = pml4_table();

    for (int level = 3; level >= 0; level--) {
        uint64_t e = table[pt_index(va, (unsigned int)level)];

        if (!(e & _PAGE_PRESENT))
            return 0;
        if (level == 0 || (level < 3 && (e & _PAGE_PSE))) {
            uint64_t size = 1ull << (12 + 9 * level);

            return (e & PTE_ADDR_MASK & ~(size - 1)) | (va & (size - 1));
        }
        table = entry_table(e);
    }
    return 0;
}
