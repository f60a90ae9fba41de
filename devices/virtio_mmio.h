/*
 * virtio_mmio.h: the virtio-mmio transport, version 2 (virtio 1.x spec §4.2), between the MMIO
 * bus and one virtio device (net, ...).
 *
 * The VMM embeds a struct virtio_mmio, initialises it with the device's const ops and state,
 * registers virtio_mmio_bus_ops on a VIRTIO_MMIO_WINDOW_SIZE window with virtio_mmio_regs for
 * the exit log, and wires `irq` to the device's interrupt line (level: high while
 * InterruptStatus != 0, §4.2.3.4). The transport owns feature negotiation, the status byte,
 * queue set-up, InterruptStatus and the virtqueues; the device sees config space, queue
 * notifications, DRIVER_OK and resets, and moves buffers with virtio_mmio_pop/push/notify.
 *
 * A misbehaving guest breaks only this device: protocol violations (a broken queue, enabling
 * a queue with a bad size or addresses, a notify to a queue that is not ready or absent) set
 * DEVICE_NEEDS_RESET (§2.1.2) and, after DRIVER_OK, send a config-change interrupt; the queues
 * then stay dead until the driver resets the device (Status = 0). Other mistakes (wrong access
 * width, unknown register, writes in the wrong state) are ignored and counted.
 *
 * Threads and locking: one mutex per transport (`lock`) guards every field, the virtqueues
 * included.
 *  - vCPU threads call the bus ops (any vCPU, concurrently).
 *  - The device's queue processing (a vCPU thread inside queue_notify, or an I/O thread) calls
 *    virtio_mmio_pop/push/signal/enable_notify/disable_notify; each takes the lock for the
 *    ring work only. Copying packet data (vq_chain_read/write on the chain) happens outside
 *    the lock: guest RAM stays mapped, so a chain stays safe to copy even if the guest resets
 *    the device meanwhile; virtio_mmio_push() then refuses the stale chain (-ESTALE).
 *  - Any thread calls virtio_mmio_config_changed().
 * Device callbacks: config_read/config_write run with `lock` held (they must not call back into
 * the transport; lock order: transport, then the device's own config lock, then whatever sits
 * behind the irq line). queue_notify, driver_ok and reset run WITHOUT the lock, on the vCPU
 * thread that wrote the register, so they may call virtio_mmio_* functions; reset is called
 * after the transport state has been reset and may wait for the device's I/O thread.
 */
#ifndef MINIVMM_VIRTIO_MMIO_H
#define MINIVMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "minivmm/hw/bus.h"
#include "minivmm/hw/gmem.h"
#include "minivmm/hw/irq.h"
#include "minivmm/virtio.h"
#include "virtqueue.h"

#define VIRTIO_MMIO_MAX_QUEUES 16

/* Transport bits a device may offer: the ring features this transport and virtqueue.c
 * implement. Other bits in 24-41 (packed rings, notification data, ...) are masked off;
 * VERSION_1 is always offered. */
#define VIRTIO_MMIO_TRANSPORT_FEATURES                                                             \
    (VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |                         \
     VIRTIO_BIT(VIRTIO_F_VERSION_1))

/* A device behind the transport. `dev` is the opaque given to virtio_mmio_init(). */
struct virtio_dev_ops {
    uint32_t device_id;   /* VIRTIO_ID_*, non-zero */
    uint64_t features;    /* device bits, plus INDIRECT_DESC / EVENT_IDX if wanted */
    unsigned num_queues;  /* 1..VIRTIO_MMIO_MAX_QUEUES */
    uint16_t queue_max;   /* QueueNumMax of every queue: power of 2, <= VIRTQ_MAX_SIZE */
    uint32_t config_size; /* bytes of config space at 0x100 (<= 0xf00) */
    /* [off, off+len) lies inside config_size. Fill data[0..len) (little-endian). */
    void (*config_read)(void *dev, uint32_t off, uint8_t *data, unsigned len);
    /* May be NULL: config space read-only (writes ignored and counted). */
    void (*config_write)(void *dev, uint32_t off, const uint8_t *data, unsigned len);
    /* The driver kicked queue `q` (ready, DRIVER_OK, not NEEDS_RESET). */
    void (*queue_notify)(void *dev, unsigned q);
    /* May be NULL: DRIVER_OK was set; `features` are the negotiated ones. */
    void (*driver_ok)(void *dev, uint64_t features);
    /* May be NULL: the driver reset the device (queues are already disabled). */
    void (*reset)(void *dev);
};

/* Per-queue counters since init (device resets keep them). */
struct virtio_mmio_queue_stats {
    uint64_t notifies; /* QueueNotify writes passed to the device */
    uint64_t popped;   /* chains popped */
    uint64_t used;     /* chains pushed to the used ring */
    uint64_t returned; /* chains given back with virtio_mmio_unpop() */
};

