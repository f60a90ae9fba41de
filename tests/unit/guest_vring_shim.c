/*
 * guest_vring_shim.c: builds against the guest's virtio_ring.h and gives the host test
 * (test_guest_vring.c) handle-based access to it, plus the environment virtio_ring.c needs
 * on the host: kprintf, and __get_free_pages/free_pages as a bump allocator over the test's
 * guest RAM, with virt_to_phys() translating into that RAM's guest-physical addresses.
 */
#include "guest_vring_shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../guest/kernel.h"
#include "../../guest/mm/mm.h"
#include "../../guest/virtio/virtio_ring.h"

struct gvq {
    struct virtqueue vq;
};

static uint8_t *mem_base;
static uint64_t mem_gpa, mem_size, mem_next;

void kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

uint64_t virtio_ring_host_virt_to_phys(const void *p)
{
    return mem_gpa + (uint64_t)((const uint8_t *)p - mem_base);
}

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
    uint64_t size = PAGE_SIZE << order;
    unsigned long p;

    (void)gfp;
    mem_next = (mem_next + size - 1) & ~(size - 1); /* naturally aligned, as the buddy does */
    if (mem_next + size > mem_size)
        return 0;
    p = (unsigned long)(uintptr_t)(mem_base + mem_next);
    memset(mem_base + mem_next, 0x5a, size); /* junk: the driver must not rely on zeroes */
    mem_next += size;
    return p;
}

void free_pages(unsigned long addr, unsigned int order)
{
    (void)addr;
    (void)order;
}

void gvq_set_memory(void *base, uint64_t gpa_base, uint64_t size)
{
    mem_base = base;
    mem_gpa = gpa_base;
    mem_size = size;
    mem_next = 0;
}

struct gvq *gvq_create(unsigned int num, bool event_idx, uint64_t *desc, uint64_t *avail,
                       uint64_t *used)
{
    struct gvq *q = calloc(1, sizeof(*q));

    if (!q || vring_create(&q->vq, 0, num, event_idx)) {
        free(q);
        return NULL;
    }
    *desc = virt_to_phys(q->vq.desc);
    *avail = virt_to_phys(q->vq.avail);
    *used = virt_to_phys(q->vq.used);
    return q;
}

int gvq_get_free(struct gvq *q)
{
    return virtqueue_get_free(&q->vq);
}

void gvq_put_free(struct gvq *q, unsigned int id)
{
    virtqueue_put_free(&q->vq, id);
}

void gvq_add(struct gvq *q, unsigned int id, uint32_t len, bool write)
{
    virtqueue_add(&q->vq, id, len, write);
}

bool gvq_kick_prepare(struct gvq *q)
{
    return virtqueue_kick_prepare(&q->vq);
}

int gvq_get_buf(struct gvq *q, uint32_t *len)
{
    return virtqueue_get_buf(&q->vq, len);
}

bool gvq_enable_cb(struct gvq *q)
{
    return virtqueue_enable_cb(&q->vq);
}

uint8_t *gvq_buf(struct gvq *q, unsigned int id)
{
    return q->vq.buf[id];
}

unsigned int gvq_num(struct gvq *q)
{
    return q->vq.num;
}

unsigned int gvq_nr_free(struct gvq *q)
{
    return q->vq.nr_free;
}
