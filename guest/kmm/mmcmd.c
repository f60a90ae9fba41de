/*
 * mmcmd.c: the guest's memory-management commands.
 *
 *   mm.selftest  checks of the buddy allocator (one "mm: ok: ..." / "mm: FAIL: ..." line
 *                each), then the slab and vmalloc self-tests when built in, then SUCCESS or
 *                FAIL and the exit status
 *   mm.demo      the seed's examples: kmalloc doubling until failure, vmalloc of that size,
 *                an order-3 block, a kmem_cache, a per-CPU counter, buddyinfo/slabinfo
 *   mm.bench     alloc/free pairs, TSC cycles per operation (mm.iters=N pairs)
 *
 * Every guest instruction costs ~1 us of emulation on our hosts (docs/host-notes.md): the tests
 * are sized to thousands of operations and never touch every byte of big blocks.
 *
 * The slab engineer's functions (slab.c, kmalloc.c, vmalloc.c) are weak references here,
 * so this file links whether or not they are built in; a missing one is skipped with a
 * message.
 */
#include <minivmm/abi.h>

#include "../kernel.h"
#include "../mm/mm.h"
#include "../mm/percpu.h"
#include "../smp.h"
#include "../tsc.h"
#include "../x86.h"
#include "mm_boot.h"
#include "mmcmd.h"
#include "pgtable.h"

/* The headers, when present, type-check the weak redeclarations below. */
#if __has_include("../mm/slab.h")
#include "../mm/slab.h"
#endif
#if __has_include("vmalloc.h")
#include "vmalloc.h"
#endif

#define WEAK __attribute__((weak))
struct kmem_cache;
WEAK void *kmalloc(size_t size, gfp_t gfp);
WEAK void kfree(const void *p);
WEAK struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
                                          unsigned int align, unsigned int flags,
                                          void (*ctor)(void *));
WEAK int kmem_cache_destroy(struct kmem_cache *s);
WEAK void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp);
WEAK void kmem_cache_free(struct kmem_cache *s, void *obj);
WEAK void mm_show_slabinfo(void);
WEAK int kmem_cache_init(void);
WEAK int slab_selftest(void);
WEAK void *vmalloc(unsigned long size);
WEAK void vfree(const void *addr);
WEAK int vmalloc_selftest(void);

#define DEFAULT_SELFTEST_ITERS 1000
#define DEFAULT_BENCH_ITERS 1000
#define CONC_SLOTS 16
#define EXHAUST_MAX_PAGES (4u << 20) /* 16 GiB: 4096 order-10 allocations */

static unsigned int nr_fail, nr_ok;

static void check(bool ok, const char *what)
{
    if (ok)
        nr_ok++;
    else
        nr_fail++;
    kprintf("mm: %s: %s\n", ok ? "ok" : "FAIL", what);
}

static bool mm_available(void)
{
    if (mm_boot_done())
        return true;
    kprintf("mm: the page allocator is not set up (see the boot messages)\nFAIL\n");
    return false;
}

/* ---- snapshots ---- */

struct mm_snapshot {
    struct mm_zone_stats z[MAX_NR_ZONES];
};

static void snapshot(struct mm_snapshot *s)
{
    drain_all_pages();
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++)
        mm_zone_stats((enum zone_type)z, &s->z[z]);
}

static bool same_buddyinfo(const struct mm_snapshot *a, const struct mm_snapshot *b)
{
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++)
        for (unsigned int o = 0; o < MAX_ORDER; o++)
            if (a->z[z].nr_free[o] != b->z[z].nr_free[o]) {
                kprintf("mm: zone %s order %u: nr_free %lu, was %lu\n", a->z[z].name, o,
                        b->z[z].nr_free[o], a->z[z].nr_free[o]);
                return false;
            }
    return true;
}

/* Zone-wide invariants by counters (lists drained): free + allocated + reserved = present,
 * and each free list agrees with its nr_free. */
