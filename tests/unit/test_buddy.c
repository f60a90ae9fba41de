/*
 * test_buddy.c: the guest's buddy allocator (guest/mm/page_alloc.c) built on the host with
 * -DMM_HOST (tests/unit/mm/mm_env_host.h).
 *
 * "Physical" memory is a MAP_NORESERVE mapping of 4.5 GiB; physical address P lives at
 * arena + P (mm_init's base), so the fake memory maps below can have RAM at and above 4 GiB
 * (ZONE_NORMAL) while only the pages the allocator or a test touches are ever backed.
 *
 * Covered: zone set-up from a memory map with holes and reserved ranges, split and merge
 * (buddyinfo back to its start after freeing), every gfp flag's zone and the fallback
 * order, watermarks (min, __GFP_HIGH below min), per-CPU lists (batch refill, high mark,
 * remote drain), double/wrong-order/stray frees reported and refused (and fatal by default),
 * __GFP_ZERO, randomized sequences against a reference model, and threads as CPUs.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ck_loop.h"
#include "mm.h"
#include "mm_env.h"
#include "percpu.h"
#include "minivmm/util.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ARENA_SIZE (4 * GiB + 512 * MiB)

static uint8_t *arena;

/* DMA: [4 KiB, 640 KiB) and [1 MiB, 16 MiB); DMA32: [16 MiB, 160 MiB); Normal: [4 GiB,
 * 4 GiB + 64 MiB). The page array (for 4 GiB + 64 MiB of frames: ~65 MiB) lands at 16 MiB. */
static const struct mm_region map_full[] = {
    {0x1000, 0xa0000},
    {1 * MiB, 160 * MiB},
    {4 * GiB, 4 * GiB + 64 * MiB},
};
/* "Kernel image" and boot structures; plus a hole punched in DMA32. */
static const struct mm_region rsv_full[] = {
    {0, 0x30000},
    {1 * MiB, 2 * MiB + 0x5000},
    {100 * MiB + 0x3000, 101 * MiB},
};
/* Below 4 GiB only: [1 MiB, 64 MiB). */
static const struct mm_region map_small[] = {{1 * MiB, 64 * MiB}};
static const struct mm_region rsv_small[] = {{1 * MiB, 2 * MiB}};

#define N(a) ((unsigned)ARRAY_SIZE(a))

static void arena_setup(void)
{
    arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert_ptr_ne(arena, MAP_FAILED);
    mm_host_cpu = 0;
    mm_bad_page_fatal = true;
}

static void arena_teardown(void)
{
    munmap(arena, ARENA_SIZE);
}

static void init_full(void)
{
    arena_setup();
    ck_assert_int_eq(mm_init((uintptr_t)arena, map_full, N(map_full), rsv_full, N(rsv_full)), 0);
}

static void init_small(void)
{
    arena_setup();
    ck_assert_int_eq(mm_init((uintptr_t)arena, map_small, N(map_small), rsv_small, N(rsv_small)),
                     0);
}

static uint64_t pa_of(const struct page *p)
{
    return page_to_pfn(p) << PAGE_SHIFT;
}

struct snap {
    struct mm_zone_stats z[MAX_NR_ZONES];
};

static void take(struct snap *s)
{
    drain_all_pages();
    for (int z = 0; z < MAX_NR_ZONES; z++)
        mm_zone_stats((enum zone_type)z, &s->z[z]);
}

static void assert_same_buddyinfo(const struct snap *a, const struct snap *b)
{
    for (int z = 0; z < MAX_NR_ZONES; z++)
        for (int o = 0; o < MAX_ORDER; o++)
            ck_assert_msg(a->z[z].nr_free[o] == b->z[z].nr_free[o],
                          "zone %d order %d: %lu != %lu", z, o, a->z[z].nr_free[o],
                          b->z[z].nr_free[o]);
}

/* Counters and lists agree, zone by zone (lists drained first). */
static void assert_consistent(void)
{
    drain_all_pages();
    for (int z = 0; z < MAX_NR_ZONES; z++) {
        struct mm_zone_stats st;

        mm_zone_stats((enum zone_type)z, &st);
        ck_assert_uint_eq(mm_check_zone((enum zone_type)z), 0);
        ck_assert_uint_eq(st.pcp, 0);
        ck_assert_int_ge(st.allocated, 0);
        ck_assert_uint_eq(st.free + (uint64_t)st.allocated + (st.present - st.managed),
                          st.present);
    }
}

/* ---- set-up ---- */

