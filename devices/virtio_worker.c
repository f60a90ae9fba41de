/*
 * virtio_worker.c: the queue-work thread of ioeventfd-kicked virtio devices
 * (virtio_worker.h): poll every entry's eventfd and the stop eventfd, drain a kick, run the
 * entry's work.
 *
 * Invariants: entries are fixed before the thread starts, so the thread reads efd/process/dev
 * without a lock; only `kicks` is shared afterwards, through atomics. The stop eventfd is
 * created with the thread, written once by destroy, and the thread exits on seeing it readable.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "minivmm/hw/thread.h"
#include "virtio_worker.h"

void virtio_worker_init(struct virtio_worker *w)
{
    w->n = 0;
    for (unsigned i = 0; i < VIRTIO_WORKER_MAX; i++) {
        w->efd[i] = -1;
        w->process[i] = NULL;
        w->dev[i] = NULL;
        w->kicks[i] = 0;
    }
    w->stop_fd = -1;
    w->started = false;
}

int virtio_worker_add(struct virtio_worker *w, virtio_worker_fn process, void *dev, int *efd,
                      unsigned *index)
{
    if (w->started)
        return -EBUSY;
    if (w->n == VIRTIO_WORKER_MAX)
        return -ENOSPC;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -errno;
    w->efd[w->n] = fd;
    w->process[w->n] = process;
    w->dev[w->n] = dev;
    *efd = fd;
    *index = w->n++;
    return 0;
}

static void *worker(void *arg)
{
    struct virtio_worker *w = arg;
    struct pollfd pfd[VIRTIO_WORKER_MAX + 1];
    unsigned n = w->n;

    hw_thread_enter(HW_THREAD_IO);
    for (unsigned i = 0; i < n; i++)
        pfd[i] = (struct pollfd){.fd = w->efd[i], .events = POLLIN};
    pfd[n] = (struct pollfd){.fd = w->stop_fd, .events = POLLIN};
    for (;;) {
        if (poll(pfd, n + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[n].revents)
            break;
        for (unsigned i = 0; i < n; i++) {
            uint64_t v;
            if (!(pfd[i].revents & POLLIN) || read(w->efd[i], &v, sizeof(v)) != sizeof(v))
                continue;
            __atomic_fetch_add(&w->kicks[i], 1, __ATOMIC_RELAXED);
            w->process[i](w->dev[i]);
        }
    }
    return NULL;
}

int virtio_worker_start(struct virtio_worker *w, const char *name)
{
    if (w->started)
        return -EBUSY;
    w->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (w->stop_fd < 0)
        return -errno;
    int ret = -pthread_create(&w->thread, NULL, worker, w);
    if (ret) {
        close(w->stop_fd);
        w->stop_fd = -1;
        return ret;
    }
    w->started = true;
    pthread_setname_np(w->thread, name);
    return 0;
}

void virtio_worker_destroy(struct virtio_worker *w)
{
    if (w->started) {
        uint64_t one = 1;
        if (write(w->stop_fd, &one, sizeof(one)) != sizeof(one))
            abort(); /* cannot happen for a fresh eventfd; a hung join is worse */
        pthread_join(w->thread, NULL);
        w->started = false;
    }
    if (w->stop_fd >= 0)
        close(w->stop_fd);
    w->stop_fd = -1;
    for (unsigned i = 0; i < w->n; i++) {
        close(w->efd[i]);
        w->efd[i] = -1;
    }
    w->n = 0;
}

uint64_t virtio_worker_kicks(const struct virtio_worker *w, unsigned index)
{
    return index < VIRTIO_WORKER_MAX ? __atomic_load_n(&w->kicks[index], __ATOMIC_RELAXED) : 0;
}
