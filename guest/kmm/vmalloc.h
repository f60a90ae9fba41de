/*
 * vmalloc.h: virtually contiguous kernel memory from physically scattered pages (Linux's
 * include/linux/vmalloc.h names). Guest only: the host builds of the allocators leave
 * vmalloc out (it needs the kernel page tables, pgtable.c, and IPIs).
 *
 *   vmalloc(size)    round up to pages, take order-0 pages one by one from the buddy
 *                    allocator and map them back to back in [VMALLOC_START, VMALLOC_END),
 *                    one unmapped guard page after each area. Not zeroed (vzalloc is).
 *   vfree(addr)      unmap, flush the range from every CPU's TLB (invlpg here, an IPI to
 *                    each other online CPU and wait for its ack), then free the pages. Must
 *                    be called with interrupts enabled (another CPU's vfree may be waiting
 *                    for this CPU's ack).
 */
#ifndef KMM_VMALLOC_H
#define KMM_VMALLOC_H

#include <stddef.h>
#include <stdint.h>

struct page;

void *vmalloc(unsigned long size);
void *vzalloc(unsigned long size);
void vfree(const void *addr);
/* The page mapped at a vmalloc address, or NULL. */
struct page *vmalloc_to_page(const void *addr);
/* /proc/vmallocinfo-style listing: "start-end size caller pages=N vmalloc". */
void mm_show_vmallocinfo(void);

/* One "mm: ok: ..." / "mm: FAIL: ..." line per check; returns the number of failures. */
int vmalloc_selftest(void);

#endif