START_TEST(test_init_zones)
{
    struct mm_zone_stats dma, dma32, normal;

    mm_zone_stats(ZONE_DMA, &dma);
    mm_zone_stats(ZONE_DMA32, &dma32);
    mm_zone_stats(ZONE_NORMAL, &normal);
    ck_assert_str_eq(dma.name, "DMA");
    ck_assert_str_eq(dma32.name, "DMA32");
    ck_assert_str_eq(normal.name, "Normal");
    /* present: RAM pages in each zone's span */
    ck_assert_uint_eq(dma.present, (0xa0000 - 0x1000) / PAGE_SIZE + (15 * MiB) / PAGE_SIZE);
    ck_assert_uint_eq(dma32.present, (144 * MiB) / PAGE_SIZE);
    ck_assert_uint_eq(normal.present, (64 * MiB) / PAGE_SIZE);
    /* managed: DMA loses [4K, 0x30000) and [1M, 2M+20K); DMA32 the page array and the hole */
    ck_assert_uint_eq(dma.managed, dma.present - (0x30000 - 0x1000) / PAGE_SIZE -
                                       (1 * MiB + 0x5000) / PAGE_SIZE);
    {
        uint64_t map_pages = (mm_max_pfn() * 64 + PAGE_SIZE - 1) / PAGE_SIZE;

        ck_assert_uint_eq(dma32.managed, dma32.present - map_pages - (1 * MiB - 0x3000) / PAGE_SIZE);
    }
    ck_assert_uint_eq(normal.managed, normal.present);
    ck_assert_uint_eq(normal.nr_free[MAX_ORDER - 1], 16); /* 64 MiB = 16 blocks of 4 MiB */
    ck_assert_uint_eq(mm_max_pfn(), (4 * GiB + 64 * MiB) >> PAGE_SHIFT);
    ck_assert(dma.populated && dma32.populated && normal.populated);
    for (int z = 0; z < MAX_NR_ZONES; z++) {
        struct mm_zone_stats st;

        mm_zone_stats((enum zone_type)z, &st);
        ck_assert_uint_eq(st.free, st.managed);
        ck_assert_int_eq(st.allocated, 0);
        /* min <= low <= high, and min per calculate_min_free_kbytes's share */
        ck_assert_uint_le(st.wmark[WMARK_MIN], st.wmark[WMARK_LOW]);
        ck_assert_uint_le(st.wmark[WMARK_LOW], st.wmark[WMARK_HIGH]);
        ck_assert_uint_gt(st.wmark[WMARK_HIGH], 0);
    }
    assert_consistent();
}
END_TEST

START_TEST(test_init_touches_few_pages)
{
    /* Only the heads of the initial blocks are non-zero struct pages (at most). */
    unsigned long heads = 0, nonzero = 0;
    static const uint8_t zero[64];

    for (int z = 0; z < MAX_NR_ZONES; z++) {
        struct mm_zone_stats st;

        mm_zone_stats((enum zone_type)z, &st);
        for (int o = 0; o < MAX_ORDER; o++)
            heads += st.nr_free[o];
    }
    for (uint64_t pfn = 0; pfn < 160 * MiB / PAGE_SIZE; pfn++)
        nonzero += memcmp(pfn_to_page(pfn), zero, 64) != 0;
    for (uint64_t pfn = 4 * GiB / PAGE_SIZE; pfn < mm_max_pfn(); pfn++)
        nonzero += memcmp(pfn_to_page(pfn), zero, 64) != 0;
    /* the first run of whole 4 MiB blocks of each zone is deferred: not even a head */
    ck_assert_uint_le(nonzero, heads - 16 - 4);
    ck_assert_uint_lt(heads, 100);
}
END_TEST

START_TEST(test_init_errors)
{
    static const struct mm_region tiny[] = {{1 * MiB, 1 * MiB + 2 * PAGE_SIZE}};

    arena_setup();
    ck_assert_int_eq(mm_init((uintptr_t)arena, map_small, 0, NULL, 0), -MM_EINVAL);
    /* no room for the page array */
    ck_assert_int_eq(mm_init((uintptr_t)arena, tiny, 1, rsv_small, 0), -MM_ENOMEM);
    arena_teardown();
}
END_TEST

