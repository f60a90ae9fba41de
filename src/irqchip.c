/*
 * irqchip.c: KVM interrupt delivery for the split and the full in-kernel irqchip.
 *
 * Host facts (docs/host-notes.md): in split mode an irqfd on a GSI without an MSI route never
 * fires, IRQCHIP-type routes and irqfd RESAMPLE are refused, so level-triggered pins are
 * resampled on KVM_EXIT_IOAPIC_EOI by our IOAPIC model. KVM_SIGNAL_MSI returning 0 or EPERM
 * both mean "not delivered" (target LAPIC disabled / no vCPU matches); counted, not fatal.
 * The IOAPIC calls route() with its lock held, so routing updates are serialised by it.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ioapic.h"
#include "irqchip.h"
#include "minivmm/ioapic_regs.h"

static void split_route(void *opaque, unsigned pin, const struct ioapic_msi *msi, bool masked)
{
    struct irqchip *ic = opaque;
    struct kvm_irq_routing_entry *e = &ic->routing->entries[pin];
    struct kvm_irq_routing_entry n = {
        .gsi = pin,
        .type = KVM_IRQ_ROUTING_MSI,
        .u.msi = {.address_lo = (uint32_t)msi->addr,
                  .address_hi = (uint32_t)(msi->addr >> 32),
                  .data = msi->data},
    };
    (void)masked; /* a masked pin is never signalled; its route only informs EOI exits */
    /* A routing update costs 30-350 us here; an unchanged entry (e.g. the low and high
     * halves of one redirection entry written in turn) leaves KVM's table as it is. */
    if (memcmp(e, &n, sizeof(n)) == 0 && ic->vm_fd >= 0)
        return;
    *e = n;
    if (ic->vm_fd >= 0 && ioctl(ic->vm_fd, KVM_SET_GSI_ROUTING, ic->routing) < 0)
        fprintf(stderr, "irqchip: KVM_SET_GSI_ROUTING for pin %u failed: %s\n", pin,
                strerror(errno));
}

static int split_deliver(void *opaque, unsigned pin, const struct ioapic_msi *msi)
{
    struct irqchip *ic = opaque;
    int fd = pin < IOAPIC_NUM_PINS ? __atomic_load_n(&ic->irqfd[pin], __ATOMIC_ACQUIRE) : -1;
    if (fd >= 0) {
        /* KVM delivers along the pin's MSI route, which route() keeps equal to *msi. An irqfd
         * cannot say whether a LAPIC accepted it; count it as delivered. */
        uint64_t one = 1;
        if (write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one)) {
            __atomic_fetch_add(&ic->msi_sent, 1, __ATOMIC_RELAXED);
            return 0;
        }
    }
    struct kvm_msi m = {
        .address_lo = (uint32_t)msi->addr,
        .address_hi = (uint32_t)(msi->addr >> 32),
        .data = msi->data,
    };
    (void)pin;
    int r = ioctl(ic->vm_fd, KVM_SIGNAL_MSI, &m);
    if (r > 0) {
        __atomic_fetch_add(&ic->msi_sent, 1, __ATOMIC_RELAXED);
        return 0;
    }
    __atomic_fetch_add(&ic->msi_dropped, 1, __ATOMIC_RELAXED);
    return r < 0 ? -errno : -EHOSTUNREACH;
}

static const struct ioapic_ops split_ops = {
    .route = split_route,
    .deliver = split_deliver,
};

static void kernel_set_level(void *opaque, unsigned gsi, int level)
{
    struct irqchip *ic = opaque;
    struct kvm_irq_level l = {.irq = gsi, .level = level ? 1 : 0};
    if (ioctl(ic->vm_fd, KVM_IRQ_LINE, &l) < 0)
        fprintf(stderr, "irqchip: KVM_IRQ_LINE %u failed: %s\n", gsi, strerror(errno));
}

static const struct irq_line_ops kernel_line_ops = {.set_level = kernel_set_level};

