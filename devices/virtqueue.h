/*
 * virtqueue.h: the device side of a virtio 1.x split virtqueue (spec §2.7), with no KVM and
 * no transport in it: a queue is three guest-physical areas in a struct gmem.
 *
 * Everything the driver wrote is hostile until checked: virtqueue_pop() validates the avail
 * index, the head, every descriptor (copied once, then checked), indirect tables and the
 * chain's shape, and on any violation marks the queue broken and returns -EINVAL; a broken
 * queue stays broken (every call fails) until virtqueue_disable() or virtqueue_enable(). The
 * transport turns a broken queue into DEVICE_NEEDS_RESET.
 *
 * Locking: none here. One thread at a time per queue; the transport (virtio_mmio.h) serialises
 * calls with its mutex. The guest runs concurrently: the functions use acquire/release fences
 * where the spec requires ordering (§2.7.13, §2.7.8.2) and never read a guest field twice.
 */
#ifndef MINIVMM_VIRTQUEUE_H
#define MINIVMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/hw/gmem.h"
#include "minivmm/virtio.h"

/* At most this many segments in one chain, direct and indirect together, and this many entries
 * in an indirect table. A longer chain breaks the queue, so a device should offer queue sizes
 * no larger than this: then every chain the spec allows without indirect fits (§2.7.5.2: no
 * chain longer than the queue size). Linux's virtio-net needs at most MAX_SKB_FRAGS + 2. */
#define VQ_CHAIN_MAX_SEGS 256
#define VQ_INDIRECT_MAX VQ_CHAIN_MAX_SEGS

/* Total bytes of a chain (§2.7.5.2: no chain longer than 2^32 bytes). */
#define VQ_CHAIN_MAX_BYTES (1ull << 32)

/* One buffer of a chain: the checked guest range [gpa, gpa+len), len > 0. */
struct vq_seg {
    gpa_t gpa;
    uint32_t len;
    bool is_write; /* device-writable */
};

/* A popped descriptor chain. segs[0..nout) are device-readable, segs[nout..nout+nin)
 * device-writable (§2.7.4.2 guarantees that order; pop refuses anything else). Zero-length
 * descriptors are checked for flags but leave no segment. */
struct vq_chain {
    uint16_t head;  /* what virtqueue_push() must be given back */
    uint32_t epoch; /* vq->epoch at pop time: a chain from before a reset is stale */
    unsigned nout, nin;
    uint64_t out_len; /* bytes in the readable segments */
    uint64_t in_len;  /* bytes in the writable segments */
    struct vq_seg segs[VQ_CHAIN_MAX_SEGS];
};

/* Why the queue broke, for the transport's log and for tests. */
enum vq_error {
    VQ_OK = 0,
    VQ_ERR_AVAIL_IDX,       /* avail->idx moved by more than the queue size */
    VQ_ERR_HEAD,            /* head index >= size */
    VQ_ERR_NEXT,            /* next index >= size (or >= indirect table entries) */
    VQ_ERR_DESC_ADDR,       /* buffer not entirely in guest RAM, or wraps */
    VQ_ERR_LOOP,            /* chain longer than the queue / table: a loop */
    VQ_ERR_TOO_MANY,        /* more than VQ_CHAIN_MAX_SEGS segments */
    VQ_ERR_TOTAL_LEN,       /* more than 2^32 bytes in total */
    VQ_ERR_ORDER,           /* device-readable after device-writable */
    VQ_ERR_INDIRECT_NOFEAT, /* INDIRECT without VIRTIO_F_INDIRECT_DESC */
    VQ_ERR_INDIRECT_NEXT,   /* INDIRECT together with NEXT */
    VQ_ERR_INDIRECT_NESTED, /* INDIRECT inside an indirect table */
    VQ_ERR_INDIRECT_SIZE,   /* table length 0, not a multiple of 16, or > VQ_INDIRECT_MAX */
    VQ_ERR_INDIRECT_ADDR,   /* table not entirely in guest RAM */
};