START_TEST(test_reserved_never_handed_out)
{
    uint64_t n = 0;
    struct page *p;

    /* Take every page the allocator will give (GFP_ATOMIC: down to min/2). */
    while ((p = alloc_pages(GFP_ATOMIC, 0))) {
        uint64_t pa = pa_of(p);

        for (unsigned i = 0; i < N(rsv_full); i++)
            LOOP_ASSERT_MSG(pa + PAGE_SIZE <= rsv_full[i].start || pa >= rsv_full[i].end,
                            "pa 0x%jx", (uintmax_t)pa);
        /* the page array, the hole below 1 MiB */
        LOOP_ASSERT_MSG(pa >= 16 * MiB + 65 * MiB || pa < 16 * MiB || pa >= 4 * GiB, "pa 0x%jx",
                        (uintmax_t)pa);
        LOOP_ASSERT_MSG(pa < 0xa0000 || pa >= 1 * MiB, "pa 0x%jx", (uintmax_t)pa);
        LOOP_ASSERT_MSG(pa < 160 * MiB || pa >= 4 * GiB, "pa 0x%jx", (uintmax_t)pa);
        n++;
    }
    ck_assert_uint_gt(n, 30000);
}
END_TEST

/* ---- split and merge ---- */

START_TEST(test_split_merge)
{
    struct snap before, after;
    struct page *p;
    struct mm_zone_stats st;

    take(&before);
    /* order 4 bypasses the pcp lists: one order-10 block splits into 4..9 halves */
    p = alloc_pages(GFP_KERNEL, 4);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(page_zonenum(p), ZONE_NORMAL);
    mm_zone_stats(ZONE_NORMAL, &st);
    ck_assert_uint_eq(st.nr_free[10], 15);
    for (int o = 4; o < 10; o++)
        ck_assert_uint_eq(st.nr_free[o], 1);
    ck_assert_uint_eq(p->flags, PG_head);
    ck_assert_uint_eq(p->order, 4);
    __free_pages(p, 4);
    take(&after);
    assert_same_buddyinfo(&before, &after);
    assert_consistent();
}
END_TEST

START_TEST(test_deferred_blocks)
{
    /* Normal's 16 blocks are deferred: they are carved in address order; the 16th would go
     * below min and falls back to DMA32; giving them back puts them on the order-10 list
     * with buddyinfo unchanged. */
    struct page *p[16];
    struct mm_zone_stats st;
    struct snap before, after;

    take(&before);
    for (int i = 0; i < 15; i++) {
        p[i] = alloc_pages(GFP_KERNEL, MAX_ORDER - 1);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_int_eq(page_zonenum(p[i]), ZONE_NORMAL);
        ck_assert_uint_eq(pa_of(p[i]), 4 * GiB + (uint64_t)i * 4 * MiB);
    }
    mm_zone_stats(ZONE_NORMAL, &st);
    ck_assert_uint_eq(st.free, 1024);
    ck_assert_uint_eq(st.nr_free[MAX_ORDER - 1], 1);
    p[15] = alloc_pages(GFP_KERNEL, MAX_ORDER - 1);
    ck_assert_int_eq(page_zonenum(p[15]), ZONE_DMA32);
    for (int i = 0; i < 16; i++)
        __free_pages(p[i], MAX_ORDER - 1);
    take(&after);
    assert_same_buddyinfo(&before, &after);
    assert_consistent();
}
END_TEST

START_TEST(test_merge_out_of_order)
{
    struct snap before, after;
    struct page *p[64];

    take(&before);
    for (int i = 0; i < 64; i++) {
        p[i] = alloc_pages(GFP_DMA32, 0);
        ck_assert_ptr_nonnull(p[i]);
        for (int j = 0; j < i; j++)
            ck_assert_ptr_ne(p[i], p[j]);
    }
    /* free in a scrambled order */
    for (int i = 0; i < 64; i++)
        __free_pages(p[(i * 37) % 64], 0);
    take(&after);
    assert_same_buddyinfo(&before, &after);
    assert_consistent();
}
END_TEST

START_TEST(test_alignment_all_orders)
{
    for (unsigned o = 0; o < MAX_ORDER; o++) {
        struct page *p = alloc_pages(GFP_KERNEL, o);

        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(page_to_pfn(p) & ((1ull << o) - 1), 0);
        ck_assert_ptr_eq(virt_to_page(page_address(p)), p);
        ck_assert_ptr_eq(page_address(p), arena + pa_of(p));
        ck_assert_ptr_eq(virt_to_page((char *)page_address(p) + PAGE_SIZE - 1), p);
        __free_pages(p, o);
    }
    ck_assert_ptr_null(alloc_pages(GFP_KERNEL, MAX_ORDER));
    ck_assert_ptr_null(alloc_pages(GFP_KERNEL, 64));
    ck_assert_uint_eq(__get_free_pages(GFP_KERNEL, MAX_ORDER), 0);
    assert_consistent();
}
END_TEST

/* ---- zones and gfp ---- */

