/*
 * slab.c: the slab allocator, after SLUB (Christoph Lameter, 2007; Linux's mm/slub.c and
 * Documentation/mm/slub.rst).
 *
 * A cache hands out objects of one size from slabs: blocks of 1 << order pages from the
 * buddy allocator, cut into `objects` objects of stride `size`. Free objects are chained
 * through a free pointer stored at `offset` inside the stride. There are no object queues:
 * each CPU allocates from one "cpu slab" through its private freelist.
 *
 * Object layout (like mm/slub.c, minus the left red zone and user tracking):
 *
 *   [0, object_size)        the object
 *   [object_size, inuse)    SLAB_RED_ZONE: red zone up to the next word (a whole word if the
 *                           object ends on one): 0xcc while allocated, 0xbb while free
 *   [inuse, inuse + 8)      the free pointer, if it cannot live inside the object (a ctor, or
 *                           any debugging flag); otherwise it sits at the middle word of the
 *                           object, as Linux has done since 5.7
 *   [.., size)              padding to the alignment
 *
 * SLAB_POISON (without a ctor, as in Linux): a free object holds 0x6b with 0xa5 in its last
 * byte; it is checked when handed out again ("Poison overwritten"). Page poisoning is off.
 *
 * Invariants and locking (read these before changing anything):
 *  - A slab is either frozen (the cpu slab of exactly one CPU: kmem_cache_cpu.page), on
 *    the cache's partial list (not frozen, 0 <= inuse < objects), or full (not frozen,
 *    inuse == objects, on no list: full slabs are not tracked, as in SLUB).
 *  - A frozen slab has two freelists: the CPU's private c->freelist (only that CPU, with
 *    interrupts off) and page->freelist, where other CPUs put objects they free (under
 *    list_lock). page->inuse of a frozen slab counts objects not on page->freelist, i.e. the
 *    CPU's private list counts as "in use".
 *  - list_lock protects the partial list, nr_partial/nr_slabs and, for every slab of the
 *    cache, page->freelist, inuse and frozen. The fast paths take no lock: they touch only
 *    this CPU's kmem_cache_cpu with interrupts disabled (mm_irq_save), which is what keeps an
 *    interrupt handler on the same CPU from interleaving. No cmpxchg at all, so no ABA.
 *  - Slow paths run with interrupts still disabled and take list_lock inside; they may call
 *    the page allocator (which takes its own locks) but never with list_lock held.
 *  - Tail pages of a multi-page slab carry PG_slab and slab_cache too, so kfree() of any
 *    address inside finds the cache; the head is found by aligning the pfn down to the order
 *    (buddy blocks are naturally aligned).
 *  - An empty slab stays on the partial list while the cache has fewer than min_partial
 *    partial slabs (ilog2(size) / 2, clamped to 5..10, as SLUB); otherwise it goes back to
 *    the buddy allocator at once.
 *  - Live objects = sum over CPUs of nr_alloc - nr_free (per-CPU counters, bumped in the
 *    fast paths with interrupts off); /proc/slabinfo's active_objs and destroy use it.
 *  - kmem_cache_destroy() requires that nobody uses the cache any more (as Linux does); it
 *    refuses while objects are live and reaches into other CPUs' cpu slabs only then.
 */
#include "slab.h"

#include "list.h"
#include "mm.h"
#include "mm_env.h"

#ifdef MM_HOST
#include <errno.h>
#include <string.h>
#else
#define ENOMEM 12
#define EBUSY 16
#define EINVAL 22
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define POISON_FREE 0x6b
#define POISON_END 0xa5
#define SLUB_RED_INACTIVE 0xbb
#define SLUB_RED_ACTIVE 0xcc

#define __OBJECT_POISON 0x80000000u /* internal: SLAB_POISON and no ctor */
#define SLAB_DEBUG_FLAGS (SLAB_RED_ZONE | __OBJECT_POISON)

