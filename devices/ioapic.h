/*
 * ioapic.h: an I/O APIC (Intel 82093AA, plus the version-0x20 EOI register) for KVM's split
 * irqchip, where the local APICs are in KVM and this model turns pin events into MSIs.
 *
 * The VMM embeds a struct ioapic, registers ioapic_bus_ops on its MMIO window (0xFEC00000;
 * offsets below are relative to it), hands devices irq lines with ioapic_irq_ops (gsi = pin),
 * and calls ioapic_eoi() on KVM_EXIT_IOAPIC_EOI. Through `ops` it mirrors every redirection
 * entry into KVM's GSI route for that pin and delivers interrupts.
 *
 * Locking: every entry point takes `lock`; ops->route and ops->deliver are called with it held
 * and must not call back into the IOAPIC. Devices call ioapic_set_irq() with their own lock
 * held, so the lock order is device, then IOAPIC, then whatever ops do.
 */
#ifndef MINIVMM_IOAPIC_H
#define MINIVMM_IOAPIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "minivmm/hw/bus.h"
#include "minivmm/hw/irq.h"
#include "minivmm/ioapic_regs.h"

#define IOAPIC_MSI_ADDR_BASE 0xfee00000u

/* The MSI an entry stands for (Intel SDM vol. 3, 11.11 "Message Signalled Interrupts"). */
struct ioapic_msi {
    uint64_t addr;
    uint32_t data;
};

struct ioapic_ops {
    /* Called (with the IOAPIC lock held) at init for each pin and whenever a redirection
     * entry is written, even when unchanged: the MSI message the entry now means and whether
     * it is masked. The VMM rewrites KVM's GSI route for that pin from it (KVM takes the
     * level-triggered vectors that need EOI exits from these routes). */
    void (*route)(void *opaque, unsigned pin, const struct ioapic_msi *msi, bool masked);
    /* Deliver pin's interrupt now (KVM_SIGNAL_MSI or the route's irqfd). Returns 0, or
     * -errno when it was not delivered (then a level pin's Remote IRR stays clear). */
    int (*deliver)(void *opaque, unsigned pin, const struct ioapic_msi *msi);
};

struct ioapic {
    pthread_mutex_t lock;
    uint32_t ioregsel; /* bits 7:0 */
    uint32_t id;       /* 4-bit APIC ID (register bits 27:24) */
    uint64_t rte[IOAPIC_NUM_PINS];
    uint32_t irr;   /* level pins: line asserted; edge pins: a latched rising edge */
    uint32_t input; /* pin input levels as last set (before polarity) */
    const struct ioapic_ops *ops;
    void *opaque;
    /* ops->deliver returned 0; written under the lock, read without it (relaxed atomics) */
    uint64_t delivered[IOAPIC_NUM_PINS];
    uint64_t deliver_errors; /* ops->deliver returned -errno */
};

/* Reset: ID 0, every entry masked (0x0000000000010000), all inputs low. Calls ops->route for
 * each pin. ops may be NULL (nothing is routed or delivered). 0 or -errno. */
int ioapic_init(struct ioapic *io, const struct ioapic_ops *ops, void *opaque);
void ioapic_destroy(struct ioapic *io);

/* Sets a pin's input level (pin >= IOAPIC_NUM_PINS is ignored). `level` is the electrical
 * level: an entry programmed active-low (polarity bit 13) sees it inverted. Our devices drive
 * 1 = asserted, so their pins must be described active-high to the guest. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, int level);
/* End of interrupt for `vector` (KVM_EXIT_IOAPIC_EOI, or a write to the EOI register):
 * clears Remote IRR of every level-triggered entry with that vector and re-delivers those
 * whose line is still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);
/* The MSI a redirection entry stands for (exported for tests). */
void ioapic_msi_from_rte(uint64_t rte, struct ioapic_msi *msi);

/* Bus callbacks on the MMIO window: 32-bit accesses to IOREGSEL (0x00), IOWIN (0x10) and EOI
 * (0x40, write-only). Anything else reads all-ones and writes are ignored. */
extern const struct bus_dev_ops ioapic_bus_ops;
extern const struct bus_reg ioapic_regs[];
extern const unsigned ioapic_nregs;

/* Interrupt lines into the IOAPIC: opaque = struct ioapic *, gsi = pin. */
extern const struct irq_line_ops ioapic_irq_ops;

#endif