START_TEST(test_gfp_zones)
{
    struct {
        gfp_t gfp;
        enum zone_type zone;
    } cases[] = {
        {GFP_KERNEL, ZONE_NORMAL}, {GFP_ATOMIC, ZONE_NORMAL}, {GFP_NOWAIT, ZONE_NORMAL},
        {GFP_DMA32, ZONE_DMA32},   {GFP_DMA, ZONE_DMA},       {GFP_KERNEL | GFP_DMA, ZONE_DMA},
        {GFP_ATOMIC | GFP_DMA32, ZONE_DMA32},
    };
    for (unsigned i = 0; i < N(cases); i++)
        for (unsigned o = 0; o < MAX_ORDER; o += 3) {
            struct page *p = alloc_pages(cases[i].gfp, o);

            ck_assert_ptr_nonnull(p);
            ck_assert_int_eq(page_zonenum(p), cases[i].zone);
            __free_pages(p, o);
        }
    assert_consistent();
}
END_TEST

START_TEST(test_gfp_zones_small)
{
    /* No ZONE_NORMAL: GFP_KERNEL is served from DMA32. */
    struct page *p = alloc_pages(GFP_KERNEL, 0);
    struct mm_zone_stats st;

    ck_assert_int_eq(page_zonenum(p), ZONE_DMA32);
    __free_pages(p, 0);
    mm_zone_stats(ZONE_NORMAL, &st);
    ck_assert(!st.populated);
    ck_assert_uint_eq(st.present, 0);
    assert_consistent();
}
END_TEST

/* Take blocks with gfp until a block comes from below zone z or nothing is left. */
static unsigned long exhaust(enum zone_type z, gfp_t gfp, struct page **keep, unsigned long max)
{
    unsigned long n = 0;

    for (int o = MAX_ORDER - 1; o >= 0; o--)
        for (;;) {
            struct page *p = alloc_pages(gfp, (unsigned)o);

            if (!p)
                break;
            if (page_zonenum(p) != z) {
                __free_pages(p, (unsigned)o);
                break;
            }
            ck_assert_uint_lt(n, max);
            keep[n++] = p;
        }
    return n;
}

static void free_kept(struct page **keep, unsigned long n)
{
    while (n--)
        __free_pages(keep[n], keep[n]->order);
}

START_TEST(test_fallback_and_watermarks)
{
    static struct page *keep[3][40000];
    unsigned long n[3];
    struct snap before, after;
    struct mm_zone_stats st;
    struct page *p;

    take(&before);
    n[ZONE_NORMAL] = exhaust(ZONE_NORMAL, GFP_KERNEL, keep[2], 40000);
    mm_zone_stats(ZONE_NORMAL, &st);
    /* stopped at min (a pcp batch refill may take up to 15 more) */
    ck_assert_uint_le(st.free, st.wmark[WMARK_MIN]);
    ck_assert_uint_ge(st.free + 16, st.wmark[WMARK_MIN]);
    /* GFP_KERNEL falls back to DMA32 */
    p = alloc_pages(GFP_KERNEL, 0);
    ck_assert_int_eq(page_zonenum(p), ZONE_DMA32);
    __free_pages(p, 0);
    /* GFP_ATOMIC may use half the reserve: still Normal */
    if (st.free > st.wmark[WMARK_MIN] / 2 + 16) {
        p = alloc_pages(GFP_ATOMIC, 0);
        ck_assert_int_eq(page_zonenum(p), ZONE_NORMAL);
        __free_pages(p, 0);
    }
    /* order 4 (no pcp) is checked exactly: free - 15 must stay above min */
    p = alloc_pages(GFP_ATOMIC, 4);
    ck_assert_ptr_nonnull(p);
    __free_pages(p, 4);

    n[ZONE_DMA32] = exhaust(ZONE_DMA32, GFP_KERNEL, keep[1], 40000);
    p = alloc_pages(GFP_KERNEL, 0);
    ck_assert_int_eq(page_zonenum(p), ZONE_DMA);
    __free_pages(p, 0);
    /* DMA32 kept lowmem_reserve[Normal] from GFP_KERNEL: GFP_DMA32 may still use it */
    p = alloc_pages(GFP_DMA32, 0);
    ck_assert_int_eq(page_zonenum(p), ZONE_DMA32);
    __free_pages(p, 0);
    n[ZONE_DMA32] += exhaust(ZONE_DMA32, GFP_DMA32, keep[1] + n[ZONE_DMA32],
                             40000 - n[ZONE_DMA32]);
    p = alloc_pages(GFP_DMA32, 0);
    ck_assert_int_eq(page_zonenum(p), ZONE_DMA);
    __free_pages(p, 0);

    /* GFP_KERNEL may take DMA only down to min + lowmem_reserve[Normal] */
    n[ZONE_DMA] = exhaust(ZONE_DMA, GFP_KERNEL, keep[0], 40000);
    ck_assert_ptr_null(alloc_pages(GFP_KERNEL, 0));
    /* GFP_DMA32's protection in DMA is smaller (DMA32 only, not Normal) */
    p = alloc_pages(GFP_DMA32, 0);
    ck_assert_int_eq(page_zonenum(p), ZONE_DMA);
    __free_pages(p, 0);
    mm_zone_stats(ZONE_DMA, &st);
    ck_assert_uint_gt(st.lowmem_reserve[ZONE_NORMAL], 0);
    ck_assert_uint_ge(st.free + 16, st.wmark[WMARK_MIN] + st.lowmem_reserve[ZONE_NORMAL]);
    /* ... the rest is for GFP_DMA */
    n[ZONE_DMA] += exhaust(ZONE_DMA, GFP_DMA, keep[0] + n[ZONE_DMA], 40000 - n[ZONE_DMA]);
    mm_zone_stats(ZONE_DMA, &st);
    ck_assert_uint_le(st.free, st.wmark[WMARK_MIN]);
    ck_assert_ptr_null(alloc_pages(GFP_DMA, 0));
    ck_assert_uint_eq(get_zeroed_page(GFP_NOWAIT), 0);
    /* GFP_ATOMIC still finds pages below min in some zone */
    p = alloc_pages(GFP_ATOMIC, 0);
    ck_assert_ptr_nonnull(p);
    __free_pages(p, 0);

    for (int z = 0; z < 3; z++)
        free_kept(keep[z], n[z]);
    take(&after);
    assert_same_buddyinfo(&before, &after);
    assert_consistent();
}
END_TEST

