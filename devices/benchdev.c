/*
 * benchdev.c: the bench device (benchdev.h): counters on the exit path, and in ioeventfd
 * mode one eventfd, registered for the PIO and the MMIO KICK register, and its drain thread.
 *
 * The write handler is the whole per-exit cost this device adds to a bench loop: one relaxed
 * atomic add. Counters are only read after the vCPUs and the thread have stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "benchdev.h"
#include "minivmm/abi.h"
#include "minivmm/hw/thread.h"
#include "minivmm/memmap.h"
#include "minivmm/util.h"

struct benchdev {
    enum benchdev_mode mode;
    int efd; /* ioeventfd mode: the eventfd both KICK registers signal; else -1 */
    pthread_t thread;
    bool thread_started;
    uint64_t exits;   /* EXIT/KICK writes that reached us (vCPU threads) */
    uint64_t kicks;   /* ioeventfd signals drained (the thread) */
    uint64_t wakeups; /* eventfd reads that returned (the thread) */
};

static void benchdev_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    const struct benchdev *d = opaque;
    uint32_t v;
    (void)vcpu;
    if (off == MINIVMM_BENCH_EXIT)
        v = MINIVMM_BENCH_ID;
    else if (off == MINIVMM_BENCH_KICK)
        v = d->mode == BENCHDEV_IOEVENTFD ? MINIVMM_BENCH_F_IOEVENTFD : 0;
    else
        return; /* the bus's all-ones */
    for (unsigned i = 0; i < len && i < 4; i++)
        data[i] = (uint8_t)(v >> (8 * i));
}

static void benchdev_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data,
                           unsigned len)
{
    struct benchdev *d = opaque;
    (void)vcpu;
    (void)off;
    (void)data;
    (void)len;
    __atomic_fetch_add(&d->exits, 1, __ATOMIC_RELAXED);
}

const struct bus_dev_ops benchdev_bus_ops = {
    .read = benchdev_read,
    .write = benchdev_write,
};

const struct bus_reg benchdev_regs[] = {
    {MINIVMM_BENCH_EXIT, "ID", "EXIT"},
    {MINIVMM_BENCH_KICK, "FLAGS", "KICK"},
};
const unsigned benchdev_nregs = ARRAY_SIZE(benchdev_regs);

/* Added to the eventfd by destroy: a count no guest reaches, so that the read that sees it
 * still counts the kicks that came with it. */
#define DRAIN_STOP (1ull << 62)

static void *drain_thread(void *arg)
{
    struct benchdev *d = arg;
    uint64_t n;

    hw_thread_enter(HW_THREAD_BENCH);
    for (;;) {
        ssize_t r = read(d->efd, &n, sizeof(n));
        if (r < 0 && errno == EINTR)
            continue;
        if (r != (ssize_t)sizeof(n))
            break;
        if (n >= DRAIN_STOP) {
            d->kicks += n - DRAIN_STOP;
            break;
        }
        d->kicks += n;
        d->wakeups++;
    }
    return NULL;
}

static int add_ioeventfd(int vm_fd, int efd, uint64_t addr, bool pio)
{
    struct kvm_ioeventfd io = {
        .addr = addr, .len = 4, .fd = efd, .flags = pio ? KVM_IOEVENTFD_FLAG_PIO : 0};
    return ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

int benchdev_create(struct benchdev **out, int vm_fd, enum benchdev_mode mode,
                    char *err, size_t errlen)
{
    int ret;

    *out = NULL;
    struct benchdev *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "bench: out of memory");
        return -ENOMEM;
    }
    d->mode = mode;
    d->efd = -1;
    if (mode != BENCHDEV_IOEVENTFD) {
        *out = d;
        return 0;
    }
    d->efd = eventfd(0, EFD_CLOEXEC);
    if (d->efd < 0) {
        ret = -errno;
        snprintf(err, errlen, "bench: eventfd failed: %s", strerror(-ret));
        goto err_free;
    }
    /* The VM keeps its own reference to the eventfd: VM teardown removes both registrations,
     * so destroy need not (and an unregistration costs an SRCU grace period here). */
    ret = add_ioeventfd(vm_fd, d->efd, MINIVMM_BENCH_PORT + MINIVMM_BENCH_KICK, true);
    if (!ret)
        ret = add_ioeventfd(vm_fd, d->efd, MEMMAP_BENCH_BASE + MINIVMM_BENCH_KICK, false);
    if (ret) {
        snprintf(err, errlen, "KVM: ioctl (IOEVENTFD) for the bench device failed: %s",
                 strerror(-ret));
        goto err_close;
    }
    ret = -pthread_create(&d->thread, NULL, drain_thread, d);
    if (ret) {
        snprintf(err, errlen, "bench: cannot start the ioeventfd thread: %s", strerror(-ret));
        goto err_close;
    }
    d->thread_started = true;
    /* `minivmm bench exits` finds the thread by this name to give it a CPU of its own. */
    pthread_setname_np(d->thread, BENCHDEV_THREAD_NAME);
    *out = d;
    return 0;

err_close:
    close(d->efd);
err_free:
    free(d);
    return ret;
}

void benchdev_destroy(struct benchdev *d, FILE *report)
{
    if (!d)
        return;
    if (d->thread_started) {
        uint64_t stop = DRAIN_STOP;
        if (write(d->efd, &stop, sizeof(stop)) != (ssize_t)sizeof(stop))
            return; /* cannot wake the thread: leak rather than free under it */
        pthread_join(d->thread, NULL);
    }
    if (report)
        fprintf(report,
                "minivmm: bench device: %" PRIu64 " writes exited to the VMM, %" PRIu64
                " ioeventfd kicks drained in %" PRIu64 " wake-ups\n",
                d->exits, d->kicks, d->wakeups);
    if (d->efd >= 0)
        close(d->efd);
    free(d);
}
