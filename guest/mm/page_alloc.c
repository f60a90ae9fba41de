/*
 * page_alloc.c: the buddy allocator (Linux's mm/page_alloc.c, much reduced).
 *
 * Physical memory is one array of struct page (mem_map, indexed by page frame number) and
 * up to three zones: ZONE_DMA [0, 16 MiB), ZONE_DMA32 [16 MiB, 4 GiB), ZONE_NORMAL above.
 * Each zone has free_area[MAX_ORDER]: a list of free blocks of 2^order pages per order, the
 * head page of each marked PG_buddy with its order. Allocation takes the smallest block that
 * fits and splits it (expand()); freeing merges a block with its buddy (pfn ^ (1 << order))
 * while the buddy is free with the same order (__free_one_page()).
 *
 * Start-up touches only the head of each free block: the free ranges of the memory map are
 * cut into maximal aligned blocks (a 128 MiB VM needs a few dozen list insertions); every
 * other struct page stays all-zero, which means "not free, not the head of anything".
 *
 * Per-CPU page lists (struct per_cpu_pages, one per CPU and zone) cache blocks of orders
 * 0..PCP_MAX_ORDER: alloc/free of those orders normally touch only the CPU's own lists.
 * An empty list is refilled with `batch` blocks under the zone lock; a list longer than
 * `high` gives `batch` blocks back. As in Linux since 6.0 each pcp has its own spinlock
 * (taken with interrupts off), so drain_all_pages() can empty other CPUs' lists directly.
 *
 * Watermarks per zone (min/low/high) follow __setup_per_zone_wmarks(); an allocation that
 * would take a zone's free pages below min fails there and falls back to the next lower
 * zone, unless __GFP_HIGH (GFP_ATOMIC), which may use half of the reserve. There is no
 * reclaim, so low and high are reported but not acted on. A fallback into a lower zone must
 * also leave that zone's lowmem_reserve for the request's own zone (Linux's "protection").
 *
 * Allocated blocks have PG_head and their order in the head page; freeing checks that, so
 * a double free, a free with the wrong order or of a page that was never allocated is
 * reported and refused instead of corrupting the lists (see mm_bad_page_fatal).
 *
 * Start-up defers the first run of whole 4 MiB blocks of each zone (zone->lazy_start/end,
 * Linux's deferred struct page init in miniature): __rmqueue() takes blocks from it when the
 * free lists are empty. Those blocks count in free_pages and in buddyinfo's order 10.
 *
 * Locking and invariants:
 *  - zone->lock guards free_area[], free_pages, lazy_*, and PG_buddy heads of the zone;
 *    free_pages is read locklessly (watermarks), so its writes are atomic stores
 *    (zone_free_add());
 *  - __free_one_page() reads the flags and order of a buddy it does not own, under the zone
 *    lock, while that buddy's owner may be allocating or freeing it (PG_head, PG_pcp, 0)
 *    without that lock: those reads and the writes made outside the zone lock are relaxed
 *    atomics (page_state_set()); whatever it reads that is not PG_buddy ends the merge;
 *  - pcp->lock guards one CPU's per_cpu_pages (lists, counts, PG_pcp heads); it is taken
 *    with interrupts off by its own CPU, or by drain_all_pages() from any CPU;
 *  - lock order: pcp->lock, then zone->lock; never the other way round;
 *  - allocated pages are counted in zone->alloc_pages (atomic, orders above PCP_MAX_ORDER)
 *    plus each CPU's pcp->alloc_diff (under its pcp lock, as Linux's per-CPU vm_stat diffs:
 *    the common case adds no locked instruction); free + pcp + allocated = managed at every
 *    quiescent point;
 *  - a free block's head is PG_buddy (zone lists) or PG_pcp (per-CPU lists) with its order;
 *    an allocated block's head is PG_head with its order, and the rest of its struct pages
 *    (and lru/private/caller of the head) belong to the owner; every other page is zero.
 */
#include "list.h"
#include "mm.h"
#include "mm_env.h"

_Static_assert(sizeof(struct page) == 64, "struct page must be 64 bytes");

#define DMA_END_PFN (16ull << (20 - PAGE_SHIFT))  /* 16 MiB */
#define DMA32_END_PFN (4ull << (30 - PAGE_SHIFT)) /* 4 GiB */

#define MAX_REGIONS 64
#define MAX_ORDER_NR_PAGES (1ull << (MAX_ORDER - 1))

struct free_area {
    struct list_head free_list;
    unsigned long nr_free;
};

