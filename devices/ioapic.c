/*
 * ioapic.c: I/O APIC model for KVM's split irqchip (Intel 82093AA data sheet, 1996; the EOI
 * register of version 0x20 IOAPICs as in the ICH data sheets), compared with QEMU's
 * hw/intc/ioapic.c and KVM's arch/x86/kvm/ioapic.c.
 *
 * Registers, through IOREGSEL (0x00) / IOWIN (0x10), 32-bit accesses only (82093AA 3.0):
 *   0x00 ID   bits 27:24 writable          0x01 VER  0x00170020: 24 entries, version 0x20
 *   0x02 ARB  reads the ID (the data sheet loads it from ID), read-only
 *   0x10 + 2n / 0x11 + 2n  redirection entry n, low / high half
 * and EOI (0x40, write-only): the low byte is a vector, as ioapic_eoi(). Linux uses it instead
 * of its edge/level toggle whenever the version is 0x20 or more.
 *
 * Redirection entries: writable bits are vector, delivery mode, destination mode, polarity,
 * trigger mode, mask and destination (63:56); reserved bits read 0. DELIVS and Remote IRR are
 * read-only and kept across writes; DELIVS is always 0 (delivery is synchronous). An entry
 * that is (or becomes) edge-triggered has Remote IRR cleared: the 82093AA defines it for level
 * entries only, and Linux's EOI fallback for old IOAPICs (flip to edge and back) relies on it,
 * as QEMU's ioapic_fix_edge_remote_irr() notes.
 *
 * Pins (irr): the input is the electrical level; an active-low entry sees it inverted
 * ("asserted" below means after polarity).
 *   edge  — a rising edge of the asserted level latches irr; the entry delivers it and clears
 *           irr when unmasked. An edge that arrives while the entry is masked stays latched
 *           and is delivered when the entry is unmasked. NOTE: this is the VMM's choice, not
 *           the data sheet's: the 82093AA ignores edges on masked pins, and so does QEMU
 *           ("we must ignore edge requests if the input pin is masked"). Latching means a
 *           device line that rose before the guest unmasked the pin is not lost forever.
 *           Repeated set_irq(1) without a 0 in between is one edge.
 *   level — irr follows the asserted level. While asserted, unmasked and Remote IRR clear,
 *           the entry delivers and sets Remote IRR; the guest's EOI for that vector clears
 *           Remote IRR and re-delivers if the line is still asserted (resampling, which KVM's
 *           split irqchip leaves to us: KVM_EXIT_IOAPIC_EOI).
 * Remote IRR is set only when ops->deliver reports success ("set when local APIC(s) accept the
 * level interrupt", 82093AA 3.2.4): KVM_SIGNAL_MSI to a disabled or absent LAPIC delivers
 * nothing, and a set Remote IRR would then wait for an EOI that never comes. A failed edge
 * delivery is dropped, as an MSI no LAPIC accepts is.
 *
 * Reconfiguration makes no edges: turning an entry from level to edge drops irr; from edge to
 * level, irr is the asserted level (so a line still asserted is delivered, as Linux's
 * flip-to-edge-and-back EOI expects).
 *
 * Locking: see ioapic.h.
 */
#include <errno.h>
#include <string.h>

#include "ioapic.h"
#include "minivmm/util.h"

#define RTE_RESET IOAPIC_RTE_MASKED
#define RTE_RO (IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR)
#define RTE_WRITABLE                                                                               \
    (IOAPIC_RTE_VECTOR_MASK | IOAPIC_RTE_DELMODE_MASK | IOAPIC_RTE_DESTMODE |                      \
     IOAPIC_RTE_POLARITY | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED |                                  \
     (0xffull << IOAPIC_RTE_DEST_SHIFT))
#define VER_VALUE (IOAPIC_VERSION | ((IOAPIC_NUM_PINS - 1u) << 16))

