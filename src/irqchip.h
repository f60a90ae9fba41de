/*
 * irqchip.h: interrupt delivery into KVM.
 *
 * Split mode (default): the local APICs are in KVM, the IOAPIC is our model (devices/ioapic.c).
 * KVM starts with no routes in split mode, so GSIs 0-23 are kept as MSI routes that mirror
 * the IOAPIC's redirection entries, rewritten on every entry write: KVM derives from them
 * which vectors need EOI exits (level-triggered pins). Delivery uses KVM_SIGNAL_MSI.
 * Kernel mode (--irqchip=kernel): KVM's full irqchip; lines are driven with KVM_IRQ_LINE.
 */
#ifndef MINIVMM_IRQCHIP_H
#define MINIVMM_IRQCHIP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/ioapic_regs.h"

#include "minivmm/hw/irq.h"
#include "kvm.h"

struct ioapic;

struct irqchip {
    enum kvm_irqchip_mode mode;
    int vm_fd;
    struct ioapic *ioapic;  /* our IOAPIC model, split mode only (else NULL) */
    struct kvm_irq_routing *routing;
    int irqfd[IOAPIC_NUM_PINS];     /* split mode: eventfd bound to the pin's MSI route, or -1 */
    uint64_t msi_sent, msi_dropped; /* KVM_SIGNAL_MSI delivered / not delivered */
};

/* Before the first vCPU: enables the split irqchip (24 pins) or creates KVM's. 0 or -errno
 * with reason. */
int irqchip_init(struct irqchip *ic, struct kvm *kvm, enum kvm_irqchip_mode mode, char *err,
                 size_t errlen);
void irqchip_destroy(struct irqchip *ic);
/* The line a device raises for `gsi`. */
void irqchip_line(struct irqchip *ic, unsigned gsi, struct irq_line *line);
/* Split mode: deliver `gsi` through an irqfd bound to its MSI route from now on (an eventfd
 * write instead of a KVM_SIGNAL_MSI ioctl: cheaper, and callable from any I/O thread). For
 * devices that interrupt often (the NIC's VFs); each irqfd costs a KVM registration, so pins
 * nobody asks for keep KVM_SIGNAL_MSI. A no-op with KVM's full irqchip. 0 or -errno + reason. */
int irqchip_enable_irqfd(struct irqchip *ic, unsigned gsi, char *err, size_t errlen);
/* Interrupts the IOAPIC model delivered so far, per pin (split mode; zeros otherwise). */
void irqchip_delivered(struct irqchip *ic, uint64_t counts[IOAPIC_NUM_PINS]);
/* KVM_EXIT_IOAPIC_EOI. */
void irqchip_eoi(struct irqchip *ic, uint8_t vector);

#endif