int irqchip_init(struct irqchip *ic, struct kvm *kvm, enum kvm_irqchip_mode mode, char *err,
                 size_t errlen)
{
    int ret;
    memset(ic, 0, sizeof(*ic));
    ic->mode = mode;
    ic->vm_fd = -1;
    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
        ic->irqfd[i] = -1;
    if (mode == KVM_IRQCHIP_KERNEL) {
        ic->vm_fd = kvm->vm_fd;
        if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
            ret = -errno;
            snprintf(err, errlen, "KVM: ioctl (CREATE_IRQCHIP) failed: %s", strerror(-ret));
            return ret;
        }
        return 0;
    }

    struct kvm_enable_cap cap = {.cap = KVM_CAP_SPLIT_IRQCHIP, .args = {IOAPIC_NUM_PINS}};
    if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
        ret = -errno;
        snprintf(err, errlen, "KVM: enabling KVM_CAP_SPLIT_IRQCHIP failed: %s", strerror(-ret));
        return ret;
    }
    ic->routing = calloc(1, sizeof(*ic->routing) +
                                IOAPIC_NUM_PINS * sizeof(struct kvm_irq_routing_entry));
    if (!ic->routing) {
        snprintf(err, errlen, "irqchip: out of memory");
        return -ENOMEM;
    }
    ic->routing->nr = IOAPIC_NUM_PINS;
    /* ioapic_init reports every pin's (masked) route; install them all at once after. */
    ic->ioapic = calloc(1, sizeof(*ic->ioapic));
    if (!ic->ioapic) {
        ret = -ENOMEM;
        snprintf(err, errlen, "irqchip: out of memory");
        goto err_free;
    }
    ret = ioapic_init(ic->ioapic, &split_ops, ic);
    if (ret) {
        snprintf(err, errlen, "ioapic: init failed: %s", strerror(-ret));
        goto err_free;
    }
    ic->vm_fd = kvm->vm_fd;
    if (ioctl(ic->vm_fd, KVM_SET_GSI_ROUTING, ic->routing) < 0) {
        ret = -errno;
        snprintf(err, errlen, "KVM: ioctl (SET_GSI_ROUTING) failed: %s", strerror(-ret));
        goto err_ioapic;
    }
    return 0;

err_ioapic:
    ioapic_destroy(ic->ioapic);
err_free:
    free(ic->ioapic);
    ic->ioapic = NULL;
    free(ic->routing);
    ic->routing = NULL;
    return ret;
}

int irqchip_enable_irqfd(struct irqchip *ic, unsigned gsi, char *err, size_t errlen)
{
    if (ic->mode != KVM_IRQCHIP_SPLIT || gsi >= IOAPIC_NUM_PINS || ic->irqfd[gsi] >= 0)
        return 0;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        int ret = -errno;
        snprintf(err, errlen, "irqchip: eventfd for GSI %u: %s", gsi, strerror(-ret));
        return ret;
    }
    struct kvm_irqfd req = {.fd = (uint32_t)fd, .gsi = gsi};
    if (ioctl(ic->vm_fd, KVM_IRQFD, &req) < 0) {
        int ret = -errno;
        close(fd);
        snprintf(err, errlen, "KVM: ioctl (IRQFD) for GSI %u failed: %s", gsi, strerror(-ret));
        return ret;
    }
    /* Deliveries (any thread) read it with an acquire load. */
    __atomic_store_n(&ic->irqfd[gsi], fd, __ATOMIC_RELEASE);
    return 0;
}

void irqchip_destroy(struct irqchip *ic)
{
    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
        if (ic->irqfd[i] < 0)
            continue;
        struct kvm_irqfd req = {.fd = (uint32_t)ic->irqfd[i], .gsi = i,
                                .flags = KVM_IRQFD_FLAG_DEASSIGN};
        ioctl(ic->vm_fd, KVM_IRQFD, &req);
        close(ic->irqfd[i]);
        ic->irqfd[i] = -1;
    }
    if (ic->mode == KVM_IRQCHIP_SPLIT && ic->routing) {
        ioapic_destroy(ic->ioapic);
        free(ic->ioapic);
        ic->ioapic = NULL;
        free(ic->routing);
        ic->routing = NULL;
    }
}

void irqchip_line(struct irqchip *ic, unsigned gsi, struct irq_line *line)
{
    line->gsi = gsi;
    if (ic->mode == KVM_IRQCHIP_SPLIT) {
        line->ops = &ioapic_irq_ops;
        line->opaque = ic->ioapic;
    } else {
        line->ops = &kernel_line_ops;
        line->opaque = ic;
    }
}

void irqchip_eoi(struct irqchip *ic, uint8_t vector)
{
    if (ic->mode == KVM_IRQCHIP_SPLIT)
        ioapic_eoi(ic->ioapic, vector);
}

void irqchip_delivered(struct irqchip *ic, uint64_t counts[IOAPIC_NUM_PINS])
{
    for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++)
        counts[p] = ic->ioapic ? __atomic_load_n(&ic->ioapic->delivered[p], __ATOMIC_RELAXED) : 0;
}
