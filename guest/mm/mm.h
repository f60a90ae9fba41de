/*
 * mm.h: the physical page allocator's interface (Linux's names: mm/page_alloc.c,
 * include/linux/gfp.h, include/linux/mm_types.h), shared by the buddy allocator
 * (page_alloc.c), the slab allocator (slab.c), vmalloc (kmm/vmalloc.c) and their users.
 *
 * One struct page per page frame, 64 bytes (checked at compile time). An all-zero struct
 * page is a valid state ("reserved or not yet given to the allocator"), so start-up does not
 * touch every entry: guest RAM starts zeroed.
 *
 * Memory comes from an explicit arena: mm_init_arena() hands the allocator one range of
 * physical frames and the memory map to carve zones from. In the guest the arena is RAM
 * (physical == virtual through the direct map); on the host it is a malloc'ed block whose
 * "physical" addresses are offsets added to a base, so page_address()/virt_to_page() work
 * the same way on both.
 */
#ifndef MM_MM_H
#define MM_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gfp.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define MAX_ORDER 11 /* orders 0..10: blocks of 4 KiB .. 4 MiB */
#define PCP_MAX_ORDER 3 /* per-CPU page lists for orders 0..3 */

enum zone_type { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, MAX_NR_ZONES };

/* Page flags (page->flags bits). */
#define PG_reserved 0x01u /* never given to the buddy allocator (also: flags == 0 && !PG_buddy ...) */
#define PG_buddy 0x02u    /* free, the head of a block in free_area[page->order] */
#define PG_slab 0x04u     /* owned by a slab cache */
#define PG_pcp 0x08u      /* free, on a per-CPU page list */
#define PG_head 0x10u     /* head of an allocated block of order page->order */
#define PG_vmalloc 0x20u  /* backing a vmalloc area */

struct list_head {
    struct list_head *next, *prev;
};

struct kmem_cache;

/* 64 bytes. Fields by owner: the buddy allocator uses flags/order/lru; a slab uses the slab
 * union; everyone may read flags. */
struct page {
    uint32_t flags;
    uint8_t order;         /* PG_buddy/PG_pcp/PG_head: the block's order */
    uint8_t zone;          /* enum zone_type, set when the page is given to the allocator */
    uint16_t _pad;
    struct list_head lru;  /* free_area / pcp list link, or a slab's partial/full list link */
    union {
        struct { /* PG_slab */
            struct kmem_cache *slab_cache;
            void *freelist;    /* first free object of this slab (slow path) */
            uint32_t inuse;    /* objects allocated from this slab */
            uint32_t objects;  /* objects in this slab */
            uint32_t frozen;   /* owned by a CPU's fast path */
            uint32_t _spare;
        };
        struct { /* allocated block / vmalloc: owner's use */
            unsigned long private;
            unsigned long caller; /* return address of the allocating call, for reports */
        };
    };
    uint64_t _reserved[1];
};

/* ---- set-up ---- */
/* A physical range the allocator may use ([start, end), page aligned), with a type from the
 * boot memory map (1 = RAM). */
struct mm_region {
    uint64_t start, end;
};
/* Initialise the page allocator: `base` is the virtual address of physical address 0 (the
 * direct map; 0 in the guest's identity map), `regions` the usable RAM, `reserved` ranges to
 * keep out (kernel image, boot structures, the page array itself is placed and reserved by
 * mm_init). Returns 0 or -errno. */
int mm_init(uintptr_t base, const struct mm_region *regions, unsigned nregions,
            const struct mm_region *reserved, unsigned nreserved);

/* ---- the buddy allocator (page_alloc.c) ---- */
struct page *alloc_pages(gfp_t gfp, unsigned int order);
#define alloc_page(gfp) alloc_pages(gfp, 0)
void __free_pages(struct page *page, unsigned int order);
#define __free_page(page) __free_pages(page, 0)
unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
#define __get_free_page(gfp) __get_free_pages(gfp, 0)
unsigned long get_zeroed_page(gfp_t gfp);
void free_pages(unsigned long addr, unsigned int order);
#define free_page(addr) free_pages(addr, 0)
void *page_address(const struct page *page);
struct page *virt_to_page(const void *addr);
uint64_t page_to_pfn(const struct page *page);
struct page *pfn_to_page(uint64_t pfn);
/* Return this CPU's (or every CPU's) per-CPU pages to the buddy lists. */
void drain_local_pages(void);
void drain_all_pages(void);

/* ---- zones, checks and statistics (page_alloc.c; for self-tests and reports) ---- */
#define MM_EINVAL 22
#define MM_ENOMEM 12

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, NR_WMARK };

struct mm_zone_stats {
    const char *name;      /* "DMA", "DMA32", "Normal" */
    bool populated;        /* managed_pages > 0 */
    uint64_t start_pfn, end_pfn; /* the zone's span */
    uint64_t present;      /* RAM pages in the span */
    uint64_t managed;      /* given to the buddy allocator (present - reserved) */
    uint64_t free;         /* in the buddy free lists */
    uint64_t pcp;          /* on per-CPU lists (free, but not in free_area) */
    int64_t allocated;     /* handed out by alloc_pages and not freed */
    uint64_t wmark[NR_WMARK];
    uint64_t lowmem_reserve[MAX_NR_ZONES]; /* kept from requests preferring zone j ("protection") */
    unsigned long nr_free[MAX_ORDER]; /* free_area[order].nr_free */
};
/* Fill *st for zone z; counters are read under the zone lock. */
void mm_zone_stats(enum zone_type z, struct mm_zone_stats *st);
/* Walk zone z's free lists checking each block (flags, order, alignment, zone, count vs
 * nr_free, buddies left unmerged); returns the number of problems (each printed). */
unsigned int mm_check_zone(enum zone_type z);
/* The zone a page frame belongs to, and the zone names. */
enum zone_type page_zonenum(const struct page *page);
const char *mm_zone_name(enum zone_type z);
/* One past the highest page frame number the allocator knows. */
uint64_t mm_max_pfn(void);

/* Bad frees (double free, wrong order, freeing a page that is not allocated) are reported
 * as "BUG: ..." lines, counted in mm_bad_page_count and refused (the memory stays as it
 * was). With mm_bad_page_fatal set (the default) the report is followed by mm_bug(): a
 * panic in the guest, abort() on the host. Self-tests clear it to observe reports. */
extern volatile unsigned long mm_bad_page_count;
extern bool mm_bad_page_fatal;

/* ---- reports ---- */
void mm_show_buddyinfo(void); /* /proc/buddyinfo format */
void mm_show_zoneinfo(void);  /* present, managed, free, watermarks per zone */
void mm_show_slabinfo(void);  /* /proc/slabinfo version 2.1 (slab.c) */

#endif
