/*
 * test_slab.c: the guest's slab allocator and kmalloc (guest/mm/slab.c, kmalloc.c) built
 * for the host with -DMM_HOST, on top of the real buddy allocator (page_alloc.c) whose
 * "physical memory" is an anonymous mapping (the arena).
 *
 * Every test runs in its own forked child (CK_FORK) with a fresh arena, so allocator state
 * never leaks from one test into the next. "CPUs" are simulated by setting mm_host_cpu
 * (tests/unit/mm/mm_env_host.h): objects allocated on one CPU and freed on another exercise
 * the remote-free slow path exactly as two guest CPUs would.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ck_loop.h"
#include "mm.h"
#include "mm_env.h"
#include "slab.h"
#include "minivmm/util.h"

#define ARENA_SIZE (32ul << 20)

static void *arena;

static void setup(void)
{
    struct mm_region ram = {0, ARENA_SIZE};

    /* Anonymous memory is zero and faulted in as the allocator touches it: clearing 32 MiB
     * up front cost ~0.1 s per test here (8192 page faults), more than most tests. */
    arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert_ptr_ne(arena, MAP_FAILED);
    ck_assert_int_eq(mm_init((uintptr_t)arena, &ram, 1, NULL, 0), 0);
    ck_assert_int_eq(kmem_cache_init(), 0);
    mm_host_cpu = 0;
}

static void teardown(void)
{
    munmap(arena, ARENA_SIZE);
    arena = NULL;
}

/* Check asserts are slow (each is recorded): compare buffers first, assert once. */
static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static int64_t pages_allocated(void)
{
    struct mm_zone_stats st;
    int64_t n = 0;

    for (int z = 0; z < MAX_NR_ZONES; z++) {
        mm_zone_stats((enum zone_type)z, &st);
        n += st.allocated;
    }
    return n;
}

START_TEST(selftest_passes)
{
    ck_assert_int_eq(slab_selftest(), 0);
}
END_TEST

START_TEST(alloc_free_returns_pages_on_destroy)
{
    int64_t base = pages_allocated();
    struct kmem_cache *s = kmem_cache_create("t-64", 64, 0, 0, NULL);
    void *o[1000];

    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < 1000; i++) {
        o[i] = kmem_cache_alloc(s, GFP_KERNEL);
        ck_assert_ptr_nonnull(o[i]);
        memset(o[i], i & 0xff, 64);
    }
    ck_assert_int_ge(pages_allocated() - base, 1000 / 64);
    for (int i = 0; i < 1000; i++) {
        ck_assert(all_bytes(o[i], 64, (uint8_t)i));
        kmem_cache_free(s, o[i]);
    }
    ck_assert_int_eq(kmem_cache_destroy(s), 0);
    /* Only the kmem_cache cache's slab (holding nothing now) may remain. */
    ck_assert_int_le(pages_allocated() - base, 2);
}
END_TEST

static int ctor_calls;

static void count_ctor(void *obj)
{
    ctor_calls++;
    memset(obj, 0x42, 24);
}