void ioapic_msi_from_rte(uint64_t rte, struct ioapic_msi *msi)
{
    uint64_t dest = (rte >> IOAPIC_RTE_DEST_SHIFT) & 0xff;
    uint32_t delmode = (uint32_t)((rte & IOAPIC_RTE_DELMODE_MASK) >> IOAPIC_RTE_DELMODE_SHIFT);

    /* Address: 0xFEE in 31:20, destination ID in 19:12, destination mode in bit 2.
     * Data: vector 7:0, delivery mode 10:8, level assert 14, trigger mode 15. A level entry
     * must reach KVM with bit 15 set: that is how KVM knows which vectors need EOI exits. */
    msi->addr = IOAPIC_MSI_ADDR_BASE | (dest << 12) | ((rte & IOAPIC_RTE_DESTMODE) ? 1u << 2 : 0);
    msi->data = (uint32_t)(rte & IOAPIC_RTE_VECTOR_MASK) | (delmode << 8) |
                ((rte & IOAPIC_RTE_LEVEL) ? (1u << 15) | (1u << 14) : 0);
}

static bool asserted(const struct ioapic *io, unsigned pin)
{
    bool in = (io->input >> pin) & 1;
    return in != !!(io->rte[pin] & IOAPIC_RTE_POLARITY);
}

static void route(struct ioapic *io, unsigned pin)
{
    struct ioapic_msi msi;
    if (!io->ops || !io->ops->route)
        return;
    ioapic_msi_from_rte(io->rte[pin], &msi);
    io->ops->route(io->opaque, pin, &msi, io->rte[pin] & IOAPIC_RTE_MASKED);
}

/* Delivers pin's pending interrupt if the entry allows it now. */
static void service(struct ioapic *io, unsigned pin)
{
    uint32_t bit = 1u << pin;
    uint64_t e = io->rte[pin];
    bool level = e & IOAPIC_RTE_LEVEL;
    struct ioapic_msi msi;
    int r = -ENODEV;

    if (!(io->irr & bit) || (e & IOAPIC_RTE_MASKED))
        return;
    if (level && (e & IOAPIC_RTE_REMOTE_IRR))
        return; /* the guest has not EOId the previous one yet */
    if (!level)
        io->irr &= ~bit;
    ioapic_msi_from_rte(e, &msi);
    if (io->ops && io->ops->deliver)
        r = io->ops->deliver(io->opaque, pin, &msi);
    if (r == 0) {
        /* Read without the lock (irqchip_delivered()): an atomic store, one writer. */
        __atomic_store_n(&io->delivered[pin], io->delivered[pin] + 1, __ATOMIC_RELAXED);
        if (level)
            io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
    } else {
        io->deliver_errors++;
    }
}

static void write_rte(struct ioapic *io, unsigned pin, bool high, uint32_t val)
{
    uint64_t old = io->rte[pin], e;
    uint32_t bit = 1u << pin;

    if (high)
        e = (old & 0xffffffffull) | ((uint64_t)val << 32);
    else
        e = (old & ~0xffffffffull) | val;
    e = (e & RTE_WRITABLE) | (old & RTE_RO);
    if (!(e & IOAPIC_RTE_LEVEL))
        e &= ~IOAPIC_RTE_REMOTE_IRR;
    io->rte[pin] = e;

    if (e & IOAPIC_RTE_LEVEL) {
        if (asserted(io, pin))
            io->irr |= bit;
        else
            io->irr &= ~bit;
    } else if (old & IOAPIC_RTE_LEVEL) {
        io->irr &= ~bit;
    }
    route(io, pin);
    service(io, pin);
}

static uint32_t iowin_read(const struct ioapic *io)
{
    uint32_t reg = io->ioregsel;

    switch (reg) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB:
        return io->id << 24;
    case IOAPIC_REG_VER:
        return VER_VALUE;
    }
    if (reg >= IOAPIC_REG_REDTBL && reg < IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        uint64_t e = io->rte[(reg - IOAPIC_REG_REDTBL) / 2];
        return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0xffffffffu; /* no register there */
}

static void iowin_write(struct ioapic *io, uint32_t val)
{
    uint32_t reg = io->ioregsel;

    if (reg == IOAPIC_REG_ID) {
        io->id = (val >> 24) & 0xf;
    } else if (reg >= IOAPIC_REG_REDTBL && reg < IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        write_rte(io, (reg - IOAPIC_REG_REDTBL) / 2, reg & 1, val);
    }
    /* VER, ARB and unused indices are read-only / absent: ignored. */
}

