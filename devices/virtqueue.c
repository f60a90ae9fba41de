/*
 * virtqueue.c: split virtqueue, device side (virtio 1.x spec §2.7), checked against a hostile
 * driver.
 *
 * Invariants:
 *  - Guest memory is reached only through gmem_ptr() (directly or via gmem_read/gmem_write).
 *    The three ring areas are checked over their whole size once, in virtqueue_enable(), and
 *    kept as host pointers; guest RAM never moves or shrinks while the VM lives. Every
 *    buffer and indirect table is checked at pop time, start and length.
 *  - A guest field is read once: a descriptor is copied to the stack and then checked, so the
 *    driver cannot change it between check and use. avail->idx is never trusted: it may run
 *    ahead of last_avail_idx by at most `size` (§2.7.13: the driver never makes more than
 *    `size` entries available).
 *  - Chains are bounded: at most `size` descriptors in the ring part and at most the table's
 *    entries in the indirect part, counted, so a loop (a `next` revisiting a descriptor)
 *    always ends as VQ_ERR_LOOP; at most VQ_CHAIN_MAX_SEGS segments and 2^32 bytes.
 *  - Once broken, nothing touches the rings until the queue is disabled or re-enabled:
 *    virtio 1.x has no way to recover a queue short of a device (or queue) reset.
 *  - last_avail_idx and used_idx are the device's own copies; the guest's avail->idx and our
 *    used->idx are 16-bit free-running counters (§2.7.6, §2.7.8), so every comparison is a
 *    16-bit subtraction.
 *
 * Memory ordering (§2.7.13, §2.7.8.2, §2.7.7): avail->idx is loaded with acquire before the
 * ring entry and descriptors it covers; the used element is written before used->idx is
 * stored with release; a full fence separates used->idx (or avail_event) updates from reading
 * the driver's suppression fields (used_event, avail->flags, avail->idx), the mirror of the
 * driver's barrier in §2.7.13.4.1. x86 is TSO, so only the full fences emit an instruction,
 * but the compiler barriers matter everywhere.
 *
 * Locking: none; see virtqueue.h.
 */
#include <errno.h>
#include <string.h>

#include "virtqueue.h"
#include "minivmm/util.h"

#define LOAD16(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE16(p, v) __atomic_store_n((p), (uint16_t)(v), __ATOMIC_RELAXED)

static const char *const error_names[] = {
    [VQ_OK] = "no error",
    [VQ_ERR_AVAIL_IDX] = "avail idx moved by more than the queue size",
    [VQ_ERR_HEAD] = "head descriptor index out of range",
    [VQ_ERR_NEXT] = "next descriptor index out of range",
    [VQ_ERR_DESC_ADDR] = "buffer outside guest RAM",
    [VQ_ERR_LOOP] = "descriptor chain loops",
    [VQ_ERR_TOO_MANY] = "chain has too many segments",
    [VQ_ERR_TOTAL_LEN] = "chain longer than 2^32 bytes",
    [VQ_ERR_ORDER] = "device-readable descriptor after a device-writable one",
    [VQ_ERR_INDIRECT_NOFEAT] = "indirect descriptor without VIRTIO_F_INDIRECT_DESC",
    [VQ_ERR_INDIRECT_NEXT] = "indirect descriptor with NEXT",
    [VQ_ERR_INDIRECT_NESTED] = "indirect descriptor inside an indirect table",
    [VQ_ERR_INDIRECT_SIZE] = "indirect table size invalid",
    [VQ_ERR_INDIRECT_ADDR] = "indirect table outside guest RAM",
};

const char *vq_error_str(enum vq_error err)
{
    if ((unsigned)err >= ARRAY_SIZE(error_names) || !error_names[err])
        return "unknown error";
    return error_names[err];
}

void virtqueue_init(struct virtqueue *vq, const struct gmem *gm)
{
    memset(vq, 0, sizeof(*vq));
    vq->gm = gm;
}

void virtqueue_disable(struct virtqueue *vq)
{
    uint32_t epoch = vq->epoch + 1;
    const struct gmem *gm = vq->gm;
    memset(vq, 0, sizeof(*vq));
    vq->gm = gm;
    vq->epoch = epoch;
}

int virtqueue_enable(struct virtqueue *vq, uint16_t size, gpa_t desc, gpa_t avail, gpa_t used,
                     uint64_t features)
{
    virtqueue_disable(vq);
    /* §2.7: split queue sizes are powers of 2 up to 32768. */
    if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
        return -EINVAL;
    if ((desc % VIRTQ_DESC_ALIGN) || (avail % VIRTQ_AVAIL_ALIGN) || (used % VIRTQ_USED_ALIGN))
        return -EINVAL;
    void *d = gmem_ptr(vq->gm, desc, vring_desc_size(size));
    void *a = gmem_ptr(vq->gm, avail, vring_avail_size(size));
    void *u = gmem_ptr(vq->gm, used, vring_used_size(size));
    if (!d || !a || !u)
        return -EINVAL;
    vq->desc = d;
    vq->avail = a;
    vq->used = u;
    vq->desc_gpa = desc;
    vq->avail_gpa = avail;
    vq->used_gpa = used;
    vq->size = size;
    vq->indirect = features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
    vq->event_idx = features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
    vq->ready = true;
    return 0;
}