struct virtqueue {
    const struct gmem *gm;
    bool ready;  /* enabled by virtqueue_enable(), areas checked */
    bool broken; /* a violation was seen; see `error` */
    enum vq_error error;
    bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
    bool indirect;  /* VIRTIO_F_INDIRECT_DESC negotiated */
    uint16_t size;  /* entries, a power of 2 */
    gpa_t desc_gpa, avail_gpa, used_gpa;
    /* Host views of the three areas, from gmem_ptr() over their whole size in enable(). */
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint16_t last_avail_idx; /* next avail entry to pop */
    uint16_t used_idx;       /* next used entry to fill; published as used->idx */
    uint16_t signalled_used; /* used_idx at the last should_notify() */
    bool signalled_used_valid;
    uint32_t epoch; /* bumped by enable and disable */
};

/* A disabled queue on `gm`. */
void virtqueue_init(struct virtqueue *vq, const struct gmem *gm);
/* Checks and enables: size a power of 2 in [1, VIRTQ_MAX_SIZE], each area aligned (§2.7:
 * 16/2/4) and entirely in guest RAM. `features` are the negotiated ones (INDIRECT_DESC and
 * EVENT_IDX matter). Indices restart at 0. 0, or -EINVAL with the queue left disabled. */
int virtqueue_enable(struct virtqueue *vq, uint16_t size, gpa_t desc, gpa_t avail, gpa_t used,
                     uint64_t features);
/* Back to the state of virtqueue_init() (keeps gm; bumps epoch). */
void virtqueue_disable(struct virtqueue *vq);

/* Pops the next available chain into *out. 0: a chain; -EAGAIN: nothing available;
 * -ENODEV: not enabled; -EINVAL: the queue is (now) broken, *out is garbage. */
int virtqueue_pop(struct virtqueue *vq, struct vq_chain *out);
/* Gives back the last n popped chains, not yet pushed, so that the next pops return them again
 * (QEMU's virtqueue_rewind): for a device that popped buffers for a packet and then could not
 * use them. Chains are given back newest first, so they must be the most recently popped ones.
 * 0, -ENODEV (not enabled), -EINVAL (broken, or n more than the chains in flight). */
int virtqueue_unpop(struct virtqueue *vq, unsigned n);
/* Buffers available to pop (0 when disabled or broken). */
unsigned virtqueue_avail_count(struct virtqueue *vq);
/* Returns a chain: used ring entry {head, len} then used->idx (release, §2.7.8.2). `len` is
 * the bytes the device wrote into the writable part. 0, -ENODEV, or -EINVAL (head >= size,
 * or broken). The caller checks the chain is current (epoch) and len <= in_len. */
int virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t len);
/* After one or more pushes: does the driver want an interrupt? With EVENT_IDX, iff used->idx
 * passed used_event since the last call (§2.7.7); without, iff avail->flags lacks
 * VIRTQ_AVAIL_F_NO_INTERRUPT (§2.7.7). Full fence first: the mirror of the driver's barrier
 * (§2.7.13.4.1). */
bool virtqueue_should_notify(struct virtqueue *vq);

/* Device-side kick suppression (§2.7.10). With EVENT_IDX, set avail_event: the driver kicks
 * when it publishes avail entry `idx`; without EVENT_IDX a no-op. */
void virtqueue_set_avail_event(struct virtqueue *vq, uint16_t idx);
/* Asks for no kicks: VIRTQ_USED_F_NO_NOTIFY without EVENT_IDX; with EVENT_IDX nothing (the
 * avail_event left behind stops kicks on its own). */
void virtqueue_disable_notify(struct virtqueue *vq);
/* Asks for a kick on the next buffer (clears NO_NOTIFY, or avail_event = last_avail_idx), then
 * a full fence and a re-check: true if buffers arrived meanwhile, which the caller must process
 * since no kick will come for them (the lost-wakeup race, §2.7.14). */
bool virtqueue_enable_notify(struct virtqueue *vq);

/* Copies between a chain and host memory. Offsets count from the start of the readable part
 * (read) or of the writable part (write). 0, -EINVAL if [off, off+len) exceeds that part,
 * -EFAULT if gmem refuses (cannot happen for a chain pop() returned on the same gmem). */
int vq_chain_read(const struct gmem *gm, const struct vq_chain *chain, uint64_t off, void *buf,
                  uint64_t len);
int vq_chain_write(const struct gmem *gm, const struct vq_chain *chain, uint64_t off,
                   const void *buf, uint64_t len);

const char *vq_error_str(enum vq_error err);

#endif