struct zone {
    mm_spinlock_t lock;
    uint64_t start_pfn, end_pfn; /* span */
    uint64_t present_pages, managed_pages;
    uint64_t free_pages; /* in free_area and lazy; written under lock, read locklessly */
    /* Deferred free blocks: [lazy_start, lazy_end), whole MAX_ORDER blocks, not on a list
     * and with all-zero struct pages; counted in free_pages and nr_free[MAX_ORDER - 1]. */
    uint64_t lazy_start, lazy_end;
    int64_t alloc_pages; /* atomic */
    uint64_t watermark[NR_WMARK];
    /* Pages kept from requests whose preferred zone is higher (setup_per_zone_lowmem_reserve):
     * a GFP_KERNEL fallback may not empty ZONE_DMA, which only GFP_DMA can use. */
    uint64_t lowmem_reserve[MAX_NR_ZONES];
    struct free_area free_area[MAX_ORDER];
};

struct per_cpu_pages {
    mm_spinlock_t lock;
    unsigned int count[PCP_MAX_ORDER + 1]; /* blocks on each list */
    int64_t alloc_diff; /* pages allocated minus freed through this CPU's lists */
    struct list_head lists[PCP_MAX_ORDER + 1];
} __attribute__((aligned(64)));

#define READ_PCP_COUNT(pcp, o) __atomic_load_n(&(pcp)->count[o], __ATOMIC_RELAXED)

static const char *const zone_names[MAX_NR_ZONES] = {"DMA", "DMA32", "Normal"};

static struct zone zones[MAX_NR_ZONES];
static struct per_cpu_pages pcp_lists[MM_NR_CPUS][MAX_NR_ZONES];
static struct page *mem_map;
static uint64_t max_pfn;
static uintptr_t mem_base; /* virtual address of physical 0 */
static unsigned int nr_pcp_cpus; /* CPUs 0..n-1 may have per-CPU lists (drain and stats) */
static bool mm_initialised;

volatile unsigned long mm_bad_page_count;
bool mm_bad_page_fatal = true;

/* pcp list sizes, in blocks of the list's order: 16 pages per refill, at most 64 kept. */
static inline unsigned int pcp_batch(unsigned int order)
{
    return 16u >> order;
}

static inline unsigned int pcp_high(unsigned int order)
{
    return 64u >> order;
}

/* ---- lists (list.h) ---- */

#define lru_to_page(l) ((struct page *)((char *)(l) - offsetof(struct page, lru)))

/* ---- frames ---- */

uint64_t page_to_pfn(const struct page *page)
{
    return (uint64_t)(page - mem_map);
}

struct page *pfn_to_page(uint64_t pfn)
{
    MM_BUG_ON(pfn >= max_pfn);
    return &mem_map[pfn];
}

void *page_address(const struct page *page)
{
    return (void *)(mem_base + (uintptr_t)(page_to_pfn(page) << PAGE_SHIFT));
}

struct page *virt_to_page(const void *addr)
{
    return pfn_to_page(((uintptr_t)addr - mem_base) >> PAGE_SHIFT);
}

uint64_t mm_max_pfn(void)
{
    return max_pfn;
}

static inline enum zone_type pfn_zonenum(uint64_t pfn)
{
    return pfn < DMA_END_PFN ? ZONE_DMA : pfn < DMA32_END_PFN ? ZONE_DMA32 : ZONE_NORMAL;
}

enum zone_type page_zonenum(const struct page *page)
{
    return pfn_zonenum(page_to_pfn(page));
}

const char *mm_zone_name(enum zone_type z)
{
    return z < MAX_NR_ZONES ? zone_names[z] : "?";
}

/* Flags and order of a block head written outside the zone lock (see the locking rules). */
static inline void page_state_set(struct page *page, uint32_t flags, unsigned int order)
{
    __atomic_store_n(&page->flags, flags, __ATOMIC_RELAXED);
    __atomic_store_n(&page->order, (uint8_t)order, __ATOMIC_RELAXED);
}

/* free_pages += delta (zone lock held; lockless readers load it atomically). */
static inline void zone_free_add(struct zone *zone, int64_t delta)
{
    __atomic_store_n(&zone->free_pages, zone->free_pages + (uint64_t)delta, __ATOMIC_RELAXED);
}

/* ---- the buddy lists (zone lock held) ---- */

static inline void set_buddy(struct page *page, unsigned int order, enum zone_type z)
{
    page->flags = PG_buddy;
    page->order = (uint8_t)order;
    page->zone = (uint8_t)z;
}

