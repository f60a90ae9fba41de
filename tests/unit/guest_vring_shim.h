/*
 * guest_vring_shim.h: the guest's virtqueue driver (guest/virtio/virtio_ring.c) seen from a
 * host test through an opaque handle, because its `struct virtqueue` and the device model's
 * (devices/virtqueue.h) share a name and cannot meet in one translation unit.
 */
#ifndef GUEST_VRING_SHIM_H
#define GUEST_VRING_SHIM_H

#include <stdbool.h>
#include <stdint.h>

struct gvq;

/* Guest pages come from host memory [base, base + size) that is guest-physical gpa_base... */
void gvq_set_memory(void *base, uint64_t gpa_base, uint64_t size);
/* vring_create(); the three areas' guest-physical addresses in *desc, *avail, *used. */
struct gvq *gvq_create(unsigned int num, bool event_idx, uint64_t *desc, uint64_t *avail,
                       uint64_t *used);
int gvq_get_free(struct gvq *q);
void gvq_put_free(struct gvq *q, unsigned int id);
void gvq_add(struct gvq *q, unsigned int id, uint32_t len, bool write);
bool gvq_kick_prepare(struct gvq *q);
int gvq_get_buf(struct gvq *q, uint32_t *len);
bool gvq_enable_cb(struct gvq *q);
uint8_t *gvq_buf(struct gvq *q, unsigned int id);
unsigned int gvq_num(struct gvq *q);
unsigned int gvq_nr_free(struct gvq *q);

#endif
