/*
 * virtio_mmio.h: virtio-mmio (version 2) transport, driver side: finding the windows and the
 * device-independent parts of the initialisation sequence (virtio 1.x §3.1, §4.2.3).
 */
#ifndef GUEST_VIRTIO_MMIO_H
#define GUEST_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "../cmdline.h"
#include "virtio_ring.h"

#define VIRTIO_MMIO_MAX_DEVS 8

struct virtio_mmio_dev {
    uint64_t base;
    unsigned int irq;   /* IOAPIC pin */
    int vf_index;       /* "minivmm,vf-index", or the window's rank when not given */
    uint32_t device_id; /* VIRTIO_ID_* */
    uint64_t features;  /* negotiated */
};

/*
 * Find virtio-mmio version-2 devices: the FDT's "virtio,mmio" nodes when there is a device
 * tree, else the virtio_mmio.device=SIZE@ADDR:IRQ words; de-duplicated by base address,
 * sorted by vf-index (FDT) or address. Windows without a device (ID 0), with a bad magic or
 * a legacy version are skipped with a message. Returns the number stored in devs.
 */
unsigned int virtio_mmio_probe(const void *fdt, uint64_t fdt_size, const struct cmdline *cl,
                               struct virtio_mmio_dev *devs, unsigned int max);

uint32_t virtio_mmio_read(const struct virtio_mmio_dev *d, uint32_t off);
void virtio_mmio_write(const struct virtio_mmio_dev *d, uint32_t off, uint32_t v);
/* Reset, ACKNOWLEDGE, DRIVER, then offer `wanted` & the device's features and check
 * FEATURES_OK (d->features = the result). `required` bits missing: -EIO (status FAILED). */
int virtio_mmio_negotiate(struct virtio_mmio_dev *d, uint64_t wanted, uint64_t required);
/* Create queue `index` with at most `max_num` entries and give it to the device. */
int virtio_mmio_setup_vq(struct virtio_mmio_dev *d, struct virtqueue *vq, unsigned int index,
                         unsigned int max_num);
void virtio_mmio_driver_ok(struct virtio_mmio_dev *d);
void virtio_mmio_fail(struct virtio_mmio_dev *d);
static inline void virtio_mmio_notify(const struct virtio_mmio_dev *d, unsigned int queue)
{
    virtio_mmio_write(d, 0x050 /* VIRTIO_MMIO_QUEUE_NOTIFY */, queue);
}
/* Read InterruptStatus and acknowledge what it shows (the line drops); returns the bits. */
uint32_t virtio_mmio_ack_irq(const struct virtio_mmio_dev *d);

#endif