#define MIN_PARTIAL 5    /* empty slabs a cache keeps on its partial list: */
#define MAX_PARTIAL 10   /* ilog2(size) / 2 clamped to [5, 10], as in SLUB */
#define SLAB_MAX_ORDER 3 /* PAGE_ALLOC_COSTLY_ORDER: preferred largest slab */
#define CACHE_LINE 64
#define WORD 8u

#define READ_ONCE_UL(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((a)-1))

static mm_spinlock_t slab_lock = MM_SPINLOCK_INIT; /* the cache list */
static struct kmem_cache *slab_caches;             /* newest first */
static unsigned long nr_reports;

/* Caches made by kmem_cache_create() live in objects of this cache (Linux's kmem_cache). */
static struct kmem_cache kmem_cache_boot;

/* ---- small helpers ---- */


static inline void *get_freepointer(const struct kmem_cache *s, void *obj)
{
    return *(void **)((char *)obj + s->offset);
}

static inline void set_freepointer(const struct kmem_cache *s, void *obj, void *fp)
{
    *(void **)((char *)obj + s->offset) = fp;
}

static inline char *slab_address(const struct page *page)
{
    return page_address(page);
}

unsigned long slab_nr_reports(void)
{
    return __atomic_load_n(&nr_reports, __ATOMIC_RELAXED);
}

struct page *virt_to_slab(const void *obj)
{
    struct page *page = virt_to_page(obj);
    struct kmem_cache *s;

    if (!page || !(page->flags & PG_slab))
        return NULL;
    s = page->slab_cache;
    if (s->order)
        page = pfn_to_page(page_to_pfn(page) & ~((1ull << s->order) - 1));
    return page;
}

/* ---- debugging: poison and red zone ---- */

static void print_bytes(const char *label, const uint8_t *p, unsigned int len)
{
    while (len) {
        unsigned int n = len < 16 ? len : 16;

        mm_printf("%-8s %016lx:", label, (unsigned long)p);
        for (unsigned int i = 0; i < n; i++)
            mm_printf(" %02x", p[i]);
        mm_printf("\n");
        p += n;
        len -= n;
    }
}

/* Linux's slab_bug() banner and the INFO lines for one object. */
static void object_err(const struct kmem_cache *s, const struct page *slab, const uint8_t *obj,
                       const char *what)
{
    __atomic_add_fetch(&nr_reports, 1, __ATOMIC_RELAXED);
    mm_printf("==================================================================="
              "==========\n");
    mm_printf("BUG %s: %s\n", s->name, what);
    mm_printf("-------------------------------------------------------------------"
              "----------\n");
    mm_printf("INFO: Slab 0x%lx objects=%u used=%u fp=0x%lx\n", (unsigned long)slab_address(slab),
              slab->objects, slab->inuse, (unsigned long)slab->freelist);
    mm_printf("INFO: Object 0x%lx @offset=%lu\n", (unsigned long)obj,
              (unsigned long)(obj - (const uint8_t *)slab_address(slab)));
}

/*
 * Check that [start, start + len) of obj holds `value`; report the first wrong byte like
 * Linux's check_bytes_and_report() ("First byte 0x.. instead of 0x..") and restore it.
 * Returns true if the bytes were intact.
 */
static bool check_bytes(const struct kmem_cache *s, const struct page *slab, uint8_t *obj,
                        const char *what, const char *fix, unsigned int start, uint8_t value,
                        unsigned int len)
{
    uint8_t *p = obj + start, *end = p + len, *fault = NULL, *last;

    for (uint8_t *q = p; q < end; q++) {
        if (*q != value) {
            fault = q;
            break;
        }
    }
    if (likely(!fault))
        return true;
    last = end;
    while (last > fault && last[-1] == value)
        last--;
    object_err(s, slab, obj, what);
    mm_printf("INFO: 0x%lx-0x%lx @offset=%lu. First byte 0x%x instead of 0x%x\n",
              (unsigned long)fault, (unsigned long)(last - 1),
              (unsigned long)(fault - (uint8_t *)slab_address(slab)), *fault, value);
    mm_printf("INFO: object %s byte %lu of %u is 0x%x\n", s->name, (unsigned long)(fault - obj),
              s->object_size, *fault);
    print_bytes("Object", obj, s->object_size < 64 ? s->object_size : 64);
    if (s->flags & SLAB_RED_ZONE)
        print_bytes("Redzone", obj + s->object_size, s->inuse - s->object_size);
    mm_printf("FIX %s: Restoring %s 0x%lx-0x%lx=0x%x\n", s->name, fix, (unsigned long)fault,
              (unsigned long)(last - 1), value);
    for (uint8_t *q = fault; q < last; q++)
        *q = value;
    return false;
}