static int vq_fail(struct virtqueue *vq, enum vq_error err)
{
    vq->broken = true;
    vq->error = err;
    return -EINVAL;
}

static uint16_t *used_event_ptr(const struct virtqueue *vq)
{
    return (uint16_t *)((uint8_t *)vq->avail + vring_used_event_off(vq->size));
}

static uint16_t *avail_event_ptr(const struct virtqueue *vq)
{
    return (uint16_t *)((uint8_t *)vq->used + vring_avail_event_off(vq->size));
}

/* State of one chain walk. */
struct walk {
    struct virtqueue *vq;
    struct vq_chain *c;
    bool seen_write; /* a device-writable descriptor went by, possibly of length 0 */
};

/* Appends one (already copied) non-indirect descriptor. */
static int walk_add(struct walk *w, const struct vring_desc *d)
{
    struct vq_chain *c = w->c;
    bool is_write = d->flags & VIRTQ_DESC_F_WRITE;

    /* §2.7.4.2: all device-readable descriptors precede the device-writable ones. */
    if (!is_write && w->seen_write)
        return vq_fail(w->vq, VQ_ERR_ORDER);
    w->seen_write |= is_write;
    if (d->len == 0)
        return 0;
    /* Start and length, overflow-checked: the one door to guest memory. */
    if (!gmem_ptr(w->vq->gm, d->addr, d->len))
        return vq_fail(w->vq, VQ_ERR_DESC_ADDR);
    if (c->out_len + c->in_len + d->len > VQ_CHAIN_MAX_BYTES)
        return vq_fail(w->vq, VQ_ERR_TOTAL_LEN);
    unsigned n = c->nout + c->nin;
    if (n >= VQ_CHAIN_MAX_SEGS)
        return vq_fail(w->vq, VQ_ERR_TOO_MANY);
    c->segs[n] = (struct vq_seg){.gpa = d->addr, .len = d->len, .is_write = is_write};
    if (is_write) {
        c->nin++;
        c->in_len += d->len;
    } else {
        c->nout++;
        c->out_len += d->len;
    }
    return 0;
}

/* The table an INDIRECT descriptor points at (§2.7.5.3): len/16 descriptors chained from 0. */
static int walk_indirect(struct walk *w, const struct vring_desc *ind)
{
    struct virtqueue *vq = w->vq;

    if (ind->len == 0 || ind->len % sizeof(struct vring_desc) ||
        ind->len / sizeof(struct vring_desc) > VQ_INDIRECT_MAX)
        return vq_fail(vq, VQ_ERR_INDIRECT_SIZE);
    const uint8_t *table = gmem_ptr(vq->gm, ind->addr, ind->len);
    if (!table)
        return vq_fail(vq, VQ_ERR_INDIRECT_ADDR);
    unsigned n = ind->len / sizeof(struct vring_desc);
    unsigned i = 0;
    for (unsigned count = 1;; count++) {
        if (count > n)
            return vq_fail(vq, VQ_ERR_LOOP);
        struct vring_desc d;
        /* The table need not be aligned (the spec sets no alignment for it). */
        memcpy(&d, table + (size_t)i * sizeof(d), sizeof(d));
        if (d.flags & VIRTQ_DESC_F_INDIRECT)
            return vq_fail(vq, VQ_ERR_INDIRECT_NESTED);
        int ret = walk_add(w, &d);
        if (ret)
            return ret;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        if (d.next >= n)
            return vq_fail(vq, VQ_ERR_NEXT);
        i = d.next;
    }
}

/* Entries the driver has made available, checked against the queue size. */
static int avail_pending(struct virtqueue *vq, uint16_t *pending)
{
    /* Acquire: the ring entries and descriptors are read after the index (§2.7.13). */
    uint16_t idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
    uint16_t n = (uint16_t)(idx - vq->last_avail_idx);
    if (n > vq->size)
        return vq_fail(vq, VQ_ERR_AVAIL_IDX);
    *pending = n;
    return 0;
}