START_TEST(ctor_runs_once_per_object)
{
    struct kmem_cache *s = kmem_cache_create("t-ctor", 24, 0, 0, count_ctor);
    void *a;

    ck_assert_ptr_nonnull(s);
    a = kmem_cache_alloc(s, GFP_KERNEL);
    ck_assert_int_eq(((uint8_t *)a)[23], 0x42);
    ck_assert_int_eq(ctor_calls, (int)s->objects); /* the whole new slab */
    kmem_cache_free(s, a);
    a = kmem_cache_alloc(s, GFP_KERNEL);
    ck_assert_int_eq(ctor_calls, (int)s->objects); /* reuse: no second ctor call */
    kmem_cache_free(s, a);
    ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

static const struct {
    unsigned int size, align, flags, want_align;
} align_cases[] = {
    {40, 32, 0, 32},
    {8, 0, SLAB_HWCACHE_ALIGN, 8},
    {20, 0, SLAB_HWCACHE_ALIGN, 32},
    {33, 0, SLAB_HWCACHE_ALIGN, 64},
    {100, 0, SLAB_HWCACHE_ALIGN, 64},
    {100, 256, SLAB_HWCACHE_ALIGN, 256},
    {3, 0, 0, 8},
    {4000, 4096, 0, 4096},
};

START_TEST(alignment)
{
    struct kmem_cache *s = kmem_cache_create("t-align", align_cases[_i].size, align_cases[_i].align,
                                             align_cases[_i].flags, NULL);
    void *o[20];

    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->align, align_cases[_i].want_align);
    for (int i = 0; i < 20; i++) {
        o[i] = kmem_cache_alloc(s, GFP_KERNEL);
        ck_assert_ptr_nonnull(o[i]);
        ck_assert_uint_eq((uintptr_t)o[i] % align_cases[_i].want_align, 0);
        memset(o[i], 0xee, align_cases[_i].size);
    }
    for (int i = 0; i < 20; i++)
        kmem_cache_free(s, o[i]);
    ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(bad_arguments_fail)
{
    ck_assert_ptr_null(kmem_cache_create("t", 0, 0, 0, NULL));
    ck_assert_ptr_null(kmem_cache_create("t", 64, 24, 0, NULL));
    ck_assert_ptr_null(kmem_cache_create("t", 64, 8192, 0, NULL));
    ck_assert_ptr_null(kmem_cache_create(NULL, 64, 0, 0, NULL));
    ck_assert_ptr_null(kmem_cache_create("t", (unsigned int)(PAGE_SIZE << MAX_ORDER), 0, 0, NULL));
}
END_TEST

START_TEST(slab_panic_bugs)
{
    kmem_cache_create("t", 0, 0, SLAB_PANIC, NULL); /* abort() in mm_bug */
}
END_TEST

START_TEST(dma_cache_pages_from_zone_dma)
{
    struct kmem_cache *s = kmem_cache_create("t-dma", 512, 0, SLAB_CACHE_DMA, NULL);
    void *o[20];

    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < 20; i++) {
        o[i] = kmem_cache_alloc(s, GFP_KERNEL);
        ck_assert_ptr_nonnull(o[i]);
        ck_assert_int_eq(page_zonenum(virt_to_page(o[i])), ZONE_DMA);
    }
    for (int i = 0; i < 20; i++)
        kmem_cache_free(s, o[i]);
    ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(free_to_wrong_cache_bugs)
{
    struct kmem_cache *a = kmem_cache_create("t-a", 64, 0, 0, NULL);
    struct kmem_cache *b = kmem_cache_create("t-b", 64, 0, 0, NULL);

    kmem_cache_free(b, kmem_cache_alloc(a, GFP_KERNEL)); /* BUG: abort() */
}
END_TEST

START_TEST(kfree_of_foreign_pointer_bugs)
{
    struct page *page = alloc_page(GFP_KERNEL);
    char *p = page_address(page);

    kfree(p + 64); /* not a slab object, not the start of a kmalloc_large block */
}
END_TEST

START_TEST(poison_overwrite_reported)
{
    struct kmem_cache *s = kmem_cache_create("t-poison", 100, 0, SLAB_POISON, NULL);
    uint8_t *o;
    unsigned long before;

    ck_assert_ptr_nonnull(s);
    o = kmem_cache_alloc(s, GFP_KERNEL);
    kmem_cache_free(s, o);
    ck_assert(all_bytes(o, 99, 0x6b));
    ck_assert_int_eq(o[99], 0xa5);
    before = slab_nr_reports();
    o[57] = 0x11;
    o[58] = 0x22;
    ck_assert_ptr_eq(kmem_cache_alloc(s, GFP_KERNEL), o);
    ck_assert_uint_eq(slab_nr_reports(), before + 1);
    ck_assert_int_eq(o[57], 0x6b); /* FIX: restored */
    kmem_cache_free(s, o);
    /* Corrupting the last byte (0xa5) is a poison overwrite too. */
    o[99] = 0x6b;
    before = slab_nr_reports();
    kmem_cache_alloc(s, GFP_KERNEL);
    ck_assert_uint_eq(slab_nr_reports(), before + 1);
    kmem_cache_free(s, o);
    ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

/* Run fn with stdout (mm_printf) captured into buf. */
static void capture_stdout(void (*fn)(void *), void *arg, char *buf, size_t size)
{
    FILE *f = tmpfile();
    int saved = dup(STDOUT_FILENO);
    size_t n;

    ck_assert_ptr_nonnull(f);
    fflush(stdout);
    dup2(fileno(f), STDOUT_FILENO);
    fn(arg);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(f);
    n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
}

static void corrupt_and_alloc(void *arg)
{
    struct kmem_cache *s = arg;
    uint8_t *o = kmem_cache_alloc(s, GFP_KERNEL);

    kmem_cache_free(s, o);
    o[5] = 0x11;
    kmem_cache_alloc(s, GFP_KERNEL);
}

START_TEST(poison_report_format)
{
    struct kmem_cache *s = kmem_cache_create("t-fmt", 32, 0, SLAB_POISON, NULL);
    char buf[4096], want[128];

    capture_stdout(corrupt_and_alloc, s, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "BUG t-fmt: Poison overwritten\n"));
    ck_assert_ptr_nonnull(strstr(buf, ". First byte 0x11 instead of 0x6b\n"));
    ck_assert_ptr_nonnull(strstr(buf, "INFO: object t-fmt byte 5 of 32 is 0x11\n"));
    ck_assert_ptr_nonnull(strstr(buf, "INFO: Object 0x"));
    ck_assert_ptr_nonnull(strstr(buf, "FIX t-fmt: Restoring Poison 0x"));
    snprintf(want, sizeof(want), "@offset=%d. First byte", 5); /* first object of the slab */
    ck_assert_ptr_nonnull(strstr(buf, want));
}
END_TEST

START_TEST(unpoisoned_cache_untouched)
{
    struct kmem_cache *s = kmem_cache_create("t-plain", 100, 0, 0, NULL);
    uint8_t *o;

    o = kmem_cache_alloc(s, GFP_KERNEL);
    memset(o, 0x33, 100);
    kmem_cache_free(s, o);
    /* Only the free pointer (the mid-object word) changed: no poison was written. */
    ck_assert_uint_eq(s->offset, 48);
    ck_assert(all_bytes(o, 48, 0x33));
    ck_assert(all_bytes(o + 56, 44, 0x33));
    kmem_cache_destroy(s);
}
END_TEST

START_TEST(redzone_overwrite_reported)
{
    struct kmem_cache *s = kmem_cache_create("t-red", 64, 0, SLAB_RED_ZONE | SLAB_POISON, NULL);
    uint8_t *o;
    unsigned long before;

    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->inuse, 72); /* a whole word of red zone after a 64-byte object */
    o = kmem_cache_alloc(s, GFP_KERNEL);
    for (int i = 64; i < 72; i++)
        ck_assert_int_eq(o[i], 0xcc);
    before = slab_nr_reports();
    o[70] = 0;
    kmem_cache_free(s, o);
    ck_assert_uint_eq(slab_nr_reports(), before + 1);
    for (int i = 64; i < 72; i++)
        ck_assert_int_eq(o[i], 0xbb);
    /* Overwrite while free: reported at the next alloc. */
    o[64] = 0;
    before = slab_nr_reports();
    ck_assert_ptr_eq(kmem_cache_alloc(s, GFP_KERNEL), o);
    ck_assert_uint_eq(slab_nr_reports(), before + 1);
    kmem_cache_free(s, o);
    /* Double free refused. */
    before = slab_nr_reports();
    kmem_cache_free(s, o);
    ck_assert_uint_eq(slab_nr_reports(), before + 1);
    ck_assert_ptr_eq(kmem_cache_alloc(s, GFP_KERNEL), o);
    ck_assert_ptr_ne(kmem_cache_alloc(s, GFP_KERNEL), o);
}
END_TEST