static void init_object(const struct kmem_cache *s, void *obj, uint8_t red)
{
    uint8_t *p = obj;

    if (s->flags & __OBJECT_POISON) {
        mm_memset(p, POISON_FREE, s->object_size - 1);
        p[s->object_size - 1] = POISON_END;
    }
    if (s->flags & SLAB_RED_ZONE)
        mm_memset(p + s->object_size, red, s->inuse - s->object_size);
}

/* A free object about to be handed out: its poison and red zone must be intact. */
static void alloc_debug(struct kmem_cache *s, void *obj)
{
    struct page *slab = virt_to_slab(obj);
    uint8_t *p = obj;

    if (s->flags & __OBJECT_POISON) {
        if (check_bytes(s, slab, p, "Poison overwritten", "Poison", 0, POISON_FREE,
                        s->object_size - 1))
            check_bytes(s, slab, p, "Poison overwritten", "Poison", s->object_size - 1, POISON_END,
                        1);
    }
    if (s->flags & SLAB_RED_ZONE) {
        check_bytes(s, slab, p, "Redzone overwritten", "Redzone", s->object_size, SLUB_RED_INACTIVE,
                    s->inuse - s->object_size);
        mm_memset(p + s->object_size, SLUB_RED_ACTIVE, s->inuse - s->object_size);
    }
}

/* An object being freed: a valid object of this slab, red zone intact, not already free.
 * Returns false if the free must not go ahead. */
static bool free_debug(struct kmem_cache *s, struct page *slab, void *obj)
{
    uint8_t *p = obj;
    unsigned long off = (unsigned long)(p - (uint8_t *)slab_address(slab));

    if (off % s->size || off / s->size >= slab->objects) {
        object_err(s, slab, p, "Invalid object pointer");
        mm_printf("FIX %s: Object at 0x%lx not freed\n", s->name, (unsigned long)p);
        return false;
    }
    if (s->flags & SLAB_RED_ZONE) {
        unsigned int i, n = s->inuse - s->object_size;

        for (i = 0; i < n && p[s->object_size + i] == SLUB_RED_INACTIVE; i++)
            ;
        if (i == n) {
            object_err(s, slab, p, "Object already free");
            mm_printf("FIX %s: Object at 0x%lx not freed\n", s->name, (unsigned long)p);
            return false;
        }
        check_bytes(s, slab, p, "Redzone overwritten", "Redzone", s->object_size, SLUB_RED_ACTIVE,
                    n);
    }
    init_object(s, obj, SLUB_RED_INACTIVE);
    return true;
}

/* ---- slabs ---- */

static struct page *allocate_slab(struct kmem_cache *s, gfp_t gfp)
{
    struct page *page = alloc_pages((gfp & ~__GFP_ZERO) | s->allocflags, s->order);
    char *start, *p;

    if (!page)
        return NULL;
    for (unsigned int i = 1; i < (1u << s->order); i++) {
        struct page *tail = pfn_to_page(page_to_pfn(page) + i);

        tail->flags |= PG_slab;
        tail->slab_cache = s;
    }
    page->flags |= PG_slab;
    page->slab_cache = s;
    page->objects = s->objects;
    page->inuse = 0;
    page->frozen = 0;
    start = slab_address(page);
    for (unsigned int i = 0; i < s->objects; i++) {
        p = start + (size_t)i * s->size;
        if (unlikely(s->flags & SLAB_DEBUG_FLAGS))
            init_object(s, p, SLUB_RED_INACTIVE);
        if (s->ctor)
            s->ctor(p);
        set_freepointer(s, p, i + 1 < s->objects ? p + s->size : NULL);
    }
    page->freelist = start;
    return page;
}