static inline void add_to_free_list(struct zone *zone, struct page *page, unsigned int order)
{
    set_buddy(page, order, (enum zone_type)(zone - zones));
    list_add(&page->lru, &zone->free_area[order].free_list);
    zone->free_area[order].nr_free++;
}

static inline void del_from_free_list(struct zone *zone, struct page *page, unsigned int order)
{
    list_del(&page->lru);
    page->flags = 0;
    page->order = 0;
    zone->free_area[order].nr_free--;
}

/* Free a block of 2^order pages at pfn into zone, merging with free buddies. */
static void __free_one_page(struct zone *zone, uint64_t pfn, unsigned int order)
{
    while (order < MAX_ORDER - 1) {
        uint64_t buddy_pfn = pfn ^ (1ull << order);
        struct page *buddy;

        if (buddy_pfn < zone->start_pfn || buddy_pfn >= zone->end_pfn)
            break;
        buddy = &mem_map[buddy_pfn];
        if (!(__atomic_load_n(&buddy->flags, __ATOMIC_RELAXED) & PG_buddy) ||
            __atomic_load_n(&buddy->order, __ATOMIC_RELAXED) != order)
            break;
        del_from_free_list(zone, buddy, order);
        pfn &= buddy_pfn; /* the lower of the two */
        order++;
    }
    add_to_free_list(zone, &mem_map[pfn], order);
}

/* Split a block of order `high` at page down to `low`, freeing the upper halves (expand()). */
static void expand(struct zone *zone, struct page *page, unsigned int low, unsigned int high)
{
    uint64_t size = 1ull << high;

    while (high > low) {
        high--;
        size >>= 1;
        add_to_free_list(zone, &page[size], high);
    }
}

/* Take one block of exactly `order` from the zone's free lists, or NULL (__rmqueue_smallest). */
static struct page *__rmqueue(struct zone *zone, unsigned int order)
{
    for (unsigned int o = order; o < MAX_ORDER; o++) {
        struct free_area *area = &zone->free_area[o];
        struct page *page;

        if (list_empty(&area->free_list))
            continue;
        page = lru_to_page(area->free_list.next);
        del_from_free_list(zone, page, o);
        expand(zone, page, order, o);
        return page;
    }
    if (zone->lazy_start < zone->lazy_end) {
        /* The next never-touched MAX_ORDER block (its struct pages are all zero). */
        struct page *page = &mem_map[zone->lazy_start];

        zone->lazy_start += MAX_ORDER_NR_PAGES;
        expand(zone, page, order, MAX_ORDER - 1);
        return page;
    }
    return NULL;
}

/* ---- watermarks ---- */

static bool zone_watermark_ok(const struct zone *zone, unsigned int order, gfp_t gfp,
                              enum zone_type classzone)
{
    int64_t min = (int64_t)zone->watermark[WMARK_MIN];
    int64_t free = (int64_t)__atomic_load_n(&zone->free_pages, __ATOMIC_RELAXED);

    if (gfp & __GFP_HIGH)
        min -= min / 2;
    /* Linux's __zone_watermark_ok(): the block itself does not count towards the reserve. */
    free -= (int64_t)(1ull << order) - 1;
    return free > min + (int64_t)zone->lowmem_reserve[classzone];
}

/* ---- per-CPU page lists ---- */

/* Lock CPU `cpu`'s lists of zone z (interrupts already off), initialising them on first
 * use: under the lock, since drain_all_pages() may get there first from another CPU. */
static struct per_cpu_pages *pcp_lock(unsigned int cpu, enum zone_type z)
{
    struct per_cpu_pages *pcp = &pcp_lists[cpu][z];

