/*
 * virtio_ring.c: the driver side of a split virtqueue (virtio 1.x §2.7, Appendix A).
 *
 * Invariants: descriptor i always addresses buf[i] (set once here); a descriptor is either on
 * the free stack, in the available ring (owned by the device) or held by the caller between
 * virtqueue_get_buf() and virtqueue_add()/virtqueue_put_free(). Each queue is used by one
 * CPU with interrupts off (the net poll loop), so there is no lock; the interrupt handler
 * never touches rings.
 *
 * Ordering (x86 TSO): a compiler barrier orders the descriptor and ring-entry stores before
 * the avail->idx store; an mfence orders our idx / used_event stores before the loads of the
 * device's avail_event / used->idx (the store-load case, §2.7.10 / §2.7.7).
 *
 * Layout in the ring page for num <= 64: descriptors at 0 (16 * num <= 1024 bytes), the
 * driver area at 1024 (6 + 2 * num <= 134), the device area at 2048 (6 + 8 * num <= 518).
 */
#include "virtio_ring.h"

#include "../kernel.h"
#include "../mm/mm.h"
#include "../x86.h"

#define AVAIL_OFF 1024
#define USED_OFF 2048

static volatile uint16_t *used_event(struct virtqueue *vq)
{
    return (volatile uint16_t *)((uint8_t *)vq->avail + vring_used_event_off(vq->num));
}

static volatile uint16_t *avail_event(struct virtqueue *vq)
{
    return (volatile uint16_t *)((uint8_t *)vq->used + vring_avail_event_off(vq->num));
}

int vring_create(struct virtqueue *vq, unsigned int index, unsigned int num, bool event_idx)
{
    uint8_t *ring, *bufs;
    unsigned int order = 0;

    if (num == 0 || num > VQ_MAX_NUM || (num & (num - 1)))
        return -MM_EINVAL;
    memset(vq, 0, sizeof(*vq));
    ring = (uint8_t *)__get_free_page(GFP_DMA32);
    if (!ring)
        return -MM_ENOMEM;
    vq->index = index;
    vq->num = num;
    vq->event_idx = event_idx;
    vq->desc = (struct vring_desc *)ring;
    vq->avail = (struct vring_avail *)(ring + AVAIL_OFF);
    vq->used = (struct vring_used *)(ring + USED_OFF);
    /* Only the fields the device reads before we write them; no page zeroing (slow here). */
    vq->avail->flags = 0;
    vq->avail->idx = 0;
    *used_event(vq) = 0;
    vq->used->flags = 0;
    vq->used->idx = 0;
    *avail_event(vq) = 0;
    /* All buffers in one block: one allocator call instead of num/2 (emulated code is slow). */
    while ((PAGE_SIZE << order) < (uint64_t)num * VQ_BUF_SIZE)
        order++;
    bufs = (uint8_t *)__get_free_pages(GFP_DMA32, order);
    if (!bufs) {
        free_page((unsigned long)ring);
        return -MM_ENOMEM;
    }
    for (unsigned int i = 0; i < num; i++)
        vq->buf[i] = bufs + (size_t)i * VQ_BUF_SIZE;
    for (unsigned int i = 0; i < num; i++) {
        vq->desc[i].addr = virt_to_phys(vq->buf[i]);
        vq->desc[i].len = VQ_BUF_SIZE;
        vq->desc[i].flags = 0;
        vq->desc[i].next = 0;
        vq->free[i] = (uint16_t)(num - 1 - i);
    }
    vq->nr_free = num;
    return 0;
}

void vring_destroy(struct virtqueue *vq)
{
    unsigned int order = 0;

    if (!vq->desc)
        return;
    while ((PAGE_SIZE << order) < (uint64_t)vq->num * VQ_BUF_SIZE)
        order++;
    free_pages((unsigned long)vq->buf[0], order);
    free_page((unsigned long)vq->desc);
    memset(vq, 0, sizeof(*vq));
}

int virtqueue_get_free(struct virtqueue *vq)
{
    if (!vq->nr_free)
        return -1;
    return vq->free[--vq->nr_free];
}

void virtqueue_put_free(struct virtqueue *vq, unsigned int id)
{
    BUG_ON(vq->nr_free >= vq->num);
    vq->free[vq->nr_free++] = (uint16_t)id;
}

void virtqueue_add(struct virtqueue *vq, unsigned int id, uint32_t len, bool write)
{
    vq->desc[id].len = len;
    vq->desc[id].flags = write ? VIRTQ_DESC_F_WRITE : 0;
    vq->avail->ring[vq->avail_idx & (vq->num - 1)] = (uint16_t)id;
    barrier();
    vq->avail_idx++;
    WRITE_ONCE(vq->avail->idx, vq->avail_idx);
}

void virtqueue_add_pair(struct virtqueue *vq, unsigned int out_id, uint32_t out_len,
                        unsigned int in_id, uint32_t in_len)
{
    vq->desc[out_id].len = out_len;
    vq->desc[out_id].flags = VIRTQ_DESC_F_NEXT;
    vq->desc[out_id].next = (uint16_t)in_id;
    vq->desc[in_id].len = in_len;
    vq->desc[in_id].flags = VIRTQ_DESC_F_WRITE;
    vq->avail->ring[vq->avail_idx & (vq->num - 1)] = (uint16_t)out_id;
    barrier();
    vq->avail_idx++;
    WRITE_ONCE(vq->avail->idx, vq->avail_idx);
}

bool virtqueue_kick_prepare(struct virtqueue *vq)
{
    uint16_t old = vq->kicked_idx, new_idx = vq->avail_idx;
    bool kick;

    if (old == new_idx)
        return false;
    virt_mb();
    if (vq->event_idx)
        kick = vring_need_event(*avail_event(vq), new_idx, old);
    else
        kick = !(READ_ONCE(vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY);
    vq->kicked_idx = new_idx;
    return kick;
}

int virtqueue_get_buf(struct virtqueue *vq, uint32_t *len)
{
    struct vring_used_elem *e;
    uint32_t id;

    if (READ_ONCE(vq->used->idx) == vq->last_used_idx)
        return -1;
    barrier(); /* the entry is read after the index (loads are ordered on x86) */
    e = &vq->used->ring[vq->last_used_idx & (vq->num - 1)];
    id = READ_ONCE(e->id);
    *len = READ_ONCE(e->len);
    vq->last_used_idx++;
    if (id >= vq->num) {
        kprintf("virtio: queue %u: used id %u out of range\n", vq->index, id);
        return -1;
    }
    return (int)id;
}

bool virtqueue_enable_cb(struct virtqueue *vq)
{
    if (vq->event_idx)
        *used_event(vq) = vq->last_used_idx;
    else
        WRITE_ONCE(vq->avail->flags, 0);
    virt_mb();
    return READ_ONCE(vq->used->idx) != vq->last_used_idx;
}