static void discard_slab(struct kmem_cache *s, struct page *page)
{
    for (unsigned int i = 1; i < (1u << s->order); i++) {
        struct page *tail = pfn_to_page(page_to_pfn(page) + i);

        tail->flags &= ~PG_slab;
        tail->slab_cache = NULL;
    }
    page->flags &= ~PG_slab;
    page->slab_cache = NULL;
    page->freelist = NULL;
    page->inuse = page->objects = page->frozen = 0;
    __free_pages(page, s->order);
}

/*
 * Give a CPU's slab back: its private freelist joins page->freelist, and the slab goes to
 * the partial list, stays off lists (full) or is freed (empty, enough partial slabs).
 * Interrupts off on that CPU, or the cache quiescent (destroy).
 */
static void deactivate_slab(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
    struct page *page = c->page, *discard = NULL;
    void *head = c->freelist, *tail = NULL;
    unsigned int n = 0;

    if (!page)
        return;
    for (void *p = head; p; p = get_freepointer(s, p)) {
        tail = p;
        n++;
    }
    c->page = NULL;
    c->freelist = NULL;
    mm_spin_lock(&s->list_lock);
    if (tail) {
        set_freepointer(s, tail, page->freelist);
        page->freelist = head;
    }
    page->inuse -= n;
    page->frozen = 0;
    if (page->inuse == 0 && s->nr_partial >= s->min_partial) {
        s->nr_slabs--;
        discard = page;
    } else if (page->freelist) {
        list_add(&page->lru, &s->partial);
        s->nr_partial++;
    }
    mm_spin_unlock(&s->list_lock);
    if (discard)
        discard_slab(s, discard);
}

/* Make `page` this CPU's slab, taking all of page->freelist. list_lock held. */
static void *freeze_slab(struct kmem_cache_cpu *c, struct page *page)
{
    void *freelist = page->freelist;

    page->freelist = NULL;
    page->inuse = page->objects;
    page->frozen = 1;
    c->page = page;
    return freelist;
}

/*
 * The allocation slow path (SLUB's ___slab_alloc): the cpu freelist is empty. Try, in
 * order: objects other CPUs freed into the cpu slab, a partial slab, a new slab.
 * Interrupts are off; c is this CPU's.
 */
static __attribute__((noinline)) void *__slab_alloc(struct kmem_cache *s, gfp_t gfp,
                                                    struct kmem_cache_cpu *c)
{
    struct page *page = c->page;
    void *freelist = NULL;

    if (page) {
        mm_spin_lock(&s->list_lock);
        freelist = page->freelist;
        if (freelist) {
            page->freelist = NULL;
            page->inuse = page->objects;
        } else {
            page->frozen = 0; /* full: it leaves this CPU and every list */
            c->page = NULL;
        }
        mm_spin_unlock(&s->list_lock);
    }
    if (!freelist) {
        mm_spin_lock(&s->list_lock);
        if (s->nr_partial) {
            page = (struct page *)((char *)s->partial.next - offsetof(struct page, lru));
            list_del(&page->lru);
            s->nr_partial--;
            freelist = freeze_slab(c, page);
        }
        mm_spin_unlock(&s->list_lock);
    }
    if (!freelist) {
        page = allocate_slab(s, gfp);
        if (!page)
            return NULL;
        mm_spin_lock(&s->list_lock);
        s->nr_slabs++;
        freelist = freeze_slab(c, page);
        mm_spin_unlock(&s->list_lock);
    }
    c->freelist = get_freepointer(s, freelist);
    return freelist;
}