START_TEST(invalid_pointer_refused)
{
    struct kmem_cache *s = kmem_cache_create("t-red2", 64, 0, SLAB_RED_ZONE, NULL);
    uint8_t *o = kmem_cache_alloc(s, GFP_KERNEL);
    unsigned long before = slab_nr_reports();

    kmem_cache_free(s, o + 8);
    ck_assert_uint_eq(slab_nr_reports(), before + 1);
    kmem_cache_free(s, o);
    ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(destroy_with_live_objects_refused)
{
    struct kmem_cache *s = kmem_cache_create("t-live", 32, 0, 0, NULL);
    void *a, *b;

    a = kmem_cache_alloc(s, GFP_KERNEL);
    mm_host_cpu = 3;
    b = kmem_cache_alloc(s, GFP_KERNEL);
    ck_assert_int_eq(kmem_cache_destroy(s), -EBUSY);
    kmem_cache_free(s, a); /* freed on another CPU than it came from */
    ck_assert_int_eq(kmem_cache_destroy(s), -EBUSY);
    mm_host_cpu = 0;
    kmem_cache_free(s, b);
    ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

static const struct {
    size_t size, class;
} kmalloc_cases[] = {
    {1, 8},           {7, 8},       {8, 8},       {9, 16},       {16, 16},       {17, 32},
    {32, 32},         {33, 64},     {64, 64},     {65, 96},      {96, 96},       {97, 128},
    {128, 128},       {129, 192},   {192, 192},   {193, 256},    {256, 256},     {257, 512},
    {512, 512},       {513, 1024},  {1024, 1024}, {1025, 2048},  {2048, 2048},   {2049, 4096},
    {4096, 4096},     {4097, 8192}, {8192, 8192}, {8193, 16384}, {12288, 16384}, {16385, 32768},
    {100000, 131072},
};

START_TEST(kmalloc_classes)
{
    size_t size = kmalloc_cases[_i].size;
    uint8_t *p = kmalloc(size, GFP_KERNEL);
    struct page *page;

    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(ksize(p), kmalloc_cases[_i].class);
    memset(p, 0xab, ksize(p));
    page = virt_to_page(p);
    if (size <= KMALLOC_MAX_CACHE_SIZE) {
        ck_assert(page->flags & PG_slab);
        ck_assert_uint_eq(kmalloc_slab(size, 0)->object_size, kmalloc_cases[_i].class);
    } else {
        ck_assert(!(page->flags & PG_slab));
        ck_assert(page->flags & PG_head);
        ck_assert_uint_eq(PAGE_SIZE << page->order, kmalloc_cases[_i].class);
        ck_assert_uint_eq((uintptr_t)p % PAGE_SIZE, 0);
    }
    kfree(p);
}
END_TEST

START_TEST(kmalloc_large_and_too_large)
{
    int64_t base = pages_allocated();
    void *p = kmalloc(PAGE_SIZE << 9, GFP_KERNEL); /* 2 MiB: order 9 */

    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(pages_allocated() - base, 512);
    kfree(p);
    ck_assert_int_eq(pages_allocated(), base);
    ck_assert_ptr_null(kmalloc((PAGE_SIZE << (MAX_ORDER - 1)) + 1, GFP_KERNEL));
    ck_assert_ptr_null(kmalloc(SIZE_MAX, GFP_KERNEL | __GFP_NOWARN));
    ck_assert_ptr_null(kmalloc(SIZE_MAX / 2, GFP_KERNEL | __GFP_NOWARN));
    ck_assert_int_eq(pages_allocated(), base);
    /* 4 MiB fits the largest order but a 32 MiB arena with a hole for the page map cannot
     * always provide it: either answer is clean. */
    p = kmalloc(PAGE_SIZE << (MAX_ORDER - 1), GFP_KERNEL | __GFP_NOWARN);
    kfree(p);
    ck_assert_int_eq(pages_allocated(), base);
}
END_TEST

START_TEST(kmalloc_zero_and_dma)
{
    uint8_t *p = kzalloc(300, GFP_KERNEL);

    ck_assert(all_bytes(p, 300, 0));
    kfree(p);
    ck_assert_ptr_eq(kmalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
    kfree(ZERO_SIZE_PTR);
    kfree(NULL);
    p = kmalloc(100, GFP_DMA);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(page_zonenum(virt_to_page(p)), ZONE_DMA);
    ck_assert_str_eq(kmem_cache_name(virt_to_page(p)->slab_cache), "dma-kmalloc-128");
    kfree(p);
}
END_TEST

START_TEST(multipage_slab_kfree_from_tail_page)
{
    void *o[16];

    /* kmalloc-4k and -8k use multi-page slabs: objects in tail pages must find the head. */
    for (int i = 0; i < 16; i++) {
        o[i] = kmalloc(i & 1 ? 8000 : 3000, GFP_KERNEL);
        ck_assert_ptr_nonnull(o[i]);
        memset(o[i], i, i & 1 ? 8000 : 3000);
    }
    for (int i = 0; i < 16; i++)
        kfree(o[i]);
}
END_TEST

START_TEST(slabinfo_format)
{
    char buf[8192], *row;
    FILE *f = tmpfile();
    int saved = dup(STDOUT_FILENO);
    struct kmem_cache *s = kmem_cache_create("t-info", 64, 0, 0, NULL);
    void *a = kmem_cache_alloc(s, GFP_KERNEL);
    size_t n;

    fflush(stdout);
    dup2(fileno(f), STDOUT_FILENO);
    mm_show_slabinfo();
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    ck_assert(strncmp(buf,
                      "slabinfo - version: 2.1\n# name            <active_objs> <num_objs> "
                      "<objsize> <objperslab> <pagesperslab> : tunables <limit> "
                      "<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> "
                      "<sharedavail>\n",
                      strlen("slabinfo - version: 2.1\n")) == 0);
    row = strstr(buf, "\nt-info ");
    ck_assert_ptr_nonnull(row);
    ck_assert(strncmp(row + 1,
                      "t-info                 1     64     64   64    1 : tunables    0    0    0 "
                      ": slabdata      1      1      0\n",
                      strlen("t-info                 1     64     64   64    1 : tunables    0"
                             "    0    0 : slabdata      1      1      0\n")) == 0);
    ck_assert_ptr_nonnull(strstr(buf, "\nkmalloc-8k "));
    ck_assert_ptr_nonnull(strstr(buf, "\nkmalloc-96 "));
    kmem_cache_free(s, a);
}
END_TEST

/* ---- randomized alloc/free against a reference model ---- */

#define LIVE_MAX 512

struct live {
    uint8_t *p;
    size_t size;
    uint8_t fill;
    int kind; /* 0 kmalloc, 1 cache a (poison+redzone), 2 cache b */
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t random_size(void)
{
    switch (rnd() % 8) {
    case 0:
        return 1 + rnd() % 8192;
    case 1:
        return 8193 + rnd() % 40000;
    default:
        return 1 + rnd() % 300;
    }
}

START_TEST(randomized_against_model)
{
    static struct live live[LIVE_MAX];
    struct kmem_cache *a = kmem_cache_create("t-rand-a", 72, 0, SLAB_POISON | SLAB_RED_ZONE, NULL);
    struct kmem_cache *b = kmem_cache_create("t-rand-b", 200, 0, SLAB_HWCACHE_ALIGN, NULL);
    unsigned long reports = slab_nr_reports();
    int64_t base = pages_allocated();
    int n = 0;

    rng_state = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
    for (int op = 0; op < 40000; op++) {
        mm_host_cpu = (unsigned int)(rnd() % 4); /* objects move between "CPUs" */
        if (n < LIVE_MAX && (n == 0 || rnd() % 100 < 55)) {
            struct live *l = &live[n];

            l->kind = (int)(rnd() % 3);
            l->size = l->kind == 0 ? random_size() : l->kind == 1 ? 72 : 200;
            l->p = l->kind == 0 ? kmalloc(l->size, GFP_KERNEL)
                                : kmem_cache_alloc(l->kind == 1 ? a : b, GFP_KERNEL);
            if (!l->p || ksize(l->p) < l->size)
                ck_abort_msg("alloc %zu (kind %d) failed or too small", l->size, l->kind);
            l->fill = (uint8_t)rnd();
            memset(l->p, l->fill, l->size);
            n++;
        } else {
            int i = (int)(rnd() % (uint64_t)n);
            struct live *l = &live[i];

            /* Every byte still ours: no other live object overlapped it. */
            LOOP_ASSERT_MSG(all_bytes(l->p, l->size, l->fill), "op %d", op);
            if (l->kind == 0)
                kfree(l->p);
            else
                kmem_cache_free(l->kind == 1 ? a : b, l->p);
            live[i] = live[--n];
        }
    }
    mm_host_cpu = 0;
    ck_assert_int_eq(kmem_cache_destroy(a), -EBUSY);
    while (n) {
        struct live *l = &live[--n];

        LOOP_ASSERT_MSG(all_bytes(l->p, l->size, l->fill), "live object %d", n);
        if (l->kind == 0)
            kfree(l->p);
        else
            kmem_cache_free(l->kind == 1 ? a : b, l->p);
    }
    ck_assert_uint_eq(slab_nr_reports(), reports); /* no false positives */
    ck_assert_int_eq(kmem_cache_destroy(a), 0);
    ck_assert_int_eq(kmem_cache_destroy(b), 0);
    (void)base;
}
END_TEST

/* ---- real threads, each its own "CPU", passing objects to each other ---- */

#define THREADS 4
#define XFER 64

static struct kmem_cache *mt_cache;
static void *mailbox[THREADS][XFER];
static mm_spinlock_t mailbox_lock[THREADS];

static void *thread_main(void *arg)
{
    unsigned int me = (unsigned int)(uintptr_t)arg;
    uint64_t r = 0x12345678ull * (me + 1);

    mm_host_cpu = me;
    for (int op = 0; op < 20000; op++) {
        void *o = kmem_cache_alloc(mt_cache, GFP_KERNEL);
        unsigned int to;
        int slot;

        if (!o)
            return (void *)1;
        *(uint64_t *)o = me;
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        to = (unsigned int)(r % THREADS);
        slot = (int)((r >> 8) % XFER);
        /* Swap into another thread's mailbox, free what was there (a remote free). */
        mm_spin_lock(&mailbox_lock[to]);
        void *old = mailbox[to][slot];
        mailbox[to][slot] = o;
        mm_spin_unlock(&mailbox_lock[to]);
        if (old)
            kmem_cache_free(mt_cache, old);
    }
    return NULL;
}

START_TEST(threads_as_cpus)
{
    pthread_t t[THREADS];

    mt_cache = kmem_cache_create("t-mt", 48, 0, 0, NULL);
    ck_assert_ptr_nonnull(mt_cache);
    for (unsigned int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)i), 0);
    for (unsigned int i = 0; i < THREADS; i++) {
        void *ret;

        pthread_join(t[i], &ret);
        ck_assert_ptr_null(ret);
    }
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < XFER; j++)
            kmem_cache_free(mt_cache, mailbox[i][j]);
    ck_assert_int_eq(kmem_cache_destroy(mt_cache), 0);
}
END_TEST

static Suite *slab_suite(void)
{
    Suite *s = suite_create("slab");
    TCase *tc;

    tc = tcase_create("selftest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, selftest_passes);
    suite_add_tcase(s, tc);

    tc = tcase_create("caches");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, alloc_free_returns_pages_on_destroy);
    tcase_add_test(tc, ctor_runs_once_per_object);
    tcase_add_loop_test(tc, alignment, 0, (int)ARRAY_SIZE(align_cases));
    tcase_add_test(tc, bad_arguments_fail);
    tcase_add_test_raise_signal(tc, slab_panic_bugs, SIGABRT);
    tcase_add_test(tc, destroy_with_live_objects_refused);
    tcase_add_test(tc, dma_cache_pages_from_zone_dma);
    tcase_add_test_raise_signal(tc, free_to_wrong_cache_bugs, SIGABRT);
    tcase_add_test_raise_signal(tc, kfree_of_foreign_pointer_bugs, SIGABRT);
    tcase_add_test(tc, slabinfo_format);
    suite_add_tcase(s, tc);

    tc = tcase_create("debug");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, poison_overwrite_reported);
    tcase_add_test(tc, poison_report_format);
    tcase_add_test(tc, unpoisoned_cache_untouched);
    tcase_add_test(tc, redzone_overwrite_reported);
    tcase_add_test(tc, invalid_pointer_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("kmalloc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, kmalloc_classes, 0,
                        (int)ARRAY_SIZE(kmalloc_cases));
    tcase_add_test(tc, kmalloc_large_and_too_large);
    tcase_add_test(tc, kmalloc_zero_and_dma);
    tcase_add_test(tc, multipage_slab_kfree_from_tail_page);
    suite_add_tcase(s, tc);

    tc = tcase_create("stress");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* 40000 random operations and four threads: ~30 ms each here; generous for sanitizers and
     * valgrind. */
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, randomized_against_model, 0, 3);
    tcase_add_test(tc, threads_as_cpus);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(slab_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