static bool zones_consistent(void)
{
    bool ok = true;

    drain_all_pages();
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
        struct mm_zone_stats st;

        mm_zone_stats((enum zone_type)z, &st);
        if (!st.present)
            continue;
        if (st.pcp || st.allocated < 0 ||
            st.free + (uint64_t)st.allocated + (st.present - st.managed) != st.present) {
            kprintf("mm: zone %s: free %llu + allocated %lld + reserved %llu != present %llu "
                    "(pcp %llu)\n", st.name, (unsigned long long)st.free,
                    (long long)st.allocated, (unsigned long long)(st.present - st.managed),
                    (unsigned long long)st.present, (unsigned long long)st.pcp);
            ok = false;
        }
        if (mm_check_zone((enum zone_type)z))
            ok = false;
    }
    return ok;
}

/* ---- a list of allocated blocks, linked through their head page's lru (owner's use) ---- */

static void blocks_init(struct list_head *h)
{
    h->next = h->prev = h;
}

static void blocks_add(struct list_head *h, struct page *page)
{
    page->lru.next = h->next;
    page->lru.prev = h;
    h->next->prev = &page->lru;
    h->next = &page->lru;
}

static unsigned long blocks_free_all(struct list_head *h)
{
    unsigned long n = 0;

    while (h->next != h) {
        struct list_head *l = h->next;
        struct page *page = (struct page *)((char *)l - offsetof(struct page, lru));

        h->next = l->next;
        l->next->prev = h;
        __free_pages(page, page->order);
        n++;
    }
    return n;
}

static bool page_in_zone(const struct page *page, enum zone_type z)
{
    return page && page_zonenum(page) == z;
}

/* ---- the checks ---- */

static void test_basic(void)
{
    struct page *p = alloc_pages(GFP_KERNEL, 0), *q;
    unsigned long addr;
    char msg[128];

    check(p && (p->flags & PG_head) && virt_to_page(page_address(p)) == p &&
              pfn_to_page(page_to_pfn(p)) == p,
          "alloc_page: PG_head, page_address/virt_to_page and pfn round trips");
    __free_pages(p, 0);
    q = alloc_pages(GFP_KERNEL, 0);
    check(q == p, "per-CPU list: a freed page is the next one handed out (hot)");
    __free_pages(q, 0);
    check(alloc_pages(GFP_KERNEL, MAX_ORDER) == NULL && alloc_pages(GFP_KERNEL, 40) == NULL,
          "orders >= MAX_ORDER fail cleanly (NULL)");
    addr = get_zeroed_page(GFP_KERNEL);
    {
        const uint64_t *w = (const uint64_t *)addr;
        bool zero = addr != 0;

        for (unsigned int i = 0; zero && i < PAGE_SIZE / 8; i += 61)
            zero = w[i] == 0;
        check(zero, "get_zeroed_page: zeroed");
    }
    free_pages(addr, 0);
    for (unsigned int o = 0; o < MAX_ORDER; o++) {
        struct page *b = alloc_pages(GFP_KERNEL, o);
        bool ok = b && !(page_to_pfn(b) & ((1ull << o) - 1)) && b->order == o;

        if (!ok) {
            ksnprintf(msg, sizeof(msg), "alloc_pages order %u: aligned block", o);
            check(false, msg);
            return;
        }
        __free_pages(b, o);
    }
    check(true, "alloc_pages orders 0-10: naturally aligned blocks");
    {
        /* Per page over a 4 MiB self-test area: head PG_head, the 1023 tails all zero. */
        struct page *b = alloc_pages(GFP_KERNEL, MAX_ORDER - 1);
        unsigned int bad = b ? 0 : 1;

        for (unsigned int i = 1; b && i < (1u << (MAX_ORDER - 1)); i++)
            if (b[i].flags || b[i].order)
                bad++;
        ksnprintf(msg, sizeof(msg), "order-10 block: PG_head on the head, %u of 1023 tails dirty",
                  bad);
        check(b && b->flags == PG_head && bad == 0, msg);
        __free_pages(b, MAX_ORDER - 1);
    }
}

/* Per-page checks on a self-test area of `npages` order-0 pages (<= 16 MiB). */
static void test_pages(unsigned int npages)
{
    struct list_head list;
    unsigned int n = 0, bad = 0;
    char msg[128];

    blocks_init(&list);
    for (; n < npages; n++) {
        struct page *p = alloc_pages(GFP_KERNEL, 0);

        if (!p)
            break;
        *(uint64_t *)page_address(p) = page_to_pfn(p) ^ 0x5a5a5a5a00000000ull;
        blocks_add(&list, p);
    }
    for (struct list_head *l = list.next; l != &list; l = l->next) {
        struct page *p = (struct page *)((char *)l - offsetof(struct page, lru));

        if (p->flags != PG_head || p->order != 0 ||
            *(uint64_t *)page_address(p) != (page_to_pfn(p) ^ 0x5a5a5a5a00000000ull))
            bad++;
    }
    blocks_free_all(&list);
    ksnprintf(msg, sizeof(msg), "%u single pages: distinct, PG_head, contents intact (%u bad)",
              n, bad);
    check(n == npages && bad == 0, msg);
}