START_TEST(test_lowmem_reserve)
{
    /* setup_per_zone_lowmem_reserve, ratio 256: zone z keeps managed(z+1..j) / 256 from
     * requests whose preferred zone is j. */
    struct mm_zone_stats st[3];

    for (int z = 0; z < 3; z++)
        mm_zone_stats((enum zone_type)z, &st[z]);
    ck_assert_uint_eq(st[ZONE_DMA].lowmem_reserve[ZONE_DMA], 0);
    ck_assert_uint_eq(st[ZONE_DMA].lowmem_reserve[ZONE_DMA32], st[ZONE_DMA32].managed / 256);
    ck_assert_uint_eq(st[ZONE_DMA].lowmem_reserve[ZONE_NORMAL],
                      (st[ZONE_DMA32].managed + st[ZONE_NORMAL].managed) / 256);
    ck_assert_uint_eq(st[ZONE_DMA32].lowmem_reserve[ZONE_DMA32], 0);
    ck_assert_uint_eq(st[ZONE_DMA32].lowmem_reserve[ZONE_NORMAL], st[ZONE_NORMAL].managed / 256);
    ck_assert_uint_eq(st[ZONE_NORMAL].lowmem_reserve[ZONE_NORMAL], 0);
}
END_TEST

START_TEST(test_watermark_formula)
{
    /* calculate_min_free_kbytes: int_sqrt(lowmem_kbytes * 16), split by managed pages;
     * low = min + max(min/4, managed/1000), high = low + the same. */
    uint64_t managed = 0, kbytes, r = 0;
    struct mm_zone_stats st[3];

    for (int z = 0; z < 3; z++) {
        mm_zone_stats((enum zone_type)z, &st[z]);
        managed += st[z].managed;
    }
    kbytes = managed * 4 * 16;
    while ((r + 1) * (r + 1) <= kbytes)
        r++;
    if (r < 128)
        r = 128;
    for (int z = 0; z < 3; z++) {
        uint64_t min = (r / 4) * st[z].managed / managed;
        uint64_t tmp = st[z].managed / 1000 > min / 4 ? st[z].managed / 1000 : min / 4;

        ck_assert_uint_eq(st[z].wmark[WMARK_MIN], min);
        ck_assert_uint_eq(st[z].wmark[WMARK_LOW], min + tmp);
        ck_assert_uint_eq(st[z].wmark[WMARK_HIGH], min + 2 * tmp);
    }
}
END_TEST