/* The allocation fast path: pop this CPU's freelist with interrupts off. */
static inline void *slab_alloc(struct kmem_cache *s, gfp_t gfp)
{
    unsigned long flags = mm_irq_save();
    struct kmem_cache_cpu *c = &s->cpu_slab[mm_cpu_id()];
    void *obj = c->freelist;

    if (likely(obj))
        c->freelist = get_freepointer(s, obj);
    else
        obj = __slab_alloc(s, gfp, c);
    if (likely(obj))
        c->nr_alloc++;
    mm_irq_restore(flags);
    return obj;
}

/*
 * The free slow path (SLUB's __slab_free): the object's slab is not this CPU's. Put it on
 * page->freelist; a slab that was full goes to the partial list, an empty one may be freed.
 */
static __attribute__((noinline)) void __slab_free(struct kmem_cache *s, struct page *page,
                                                  void *obj)
{
    void *prior;
    bool discard = false;

    mm_spin_lock(&s->list_lock);
    prior = page->freelist;
    set_freepointer(s, obj, prior);
    page->freelist = obj;
    MM_BUG_ON(page->inuse == 0);
    page->inuse--;
    if (!page->frozen) {
        if (page->inuse == 0 && s->nr_partial >= s->min_partial) {
            if (prior) {
                list_del(&page->lru);
                s->nr_partial--;
            }
            s->nr_slabs--;
            discard = true;
        } else if (!prior) {
            list_add(&page->lru, &s->partial);
            s->nr_partial++;
        }
    }
    mm_spin_unlock(&s->list_lock);
    if (discard)
        discard_slab(s, page);
}

/* The free fast path: push onto this CPU's freelist if the object is from its cpu slab. */
static inline void slab_free(struct kmem_cache *s, struct page *page, void *obj)
{
    unsigned long flags = mm_irq_save();
    struct kmem_cache_cpu *c = &s->cpu_slab[mm_cpu_id()];

    if (likely(page == c->page)) {
        set_freepointer(s, obj, c->freelist);
        c->freelist = obj;
    } else {
        __slab_free(s, page, obj);
    }
    c->nr_free++;
    mm_irq_restore(flags);
}

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
    void *obj = slab_alloc(s, gfp);

    if (unlikely(!obj)) {
        if (!(gfp & __GFP_NOWARN))
            mm_printf("slab: %s: out of memory\n", s->name);
        return NULL;
    }
    if (unlikely(s->flags & SLAB_DEBUG_FLAGS))
        alloc_debug(s, obj);
    if (unlikely(gfp & __GFP_ZERO))
        mm_memset(obj, 0, s->object_size);
    return obj;
}

void __kmem_cache_free(struct kmem_cache *s, struct page *slab, void *obj)
{
    if (unlikely(s->flags & SLAB_DEBUG_FLAGS) && !free_debug(s, slab, obj))
        return;
    slab_free(s, slab, obj);
}

void kmem_cache_free(struct kmem_cache *s, void *obj)
{
    struct page *slab;

    if (!obj)
        return;
    slab = virt_to_slab(obj);
    if (unlikely(!slab || slab->slab_cache != s)) {
        mm_printf("slab: kmem_cache_free(%s): 0x%lx is not an object of this cache\n", s->name,
                  (unsigned long)obj);
        MM_BUG_ON(1);
    }
    __kmem_cache_free(s, slab, obj);
}

unsigned int kmem_cache_size(const struct kmem_cache *s)
{
    return s->object_size;
}

const char *kmem_cache_name(const struct kmem_cache *s)
{
    return s->name;
}

/* ---- creating and destroying caches ---- */

/* SLAB_HWCACHE_ALIGN as in mm/slab_common.c calculate_alignment(): a cache line, halved
 * while the object fits twice, so small objects share lines rather than pad to 64. */