static void test_split_merge(void)
{
    struct mm_snapshot before, during, after;
    struct list_head list;
    bool split = false, ok;

    snapshot(&before);
    blocks_init(&list);
    /* One block of each order, smallest first: the first split starts from a big block. */
    for (unsigned int o = 0; o < MAX_ORDER; o++) {
        struct page *p = alloc_pages(GFP_DMA32, o);

        if (p)
            blocks_add(&list, p);
    }
    for (unsigned int o = 0; o < 3; o++) {
        struct page *p = alloc_pages(GFP_DMA32, o);

        if (p)
            blocks_add(&list, p);
    }
    snapshot(&during);
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++)
        for (unsigned int o = 0; o < MAX_ORDER; o++)
            split |= during.z[z].nr_free[o] != before.z[z].nr_free[o];
    check(split && zones_consistent(), "split: buddyinfo changed, counters and lists consistent");
    blocks_free_all(&list);
    snapshot(&after);
    ok = same_buddyinfo(&before, &after);
    check(ok, "merge: after freeing everything buddyinfo equals the starting state");
}

/* Allocate from zone z (and, through fallback, below it) until z is at its watermark;
 * returns the number of blocks taken from z. Blocks from lower zones are freed at once. */
static unsigned long exhaust_zone(enum zone_type z, gfp_t gfp, struct list_head *list)
{
    unsigned long n = 0;

    for (int o = MAX_ORDER - 1; o >= 0; o--) {
        for (;;) {
            struct page *p = alloc_pages(gfp, (unsigned int)o);

            if (!p)
                break;
            if (!page_in_zone(p, z)) {
                __free_pages(p, (unsigned int)o);
                break;
            }
            blocks_add(list, p);
            n++;
        }
    }
    return n;
}

static const gfp_t zone_gfp[MAX_NR_ZONES] = {GFP_DMA, GFP_DMA32, GFP_KERNEL};

