/*
 * slab.h: the slab allocator (SLUB's design and Linux's names: include/linux/slab.h) and
 * kmalloc, for the guest kernel and host builds of the same sources.
 *
 *   kmem_cache_create(name, size, align, flags, ctor)   a cache of equal objects
 *   kmem_cache_alloc(cache, gfp) / kmem_cache_free(cache, obj)
 *   kmem_cache_destroy(cache)        refuses (-EBUSY, with a report) while objects are live
 *   kmalloc(size, gfp) / kfree(p) / ksize(p)
 *       classes 8..8192 bytes plus 96 and 192 (kmalloc-N caches); larger requests take pages
 *       straight from the buddy allocator (PG_head and the order recorded in the head page);
 *       beyond the largest order they return NULL. kmalloc(0) returns ZERO_SIZE_PTR.
 *
 * Debugging per cache: SLAB_POISON fills free objects with 0x6b (last byte 0xa5) and checks
 * the pattern when the object is handed out again ("Poison overwritten"); SLAB_RED_ZONE
 * guards the bytes after each object (0xcc while allocated, 0xbb while free: "Redzone
 * overwritten", and a free of an already-free object is caught). Only caches created with
 * these flags pay for them.
 */
#ifndef MM_SLAB_H
#define MM_SLAB_H

#include <stddef.h>
#include <stdint.h>

#include "gfp.h"

typedef unsigned int slab_flags_t;

/* Classic values of Linux's include/linux/slab.h (until ~6.9; later kernels number the flags
 * from an enum, so the values differ by version). */
#define SLAB_RED_ZONE 0x00000400u
#define SLAB_POISON 0x00000800u
#define SLAB_KMALLOC 0x00001000u /* internal: a kmalloc-N cache */
#define SLAB_HWCACHE_ALIGN 0x00002000u
#define SLAB_CACHE_DMA 0x00004000u
#define SLAB_PANIC 0x00040000u

#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)

#define KMALLOC_MAX_CACHE_SIZE 8192u /* larger kmalloc requests go to the page allocator */
#define KMALLOC_MIN_SIZE 8u

struct kmem_cache;

/* Returns the cache, or NULL (bad arguments, no memory); with SLAB_PANIC it BUGs instead.
 * `name` is not copied: it must outlive the cache (a string literal, as usual). */
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
                                     slab_flags_t flags, void (*ctor)(void *));
/* 0, or -EBUSY (objects still allocated: reported, nothing freed). NULL is a no-op. */
int kmem_cache_destroy(struct kmem_cache *s);
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp);
void kmem_cache_free(struct kmem_cache *s, void *obj);
unsigned int kmem_cache_size(const struct kmem_cache *s); /* the object size asked for */
const char *kmem_cache_name(const struct kmem_cache *s);

void *kmalloc(size_t size, gfp_t gfp);
void *kzalloc(size_t size, gfp_t gfp);
void kfree(const void *p);
size_t ksize(const void *p);
/* The kmalloc cache a request of `size` bytes would use (NULL above 8 KiB or for 0). */
struct kmem_cache *kmalloc_slab(size_t size, gfp_t gfp);

/* Create the kmalloc-N caches; called once after the page allocator is up (mm_init). Later
 * calls do nothing. kmalloc() calls it itself if nobody did. Returns 0 or -ENOMEM. */
int kmem_cache_init(void);

/* Number of "Poison overwritten"/"Redzone overwritten"/"Object already free" reports so far
 * (the self-tests and unit tests check that a deliberate corruption was seen). */
unsigned long slab_nr_reports(void);

/* ---- internals shared by slab.c and kmalloc.c (mm/slab.h in Linux) ---- */

#include "mm.h"
#include "mm_env.h"

/*
 * One per CPU and cache, on its own cache line: the "cpu slab" this CPU allocates from and
 * the lock-free list of its free objects. Only its CPU touches it, with interrupts off.
 */
struct kmem_cache_cpu {
    void *freelist;         /* next free object of `page` (this CPU's private list) */
    struct page *page;      /* the frozen cpu slab, or NULL */
    unsigned long nr_alloc; /* objects handed out / taken back on this CPU (statistics; */
    unsigned long nr_free;  /* their sums over CPUs give the live count) */
} __attribute__((aligned(64)));

struct kmem_cache {
    struct kmem_cache_cpu cpu_slab[MM_NR_CPUS];
    const char *name;
    slab_flags_t flags;
    unsigned int object_size; /* what the user asked for */
    unsigned int size;        /* stride: object + red zone + outside free pointer + padding */
    unsigned int inuse;       /* object + red zone: where metadata starts */
    unsigned int offset;      /* free pointer offset inside the stride */
    unsigned int align;
    unsigned int order;   /* pages per slab = 1 << order */
    unsigned int objects; /* objects per slab */
    gfp_t allocflags;     /* __GFP_DMA for SLAB_CACHE_DMA caches */
    void (*ctor)(void *);
    mm_spinlock_t list_lock;  /* partial list, nr_*, every slab's freelist/inuse/frozen */
    struct list_head partial; /* slabs with free objects that no CPU owns */
    unsigned long nr_partial;
    unsigned long min_partial; /* empty slabs kept on the partial list before freeing */
    unsigned long nr_slabs;
    struct kmem_cache *next; /* all caches, newest first (slab_lock) */
};

/* Set up a cache in caller-provided storage (kmalloc's static caches). 0 or -errno. */
int __kmem_cache_create(struct kmem_cache *s, const char *name, unsigned int size,
                        unsigned int align, slab_flags_t flags, void (*ctor)(void *));
/* The slab (head page) an object lives in, or NULL if the address is not in a slab. */
struct page *virt_to_slab(const void *obj);
/* kmem_cache_free() for a caller that already looked the slab up. */
void __kmem_cache_free(struct kmem_cache *s, struct page *slab, void *obj);

/* In-guest (and host) self-test: one "mm: ok: ..." / "mm: FAIL: ..." line per check;
 * returns the number of failures. Thousands of operations at most (emulated guest). */
int slab_selftest(void);

#endif