    mm_spin_lock(&pcp->lock);
    if (!pcp->lists[0].next) {
        unsigned int n = __atomic_load_n(&nr_pcp_cpus, __ATOMIC_RELAXED);

        for (unsigned int o = 0; o <= PCP_MAX_ORDER; o++)
            list_init(&pcp->lists[o]);
        while (n < cpu + 1 &&
               !__atomic_compare_exchange_n(&nr_pcp_cpus, &n, cpu + 1, false, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
            ;
    }
    return pcp;
}

/* Give `count` blocks of `order` from the pcp list back to the zone (pcp lock held). */
static void free_pcppages_bulk(struct zone *zone, struct per_cpu_pages *pcp, unsigned int order,
                               unsigned int count)
{
    struct list_head *list = &pcp->lists[order];

    mm_spin_lock(&zone->lock);
    while (count-- && !list_empty(list)) {
        struct page *page = lru_to_page(list->prev); /* the coldest */

        list_del(&page->lru);
        page->flags = 0;
        pcp->count[order]--;
        zone_free_add(zone, (int64_t)1 << order);
        __free_one_page(zone, page_to_pfn(page), order);
    }
    mm_spin_unlock(&zone->lock);
}

/* Move up to `count` blocks of `order` from the zone to the pcp list (pcp lock held). */
static unsigned int rmqueue_bulk(struct zone *zone, struct per_cpu_pages *pcp, unsigned int order,
                                 unsigned int count)
{
    unsigned int i;

    mm_spin_lock(&zone->lock);
    for (i = 0; i < count; i++) {
        struct page *page = __rmqueue(zone, order);

        if (!page)
            break;
        page->flags = PG_pcp;
        page->order = (uint8_t)order;
        page->zone = (uint8_t)(zone - zones);
        list_add(&page->lru, pcp->lists[order].prev); /* at the tail: keep the order */
        pcp->count[order]++;
        zone_free_add(zone, -((int64_t)1 << order));
    }
    mm_spin_unlock(&zone->lock);
    return i;
}

static void drain_pages(unsigned int cpu)
{
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
        struct per_cpu_pages *pcp;
        unsigned long flags;

        if (!zones[z].managed_pages)
            continue;
        flags = mm_irq_save();
        pcp = &pcp_lists[cpu][z];
        mm_spin_lock(&pcp->lock); /* lists never used: counts are 0, nothing to do */
        for (unsigned int o = 0; o <= PCP_MAX_ORDER; o++)
            if (pcp->count[o])
                free_pcppages_bulk(&zones[z], pcp, o, pcp->count[o]);
        mm_spin_unlock(&pcp->lock);
        mm_irq_restore(flags);
    }
}

void drain_local_pages(void)
{
    unsigned long flags = mm_irq_save();

    drain_pages(mm_cpu_id());
    mm_irq_restore(flags);
}

void drain_all_pages(void)
{
    unsigned int n = __atomic_load_n(&nr_pcp_cpus, __ATOMIC_ACQUIRE);

    for (unsigned int cpu = 0; cpu < n; cpu++)
        drain_pages(cpu);
}

/* ---- allocation ---- */

static struct page *rmqueue_pcplist(struct zone *zone, unsigned int order)
{
    unsigned long flags = mm_irq_save();
    struct per_cpu_pages *pcp = pcp_lock(mm_cpu_id(), (enum zone_type)(zone - zones));
    struct list_head *list = &pcp->lists[order];
    struct page *page = NULL;

    if (list_empty(list))
        rmqueue_bulk(zone, pcp, order, pcp_batch(order) ? pcp_batch(order) : 1);
    if (!list_empty(list)) {
        page = lru_to_page(list->next);
        list_del(&page->lru);
        pcp->count[order]--;
        pcp->alloc_diff += (int64_t)1 << order;
    }
    mm_spin_unlock(&pcp->lock);
    mm_irq_restore(flags);
    return page;
}

static struct page *rmqueue(struct zone *zone, unsigned int order)
{
    struct page *page;
    unsigned long flags;

    if (order <= PCP_MAX_ORDER)
        return rmqueue_pcplist(zone, order);
    flags = mm_irq_save();
    mm_spin_lock(&zone->lock);
    page = __rmqueue(zone, order);
    if (page) {
        zone_free_add(zone, -((int64_t)1 << order));
        __atomic_fetch_add(&zone->alloc_pages, (int64_t)1 << order, __ATOMIC_RELAXED);
    }
    mm_spin_unlock(&zone->lock);
    mm_irq_restore(flags);
    return page;
}

static enum zone_type gfp_zone(gfp_t gfp)
{
    if (gfp & __GFP_DMA)
        return ZONE_DMA;
    if (gfp & __GFP_DMA32)
        return ZONE_DMA32;
    return ZONE_NORMAL;
}

static struct page *alloc_pages_caller(gfp_t gfp, unsigned int order, unsigned long caller)
{
    enum zone_type classzone = gfp_zone(gfp);

    if (order >= MAX_ORDER)
        return NULL;
    /* The zonelist: the highest zone gfp allows, then each lower one (Normal, DMA32, DMA). */
    for (int z = (int)classzone; z >= 0; z--) {
        struct zone *zone = &zones[z];
        struct page *page;

        if (!zone->managed_pages || !zone_watermark_ok(zone, order, gfp, classzone))
            continue;
        page = rmqueue(zone, order);
        if (!page)
            continue;
        page_state_set(page, PG_head, order);
        page->zone = (uint8_t)z;
        page->private = 0;
        page->caller = caller;
        if (gfp & __GFP_ZERO)
            mm_memset(page_address(page), 0, PAGE_SIZE << order);
        return page;
    }
    return NULL;
}

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
    return alloc_pages_caller(gfp, order, mm_return_address());
}

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
    struct page *page = alloc_pages_caller(gfp, order, mm_return_address());

    return page ? (unsigned long)page_address(page) : 0;
}

