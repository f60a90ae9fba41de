/*
 * mmbench.c: host benchmark of the guest kernel's allocators (guest/mm/slab.c, kmalloc.c,
 * page_alloc.c built with -DMM_HOST) against glibc malloc/free of the same sizes.
 *
 * Guest kernel code is emulated on our hosts (~1 us per instruction), so allocator speed is
 * measured here, natively, on the very same sources. Each row runs one pattern:
 *   pair   alloc then free at once, repeated (LIFO reuse: the fast paths)
 *   batch  alloc N objects, then free them in reverse order (slow paths every slab/batch)
 * and reports the median over several runs of ns per alloc+free (one "op"); the runs of the
 * two sides alternate, so other load on the machine hits both alike. Every object is
 * touched once (one byte written) so that neither side can skip the memory, and pointers go
 * through a volatile sink so the compiler cannot drop a malloc/free pair.
 *
 * usage: mmbench [iterations per run (default 1000000)] [runs (default 11)] [batch (1000)]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm.h"
#include "mm_env.h"
#include "slab.h"
#include "minivmm/util.h"

#define ARENA_SIZE (256ul << 20)

static void *volatile sink;
static struct kmem_cache *cache64;

enum kind { SLAB64, KMALLOC256, PAGE0, MALLOC64, MALLOC256, MALLOC4096 };

static const char *const kind_name[] = {
    "slab kmem_cache_alloc/free, 64 B cache",
    "kmalloc/kfree 256 B",
    "alloc_page/__free_page",
    "glibc malloc/free 64 B",
    "glibc malloc/free 256 B",
    "glibc malloc/free 4096 B",
};

static inline void *do_alloc(enum kind k)
{
    switch (k) {
    case SLAB64:
        return kmem_cache_alloc(cache64, GFP_KERNEL);
    case KMALLOC256:
        return kmalloc(256, GFP_KERNEL);
    case PAGE0:
        return alloc_page(GFP_KERNEL);
    case MALLOC64:
        return malloc(64);
    case MALLOC256:
        return malloc(256);
    case MALLOC4096:
        return malloc(4096);
    }
    return NULL;
}

static inline void touch(enum kind k, void *p)
{
    if (k == PAGE0)
        *(volatile char *)page_address(p) = 1;
    else
        *(volatile char *)p = 1;
}

static inline void do_free(enum kind k, void *p)
{
    switch (k) {
    case SLAB64:
        kmem_cache_free(cache64, p);
        break;
    case KMALLOC256:
        kfree(p);
        break;
    case PAGE0:
        __free_page((struct page *)p);
        break;
    default:
        free(p);
        break;
    }
}

static void **batch_buf;

/* One run: ns per alloc+free. */
static double run(enum kind k, int batch, long iters, long nbatch)
{
    uint64_t t0 = now_ns(), t1;

    if (!batch) {
        for (long i = 0; i < iters; i++) {
            void *p = do_alloc(k);

            touch(k, p);
            sink = p;
            do_free(k, p);
        }
        t1 = now_ns();
        return (double)(t1 - t0) / (double)iters;
    }
    long rounds = iters / nbatch;

    if (rounds < 1)
        rounds = 1;
    for (long r = 0; r < rounds; r++) {
        for (long i = 0; i < nbatch; i++) {
            void *p = do_alloc(k);

            touch(k, p);
            batch_buf[i] = p;
        }
        sink = batch_buf[0];
        for (long i = nbatch - 1; i >= 0; i--)
            do_free(k, batch_buf[i]);
    }
    t1 = now_ns();
    return (double)(t1 - t0) / (double)(rounds * nbatch);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Medians of `runs` runs of a and of b, the runs of the two interleaved (a, b, a, b...) so
 * that load from other processes on the machine falls on both sides alike. */
static void median_pair(enum kind a, enum kind b, int batch, long iters, int runs, long nbatch,
                        double *ma, double *mb)
{
    double ta[64], tb[64];

    run(a, batch, iters / 10 + 1, nbatch); /* warm up: slabs, pcp lists, glibc arenas */
    run(b, batch, iters / 10 + 1, nbatch);
    for (int i = 0; i < runs; i++) {
        ta[i] = run(a, batch, iters, nbatch);
        tb[i] = run(b, batch, iters, nbatch);
    }
    qsort(ta, (size_t)runs, sizeof(ta[0]), cmp_double);
    qsort(tb, (size_t)runs, sizeof(tb[0]), cmp_double);
    *ma = ta[runs / 2];
    *mb = tb[runs / 2];
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 1000000;
    int runs = argc > 2 ? atoi(argv[2]) : 11;
    long nbatch = argc > 3 ? atol(argv[3]) : 1000;
    struct mm_region ram = {0, ARENA_SIZE};
    void *arena;
    static const enum kind pairs[][2] = {
        {SLAB64, MALLOC64}, {KMALLOC256, MALLOC256}, {PAGE0, MALLOC4096}};

    if (iters < 1 || runs < 1 || runs > 64 || nbatch < 1 || nbatch > 100000) {
        fprintf(stderr, "usage: mmbench [iterations] [runs 1..64] [batch 1..100000]\n");
        return 2;
    }
    arena = aligned_alloc(PAGE_SIZE, ARENA_SIZE);
    batch_buf = calloc((size_t)nbatch, sizeof(void *));
    if (!arena || !batch_buf) {
        fprintf(stderr, "mmbench: out of memory\n");
        return 1;
    }
    memset(arena, 0, ARENA_SIZE);
    if (mm_init((uintptr_t)arena, &ram, 1, NULL, 0) || kmem_cache_init()) {
        fprintf(stderr, "mmbench: mm_init failed\n");
        return 1;
    }
    cache64 = kmem_cache_create("bench-64", 64, 0, 0, NULL);
    if (!cache64) {
        fprintf(stderr, "mmbench: kmem_cache_create failed\n");
        return 1;
    }
    printf("mmbench: %ld alloc+free per run, median of %d runs, batch %ld; ns per alloc+free\n\n",
           iters, runs, nbatch);
    printf("| pattern | guest allocator (host build) | ns | glibc | ns | ratio |\n");
    printf("|---|---|---:|---|---:|---:|\n");
    for (int batch = 0; batch < 2; batch++) {
        for (unsigned int i = 0; i < ARRAY_SIZE(pairs); i++) {
            double a, b;

            median_pair(pairs[i][0], pairs[i][1], batch, iters, runs, nbatch, &a, &b);

            printf("| %s | %s | %.1f | %s | %.1f | %.2f |\n", batch ? "batch" : "LIFO pair",
                   kind_name[pairs[i][0]], a, kind_name[pairs[i][1]], b, a / b);
        }
    }
    return 0;
}