static void test_zones(void)
{
    struct mm_zone_stats st[MAX_NR_ZONES];
    enum zone_type top = ZONE_DMA;
    char msg[160];

    for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
        mm_zone_stats((enum zone_type)z, &st[z]);
        if (st[z].populated)
            top = (enum zone_type)z;
    }
    /* Each flag's preferred zone. */
    {
        static const struct {
            gfp_t gfp;
            const char *name;
            enum zone_type max;
        } cases[] = {
            {GFP_KERNEL, "GFP_KERNEL", ZONE_NORMAL},  {GFP_ATOMIC, "GFP_ATOMIC", ZONE_NORMAL},
            {GFP_NOWAIT, "GFP_NOWAIT", ZONE_NORMAL},  {GFP_DMA32, "GFP_DMA32", ZONE_DMA32},
            {GFP_DMA, "GFP_DMA", ZONE_DMA},
            {GFP_KERNEL | __GFP_ZERO, "GFP_KERNEL|__GFP_ZERO", ZONE_NORMAL},
        };

        for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
            enum zone_type want = cases[i].max < top ? cases[i].max : top;
            struct page *p = alloc_pages(cases[i].gfp, 0);
            enum zone_type got = p ? page_zonenum(p) : MAX_NR_ZONES;

            while (!st[want].populated && want > ZONE_DMA)
                want--;
            ksnprintf(msg, sizeof(msg), "%s: a page from zone %s (got %s)", cases[i].name,
                      mm_zone_name(want), p ? mm_zone_name(got) : "none");
            check(p && got == want, msg);
            __free_pages(p, 0);
        }
    }
    /* Exhaust each zone from the top: the next request falls back to the zone below. */
    for (int z = (int)top; z >= 0; z--) {
        struct list_head list;
        unsigned long n;
        struct mm_zone_stats now;
        struct page *p;

        if (!st[z].populated)
            continue;
        if (st[z].managed > EXHAUST_MAX_PAGES) { /* ~1 ms of emulation per 4 MiB block */
            kprintf("mm: skip: exhausting zone %s (%llu pages, more than %u)\n",
                    mm_zone_name((enum zone_type)z), (unsigned long long)st[z].managed,
                    EXHAUST_MAX_PAGES);
            continue;
        }
        blocks_init(&list);
        n = exhaust_zone((enum zone_type)z, zone_gfp[z], &list);
        mm_zone_stats((enum zone_type)z, &now);
        ksnprintf(msg, sizeof(msg),
                  "zone %s exhausted: %lu blocks, stops at the min watermark (free %llu, "
                  "min %llu)", mm_zone_name((enum zone_type)z), n,
                  (unsigned long long)now.free, (unsigned long long)now.wmark[WMARK_MIN]);
        check(n > 0 && now.free <= now.wmark[WMARK_MIN] + 1 &&
                  now.free + 1024 >= now.wmark[WMARK_MIN],
              msg);
        /* Fallback: the same flags now get a page from a lower zone, or NULL for DMA. */
        p = alloc_pages(zone_gfp[z], 0);
        if (z > ZONE_DMA) {
            int lower = z - 1;

            while (lower > 0 && !st[lower].populated)
                lower--;
            ksnprintf(msg, sizeof(msg), "zone %s full: fallback to %s (got %s)",
                      mm_zone_name((enum zone_type)z), mm_zone_name((enum zone_type)lower),
                      p ? mm_zone_name(page_zonenum(p)) : "none");
            check(p && page_zonenum(p) == (enum zone_type)lower, msg);
        } else {
            check(p == NULL, "zone DMA full: GFP_DMA fails (NULL), there is no zone below");
        }
        __free_pages(p, 0);
        /* __GFP_HIGH (GFP_ATOMIC) may dip below min: it still gets a page from this zone. */
        /* __GFP_HIGH (GFP_ATOMIC) may use half the reserve below min: from this zone while
         * free > min/2 (the last pcp batch refill may have taken it lower). */
        {
            uint64_t min = now.wmark[WMARK_MIN], floor = min - min / 2;
            bool expect = now.free > floor;

            p = alloc_pages(zone_gfp[z] | GFP_ATOMIC, 0);
            ksnprintf(msg, sizeof(msg),
                      "zone %s below min (free %llu): GFP_ATOMIC %s (got %s)",
                      mm_zone_name((enum zone_type)z), (unsigned long long)now.free,
                      expect ? "still allocates from it, down to min/2"
                             : "gets nothing from it below min/2",
                      p ? mm_zone_name(page_zonenum(p)) : "none");
            check(page_in_zone(p, (enum zone_type)z) == expect, msg);
            __free_pages(p, 0);
        }
        blocks_free_all(&list);
    }
    check(zones_consistent(), "zones consistent after exhaustion and release");
}

static void test_bad_frees(void)
{
    unsigned long before = mm_bad_page_count;
    struct page *p = alloc_pages(GFP_KERNEL, 1);
    char msg[128];

    mm_bad_page_fatal = false;
    kprintf("mm: the next 3 BUG lines are expected:\n");
    __free_pages(p, 0);   /* wrong order: refused */
    __free_pages(p, 1);   /* the right one */
    __free_pages(p, 1);   /* double free: refused */
    __free_pages(&p[1], 0); /* a tail page of a free block: refused */
    mm_bad_page_fatal = true;
    ksnprintf(msg, sizeof(msg), "wrong-order free, double free and a stray free: %lu reports",
              mm_bad_page_count - before);
    check(mm_bad_page_count - before == 3, msg);
    check(zones_consistent(), "bad frees left the lists consistent");
}

static void test_pcp(void)
{
    struct page *p[8];
    struct mm_zone_stats st;
    enum zone_type z;

    drain_all_pages();
    for (unsigned int i = 0; i < 8; i++)
        p[i] = alloc_pages(GFP_KERNEL, 0);
    z = page_zonenum(p[0]);
    mm_zone_stats(z, &st);
    check(st.pcp > 0 && st.pcp <= 64, "per-CPU list refilled in a batch on the first order-0 alloc");
    for (unsigned int i = 0; i < 8; i++)
        __free_pages(p[i], 0);
    drain_local_pages();
    mm_zone_stats(z, &st);
    check(st.pcp == 0, "drain_local_pages empties this CPU's lists");
}