unsigned long get_zeroed_page(gfp_t gfp)
{
    struct page *page = alloc_pages_caller(gfp | __GFP_ZERO, 0, mm_return_address());

    return page ? (unsigned long)page_address(page) : 0;
}

/* ---- freeing ---- */

static void bad_page(const struct page *page, unsigned int order, const char *what,
                     unsigned long caller)
{
    __atomic_fetch_add(&mm_bad_page_count, 1ul, __ATOMIC_RELAXED);
    mm_printf("BUG: %s of page pfn 0x%llx order %u caller 0x%lx (page flags 0x%x order %u)\n",
              what, (unsigned long long)page_to_pfn(page), order, caller, (unsigned)page->flags,
              (unsigned)page->order);
    if (mm_bad_page_fatal)
        mm_bug(__FILE__, __LINE__, what);
}

/* Checks a block being freed; false (after a report) when it must not be freed. */
static bool free_pages_prepare(struct page *page, unsigned int order, unsigned long caller)
{
    uint64_t pfn = page_to_pfn(page);
    uint32_t flags = page->flags;

    if (order >= MAX_ORDER || (pfn & ((1ull << order) - 1)) || pfn + (1ull << order) > max_pfn) {
        bad_page(page, order, "misaligned or bad-order free", caller);
        return false;
    }
    if (flags & (PG_buddy | PG_pcp)) {
        bad_page(page, order, "double free", caller);
        return false;
    }
    if (!(flags & PG_head)) {
        bad_page(page, order, "stray free (not an allocated block)", caller);
        return false;
    }
    if (page->order != order) {
        bad_page(page, order, "wrong-order free", caller);
        return false;
    }
    page_state_set(page, 0, 0);
    return true;
}

static void free_pages_caller(struct page *page, unsigned int order, unsigned long caller)
{
    struct zone *zone;
    unsigned long flags;

    if (!page)
        return;
    if (!free_pages_prepare(page, order, caller))
        return;
    zone = &zones[page_zonenum(page)];
    flags = mm_irq_save();
    if (order <= PCP_MAX_ORDER) {
        struct per_cpu_pages *pcp = pcp_lock(mm_cpu_id(), (enum zone_type)(zone - zones));

        page_state_set(page, PG_pcp, order);
        list_add(&page->lru, &pcp->lists[order]);
        pcp->count[order]++;
        pcp->alloc_diff -= (int64_t)1 << order;
        if (pcp->count[order] > pcp_high(order))
            free_pcppages_bulk(zone, pcp, order, pcp_batch(order) ? pcp_batch(order) : 1);
        mm_spin_unlock(&pcp->lock);
    } else {
        __atomic_fetch_sub(&zone->alloc_pages, (int64_t)1 << order, __ATOMIC_RELAXED);
        mm_spin_lock(&zone->lock);
        zone_free_add(zone, (int64_t)1 << order);
        __free_one_page(zone, page_to_pfn(page), order);
        mm_spin_unlock(&zone->lock);
    }
    mm_irq_restore(flags);
}

void __free_pages(struct page *page, unsigned int order)
{
    free_pages_caller(page, order, mm_return_address());
}

void free_pages(unsigned long addr, unsigned int order)
{
    if (addr)
        free_pages_caller(virt_to_page((const void *)addr), order, mm_return_address());
}

/* ---- set-up ---- */

static uint64_t int_sqrt(uint64_t x)
{
    uint64_t r = 0, bit = 1ull << 62;

    while (bit > x)
        bit >>= 2;
    while (bit) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

/* setup_per_zone_lowmem_reserve() with sysctl_lowmem_reserve_ratio 256 for DMA and DMA32:
 * zone z keeps (managed pages of the zones above it, up to the request's zone) / 256. */
static void setup_per_zone_lowmem_reserve(void)
{
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
        uint64_t above = 0;

        zones[z].lowmem_reserve[z] = 0;
        for (unsigned int j = z + 1; j < MAX_NR_ZONES; j++) {
            above += zones[j].managed_pages;
            zones[z].lowmem_reserve[j] = above / 256;
        }
    }
}

