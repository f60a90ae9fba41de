/*
 * kmalloc.c: kmalloc/kfree/ksize on top of the slab caches (Linux's mm/slab_common.c).
 *
 * Size classes as in Linux on x86-64 (kmalloc_info[] in mm/slab_common.c): kmalloc-8, 16,
 * 32, 64, 96, 128, 192, 256, 512, 1k, 2k, 4k, 8k. Requests up to 192 bytes pick their class through
 * size_index[(size - 1) / 8], so 65..96 and 129..192 land in the two odd classes; above
 * that the next power of two. Requests above 8 KiB go straight to the buddy allocator
 * ("kmalloc_large"): the head page gets PG_head and the order, which is how kfree() and
 * ksize() tell them from slab objects (PG_slab); above the largest order (MAX_ORDER - 1)
 * kmalloc returns NULL without touching the page allocator. GFP_DMA requests use the
 * dma-kmalloc-N caches (SLAB_CACHE_DMA).
 *
 * The caches are static (not allocated from kmem_cache), so kmalloc works as soon as the
 * page allocator does; kmem_cache_init() sets them up once, kmalloc() calls it on first use.
 */
#include "mm.h"
#include "mm_env.h"
#include "slab.h"

#ifdef MM_HOST
#include <errno.h>
#include <string.h>
#endif

#define unlikely(x) __builtin_expect(!!(x), 0)
#define likely(x) __builtin_expect(!!(x), 1)

#define KMALLOC_NR 13

static const unsigned int kmalloc_sizes[KMALLOC_NR] = {
    8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
};
static const char *const kmalloc_names[2][KMALLOC_NR] = {
    {"kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-96", "kmalloc-128",
     "kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1k", "kmalloc-2k", "kmalloc-4k",
     "kmalloc-8k"},
    {"dma-kmalloc-8", "dma-kmalloc-16", "dma-kmalloc-32", "dma-kmalloc-64", "dma-kmalloc-96",
     "dma-kmalloc-128", "dma-kmalloc-192", "dma-kmalloc-256", "dma-kmalloc-512", "dma-kmalloc-1k",
     "dma-kmalloc-2k", "dma-kmalloc-4k", "dma-kmalloc-8k"},
};

/* Class index for sizes 1..192, by (size - 1) / 8 (Linux's size_index[]). */
static const uint8_t size_index[24] = {
    0,                      /* 8 */
    1,                      /* 16 */
    2, 2,                   /* 32 */
    3, 3, 3, 3,             /* 64 */
    4, 4, 4, 4,             /* 96 */
    5, 5, 5, 5,             /* 128 */
    6, 6, 6, 6, 6, 6, 6, 6, /* 192 */
};

static struct kmem_cache kmalloc_caches[2][KMALLOC_NR];
static int kmalloc_ready;

int kmem_cache_init(void)
{
    static mm_spinlock_t init_lock = MM_SPINLOCK_INIT;
    int err = 0;

    if (likely(__atomic_load_n(&kmalloc_ready, __ATOMIC_ACQUIRE)))
        return 0;
    mm_spin_lock(&init_lock);
    if (!kmalloc_ready) {
        for (int dma = 0; dma < 2 && !err; dma++) {
            for (int i = 0; i < KMALLOC_NR && !err; i++)
                err = __kmem_cache_create(&kmalloc_caches[dma][i], kmalloc_names[dma][i],
                                          kmalloc_sizes[i], 0,
                                          SLAB_KMALLOC | (dma ? SLAB_CACHE_DMA : 0), NULL);
        }
        if (!err)
            __atomic_store_n(&kmalloc_ready, 1, __ATOMIC_RELEASE);
    }
    mm_spin_unlock(&init_lock);
    return err;
}

static inline unsigned int kmalloc_index(size_t size)
{
    if (size <= 192)
        return size_index[(size - 1) / 8];
    /* fls(size - 1) - 1: 193..256 -> 7 (256), ..., 4097..8192 -> 12 (8k) */
    return (unsigned int)(63 - __builtin_clzl((unsigned long)(size - 1)));
}

struct kmem_cache *kmalloc_slab(size_t size, gfp_t gfp)
{
    if (!size || size > KMALLOC_MAX_CACHE_SIZE)
        return NULL;
    if (unlikely(!kmalloc_ready) && kmem_cache_init())
        return NULL;
    return &kmalloc_caches[(gfp & __GFP_DMA) ? 1 : 0][kmalloc_index(size)];
}

/* Above 8 KiB: whole pages from the buddy allocator (Linux's kmalloc_large). */
static __attribute__((noinline)) void *kmalloc_large(size_t size, gfp_t gfp)
{
    unsigned int order = 0;
    struct page *page;

    if (size > (PAGE_SIZE << (MAX_ORDER - 1))) {
        if (!(gfp & __GFP_NOWARN))
            mm_printf("kmalloc: %lu bytes is more than the largest block (%lu): failed\n",
                      (unsigned long)size, PAGE_SIZE << (MAX_ORDER - 1));
        return NULL;
    }
    while ((PAGE_SIZE << order) < size)
        order++;
    page = alloc_pages(gfp, order);
    if (!page)
        return NULL;
    /* alloc_pages() marks the head PG_head with the order: what kfree()/ksize() read. */
    MM_BUG_ON(!(page->flags & PG_head) || page->order != order);
    return page_address(page);
}

void *kmalloc(size_t size, gfp_t gfp)
{
    struct kmem_cache *s;

    if (unlikely(size > KMALLOC_MAX_CACHE_SIZE))
        return kmalloc_large(size, gfp);
    if (unlikely(!size))
        return ZERO_SIZE_PTR;
    s = kmalloc_slab(size, gfp);
    return s ? kmem_cache_alloc(s, gfp) : NULL;
}

void *kzalloc(size_t size, gfp_t gfp)
{
    return kmalloc(size, gfp | __GFP_ZERO);
}

void kfree(const void *p)
{
    struct page *page;

    if (unlikely(ZERO_OR_NULL_PTR(p)))
        return;
    page = virt_to_page(p);
    if (likely(page->flags & PG_slab)) {
        struct kmem_cache *s = page->slab_cache;

        if (s->order) /* a tail page: the head is the order-aligned pfn */
            page = pfn_to_page(page_to_pfn(page) & ~((1ull << s->order) - 1));
        __kmem_cache_free(s, page, (void *)(uintptr_t)p);
        return;
    }
    if (!(page->flags & PG_head) || page_address(page) != p) {
        mm_printf("kfree: 0x%lx was not returned by kmalloc\n", (unsigned long)p);
        MM_BUG_ON(1);
    }
    __free_pages(page, page->order);
}

size_t ksize(const void *p)
{
    struct page *page;

    if (unlikely(ZERO_OR_NULL_PTR(p)))
        return 0;
    page = virt_to_page(p);
    if (page->flags & PG_slab)
        return page->slab_cache->object_size;
    MM_BUG_ON(!(page->flags & PG_head));
    return PAGE_SIZE << page->order;
}