static unsigned int calculate_alignment(slab_flags_t flags, unsigned int align, unsigned int size)
{
    if (flags & SLAB_HWCACHE_ALIGN) {
        unsigned int ralign = CACHE_LINE;

        while (size <= ralign / 2)
            ralign /= 2;
        if (ralign > align)
            align = ralign;
    }
    if (align < WORD)
        align = WORD;
    return ALIGN_UP(align, WORD);
}

/* Smallest order (up to SLAB_MAX_ORDER) with at least 4 objects and 1/8 waste at most;
 * bigger objects get the smallest order that holds one. */
static int calculate_order(unsigned int size)
{
    for (unsigned int order = 0; order <= SLAB_MAX_ORDER; order++) {
        unsigned long bytes = PAGE_SIZE << order, objs = bytes / size;

        if (objs >= 4 && (bytes - objs * size) * 8 <= bytes)
            return (int)order;
    }
    for (unsigned int order = 0; order < MAX_ORDER; order++) {
        if ((PAGE_SIZE << order) / size >= 1)
            return (int)order;
    }
    return -1;
}

int __kmem_cache_create(struct kmem_cache *s, const char *name, unsigned int size,
                        unsigned int align, slab_flags_t flags, void (*ctor)(void *))
{
    unsigned int inuse, stride;
    int order;

    if (!name || !size || size > (PAGE_SIZE << (MAX_ORDER - 1)) || (align & (align - 1)) ||
        align > PAGE_SIZE)
        return -EINVAL;
    flags &= SLAB_RED_ZONE | SLAB_POISON | SLAB_KMALLOC | SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA |
             SLAB_PANIC;
    if ((flags & SLAB_POISON) && !ctor)
        flags |= __OBJECT_POISON;
    mm_memset(s, 0, sizeof(*s));
    s->name = name;
    s->flags = flags;
    s->ctor = ctor;
    s->object_size = size;
    s->align = calculate_alignment(flags, align, size);
    inuse = ALIGN_UP(size, WORD);
    if ((flags & SLAB_RED_ZONE) && inuse == size)
        inuse += WORD;
    s->inuse = inuse;
    if (ctor || (flags & (SLAB_RED_ZONE | SLAB_POISON))) {
        s->offset = inuse; /* outside the object: the object's contents must survive */
        stride = inuse + WORD;
    } else {
        s->offset = (size / 2) & ~(WORD - 1);
        stride = inuse;
    }
    s->size = ALIGN_UP(stride, s->align);
    order = calculate_order(s->size);
    if (order < 0)
        return -EINVAL;
    s->order = (unsigned int)order;
    s->objects = (unsigned int)((PAGE_SIZE << order) / s->size);
    s->allocflags = (flags & SLAB_CACHE_DMA) ? __GFP_DMA : 0;
    s->min_partial = (31u - (unsigned int)__builtin_clz(s->size)) / 2;
    if (s->min_partial < MIN_PARTIAL)
        s->min_partial = MIN_PARTIAL;
    if (s->min_partial > MAX_PARTIAL)
        s->min_partial = MAX_PARTIAL;
    mm_spin_lock_init(&s->list_lock);
    s->partial.next = s->partial.prev = &s->partial;
    mm_spin_lock(&slab_lock);
    s->next = slab_caches;
    slab_caches = s;
    mm_spin_unlock(&slab_lock);
    return 0;
}