/* __setup_per_zone_wmarks() with calculate_min_free_kbytes() and watermark_scale_factor 10. */
static void setup_per_zone_wmarks(void)
{
    uint64_t managed = 0, kbytes, pages_min;

    for (unsigned int z = 0; z < MAX_NR_ZONES; z++)
        managed += zones[z].managed_pages;
    kbytes = int_sqrt(managed * (PAGE_SIZE / 1024) * 16);
    if (kbytes < 128)
        kbytes = 128;
    if (kbytes > 262144)
        kbytes = 262144;
    pages_min = kbytes >> (PAGE_SHIFT - 10);
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
        struct zone *zone = &zones[z];
        uint64_t min, tmp;

        if (!managed)
            break;
        min = pages_min * zone->managed_pages / managed;
        tmp = zone->managed_pages * 10 / 10000;
        if (tmp < min / 4)
            tmp = min / 4;
        zone->watermark[WMARK_MIN] = min;
        zone->watermark[WMARK_LOW] = min + tmp;
        zone->watermark[WMARK_HIGH] = min + 2 * tmp;
    }
}

static inline unsigned int ilog2_u64(uint64_t v)
{
    return 63u - (unsigned int)__builtin_clzll(v);
}

/* Give the frames [start, end) (one zone) to the buddy lists as maximal aligned blocks. */
static void free_range(struct zone *zone, uint64_t start, uint64_t end)
{
    uint64_t mid_start = (start + MAX_ORDER_NR_PAGES - 1) & ~(MAX_ORDER_NR_PAGES - 1);
    uint64_t mid_end = end & ~(MAX_ORDER_NR_PAGES - 1);

    /* The zone's first run of two or more whole MAX_ORDER blocks is kept out of the lists
     * (deferred: __rmqueue takes blocks from it when the lists run dry), so start-up does
     * not touch one struct page per 4 MiB: ~20 us of emulated page faults each here. */
    if (zone->lazy_end == 0 && mid_end > mid_start + MAX_ORDER_NR_PAGES) {
        free_range(zone, start, mid_start);
        zone->lazy_start = mid_start;
        zone->lazy_end = mid_end;
        zone_free_add(zone, (int64_t)(mid_end - mid_start));
        zone->managed_pages += mid_end - mid_start;
        start = mid_end;
    }
    while (start < end) {
        unsigned int order = ilog2_u64(end - start);

        if (start && (unsigned int)__builtin_ctzll(start) < order)
            order = (unsigned int)__builtin_ctzll(start);
        if (order > MAX_ORDER - 1)
            order = MAX_ORDER - 1;
        add_to_free_list(zone, &mem_map[start], order);
        zone_free_add(zone, (int64_t)1 << order);
        zone->managed_pages += 1ull << order;
        start += 1ull << order;
    }
}

static bool overlaps(uint64_t s, uint64_t e, const struct mm_region *r, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        if (s < r[i].end && r[i].start < e)
            return true;
    return false;
}

/* Where the page array goes: a RAM range of `size` bytes below `limit` that avoids the
 * reserved ranges, preferably above ZONE_DMA; 0 when nothing fits. */