static void eoi_locked(struct ioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t e = io->rte[pin];
        if (!(e & IOAPIC_RTE_LEVEL) || (e & IOAPIC_RTE_VECTOR_MASK) != vector ||
            !(e & IOAPIC_RTE_REMOTE_IRR))
            continue;
        io->rte[pin] = e & ~IOAPIC_RTE_REMOTE_IRR;
        service(io, pin);
    }
}

static void ioapic_bus_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    struct ioapic *io = opaque;
    uint32_t v;
    (void)vcpu;

    memset(data, 0xff, len);
    if (len != 4)
        return;
    pthread_mutex_lock(&io->lock);
    if (off == IOAPIC_REGSEL)
        v = io->ioregsel;
    else if (off == IOAPIC_IOWIN)
        v = iowin_read(io);
    else
        v = 0xffffffffu; /* EOI is write-only; everything else is unused */
    pthread_mutex_unlock(&io->lock);
    for (unsigned i = 0; i < 4; i++)
        data[i] = (uint8_t)(v >> (8 * i));
}

static void ioapic_bus_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data,
                             unsigned len)
{
    struct ioapic *io = opaque;
    uint32_t v;
    (void)vcpu;

    if (len != 4)
        return;
    v = get_le32(data);
    pthread_mutex_lock(&io->lock);
    if (off == IOAPIC_REGSEL)
        io->ioregsel = v & 0xff; /* bits 31:8 reserved */
    else if (off == IOAPIC_IOWIN)
        iowin_write(io, v);
    else if (off == IOAPIC_EOI)
        eoi_locked(io, (uint8_t)v);
    pthread_mutex_unlock(&io->lock);
}

const struct bus_dev_ops ioapic_bus_ops = {
    .read = ioapic_bus_read,
    .write = ioapic_bus_write,
};

const struct bus_reg ioapic_regs[] = {
    {IOAPIC_REGSEL, "IOREGSEL", "IOREGSEL"},
    {IOAPIC_IOWIN, "IOWIN", "IOWIN"},
    {IOAPIC_EOI, NULL, "EOI"},
};
const unsigned ioapic_nregs = ARRAY_SIZE(ioapic_regs);

int ioapic_init(struct ioapic *io, const struct ioapic_ops *ops, void *opaque)
{
    int ret;

    memset(io, 0, sizeof(*io));
    ret = pthread_mutex_init(&io->lock, NULL);
    if (ret)
        return -ret;
    io->ops = ops;
    io->opaque = opaque;
    pthread_mutex_lock(&io->lock);
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        io->rte[pin] = RTE_RESET;
        route(io, pin);
    }
    pthread_mutex_unlock(&io->lock);
    return 0;
}

void ioapic_destroy(struct ioapic *io)
{
    pthread_mutex_destroy(&io->lock);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, int level)
{
    uint32_t bit;
    bool was, now;

    if (pin >= IOAPIC_NUM_PINS)
        return;
    bit = 1u << pin;
    pthread_mutex_lock(&io->lock);
    was = asserted(io, pin);
    if (level)
        io->input |= bit;
    else
        io->input &= ~bit;
    now = asserted(io, pin);
    if (io->rte[pin] & IOAPIC_RTE_LEVEL) {
        if (now) {
            io->irr |= bit;
            service(io, pin);
        } else {
            io->irr &= ~bit;
        }
    } else if (!was && now) {
        io->irr |= bit;
        service(io, pin);
    }
    pthread_mutex_unlock(&io->lock);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    pthread_mutex_lock(&io->lock);
    eoi_locked(io, vector);
    pthread_mutex_unlock(&io->lock);
}

static void ioapic_line_set(void *opaque, unsigned gsi, int level)
{
    ioapic_set_irq(opaque, gsi, level);
}

const struct irq_line_ops ioapic_irq_ops = {.set_level = ioapic_line_set};
