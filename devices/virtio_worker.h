/*
 * virtio_worker.h: one thread that does the queue work of virtio devices when their
 * QueueNotify register is an eventfd (KVM's ioeventfd) instead of an MMIO exit.
 *
 * The owner adds one entry per device: the worker creates the entry's eventfd (non-blocking)
 * and hands it back for the owner to register with KVM (KVM_IOEVENTFD on the device's
 * QueueNotify, no datamatch: any queue's kick wakes the worker); each wake-up calls the entry's
 * `process` (e.g. virtio_net_process) on the worker thread. The worker owns the eventfds and
 * closes them in virtio_worker_destroy() (KVM keeps its own reference while registered).
 *
 * Threads: add and start from one thread before the VM runs; stop (write the stop eventfd, then
 * join) once no vCPU can kick any more. virtio_worker_kicks() may be called from any thread at
 * any time (the counters are atomic). A slow `process` (a VF waiting for its max_tx_rate) delays
 * the other entries of the same worker.
 */
#ifndef MINIVMM_VIRTIO_WORKER_H
#define MINIVMM_VIRTIO_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_WORKER_MAX 8 /* entries per worker (= PFSWITCH_MAX_VFS) */

typedef void (*virtio_worker_fn)(void *dev);

struct virtio_worker {
    unsigned n;
    int efd[VIRTIO_WORKER_MAX];
    virtio_worker_fn process[VIRTIO_WORKER_MAX];
    void *dev[VIRTIO_WORKER_MAX];
    uint64_t kicks[VIRTIO_WORKER_MAX]; /* wake-ups per entry (atomic) */
    int stop_fd;
    pthread_t thread;
    bool started;
};

/* An empty worker (no thread, no file descriptors): destroy is always safe after it. */
void virtio_worker_init(struct virtio_worker *w);
/* A new entry: its eventfd in *efd, its index (for virtio_worker_kicks) in *index. 0, -ENOSPC
 * (VIRTIO_WORKER_MAX entries), -EBUSY (already started) or -errno from eventfd(). */
int virtio_worker_add(struct virtio_worker *w, virtio_worker_fn process, void *dev, int *efd,
                      unsigned *index);
/* Starts the thread, named `name` (at most 15 characters). 0 or -errno. */
int virtio_worker_start(struct virtio_worker *w, const char *name);
/* Stops and joins the thread (if started), closes the eventfds. */
void virtio_worker_destroy(struct virtio_worker *w);
/* Wake-ups of entry `index` so far (0 for an index never added). */
uint64_t virtio_worker_kicks(const struct virtio_worker *w, unsigned index);

#endif