static uint64_t place_mem_map(const struct mm_region *regions, unsigned int nregions,
                              const struct mm_region *reserved, unsigned int nreserved,
                              uint64_t size, uint64_t limit)
{
    for (int pass = 0; pass < 2; pass++) {
        uint64_t floor = pass == 0 ? DMA_END_PFN << PAGE_SHIFT : PAGE_SIZE;

        for (unsigned int i = 0; i < nregions; i++) {
            /* Candidates: the region's start and the end of each reserved range. */
            for (unsigned int j = 0; j <= nreserved; j++) {
                uint64_t c = j == nreserved ? regions[i].start : reserved[j].end;

                c = (c + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
                if (c < floor)
                    c = floor;
                if (c < regions[i].start || c + size > regions[i].end || c + size > limit)
                    continue;
                if (!overlaps(c, c + size, reserved, nreserved))
                    return c;
            }
        }
    }
    return 0;
}

int mm_init(uintptr_t base, const struct mm_region *regions, unsigned nregions,
            const struct mm_region *reserved, unsigned nreserved)
{
    struct mm_region rsv[MAX_REGIONS + 1];
    uint64_t top = 0, map_size, map_pa;

    if (!nregions || nreserved > MAX_REGIONS)
        return -MM_EINVAL;
    /* Static data starts zeroed: clear it only for a second mm_init() (host tests); the
     * 24 KiB of pcp lists would cost the guest ~15 ms of emulated stores. */
    if (mm_initialised) {
        mm_memset(zones, 0, sizeof(zones));
        mm_memset(pcp_lists, 0, sizeof(pcp_lists));
        nr_pcp_cpus = 0;
    }
    mm_initialised = true;
    mem_base = base;
    for (unsigned int i = 0; i < nregions; i++)
        if (regions[i].end > top)
            top = regions[i].end;
    max_pfn = top >> PAGE_SHIFT;
    map_size = (max_pfn * sizeof(struct page) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    /* The page array must be reachable before the direct map is extended: below 4 GiB. */
    map_pa = place_mem_map(regions, nregions, reserved, nreserved, map_size,
                           DMA32_END_PFN << PAGE_SHIFT);
    if (!map_pa)
        return -MM_ENOMEM;
    mem_map = (struct page *)(base + (uintptr_t)map_pa);
    for (unsigned int i = 0; i < nreserved; i++)
        rsv[i] = reserved[i];
    rsv[nreserved].start = map_pa;
    rsv[nreserved].end = map_pa + map_size;

    for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
        struct zone *zone = &zones[z];

        mm_spin_lock_init(&zone->lock);
        for (unsigned int o = 0; o < MAX_ORDER; o++)
            list_init(&zone->free_area[o].free_list);
        zone->start_pfn = z == ZONE_DMA ? 0 : z == ZONE_DMA32 ? DMA_END_PFN : DMA32_END_PFN;
        zone->end_pfn = z == ZONE_DMA ? DMA_END_PFN : z == ZONE_DMA32 ? DMA32_END_PFN : ~0ull;
        if (zone->end_pfn > max_pfn)
            zone->end_pfn = max_pfn;
        if (zone->start_pfn > zone->end_pfn)
            zone->start_pfn = zone->end_pfn;
    }

    for (unsigned int i = 0; i < nregions; i++) {
        uint64_t rs = (regions[i].start + PAGE_SIZE - 1) >> PAGE_SHIFT;
        uint64_t re = regions[i].end >> PAGE_SHIFT;

        for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
            struct zone *zone = &zones[z];
            uint64_t s = rs > zone->start_pfn ? rs : zone->start_pfn;
            uint64_t e = re < zone->end_pfn ? re : zone->end_pfn;

            if (s >= e)
                continue;
            zone->present_pages += e - s;
            /* Free [s, e) minus the reserved ranges, in ascending gaps. */
            while (s < e) {
                uint64_t skip = s, gap_end = e;

                for (unsigned int j = 0; j <= nreserved; j++) {
                    uint64_t ra = rsv[j].start >> PAGE_SHIFT;
                    uint64_t rb = (rsv[j].end + PAGE_SIZE - 1) >> PAGE_SHIFT;

                    if (ra <= s && rb > skip)
                        skip = rb; /* s is reserved */
                    else if (ra > s && ra < gap_end)
                        gap_end = ra;
                }
                if (skip > s) {
                    s = skip; /* may uncover another reserved range: loop */
                    continue;
                }
                free_range(zone, s, gap_end);
                s = gap_end;
            }
        }
    }
    setup_per_zone_wmarks();
    setup_per_zone_lowmem_reserve();
    return 0;
}

/* ---- statistics and checks ---- */

void mm_zone_stats(enum zone_type z, struct mm_zone_stats *st)
{
    struct zone *zone = &zones[z];
    unsigned long flags;

    mm_memset(st, 0, sizeof(*st));
    st->name = zone_names[z];
    flags = mm_irq_save();
    mm_spin_lock(&zone->lock);
    st->populated = zone->managed_pages > 0;
    st->start_pfn = zone->start_pfn;
    st->end_pfn = zone->end_pfn;
    st->present = zone->present_pages;
    st->managed = zone->managed_pages;
    st->free = zone->free_pages;
    st->allocated = __atomic_load_n(&zone->alloc_pages, __ATOMIC_RELAXED);
    for (unsigned int w = 0; w < NR_WMARK; w++)
        st->wmark[w] = zone->watermark[w];
    for (unsigned int j = 0; j < MAX_NR_ZONES; j++)
        st->lowmem_reserve[j] = zone->lowmem_reserve[j];
    for (unsigned int o = 0; o < MAX_ORDER; o++)
        st->nr_free[o] = zone->free_area[o].nr_free;
    st->nr_free[MAX_ORDER - 1] += (zone->lazy_end - zone->lazy_start) / MAX_ORDER_NR_PAGES;
    mm_spin_unlock(&zone->lock);
    mm_irq_restore(flags);
    /* Racy unless the lists were drained or the CPUs are idle: for reports. */
    for (unsigned int cpu = 0; cpu < __atomic_load_n(&nr_pcp_cpus, __ATOMIC_RELAXED); cpu++) {
        for (unsigned int o = 0; o <= PCP_MAX_ORDER; o++)
            st->pcp += (uint64_t)READ_PCP_COUNT(&pcp_lists[cpu][z], o) << o;
        st->allocated += __atomic_load_n(&pcp_lists[cpu][z].alloc_diff, __ATOMIC_RELAXED);
    }
}