static void test_pgtable(void)
{
    /* The direct map covers every zone's pages (above 4 GiB: pgtable_init's 2 MiB pages). */
    for (unsigned int z = 0; z < MAX_NR_ZONES; z++) {
        struct page *p = alloc_pages(zone_gfp[z], 0);
        char msg[128];
        bool ok;

        if (!p || page_zonenum(p) != z) {
            __free_pages(p, 0);
            continue;
        }
        *(volatile uint64_t *)page_address(p) = 0x1234;
        ok = pgtable_virt_to_phys((uint64_t)(uintptr_t)page_address(p) + 8) ==
                 (page_to_pfn(p) << PAGE_SHIFT) + 8 &&
             *(volatile uint64_t *)page_address(p) == 0x1234;
        ksnprintf(msg, sizeof(msg), "direct map: a zone %s page at 0x%llx is mapped",
                  mm_zone_name((enum zone_type)z),
                  (unsigned long long)(page_to_pfn(p) << PAGE_SHIFT));
        check(ok, msg);
        __free_pages(p, 0);
    }
    /* A 4 KiB mapping in the vmalloc range (new page-table pages on first use). */
    {
        struct page *p = alloc_pages(GFP_KERNEL, 0);
        uint64_t va = VMALLOC_END - 16 * PAGE_SIZE, pa = page_to_pfn(p) << PAGE_SHIFT;
        bool ok = pgtable_map_page(va, pa, PAGE_KERNEL | _PAGE_NX) == 0;

        ok = ok && pgtable_map_page(va, pa, 0) == -MM_EINVAL &&
             pgtable_map_page(va + 1, pa, 0) == -MM_EINVAL &&
             pgtable_map_page(PAGE_SIZE, pa, 0) == -MM_EINVAL;
        if (ok) {
            *(volatile uint64_t *)(uintptr_t)(va + 64) = 0xfeedull;
            ok = *(volatile uint64_t *)((char *)page_address(p) + 64) == 0xfeedull &&
                 pgtable_virt_to_phys(va + 64) == pa + 64;
        }
        pgtable_unmap_page(va);
        ok = ok && pgtable_virt_to_phys(va) == 0;
        check(ok, "pgtable_map_page/unmap_page: a 4 KiB vmalloc-range mapping works and goes");
        __free_pages(p, 0);
    }
}

/* ---- concurrent alloc/free on every CPU ---- */

struct conc_work {
    unsigned int iters;
    volatile unsigned int errors;
    volatile unsigned int allocs;
};

static void conc_worker(void *arg)
{
    struct conc_work *w = arg;
    unsigned int cpu = smp_processor_id();
    uint32_t seed = 0x9e3779b9u * (cpu + 1);
    struct page *slot[CONC_SLOTS] = {0};
    unsigned int errors = 0, allocs = 0;

    for (unsigned int i = 0; i < w->iters; i++) {
        unsigned int k, order;

        seed = seed * 1103515245u + 12345u;
        k = (seed >> 16) % CONC_SLOTS;
        order = (seed >> 8) & 3;
        if (slot[k]) {
            uint64_t *mem = page_address(slot[k]);

            if (mem[0] != (((uint64_t)cpu << 48) | page_to_pfn(slot[k])))
                errors++;
            __free_pages(slot[k], slot[k]->order);
            slot[k] = NULL;
        } else {
            gfp_t gfp = (seed >> 12) & 1 ? GFP_KERNEL : GFP_DMA32;

            slot[k] = alloc_pages(gfp, order);
            if (slot[k]) {
                *(uint64_t *)page_address(slot[k]) = ((uint64_t)cpu << 48) | page_to_pfn(slot[k]);
                allocs++;
            }
        }
    }
    for (unsigned int k = 0; k < CONC_SLOTS; k++)
        if (slot[k]) {
            uint64_t *mem = page_address(slot[k]);

            if (mem[0] != (((uint64_t)cpu << 48) | page_to_pfn(slot[k])))
                errors++;
            __free_pages(slot[k], slot[k]->order);
        }
    __atomic_fetch_add(&w->errors, errors, __ATOMIC_RELAXED);
    __atomic_fetch_add(&w->allocs, allocs, __ATOMIC_RELAXED);
}

