/*
 * slab_selftest.c: slab_selftest(), the slab allocator's and kmalloc's checks, run in the
 * guest by mm.selftest and on the host by tests/unit/test_slab.c. The check with several CPUs
 * at once needs the kernel's cross-CPU calls, so it is mm.selftest's (kmm/mmcmd.c).
 *
 * One "mm: ok: ..." or "mm: FAIL: ..." line per check; returns the number of failures.
 * Sized for the emulated guest (~1 us per instruction): a few hundred allocations and a
 * handful of new slabs, so it finishes in well under a second. The deliberate poison and
 * red-zone corruptions print Linux-style "BUG <cache>: ..." reports: they are expected.
 */
#include "mm.h"
#include "mm_env.h"
#include "slab.h"

#define SELFTEST_OBJS 100
#define CTOR_MAGIC 0x5ca1ab1eu

static int failures;

static void check(bool ok, const char *what)
{
    mm_printf("mm: %s: slab: %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failures++;
}

static void ctor_magic(void *obj)
{
    *(uint32_t *)obj = CTOR_MAGIC;
}

static void test_alloc_free(void)
{
    struct kmem_cache *s = kmem_cache_create("selftest-64", 64, 0, 0, NULL);
    void *objs[SELFTEST_OBJS];
    bool ok = s != NULL;

    if (!s) {
        check(false, "kmem_cache_create(selftest-64)");
        return;
    }
    for (int i = 0; i < SELFTEST_OBJS && ok; i++) {
        objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
        ok = objs[i] != NULL;
        if (ok)
            *(uint64_t *)objs[i] = (uint64_t)i; /* touch; distinct objects keep their values */
    }
    for (int i = 0; i < SELFTEST_OBJS && ok; i++)
        ok = *(uint64_t *)objs[i] == (uint64_t)i;
    check(ok, "alloc 100 distinct 64-byte objects (two slabs)");
    for (int i = 0; ok && i < SELFTEST_OBJS; i++)
        kmem_cache_free(s, objs[i]);
    /* LIFO: the object just freed comes back first. */
    {
        void *a = kmem_cache_alloc(s, GFP_KERNEL), *b;

        kmem_cache_free(s, a);
        b = kmem_cache_alloc(s, GFP_KERNEL);
        check(a && a == b, "free then alloc returns the same object (per-CPU freelist)");
        kmem_cache_free(s, b);
    }
    check(kmem_cache_destroy(s) == 0, "destroy an empty cache");
}

static void test_ctor_align(void)
{
    struct kmem_cache *s = kmem_cache_create("selftest-ctor", 24, 0, 0, ctor_magic);
    struct kmem_cache *a = kmem_cache_create("selftest-align32", 40, 32, 0, NULL);
    struct kmem_cache *h = kmem_cache_create("selftest-hwcache", 100, 0, SLAB_HWCACHE_ALIGN, NULL);
    struct kmem_cache *h2 = kmem_cache_create("selftest-hwsmall", 20, 0, SLAB_HWCACHE_ALIGN, NULL);
    void *o[8];
    bool ok;

    if (!s || !a || !h || !h2) {
        check(false, "kmem_cache_create(ctor/align caches)");
        goto out;
    }
    ok = true;
    for (int i = 0; i < 8; i++) {
        o[i] = kmem_cache_alloc(s, GFP_KERNEL);
        ok = ok && o[i] && *(uint32_t *)o[i] == CTOR_MAGIC;
    }
    check(ok, "constructor ran on every new object");
    for (int i = 0; i < 8; i++)
        kmem_cache_free(s, o[i]);

    ok = true;
    for (int i = 0; i < 8; i++) {
        o[i] = kmem_cache_alloc(a, GFP_KERNEL);
        ok = ok && o[i] && ((uintptr_t)o[i] & 31) == 0;
    }
    check(ok, "align 32: every object 32-byte aligned");
    for (int i = 0; i < 8; i++)
        kmem_cache_free(a, o[i]);

    ok = true;
    for (int i = 0; i < 8; i++) {
        o[i] = kmem_cache_alloc(h, GFP_KERNEL);
        ok = ok && o[i] && ((uintptr_t)o[i] & 63) == 0;
    }
    check(ok, "SLAB_HWCACHE_ALIGN, 100 bytes: objects on cache lines (64)");
    for (int i = 0; i < 8; i++)
        kmem_cache_free(h, o[i]);

    ok = true;
    for (int i = 0; i < 8; i++) {
        o[i] = kmem_cache_alloc(h2, GFP_KERNEL);
        ok = ok && o[i] && ((uintptr_t)o[i] & 31) == 0;
    }
    check(ok && h2->size == 32, "SLAB_HWCACHE_ALIGN, 20 bytes: 32-byte stride (two per line)");
    for (int i = 0; i < 8; i++)
        kmem_cache_free(h2, o[i]);
out:
    kmem_cache_destroy(s);
    kmem_cache_destroy(a);
    kmem_cache_destroy(h);
    kmem_cache_destroy(h2);
}

static void test_poison_redzone(void)
{
    struct kmem_cache *p = kmem_cache_create("selftest-poison", 48, 0, SLAB_POISON, NULL);
    struct kmem_cache *r = kmem_cache_create("selftest-redzone", 30, 0, SLAB_RED_ZONE, NULL);
    unsigned long before;
    uint8_t *o, *o2;

    if (!p || !r) {
        check(false, "kmem_cache_create(poison/redzone caches)");
        goto out;
    }
    o = kmem_cache_alloc(p, GFP_KERNEL);
    kmem_cache_free(p, o);
    check(o && o[0] == 0x6b && o[46] == 0x6b && o[47] == 0xa5,
          "SLAB_POISON: a freed object holds 0x6b..0xa5");
    before = slab_nr_reports();
    mm_printf("mm: slab: writing into a freed object (a \"Poison overwritten\" report follows)\n");
    o[20] = 0x00; /* use after free */
    o2 = kmem_cache_alloc(p, GFP_KERNEL);
    check(o2 == o && slab_nr_reports() == before + 1, "use-after-free write detected on alloc");
    kmem_cache_free(p, o2);
    before = slab_nr_reports();
    o2 = kmem_cache_alloc(p, GFP_KERNEL);
    check(slab_nr_reports() == before, "poison restored (no second report)");
    kmem_cache_free(p, o2);

    o = kmem_cache_alloc(r, GFP_KERNEL);
    check(o && o[30] == 0xcc && o[31] == 0xcc, "SLAB_RED_ZONE: red zone 0xcc while allocated");
    before = slab_nr_reports();
    mm_printf("mm: slab: writing past an object (a \"Redzone overwritten\" report follows)\n");
    o[30] = 0x00; /* one byte past the 30-byte object */
    kmem_cache_free(r, o);
    check(slab_nr_reports() == before + 1, "red-zone overwrite detected on free");
    before = slab_nr_reports();
    mm_printf("mm: slab: freeing it again (an \"Object already free\" report follows)\n");
    kmem_cache_free(r, o);
    check(slab_nr_reports() == before + 1, "double free detected and refused");
    o = kmem_cache_alloc(r, GFP_KERNEL);
    o2 = kmem_cache_alloc(r, GFP_KERNEL);
    check(o && o2 && o != o2, "cache still sound after the double free");
    kmem_cache_free(r, o);
    kmem_cache_free(r, o2);
out:
    kmem_cache_destroy(p);
    kmem_cache_destroy(r);
}

static void test_destroy_live(void)
{
    struct kmem_cache *s = kmem_cache_create("selftest-live", 128, 0, 0, NULL);
    void *o;

    if (!s) {
        check(false, "kmem_cache_create(selftest-live)");
        return;
    }
    o = kmem_cache_alloc(s, GFP_KERNEL);
    mm_printf("mm: slab: destroying a cache with a live object (a report follows)\n");
    check(o && kmem_cache_destroy(s) != 0, "destroy with a live object refused");
    kmem_cache_free(s, o);
    check(kmem_cache_destroy(s) == 0, "destroy after the last free");
}

static void test_kmalloc(void)
{
    static const struct {
        unsigned int size, class;
    } t[] = {
        {1, 8},       {8, 8},       {9, 16},      {16, 16},     {17, 32},
        {33, 64},     {64, 64},     {65, 96},     {96, 96},     {97, 128},
        {129, 192},   {192, 192},   {193, 256},   {257, 512},   {1000, 1024},
        {1025, 2048}, {4096, 4096}, {4097, 8192}, {8192, 8192},
    };
    bool ok = true;
    void *p;

    for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        p = kmalloc(t[i].size, GFP_KERNEL);
        if (!p || ksize(p) != t[i].class || ((uintptr_t)p & 7)) {
            mm_printf("mm: slab: kmalloc(%u): %p ksize %lu, expected %u\n", t[i].size, p,
                      p ? (unsigned long)ksize(p) : 0ul, t[i].class);
            ok = false;
        } else {
            ((uint8_t *)p)[t[i].size - 1] = 0x5a;
        }
        kfree(p);
    }
    check(ok, "kmalloc classes 8..8k incl. 96 and 192, ksize = class");

    p = kzalloc(200, GFP_KERNEL);
    ok = p != NULL;
    for (unsigned int i = 0; ok && i < 200; i++)
        ok = ((uint8_t *)p)[i] == 0;
    check(ok, "kzalloc(200) zeroed");
    kfree(p);

    p = kmalloc(0, GFP_KERNEL);
    check(p == ZERO_SIZE_PTR && ksize(p) == 0, "kmalloc(0) = ZERO_SIZE_PTR");
    kfree(p);
    kfree(NULL);

    p = kmalloc(20000, GFP_KERNEL);
    ok = p && ((uintptr_t)p & (PAGE_SIZE - 1)) == 0 && ksize(p) == 8 * PAGE_SIZE;
    if (p) {
        struct page *page = virt_to_page(p);

        ok = ok && (page->flags & PG_head) && !(page->flags & PG_slab) && page->order == 3;
        ((uint8_t *)p)[19999] = 1;
    }
    check(ok, "kmalloc(20000) from the buddy allocator (order 3, PG_head), ksize 32768");
    kfree(p);

    p = kmalloc((PAGE_SIZE << (MAX_ORDER - 1)) + 1, GFP_KERNEL | __GFP_NOWARN);
    check(p == NULL, "kmalloc beyond the largest order fails cleanly (NULL)");
    p = kmalloc((size_t)-1, GFP_KERNEL | __GFP_NOWARN);
    check(p == NULL, "kmalloc(SIZE_MAX) fails cleanly (NULL)");
}

int slab_selftest(void)
{
    failures = 0;
    if (kmem_cache_init()) {
        check(false, "kmem_cache_init");
        return failures;
    }
    test_alloc_free();
    test_ctor_align();
    test_poison_redzone();
    test_destroy_live();
    test_kmalloc();
    return failures;
}