START_TEST(test_gfp_zero)
{
    struct page *p = alloc_pages(GFP_KERNEL, 2);
    uint8_t *m = page_address(p);
    unsigned long a;

    memset(m, 0xa5, 4 * PAGE_SIZE);
    __free_pages(p, 2);
    p = alloc_pages(GFP_KERNEL | __GFP_ZERO, 2);
    m = page_address(p);
    for (size_t i = 0; i < 4 * PAGE_SIZE; i++)
        ck_assert_uint_eq(m[i], 0);
    __free_pages(p, 2);
    a = get_zeroed_page(GFP_DMA);
    ck_assert_uint_ne(a, 0);
    ck_assert_int_eq(page_zonenum(virt_to_page((void *)a)), ZONE_DMA);
    free_pages(a, 0);
    free_pages(0, 3); /* no-op */
    assert_consistent();
}
END_TEST

/* ---- per-CPU lists ---- */

START_TEST(test_pcp_batch_and_high)
{
    struct mm_zone_stats st;
    struct page *p[200];

    drain_all_pages();
    p[0] = alloc_pages(GFP_KERNEL, 0);
    mm_zone_stats(ZONE_NORMAL, &st);
    ck_assert_uint_eq(st.pcp, 15); /* a batch of 16, one handed out */
    __free_pages(p[0], 0);
    ck_assert_ptr_eq(alloc_pages(GFP_KERNEL, 0), p[0]); /* LIFO: the hot page */
    for (int i = 1; i < 200; i++)
        p[i] = alloc_pages(GFP_KERNEL, 0);
    for (int i = 0; i < 200; i++)
        __free_pages(p[i], 0);
    mm_zone_stats(ZONE_NORMAL, &st);
    ck_assert_uint_le(st.pcp, 64); /* never above high */
    ck_assert_uint_gt(st.pcp, 0);
    /* order 3 lists: batch 2 blocks */
    drain_local_pages();
    p[0] = alloc_pages(GFP_KERNEL, 3);
    mm_zone_stats(ZONE_NORMAL, &st);
    ck_assert_uint_eq(st.pcp, 8);
    __free_pages(p[0], 3);
    drain_local_pages();
    mm_zone_stats(ZONE_NORMAL, &st);
    ck_assert_uint_eq(st.pcp, 0);
    assert_consistent();
}
END_TEST

START_TEST(test_pcp_cross_cpu)
{
    struct page *p[40];
    struct snap before, after;

    take(&before);
    mm_host_cpu = 1;
    for (int i = 0; i < 40; i++)
        p[i] = alloc_pages(GFP_DMA32, i % 4);
    mm_host_cpu = 2;
    for (int i = 0; i < 40; i++)
        __free_pages(p[i], i % 4);
    mm_host_cpu = 0;
    drain_local_pages(); /* CPU 0's lists only: CPUs 1 and 2 still hold pages */
    {
        struct mm_zone_stats st;

        mm_zone_stats(ZONE_DMA32, &st);
        ck_assert_uint_gt(st.pcp, 0);
    }
    take(&after); /* drain_all_pages */
    assert_same_buddyinfo(&before, &after);
    assert_consistent();
}
END_TEST

/* ---- bad frees ---- */

START_TEST(test_bad_frees_reported)
{
    struct snap before, after;
    unsigned long c0 = mm_bad_page_count;
    struct page *p, *q;

    mm_bad_page_fatal = false;
    take(&before);
    p = alloc_pages(GFP_KERNEL, 2);
    q = alloc_pages(GFP_KERNEL, 5);
    __free_pages(p, 1); /* wrong order */
    ck_assert_uint_eq(mm_bad_page_count, c0 + 1);
    __free_pages(p, 2);
    __free_pages(p, 2); /* double free (on the pcp list) */
    ck_assert_uint_eq(mm_bad_page_count, c0 + 2);
    __free_pages(&q[3], 0); /* tail page of an allocated block */
    ck_assert_uint_eq(mm_bad_page_count, c0 + 3);
    __free_pages(&q[1], 1); /* misaligned for the order */
    ck_assert_uint_eq(mm_bad_page_count, c0 + 4);
    __free_pages(q, 5);
    __free_pages(q, 5); /* double free (in the buddy lists) */
    ck_assert_uint_eq(mm_bad_page_count, c0 + 5);
    __free_pages(q, MAX_ORDER); /* bad order */
    ck_assert_uint_eq(mm_bad_page_count, c0 + 6);
    drain_all_pages();
    __free_pages(p, 2); /* double free after the drain (merged, not a head any more) */
    ck_assert_uint_eq(mm_bad_page_count, c0 + 7);
    take(&after);
    assert_same_buddyinfo(&before, &after);
    assert_consistent();
}
END_TEST

START_TEST(test_double_free_fatal)
{
    struct page *p = alloc_pages(GFP_KERNEL, 0);

    __free_pages(p, 0);
    __free_pages(p, 0); /* mm_bad_page_fatal (default): abort() */
}
END_TEST