unsigned int mm_check_zone(enum zone_type z)
{
    struct zone *zone = &zones[z];
    unsigned int bad = 0;
    uint64_t free = 0;
    unsigned long flags = mm_irq_save();

    mm_spin_lock(&zone->lock);
    for (unsigned int o = 0; o < MAX_ORDER; o++) {
        const struct list_head *h = &zone->free_area[o].free_list;
        unsigned long n = 0;

        for (const struct list_head *l = h->next; l != h; l = l->next) {
            const struct page *page = lru_to_page(l);
            uint64_t pfn = page_to_pfn(page);
            uint64_t buddy = pfn ^ (1ull << o);

            n++;
            if (page->flags != PG_buddy || page->order != o || (pfn & ((1ull << o) - 1)) ||
                pfn < zone->start_pfn || pfn + (1ull << o) > zone->end_pfn ||
                page->zone != z) {
                mm_printf("mm: zone %s: bad free block pfn 0x%llx order %u flags 0x%x\n",
                          zone_names[z], (unsigned long long)pfn, o, (unsigned)page->flags);
                bad++;
            } else if (o < MAX_ORDER - 1 && buddy >= zone->start_pfn && buddy < zone->end_pfn &&
                       (mem_map[buddy].flags & PG_buddy) && mem_map[buddy].order == o) {
                mm_printf("mm: zone %s: free buddies not merged: pfn 0x%llx order %u\n",
                          zone_names[z], (unsigned long long)pfn, o);
                bad++;
            }
            free += 1ull << o;
            if (n > zone->free_area[o].nr_free)
                break;
        }
        if (n != zone->free_area[o].nr_free) {
            mm_printf("mm: zone %s: order %u list has %lu blocks, nr_free %lu\n", zone_names[z],
                      o, n, zone->free_area[o].nr_free);
            bad++;
        }
    }
    free += zone->lazy_end - zone->lazy_start;
    if (free != zone->free_pages) {
        mm_printf("mm: zone %s: free lists hold %llu pages, counter %llu\n", zone_names[z],
                  (unsigned long long)free, (unsigned long long)zone->free_pages);
        bad++;
    }
    mm_spin_unlock(&zone->lock);
    mm_irq_restore(flags);
    return bad;
}

/* ---- reports ---- */

void mm_show_buddyinfo(void)
{
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
        struct mm_zone_stats st;

        mm_zone_stats((enum zone_type)z, &st);
        if (!st.populated)
            continue;
        mm_printf("Node %d, zone %8s ", 0, st.name);
        for (unsigned int o = 0; o < MAX_ORDER; o++)
            mm_printf("%6lu ", st.nr_free[o]);
        mm_printf("\n");
    }
}

/* /proc/zoneinfo's first lines per zone (mm/vmstat.c zoneinfo_show_print), reduced. */
void mm_show_zoneinfo(void)
{
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
        struct mm_zone_stats st;

        mm_zone_stats((enum zone_type)z, &st);
        if (!st.populated)
            continue;
        mm_printf("Node 0, zone %8s\n", st.name);
        mm_printf("  pages free     %llu\n", (unsigned long long)st.free);
        mm_printf("        min      %llu\n", (unsigned long long)st.wmark[WMARK_MIN]);
        mm_printf("        low      %llu\n", (unsigned long long)st.wmark[WMARK_LOW]);
        mm_printf("        high     %llu\n", (unsigned long long)st.wmark[WMARK_HIGH]);
        mm_printf("        spanned  %llu\n", (unsigned long long)(st.end_pfn - st.start_pfn));
        mm_printf("        present  %llu\n", (unsigned long long)st.present);
        mm_printf("        managed  %llu\n", (unsigned long long)st.managed);
        mm_printf("        pcp      %llu\n", (unsigned long long)st.pcp);
        mm_printf("        protection: (%llu, %llu, %llu)\n",
                  (unsigned long long)st.lowmem_reserve[0], (unsigned long long)st.lowmem_reserve[1],
                  (unsigned long long)st.lowmem_reserve[2]);
        mm_printf("  start_pfn:           %llu\n", (unsigned long long)st.start_pfn);
    }
}