static void test_concurrent(unsigned int iters)
{
    struct conc_work w = {.iters = iters};
    struct mm_snapshot before, after;
    unsigned int aps;
    char msg[160];

    snapshot(&before);
    aps = smp_call_function_async(conc_worker, &w);
    conc_worker(&w);
    smp_call_function_wait();
    snapshot(&after);
    ksnprintf(msg, sizeof(msg),
              "concurrent alloc/free on %u CPUs: %u allocations, %u corrupted blocks", aps + 1,
              w.allocs, w.errors);
    check(w.errors == 0 && w.allocs > 0, msg);
    check(same_buddyinfo(&before, &after) && zones_consistent(),
          "after the concurrent run buddyinfo equals the starting state");
}

/* ---- the slab allocator on every CPU at once (slab_selftest()'s last check) ---- */

/* Every CPU allocates and swaps objects through shared mailboxes, so most frees are of
 * another CPU's objects (the remote-free slow path) while that CPU keeps allocating. Its
 * lines read as slab_selftest()'s (mm/slab_selftest.c) and count in its result: that file is
 * portable, and this check needs the kernel's cross-CPU calls. */
#define SLAB_SMP_OPS 200
#define SLAB_SMP_SLOTS 16

static struct kmem_cache *slab_smp_cache;
static void *slab_smp_mailbox[SLAB_SMP_SLOTS];
static unsigned int slab_smp_errors, slab_smp_failures;