int virtqueue_pop(struct virtqueue *vq, struct vq_chain *out)
{
    if (!vq->ready)
        return -ENODEV;
    if (vq->broken)
        return -EINVAL;
    uint16_t pending;
    int ret = avail_pending(vq, &pending);
    if (ret)
        return ret;
    if (pending == 0)
        return -EAGAIN;

    uint16_t head = LOAD16(&vq->avail->ring[vq->last_avail_idx & (vq->size - 1)]);
    if (head >= vq->size)
        return vq_fail(vq, VQ_ERR_HEAD);

    out->head = head;
    out->epoch = vq->epoch;
    out->nout = out->nin = 0;
    out->out_len = out->in_len = 0;
    struct walk w = {.vq = vq, .c = out, .seen_write = false};
    uint16_t i = head;
    for (unsigned count = 1;; count++) {
        /* §2.7.5.2: no chain longer than the queue; a longer one revisits a descriptor. */
        if (count > vq->size)
            return vq_fail(vq, VQ_ERR_LOOP);
        struct vring_desc d;
        memcpy(&d, &vq->desc[i], sizeof(d));
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!vq->indirect)
                return vq_fail(vq, VQ_ERR_INDIRECT_NOFEAT);
            /* §2.7.5.3: never INDIRECT with NEXT, so the table ends the chain. The WRITE
             * flag of this descriptor is ignored (§2.7.5.3). */
            if (d.flags & VIRTQ_DESC_F_NEXT)
                return vq_fail(vq, VQ_ERR_INDIRECT_NEXT);
            ret = walk_indirect(&w, &d);
            if (ret)
                return ret;
            break;
        }
        ret = walk_add(&w, &d);
        if (ret)
            return ret;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= vq->size)
            return vq_fail(vq, VQ_ERR_NEXT);
        i = d.next;
    }
    vq->last_avail_idx++;
    return 0;
}

int virtqueue_unpop(struct virtqueue *vq, unsigned n)
{
    if (!vq->ready)
        return -ENODEV;
    /* Every pop advances last_avail_idx and every push used_idx, one each: the difference is
     * the chains in flight. */
    uint16_t in_flight = (uint16_t)(vq->last_avail_idx - vq->used_idx);
    if (vq->broken || n > in_flight)
        return -EINVAL;
    vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);
    return 0;
}

unsigned virtqueue_avail_count(struct virtqueue *vq)
{
    uint16_t pending;
    if (!vq->ready || vq->broken || avail_pending(vq, &pending))
        return 0;
    return pending;
}

int virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
    if (!vq->ready)
        return -ENODEV;
    if (vq->broken || head >= vq->size)
        return -EINVAL;
    struct vring_used_elem *e = &vq->used->ring[vq->used_idx & (vq->size - 1)];
    __atomic_store_n(&e->id, (uint32_t)head, __ATOMIC_RELAXED);
    __atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
    vq->used_idx++;
    /* Release: the element (and the data written into the buffers) before the index
     * (§2.7.8.2). */
    __atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
    return 0;
}

bool virtqueue_should_notify(struct virtqueue *vq)
{
    if (!vq->ready || vq->broken)
        return false;
    /* used->idx must be visible before we read the driver's suppression fields, or we can
     * miss a used_event/flags update the driver made after looking at the old used->idx. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->event_idx)
        return !(LOAD16(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    uint16_t old = vq->signalled_used;
    bool valid = vq->signalled_used_valid;
    vq->signalled_used = vq->used_idx;
    vq->signalled_used_valid = true;
    if (!valid)
        return true; /* first decision since enable: nothing to compare with */
    return vring_need_event(LOAD16(used_event_ptr(vq)), vq->used_idx, old);
}

void virtqueue_set_avail_event(struct virtqueue *vq, uint16_t idx)
{
    if (!vq->ready || vq->broken || !vq->event_idx)
        return;
    STORE16(avail_event_ptr(vq), idx);
}

void virtqueue_disable_notify(struct virtqueue *vq)
{
    if (!vq->ready || vq->broken || vq->event_idx)
        return;
    STORE16(&vq->used->flags, VIRTQ_USED_F_NO_NOTIFY);
}

bool virtqueue_enable_notify(struct virtqueue *vq)
{
    if (!vq->ready || vq->broken)
        return false;
    if (vq->event_idx)
        STORE16(avail_event_ptr(vq), vq->last_avail_idx);
    else
        STORE16(&vq->used->flags, 0);
    /* The driver may have published buffers before seeing the store above: re-check. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return LOAD16(&vq->avail->idx) != vq->last_avail_idx;
}

/* Copies [off, off+len) of the segments segs[0..n), which hold `total` bytes. */
static int chain_copy(const struct gmem *gm, const struct vq_seg *segs, unsigned n, uint64_t total,
                      uint64_t off, uint8_t *buf, uint64_t len, bool to_guest)
{
    if (off > total || len > total - off)
        return -EINVAL;
    for (unsigned i = 0; i < n && len; i++) {
        if (off >= segs[i].len) {
            off -= segs[i].len;
            continue;
        }
        uint64_t chunk = segs[i].len - off;
        if (chunk > len)
            chunk = len;
        int ret = to_guest ? gmem_write(gm, segs[i].gpa + off, buf, chunk)
                           : gmem_read(gm, segs[i].gpa + off, buf, chunk);
        if (ret)
            return ret;
        buf += chunk;
        len -= chunk;
        off = 0;
    }
    return 0;
}

int vq_chain_read(const struct gmem *gm, const struct vq_chain *chain, uint64_t off, void *buf,
                  uint64_t len)
{
    return chain_copy(gm, chain->segs, chain->nout, chain->out_len, off, buf, len, false);
}

int vq_chain_write(const struct gmem *gm, const struct vq_chain *chain, uint64_t off,
                   const void *buf, uint64_t len)
{
    return chain_copy(gm, chain->segs + chain->nout, chain->nin, chain->in_len, off,
                      (uint8_t *)(uintptr_t)buf, len, true);
}
