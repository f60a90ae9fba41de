/*
 * vmalloc.c: vmalloc/vfree (Linux's mm/vmalloc.c, much reduced). Guest only.
 *
 * An area is a run of virtual pages in [VMALLOC_START, VMALLOC_END) (pgtable.h) plus one
 * unmapped guard page, backed by order-0 pages taken one at a time from the buddy allocator
 * (so physically scattered) and mapped with pgtable_map_page(). Areas sit on one list sorted
 * by address; a new area takes the first gap that fits.
 *
 * TLB rules: a new mapping needs no flush (the range was flushed everywhere when it was last
 * freed, and x86 does not cache non-present entries). vfree() unmaps each page
 * (pgtable_unmap_page() does invlpg on this CPU), then sends TLB_FLUSH_VECTOR to every other
 * online CPU and waits until each has run invlpg over the range and acknowledged; only then
 * are the pages freed and the virtual range made reusable. Until then the area stays on the
 * list, marked `freeing`, so no one can map that range again while a stale TLB entry for it
 * may exist anywhere.
 *
 * Locking: vmap_lock protects the area list; flush_lock serialises shootdowns (one range in
 * flight). A CPU waiting for acks keeps interrupts as its caller had them: vfree() must be
 * called with interrupts on, or two CPUs freeing at once could each wait for the other.
 */
#include "vmalloc.h"

#include "../config.h"
#include "../lapic.h"
#include "../mm/mm.h"
#include "../mm/mm_env.h"
#include "../mm/slab.h"
#include "../smp.h"
#include "../traps.h"
#include "../tsc.h"
#include "../x86.h"
#include "pgtable.h"

#define FLUSH_ALL_THRESHOLD 32 /* pages: above this a CPU reloads CR3 instead of invlpg */
#define FLUSH_ACK_TIMEOUT_US 2000000
#define VMALLOC_MAX_PAGES (1ul << 20) /* 4 GiB: keeps the page array a kmalloc_large */

struct vm_struct {
    struct vm_struct *next;
    uint64_t addr;         /* first page */
    uint64_t size;         /* bytes, including the guard page */
    unsigned int nr_pages; /* mapped pages */
    bool freeing;
    unsigned long caller;
    struct page **pages;
};

static mm_spinlock_t vmap_lock = MM_SPINLOCK_INIT;
static struct vm_struct *vmap_areas; /* sorted by addr */

/* ---- TLB shootdown ---- */

static mm_spinlock_t flush_lock = MM_SPINLOCK_INIT;
static volatile uint64_t flush_start, flush_end;
static volatile uint32_t flush_acks;
static int flush_vector_ready;
static unsigned int last_flush_cpus;