static void kmem_cache_boot_init(void)
{
    static mm_spinlock_t boot_lock = MM_SPINLOCK_INIT;
    static int done;

    if (likely(__atomic_load_n(&done, __ATOMIC_ACQUIRE)))
        return;
    mm_spin_lock(&boot_lock);
    if (!done) {
        if (__kmem_cache_create(&kmem_cache_boot, "kmem_cache", sizeof(struct kmem_cache), 0,
                                SLAB_HWCACHE_ALIGN, NULL))
            mm_bug(__FILE__, __LINE__, "cannot create the kmem_cache cache");
        __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    }
    mm_spin_unlock(&boot_lock);
}

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
                                     slab_flags_t flags, void (*ctor)(void *))
{
    struct kmem_cache *s;
    int err = -ENOMEM;

    kmem_cache_boot_init();
    s = kmem_cache_alloc(&kmem_cache_boot, GFP_KERNEL);
    if (s) {
        err = __kmem_cache_create(s, name, size, align, flags & ~SLAB_KMALLOC, ctor);
        if (err)
            kmem_cache_free(&kmem_cache_boot, s);
    }
    if (err) {
        mm_printf("slab: kmem_cache_create(%s, %u, %u): failed: %d\n", name ? name : "(null)", size,
                  align, err);
        if (flags & SLAB_PANIC)
            mm_bug(__FILE__, __LINE__, "kmem_cache_create failed for a SLAB_PANIC cache");
        return NULL;
    }
    if (flags & SLAB_POISON)
        mm_printf("slab: %s: %s\n", name,
                  ctor ? "SLAB_POISON ignored: the cache has a constructor"
                       : "poisoned (free objects 0x6b, last byte 0xa5)");
    return s;
}

static unsigned long cache_live_objects(const struct kmem_cache *s)
{
    unsigned long alloc = 0, freed = 0;

    for (unsigned int cpu = 0; cpu < MM_NR_CPUS; cpu++) {
        alloc += READ_ONCE_UL(s->cpu_slab[cpu].nr_alloc);
        freed += READ_ONCE_UL(s->cpu_slab[cpu].nr_free);
    }
    return alloc - freed;
}

int kmem_cache_destroy(struct kmem_cache *s)
{
    unsigned long live;
    struct kmem_cache **pp;

    if (!s)
        return 0;
    live = cache_live_objects(s);
    if (live) {
        mm_printf("==================================================================="
                  "==========\n");
        mm_printf("BUG %s: Objects remaining on __kmem_cache_shutdown()\n", s->name);
        mm_printf("-------------------------------------------------------------------"
                  "----------\n");
        mm_printf("kmem_cache_destroy %s: Slab cache still has objects (%lu live): not "
                  "destroyed\n",
                  s->name, live);
        return -EBUSY;
    }
    if (s->flags & SLAB_KMALLOC)
        return -EINVAL;
    for (unsigned int cpu = 0; cpu < MM_NR_CPUS; cpu++)
        deactivate_slab(s, &s->cpu_slab[cpu]);
    mm_spin_lock(&s->list_lock);
    while (s->nr_partial) {
        struct page *page = (struct page *)((char *)s->partial.next - offsetof(struct page, lru));

        MM_BUG_ON(page->inuse != 0);
        list_del(&page->lru);
        s->nr_partial--;
        s->nr_slabs--;
        mm_spin_unlock(&s->list_lock);
        discard_slab(s, page);
        mm_spin_lock(&s->list_lock);
    }
    MM_BUG_ON(s->nr_slabs != 0);
    mm_spin_unlock(&s->list_lock);
    mm_spin_lock(&slab_lock);
    for (pp = &slab_caches; *pp && *pp != s; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = s->next;
    mm_spin_unlock(&slab_lock);
    kmem_cache_free(&kmem_cache_boot, s);
    return 0;
}

/* ---- /proc/slabinfo ---- */

void mm_show_slabinfo(void)
{
    mm_printf("slabinfo - version: 2.1\n");
    mm_printf("# name            <active_objs> <num_objs> <objsize> <objperslab> "
              "<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata "
              "<active_slabs> <num_slabs> <sharedavail>\n");
    mm_spin_lock(&slab_lock);
    for (struct kmem_cache *s = slab_caches; s; s = s->next) {
        unsigned long nr_slabs = READ_ONCE_UL(s->nr_slabs);

        mm_printf("%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu "
                  "%6lu\n",
                  s->name, cache_live_objects(s), nr_slabs * s->objects, s->size, s->objects,
                  1 << s->order, 0u, 0u, 0u, nr_slabs, nr_slabs, 0ul);
    }
    mm_spin_unlock(&slab_lock);
}