struct virtio_mmio_queue {
    uint16_t num; /* QueueNum as written (checked at QueueReady) */
    bool ready;   /* QueueReady */
    uint64_t desc, driver, device;
    struct virtqueue vq;
    struct virtio_mmio_queue_stats stats;
};

/* The transport's counters (see struct virtio_mmio). */
struct virtio_mmio_stats {
    uint64_t bad_width, bad_reg, ignored;
    uint64_t guest_errors; /* violations that set NEEDS_RESET, the device's own included */
    uint64_t notifies;
    unsigned num_queues;
    struct virtio_mmio_queue_stats queue[VIRTIO_MMIO_MAX_QUEUES];
};

struct virtio_mmio {
    pthread_mutex_t lock;
    const struct virtio_dev_ops *ops;
    void *dev;
    const struct gmem *gm;
    struct irq_line irq;
    int irq_level;

    uint64_t device_features;   /* offered */
    uint64_t driver_features;   /* as written; negotiated once FEATURES_OK is set */
    bool driver_features_extra; /* non-zero DriverFeatures written with a selector >= 2 */
    uint32_t device_features_sel, driver_features_sel;
    uint32_t queue_sel;
    uint32_t status;
    uint32_t interrupt_status;
    uint32_t config_generation;
    struct virtio_mmio_queue queues[VIRTIO_MMIO_MAX_QUEUES];

    /* Counters, for the exit summary and for tests. */
    uint64_t bad_width;    /* register access not 32-bit aligned; config access out of range */
    uint64_t bad_reg;      /* unknown offset, or a read of a write-only register (reads 0) */
    uint64_t ignored;      /* writes refused in the current state */
    uint64_t guest_errors; /* violations that set NEEDS_RESET */
    uint64_t notifies;     /* QueueNotify writes passed to the device */
};

/* Reset state; `irq` copied (NULL: unconnected). 0 or -EINVAL (bad ops). */
int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
                     const struct gmem *gm, const struct irq_line *irq);
/* No thread may be inside any virtio_mmio_* call. */
void virtio_mmio_destroy(struct virtio_mmio *t);

/* The device's side. Queue `q` < num_queues. */
/* Pops a chain from queue q: 0; -EAGAIN (nothing); -ENODEV (queue not live: not ready, no
 * DRIVER_OK yet (§2.1.2), or NEEDS_RESET); -EINVAL (the queue broke now: NEEDS_RESET set). */
int virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct vq_chain *chain);
/* Returns a popped chain with `len` bytes written: 0; -ESTALE (chain from before a reset; it
 * is dropped); -ENODEV (queue not live); -EINVAL (len > chain->in_len: a device bug). */
int virtio_mmio_push(struct virtio_mmio *t, unsigned q, const struct vq_chain *chain, uint32_t len);
/* Gives back the last n chains popped from queue q and not pushed, `first` the oldest of them,
 * so that the next pops return them again (a device that cannot use them for the packet at
 * hand). Only safe when nothing else pops q meanwhile. 0; -ESTALE (chains from before a reset:
 * nothing to give back); -ENODEV (queue not live); -EINVAL (more than are in flight). */
int virtio_mmio_unpop(struct virtio_mmio *t, unsigned q, const struct vq_chain *first, unsigned n);
/* After pushes: raises the used-buffer interrupt if the driver wants it (EVENT_IDX /
 * NO_INTERRUPT). Returns whether it did. */
bool virtio_mmio_signal_used(struct virtio_mmio *t, unsigned q);
/* Kick suppression (virtqueue_enable_notify semantics: true = more buffers to process). */
bool virtio_mmio_enable_notify(struct virtio_mmio *t, unsigned q);
void virtio_mmio_disable_notify(struct virtio_mmio *t, unsigned q);
/* The device changed its config space: bump ConfigGeneration, and after DRIVER_OK send a
 * config-change interrupt (§4.2.2.1). Do not hold the device's config lock. */
void virtio_mmio_config_changed(struct virtio_mmio *t);
/* Marks the device broken (NEEDS_RESET + config interrupt), e.g. on a malformed packet
 * header the device cannot process. */
void virtio_mmio_needs_reset(struct virtio_mmio *t);
/* Negotiated features (0 before FEATURES_OK). */
uint64_t virtio_mmio_features(struct virtio_mmio *t);
/* A consistent copy of the counters. */
void virtio_mmio_get_stats(struct virtio_mmio *t, struct virtio_mmio_stats *st);

/* Bus callbacks. Registers 0x000-0x0fc take aligned 4-byte accesses only; others are
 * ignored (reads all-ones) and counted. Config space (0x100+) takes any width inside
 * config_size. */
extern const struct bus_dev_ops virtio_mmio_bus_ops;
/* Register names for the exit log's bus map, the spec's (§4.2.2). */
extern const struct bus_reg virtio_mmio_regs[];
extern const unsigned virtio_mmio_nregs;

#endif