/* ---- randomized sequences against a reference model ---- */

struct ref_block {
    struct page *page;
    unsigned order;
    uint64_t tag;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#define REF_SLOTS 512

START_TEST(test_random_vs_model)
{
    static struct ref_block slot[REF_SLOTS];
    static uint8_t owner[(4 * GiB + 64 * MiB) / PAGE_SIZE]; /* reference: pfn in use */
    static const gfp_t gfps[] = {GFP_KERNEL, GFP_ATOMIC, GFP_DMA32, GFP_DMA, GFP_NOWAIT};
    struct snap before, after;
    uint64_t model_alloc[MAX_NR_ZONES] = {0};

    memset(slot, 0, sizeof(slot));
    memset(owner, 0, sizeof(owner));
    rng_state = 0x1234567890abcdefull + (uint64_t)_i;
    take(&before);
    for (int step = 0; step < 20000; step++) {
        unsigned k = (unsigned)(rng() % REF_SLOTS);

        if (slot[k].page) {
            struct page *p = slot[k].page;
            uint64_t pfn = page_to_pfn(p);

            LOOP_ASSERT_MSG(*(uint64_t *)page_address(p) == slot[k].tag, "step %d", step);
            for (uint64_t i = 0; i < (1ull << slot[k].order); i++)
                owner[pfn + i] = 0;
            model_alloc[page_zonenum(p)] -= 1ull << slot[k].order;
            mm_host_cpu = (unsigned)(rng() % 3);
            __free_pages(p, slot[k].order);
            slot[k].page = NULL;
        } else {
            unsigned order = (unsigned)(rng() % 8 == 0 ? rng() % MAX_ORDER : rng() % 4);
            gfp_t gfp = gfps[rng() % N(gfps)];
            struct page *p;
            uint64_t pfn;
            enum zone_type z;

            mm_host_cpu = (unsigned)(rng() % 3);
            p = alloc_pages(gfp, order);
            if (!p)
                continue;
            pfn = page_to_pfn(p);
            z = page_zonenum(p);
            LOOP_ASSERT_MSG((pfn & ((1ull << order) - 1)) == 0, "step %d", step);
            if (gfp & __GFP_DMA)
                LOOP_ASSERT_MSG(z == ZONE_DMA, "step %d", step);
            if (gfp & __GFP_DMA32)
                LOOP_ASSERT_MSG(z <= ZONE_DMA32, "step %d", step);
            for (uint64_t i = 0; i < (1ull << order); i++) {
                LOOP_ASSERT_MSG(!owner[pfn + i], "pfn 0x%llx handed out twice",
                                (unsigned long long)(pfn + i));
                owner[pfn + i] = 1;
            }
            slot[k].page = p;
            slot[k].order = order;
            slot[k].tag = rng();
            *(uint64_t *)page_address(p) = slot[k].tag;
            model_alloc[z] += 1ull << order;
        }
        if (step % 2000 == 0) {
            for (int z = 0; z < MAX_NR_ZONES; z++) {
                struct mm_zone_stats st;

                mm_zone_stats((enum zone_type)z, &st);
                ck_assert_int_eq(st.allocated, (int64_t)model_alloc[z]);
            }
            assert_consistent();
        }
    }
    for (unsigned k = 0; k < REF_SLOTS; k++)
        if (slot[k].page)
            __free_pages(slot[k].page, slot[k].order);
    mm_host_cpu = 0;
    take(&after);
    assert_same_buddyinfo(&before, &after);
    assert_consistent();
}
END_TEST

/* ---- threads as CPUs ---- */

#define NTHREADS 4

static void *thread_worker(void *arg)
{
    unsigned cpu = (unsigned)(uintptr_t)arg;
    struct page *held[32] = {0};
    uint64_t x = 0x9e3779b97f4a7c15ull * (cpu + 1);
    uintptr_t errors = 0;

    mm_host_cpu = cpu;
    for (int i = 0; i < 20000; i++) {
        unsigned k;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        k = (unsigned)(x % 32);
        if (held[k]) {
            if (*(uint64_t *)page_address(held[k]) != (page_to_pfn(held[k]) ^ cpu))
                errors++;
            __free_pages(held[k], held[k]->order);
            held[k] = NULL;
        } else {
            held[k] = alloc_pages(x & 0x100 ? GFP_KERNEL : GFP_DMA32, (unsigned)((x >> 20) % 5));
            if (held[k])
                *(uint64_t *)page_address(held[k]) = page_to_pfn(held[k]) ^ cpu;
        }
        if (cpu == 0 && i % 5000 == 0)
            drain_all_pages(); /* remote drains while the others run */
    }
    for (int k = 0; k < 32; k++)
        if (held[k])
            __free_pages(held[k], held[k]->order);
    return (void *)errors;
}

START_TEST(test_threads)
{
    pthread_t t[NTHREADS];
    struct snap before, after;

    take(&before);
    for (uintptr_t i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_worker, (void *)i), 0);
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;