static void slab_smp_check(bool ok, const char *what)
{
    kprintf("mm: %s: slab: %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        slab_smp_failures++;
}

static void slab_smp_worker(void *arg)
{
    unsigned int cpu = smp_processor_id();

    (void)arg;
    for (unsigned int i = 0; i < SLAB_SMP_OPS; i++) {
        uint64_t *o = kmem_cache_alloc(slab_smp_cache, GFP_KERNEL), *old;

        if (!o) {
            __atomic_add_fetch(&slab_smp_errors, 1, __ATOMIC_RELAXED);
            return;
        }
        o[0] = ((uint64_t)cpu << 32) | i;
        o[1] = ~o[0];
        old = __atomic_exchange_n(&slab_smp_mailbox[(i * 7 + cpu) % SLAB_SMP_SLOTS], o,
                                  __ATOMIC_ACQ_REL);
        if (old) {
            if (old[1] != ~old[0]) /* someone else was handed the same object */
                __atomic_add_fetch(&slab_smp_errors, 1, __ATOMIC_RELAXED);
            kmem_cache_free(slab_smp_cache, old);
        }
    }
}

/* Returns the number of failed checks. */
static int test_slab_smp(void)
{
    unsigned int n;

    slab_smp_failures = 0;
    if (smp_nr_cpus() < 2 || smp_processor_id() != 0) {
        kprintf("mm: skip: slab: alloc/free on several CPUs at once (1 CPU)\n");
        return 0;
    }
    slab_smp_cache = kmem_cache_create("selftest-smp", 32, 0, 0, NULL);
    if (!slab_smp_cache) {
        slab_smp_check(false, "kmem_cache_create(selftest-smp)");
        return slab_smp_failures;
    }
    slab_smp_errors = 0;
    n = smp_call_function_async(slab_smp_worker, NULL);
    slab_smp_worker(NULL);
    smp_call_function_wait();
    for (int i = 0; i < SLAB_SMP_SLOTS; i++) {
        kmem_cache_free(slab_smp_cache, slab_smp_mailbox[i]);
        slab_smp_mailbox[i] = NULL;
    }
    kprintf("mm: slab: %u CPUs did %u alloc/free each, passing objects between them\n", n + 1,
            SLAB_SMP_OPS);
    slab_smp_check(slab_smp_errors == 0,
                   "concurrent alloc/free with cross-CPU frees: no object handed out twice");
    slab_smp_check(kmem_cache_destroy(slab_smp_cache) == 0,
                   "destroy after the concurrent run: counts balance");
    return slab_smp_failures;
}

int cmd_mm_selftest(const struct cmdline *cl)
{
    unsigned int iters = (unsigned int)cmdline_param_u64(cl, "mm.iters", DEFAULT_SELFTEST_ITERS);
    struct mm_snapshot start, end;

    if (!mm_available())
        return MINIVMM_STATUS_FAIL;
    nr_fail = nr_ok = 0;
    drain_all_pages();
    mm_show_buddyinfo();
    mm_show_zoneinfo();
    test_pgtable(); /* first: the page-table pages it creates stay */
    snapshot(&start);
    check(zones_consistent(), "zones: free + allocated + reserved = present, lists match nr_free");
    test_basic();
    test_pages(256);
    test_pcp();
    test_split_merge();
    test_zones();
    test_bad_frees();
    test_concurrent(iters);
    snapshot(&end);
    check(same_buddyinfo(&start, &end), "buddy allocator: final buddyinfo equals the start");
    if (slab_selftest) {
        int f = slab_selftest();

        if (kmem_cache_init() == 0) /* slab_selftest() stops early when this fails */
            f += test_slab_smp();
        check(f == 0, "slab_selftest");
    } else {
        kprintf("mm: skip: slab_selftest (not built in)\n");
    }
    if (vmalloc_selftest) {
        int f = vmalloc_selftest();

        check(f == 0, "vmalloc_selftest");
    } else {
        kprintf("mm: skip: vmalloc_selftest (not built in)\n");
    }
    mm_show_buddyinfo();
    kprintf("mm: %u checks passed, %u failed\n", nr_ok, nr_fail);
    kprintf("%s\n", nr_fail ? "FAIL" : "SUCCESS");
    return nr_fail ? MINIVMM_STATUS_FAIL : MINIVMM_STATUS_OK;
}

/* ---- mm.demo ---- */

DEFINE_PER_CPU(unsigned long, demo_counter);

static void demo_count(void *arg)
{
    (void)arg;
    get_cpu_var(demo_counter)++;
    put_cpu_var(demo_counter);
}

struct lkp_obj {
    int a, b;
};

static void show_info(const char *when)
{
    drain_all_pages(); /* count pages parked on per-CPU lists as free */
    kprintf("--- %s: /proc/buddyinfo ---\n", when);
    mm_show_buddyinfo();
    if (mm_show_slabinfo) {
        kprintf("--- %s: /proc/slabinfo ---\n", when);
        mm_show_slabinfo();
    }
}

int cmd_mm_demo(const struct cmdline *cl)
{
    unsigned long size = 1, failed = 0;
    int status = MINIVMM_STATUS_OK;

    (void)cl;
    if (!mm_available())
        return MINIVMM_STATUS_FAIL;
    if (kmem_cache_init)
        kmem_cache_init(); /* the kmalloc-N caches, so "before" lists them */
    show_info("before");

    /* kmalloc doubling until it fails, then the same size with vmalloc. */
    if (kmalloc && kfree) {
        for (;; size *= 2) {
            void *p = kmalloc(size, GFP_KERNEL);

            if (!p) {
                kprintf("could not allocate %lu bytes\n", size);
                failed = size;
                break;
            }
            kfree(p);
        }
    } else {
        kprintf("mm.demo: kmalloc is not built in: skipped\n");
    }
    if (failed && vmalloc && vfree) {
        char *v = vmalloc(failed);

        if (v) {
            v[0] = 1;
            v[failed - 1] = 2;
            kprintf("vmalloc(%lu) = %p: ok\n", failed, (void *)v);
            vfree(v);
        } else {
            kprintf("vmalloc(%lu) failed\n", failed);
            status = MINIVMM_STATUS_FAIL;
        }
    } else if (failed) {
        kprintf("mm.demo: vmalloc is not built in: skipped\n");
    }

    /* An order-3 block of ints. */
    {
        unsigned long addr = __get_free_pages(GFP_KERNEL, 3);
        int *ints = (int *)addr;
        unsigned int n = (PAGE_SIZE << 3) / sizeof(int);
        long sum = 0;

        if (!addr) {
            kprintf("__get_free_pages(GFP_KERNEL, 3) failed\n");
            status = MINIVMM_STATUS_FAIL;
        } else {
            for (unsigned int i = 0; i < n; i++)
                ints[i] = (int)i;
            for (unsigned int i = 0; i < n; i++)
                sum += ints[i];
            kprintf("__get_free_pages(GFP_KERNEL, 3) = 0x%lx: %u ints, sum %ld\n", addr, n, sum);
            free_pages(addr, 3);
        }
    }

    /* A kmem_cache with two objects. */
    if (kmem_cache_create && kmem_cache_alloc && kmem_cache_free && kmem_cache_destroy) {
        struct kmem_cache *c = kmem_cache_create("lkp-cache", sizeof(struct lkp_obj), 0, 0, NULL);
        struct lkp_obj *o1 = c ? kmem_cache_alloc(c, GFP_KERNEL) : NULL;
        struct lkp_obj *o2 = c ? kmem_cache_alloc(c, GFP_KERNEL) : NULL;

        if (o1 && o2) {
            o1->a = o1->b = 42;
            o2->a = o2->b = 43;
            kprintf("lkp-cache: object %p = {%d, %d}, object %p = {%d, %d}\n", (void *)o1, o1->a,
                    o1->b, (void *)o2, o2->a, o2->b);
            show_info("with lkp-cache");
        } else {
            kprintf("lkp-cache: allocation failed\n");
            status = MINIVMM_STATUS_FAIL;
        }
        if (o1)
            kmem_cache_free(c, o1);
        if (o2)
            kmem_cache_free(c, o2);
        if (c)
            kmem_cache_destroy(c);
    } else {
        kprintf("mm.demo: kmem_cache is not built in: skipped\n");
    }

    /* A per-CPU counter incremented on every CPU. */
    {
        unsigned long sum = 0;
        unsigned int ncpu = smp_nr_cpus();

        demo_count(NULL);
        smp_call_function(demo_count, NULL);
        for (unsigned int cpu = 0; cpu < ncpu; cpu++) {
            kprintf("per-cpu counter: cpu %u: %lu\n", cpu, per_cpu(demo_counter, cpu));
            sum += per_cpu(demo_counter, cpu);
        }
        kprintf("per-cpu counter: sum %lu over %u cpus\n", sum, ncpu);
    }

    show_info("after");
    return status;
}

/* ---- mm.bench ---- */

static void bench_report(const char *what, uint64_t cycles, unsigned int n)
{
    uint64_t hz = tsc_hz();
    uint64_t per = n ? cycles / n : 0;

    kprintf("mm.bench: %-28s %6u pairs %10llu cycles/pair %8llu ns/pair\n", what, n,
            (unsigned long long)per,
            (unsigned long long)(hz ? per * 1000000000ull / hz : 0));
}

int cmd_mm_bench(const struct cmdline *cl)
{
    unsigned int iters = (unsigned int)cmdline_param_u64(cl, "mm.iters", DEFAULT_BENCH_ITERS);
    uint64_t t;

    if (!mm_available())
        return MINIVMM_STATUS_FAIL;
    kprintf("mm.bench: %u alloc/free pairs each (mm.iters=N); guest code is emulated here, "
            "~1 us per instruction\n", iters);
    for (unsigned int order = 0; order <= 3; order += 3) {
        char what[40];

        ksnprintf(what, sizeof(what), "alloc_pages/free order %u", order);
        t = rdtsc();
        for (unsigned int i = 0; i < iters; i++)
            __free_pages(alloc_pages(GFP_KERNEL, order), order);
        bench_report(what, rdtsc() - t, iters);
    }
    if (kmem_cache_create && kmem_cache_alloc && kmem_cache_free && kmem_cache_destroy) {
        struct kmem_cache *c = kmem_cache_create("bench-64", 64, 0, 0, NULL);

        if (c) {
            t = rdtsc();
            for (unsigned int i = 0; i < iters; i++)
                kmem_cache_free(c, kmem_cache_alloc(c, GFP_KERNEL));
            bench_report("kmem_cache 64 bytes", rdtsc() - t, iters);
            kmem_cache_destroy(c);
        }
    } else {
        kprintf("mm.bench: kmem_cache is not built in: skipped\n");
    }
    if (kmalloc && kfree) {
        t = rdtsc();
        for (unsigned int i = 0; i < iters; i++)
            kfree(kmalloc(256, GFP_KERNEL));
        bench_report("kmalloc-256", rdtsc() - t, iters);
    } else {
        kprintf("mm.bench: kmalloc is not built in: skipped\n");
    }
    return MINIVMM_STATUS_OK;
}