static inline void local_flush_range(uint64_t start, uint64_t end)
{
    if ((end - start) / PAGE_SIZE > FLUSH_ALL_THRESHOLD) {
        uint64_t cr3 = read_cr3();

        __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
        return;
    }
    for (uint64_t va = start; va < end; va += PAGE_SIZE)
        __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static void tlb_flush_interrupt(void)
{
    local_flush_range(flush_start, flush_end);
    __atomic_sub_fetch(&flush_acks, 1, __ATOMIC_RELEASE);
    lapic_eoi();
}

/*
 * Flush [start, end) from every other online CPU's TLB and wait for their acks (this CPU's
 * entries went with pgtable_unmap_page()). Returns the number of CPUs that acknowledged.
 */
static unsigned int flush_tlb_kernel_range(uint64_t start, uint64_t end)
{
    unsigned int self = smp_processor_id(), n = smp_nr_cpus(), targets = 0;
    uint64_t deadline;

    if (n <= 1)
        return 0;
    mm_spin_lock(&flush_lock);
    if (!flush_vector_ready) {
        irq_set_handler(TLB_FLUSH_VECTOR, tlb_flush_interrupt);
        flush_vector_ready = 1;
    }
    flush_start = start;
    flush_end = end;
    for (unsigned int cpu = 0; cpu < n; cpu++)
        if (cpu != self && READ_ONCE(cpu_info[cpu].online))
            targets++;
    __atomic_store_n(&flush_acks, targets, __ATOMIC_RELEASE);
    for (unsigned int cpu = 0; cpu < n; cpu++)
        if (cpu != self && READ_ONCE(cpu_info[cpu].online))
            lapic_send_ipi(cpu_info[cpu].apic_id, APIC_ICR_FIXED | TLB_FLUSH_VECTOR);
    deadline = tsc_deadline_us(FLUSH_ACK_TIMEOUT_US);
    while (__atomic_load_n(&flush_acks, __ATOMIC_ACQUIRE)) {
        if ((int64_t)(rdtsc() - deadline) > 0) {
            /* A CPU that never takes interrupts again (halted after a panic) cannot use
             * the range either: report and go on rather than hang. */
            mm_printf("vmalloc: %u CPU(s) did not acknowledge the TLB flush of "
                      "0x%lx-0x%lx\n",
                      (unsigned int)flush_acks, (unsigned long)start, (unsigned long)end);
            targets -= flush_acks;
            break;
        }
        cpu_relax();
    }
    mm_spin_unlock(&flush_lock);
    return targets;
}

/* ---- areas ---- */

/* Find a gap of `size` bytes and link a new area there; 0 or -ENOMEM. */
static int insert_area(struct vm_struct *area, uint64_t size)
{
    uint64_t cursor = VMALLOC_START;
    struct vm_struct **pp;

    mm_spin_lock(&vmap_lock);
    for (pp = &vmap_areas; *pp; pp = &(*pp)->next) {
        if ((*pp)->addr - cursor >= size)
            break;
        cursor = (*pp)->addr + (*pp)->size;
    }
    if (!*pp && VMALLOC_END - cursor < size) {
        mm_spin_unlock(&vmap_lock);
        return -MM_ENOMEM;
    }
    area->addr = cursor;
    area->size = size;
    area->next = *pp;
    *pp = area;
    mm_spin_unlock(&vmap_lock);
    return 0;
}

static void remove_area(struct vm_struct *area)
{
    mm_spin_lock(&vmap_lock);
    for (struct vm_struct **pp = &vmap_areas; *pp; pp = &(*pp)->next) {
        if (*pp == area) {
            *pp = area->next;
            break;
        }
    }
    mm_spin_unlock(&vmap_lock);
}

/* Unmap and free the first `mapped` pages, flush everywhere, free the page array. */
static unsigned int release_pages(struct vm_struct *area, unsigned int allocated,
                                  unsigned int mapped)
{
    unsigned int cpus = 0;

    for (unsigned int i = 0; i < mapped; i++)
        pgtable_unmap_page(area->addr + (uint64_t)i * PAGE_SIZE);
    if (mapped)
        cpus = flush_tlb_kernel_range(area->addr, area->addr + (uint64_t)mapped * PAGE_SIZE);
    for (unsigned int i = 0; i < allocated; i++) {
        area->pages[i]->flags &= ~PG_vmalloc;
        __free_page(area->pages[i]);
    }
    kfree(area->pages);
    return cpus;
}

static uint64_t free_page_count(void)
{
    struct mm_zone_stats st;
    uint64_t n = 0;

    for (int z = 0; z < MAX_NR_ZONES; z++) {
        mm_zone_stats((enum zone_type)z, &st);
        n += st.free + st.pcp;
    }
    return n;
}

static void *__vmalloc(unsigned long size, gfp_t gfp, unsigned long caller)
{
    unsigned long nr = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    struct vm_struct *area;
    unsigned int i;

    if (!size || size > VMALLOC_MAX_PAGES * PAGE_SIZE)
        return NULL;
    /* Fail before taking and giving back thousands of pages (each costs ~0.1 ms here). */
    if (nr > free_page_count())
        return NULL;
    area = kzalloc(sizeof(*area), GFP_KERNEL);
    if (!area)
        return NULL;
    area->pages = kmalloc(nr * sizeof(struct page *), GFP_KERNEL);
    area->caller = caller;
    if (!area->pages || insert_area(area, (nr + 1) * PAGE_SIZE)) {
        kfree(area->pages);
        kfree(area);
        return NULL;
    }
    for (i = 0; i < nr; i++) {
        struct page *page = alloc_page(gfp);

        if (!page)
            break;
        page->flags |= PG_vmalloc;
        area->pages[i] = page;
        if (pgtable_map_page(area->addr + (uint64_t)i * PAGE_SIZE, page_to_pfn(page) << PAGE_SHIFT,
                             PAGE_KERNEL | _PAGE_NX)) {
            i++;
            release_pages(area, i, i - 1);
            goto fail;
        }
    }
    if (i < nr) {
        release_pages(area, i, i);
        goto fail;
    }
    area->nr_pages = (unsigned int)nr;
    return (void *)(uintptr_t)area->addr;
fail:
    remove_area(area);
    kfree(area);
    return NULL;
}

void *vmalloc(unsigned long size)
{
    return __vmalloc(size, GFP_KERNEL, (unsigned long)__builtin_return_address(0));
}

void *vzalloc(unsigned long size)
{
    /* Zeroed page by page through the direct map by the page allocator. */
    return __vmalloc(size, GFP_KERNEL | __GFP_ZERO, (unsigned long)__builtin_return_address(0));
}

static struct vm_struct *find_area(uint64_t addr, bool claim)
{
    struct vm_struct *area;

    mm_spin_lock(&vmap_lock);
    for (area = vmap_areas; area; area = area->next) {
        if (area->addr == addr && !area->freeing) {
            if (claim)
                area->freeing = true;
            break;
        }
    }
    mm_spin_unlock(&vmap_lock);
    return area;
}

void vfree(const void *addr)
{
    struct vm_struct *area;

    if (!addr)
        return;
    area = find_area((uint64_t)(uintptr_t)addr, true);
    if (!area) {
        mm_printf("vfree: 0x%lx: not a vmalloc area (or already freed)\n", (unsigned long)addr);
        return;
    }
    last_flush_cpus = release_pages(area, area->nr_pages, area->nr_pages);
    remove_area(area);
    kfree(area);
}

struct page *vmalloc_to_page(const void *addr)
{
    uint64_t pa = pgtable_virt_to_phys((uint64_t)(uintptr_t)addr);

    return pa ? pfn_to_page(pa >> PAGE_SHIFT) : NULL;
}

void mm_show_vmallocinfo(void)
{
    mm_spin_lock(&vmap_lock);
    for (struct vm_struct *a = vmap_areas; a; a = a->next)
        mm_printf("0x%016lx-0x%016lx %8lu 0x%lx pages=%u vmalloc%s\n", (unsigned long)a->addr,
                  (unsigned long)(a->addr + a->size), (unsigned long)a->size, a->caller,
                  a->nr_pages, a->freeing ? " (freeing)" : "");
    mm_spin_unlock(&vmap_lock);
}

/* ---- self-test ---- */

static int vm_failures;

static void vcheck(bool ok, const char *what)
{
    mm_printf("mm: %s: vmalloc: %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        vm_failures++;
}

#define VT_PAGES 6

/* Run on the APs: read the first byte of a vmalloc page (loading its TLB entry). */
static volatile uint8_t ap_seen[NR_CPUS];

static void ap_read_byte(void *arg)
{
    ap_seen[smp_processor_id() % NR_CPUS] = READ_ONCE(*(volatile uint8_t *)arg);
}

static bool aps_saw(uint8_t want)
{
    for (unsigned int cpu = 1; cpu < smp_nr_cpus(); cpu++)
        if (READ_ONCE(cpu_info[cpu].online) && ap_seen[cpu] != want)
            return false;
    return true;
}

/*
 * The other CPUs cache a vmalloc mapping in their TLBs; vfree() it and map the same virtual
 * page to a different physical page: they must see the new page, not the old one.
 */
static void test_tlb_shootdown(void)
{
    uint8_t *v, *w;
    struct page *old_page;

    if (smp_nr_cpus() < 2 || smp_processor_id() != 0) {
        mm_printf("mm: skip: vmalloc: stale TLB entries on other CPUs (1 CPU)\n");
        return;
    }
    v = vmalloc(PAGE_SIZE);
    if (!v) {
        vcheck(false, "vmalloc(1 page) for the TLB test");
        return;
    }
    v[0] = 0x11;
    smp_call_function(ap_read_byte, v);
    vcheck(aps_saw(0x11), "the other CPUs read the page through the vmalloc mapping");
    vfree(v);
    old_page = alloc_page(GFP_KERNEL); /* most likely v's old page: keep it out of w */
    w = vmalloc(PAGE_SIZE);
    if (!w) {
        vcheck(false, "vmalloc(1 page) again");
    } else {
        w[0] = 0x22;
        smp_call_function(ap_read_byte, w);
        /* On our PVM hosts (shadow paging) this holds even without the IPIs; on hardware
         * with EPT/NPT a missing shootdown shows here. The ack count above shows the IPIs. */
        if (w != v)
            mm_printf("mm: vmalloc: the new mapping got another address: TLB reuse check "
                      "is vacuous\n");
        vcheck(aps_saw(0x22), "after vfree and a new mapping at the same address, no CPU "
                              "reads the old page");
        vfree(w);
    }
    if (old_page)
        __free_page(old_page);
}

int vmalloc_selftest(void)
{
    struct page *hold[2 * VT_PAGES];
    uint8_t *v, *w;
    bool ok, scattered = false;
    uint64_t pa[VT_PAGES];

    vm_failures = 0;
    /* Make the free lists hand out non-adjacent pages: take 12, give back every other. */
    for (int i = 0; i < 2 * VT_PAGES; i++)
        hold[i] = alloc_page(GFP_KERNEL);
    for (int i = 0; i < 2 * VT_PAGES; i += 2)
        if (hold[i])
            __free_page(hold[i]);

    v = vmalloc(5 * PAGE_SIZE + 100); /* 6 pages */
    vcheck(v && (uint64_t)(uintptr_t)v >= VMALLOC_START && (uint64_t)(uintptr_t)v < VMALLOC_END &&
               ((uintptr_t)v & (PAGE_SIZE - 1)) == 0,
           "vmalloc(5 pages + 100) inside [VMALLOC_START, VMALLOC_END), page aligned");
    if (!v)
        goto out;
    ok = true;
    for (int i = 0; i < VT_PAGES; i++) {
        struct page *page = vmalloc_to_page(v + i * PAGE_SIZE);

        pa[i] = pgtable_virt_to_phys((uint64_t)(uintptr_t)(v + i * PAGE_SIZE));
        v[i * PAGE_SIZE] = (uint8_t)(0x40 + i); /* through the vmalloc mapping */
        v[i * PAGE_SIZE + PAGE_SIZE - 1] = (uint8_t)i;
        ok = ok && page && (page->flags & PG_vmalloc) &&
             ((uint8_t *)page_address(page))[0] == 0x40 + i && /* seen through the direct map */
             ((uint8_t *)page_address(page))[PAGE_SIZE - 1] == i;
        if (i && pa[i] != pa[i - 1] + PAGE_SIZE)
            scattered = true;
    }
    vcheck(ok, "6 pages virtually contiguous: each byte written through vmalloc is in its page");
    vcheck(scattered, "backing pages physically scattered");
    vcheck(pgtable_virt_to_phys((uint64_t)(uintptr_t)(v + VT_PAGES * PAGE_SIZE)) == 0,
           "guard page after the area unmapped");
    w = vmalloc(PAGE_SIZE);
    vcheck(w && w >= v + (VT_PAGES + 1) * PAGE_SIZE, "a second area starts after the guard");
    vfree(w);
    vfree(v);
    ok = true;
    for (int i = 0; i < VT_PAGES; i++)
        ok = ok && pgtable_virt_to_phys((uint64_t)(uintptr_t)(v + i * PAGE_SIZE)) == 0;
    vcheck(ok, "vfree unmapped every page");
    mm_printf("mm: vmalloc: vfree flushed the TLB on %u other CPU(s) (%u online)\n",
              last_flush_cpus, smp_nr_cpus());
    vcheck(last_flush_cpus + 1 >= smp_nr_cpus(), "every other online CPU acknowledged the flush");
    w = vmalloc(3 * PAGE_SIZE);
    vcheck(w && w <= v, "first fit: the freed range (or an earlier gap) is reused");
    vfree(w);
    vcheck(vmalloc(0) == NULL, "vmalloc(0) = NULL");
    vcheck(vmalloc(1ul << 44) == NULL, "vmalloc(16 TiB) fails cleanly");
    vfree(NULL);
    test_tlb_shootdown();
out:
    for (int i = 1; i < 2 * VT_PAGES; i += 2)
        if (hold[i])
            __free_page(hold[i]);
    return vm_failures;
}
