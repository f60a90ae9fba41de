/*
 * virtio_ring.h: the driver side of a split virtqueue (virtio 1.x §2.7), in the simplest
 * shape that needs no allocation after set-up: descriptor i always points at buffer i, each
 * buffer is one descriptor (no chains but virtqueue_add_pair's), so a descriptor index names a
 * buffer and the free list of descriptors is the free list of buffers.
 */
#ifndef GUEST_VIRTIO_RING_H
#define GUEST_VIRTIO_RING_H

#include <stdbool.h>
#include <stdint.h>

#include <minivmm/virtio.h>

/* Guest-physical address of kernel memory: the identity map below 4 GiB (boot.S). The host
 * unit test (tests/unit/test_guest_vring.c) builds this file against a gmem instead. */
#ifdef VIRTIO_RING_HOST
uint64_t virtio_ring_host_virt_to_phys(const void *p);
#define virt_to_phys(p) virtio_ring_host_virt_to_phys(p)
#else
#define virt_to_phys(p) ((uint64_t)(uintptr_t)(p))
#endif

#define VQ_MAX_NUM 64 /* ring + buffer memory: one page of ring, num/2 pages of buffers */
#define VQ_BUF_SIZE 2048

struct virtqueue {
    unsigned int index; /* queue number on the device */
    unsigned int num;   /* power of two, <= VQ_MAX_NUM */
    bool event_idx;     /* VIRTIO_F_EVENT_IDX negotiated */
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint8_t *buf[VQ_MAX_NUM];  /* buffer of descriptor i (VQ_BUF_SIZE bytes) */
    uint32_t tag[VQ_MAX_NUM];  /* caller's note on what buffer i holds (0 = nothing) */
    uint16_t free[VQ_MAX_NUM]; /* stack of free descriptor indices */
    unsigned int nr_free;
    uint16_t avail_idx;     /* our copy of avail->idx */
    uint16_t kicked_idx;    /* avail_idx at the last notification decision */
    uint16_t last_used_idx; /* next used entry to read */
};

/* Allocate the ring (one DMA32 page) and num buffers; all descriptors start free.
 * 0 or -errno. */
int vring_create(struct virtqueue *vq, unsigned int index, unsigned int num, bool event_idx);
/* Free the ring and the buffers (after a device reset: the device must no longer own them);
 * the queue is zeroed and may be created again. */
void vring_destroy(struct virtqueue *vq);
/* A free descriptor index, or -1 when every buffer is with the device. */
int virtqueue_get_free(struct virtqueue *vq);
/* Give buffer `id` to the device: `len` bytes, device-writable when `write`. */
void virtqueue_add(struct virtqueue *vq, unsigned int id, uint32_t len, bool write);
/* The one chain this file makes (the control queue's request): buffer out_id (out_len bytes,
 * device-readable) then buffer in_id (in_len bytes, device-writable); the used entry names
 * out_id. The caller keeps both ids off the free stack. */
void virtqueue_add_pair(struct virtqueue *vq, unsigned int out_id, uint32_t out_len,
                        unsigned int in_id, uint32_t in_len);
/* Whether the device wants a notification for what was added since the last call
 * (EVENT_IDX avail_event, else the used ring's NO_NOTIFY flag). */
bool virtqueue_kick_prepare(struct virtqueue *vq);
/* The next used buffer (its descriptor index; *len = bytes written), or -1 if none. The
 * caller owns the buffer afterwards: re-add it or put it back with virtqueue_put_free(). */
int virtqueue_get_buf(struct virtqueue *vq, uint32_t *len);
void virtqueue_put_free(struct virtqueue *vq, unsigned int id);
/* Ask for an interrupt at the next used entry; true if entries arrived meanwhile (the
 * caller must then poll again rather than sleep). */
bool virtqueue_enable_cb(struct virtqueue *vq);

static inline void virt_mb(void)
{
    __asm__ volatile("mfence" : : : "memory");
}

#endif