        pthread_join(t[i], &ret);
        ck_assert_ptr_null(ret);
    }
    take(&after);
    assert_same_buddyinfo(&before, &after);
    assert_consistent();
}
END_TEST

/* ---- reports ---- */

START_TEST(test_buddyinfo_format)
{
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    FILE *saved = stdout;

    ck_assert_ptr_nonnull(f);
    stdout = f;
    mm_show_buddyinfo();
    fflush(f);
    stdout = saved;
    fclose(f);
    /* "Node %d, zone %8s " then "%6lu " per order */
    ck_assert_msg(strncmp(buf, "Node 0, zone      DMA ", 22) == 0, "%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "\nNode 0, zone    DMA32 "));
    ck_assert_ptr_nonnull(strstr(buf, "\nNode 0, zone   Normal      0      0      0      0      0"
                                      "      0      0      0      0      0     16 \n"));
}
END_TEST

/* ---- per-CPU variables ---- */

DEFINE_PER_CPU(unsigned long, test_counter);
struct test_pair {
    int a;
    int b;
};
DEFINE_PER_CPU_STATIC(struct test_pair, test_pair);

START_TEST(test_percpu)
{
    unsigned long sum = 0;

    for (unsigned cpu = 0; cpu < MM_NR_CPUS; cpu++) {
        mm_host_cpu = cpu;
        for (unsigned i = 0; i <= cpu; i++) {
            get_cpu_var(test_counter)++;
            get_cpu_var(test_counter) += 0; /* nested */
            put_cpu_var(test_counter);
            put_cpu_var(test_counter);
        }
        this_cpu_ptr(test_pair)->a = (int)cpu;
    }
    mm_host_cpu = 0;
    for (unsigned cpu = 0; cpu < MM_NR_CPUS; cpu++) {
        ck_assert_uint_eq(per_cpu(test_counter, cpu), cpu + 1);
        ck_assert_int_eq(per_cpu_ptr(test_pair, cpu)->a, (int)cpu);
        sum += per_cpu(test_counter, cpu);
    }
    ck_assert_uint_eq(sum, MM_NR_CPUS * (MM_NR_CPUS + 1) / 2);
    ck_assert_uint_eq((uintptr_t)&per_cpu(test_counter, 0) % 64, 0);
}
END_TEST

static Suite *buddy_suite(void)
{
    Suite *s = suite_create("buddy");
    TCase *tc = tcase_create("full");
    TCase *small = tcase_create("small");
    TCase *bare = tcase_create("bare");

    tcase_add_checked_fixture(tc, init_full, arena_teardown);
    /* Each test: < 0.1 s here (ck_loop.h keeps the model's loops cheap), but the fixture's
     * 4 GiB arena takes ~1.5 s to set up under valgrind. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_init_zones);
    tcase_add_test(tc, test_init_touches_few_pages);
    tcase_add_test(tc, test_reserved_never_handed_out);
    tcase_add_test(tc, test_split_merge);
    tcase_add_test(tc, test_merge_out_of_order);
    tcase_add_test(tc, test_deferred_blocks);
    tcase_add_test(tc, test_alignment_all_orders);
    tcase_add_test(tc, test_gfp_zones);
    tcase_add_test(tc, test_fallback_and_watermarks);
    tcase_add_test(tc, test_watermark_formula);
    tcase_add_test(tc, test_lowmem_reserve);
    tcase_add_test(tc, test_gfp_zero);
    tcase_add_test(tc, test_pcp_batch_and_high);
    tcase_add_test(tc, test_pcp_cross_cpu);
    tcase_add_test(tc, test_bad_frees_reported);
    tcase_add_test_raise_signal(tc, test_double_free_fatal, SIGABRT);
    tcase_add_loop_test(tc, test_random_vs_model, 0, 3);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_buddyinfo_format);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(small, init_small, arena_teardown);
    tcase_add_test(small, test_gfp_zones_small);
    suite_add_tcase(s, small);

    tcase_add_test(bare, test_init_errors);
    tcase_add_test(bare, test_percpu);
    suite_add_tcase(s, bare);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(buddy_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
