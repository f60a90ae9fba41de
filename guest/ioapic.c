/*
 * ioapic.c: programs the I/O APIC (Intel 82093AA data sheet).
 *
 * With the split irqchip every access here is an MMIO exit to the VMM (~8 us), and a
 * register access is two of them (IOREGSEL, then IOWIN); boot makes sure every pin is
 * masked, then touches only the pins it uses. ISA IRQs map to pins one to one: our VMM and
 * QEMU microvm (with acpi=off, so no interrupt source overrides) wire IRQ n to pin n.
 */
#include "ioapic.h"

#include <minivmm/ioapic_regs.h>
#include <minivmm/memmap.h>

#include "kernel.h"
#include "x86.h"

static uint64_t ioapic_base = MEMMAP_IOAPIC_BASE;
static unsigned int ioapic_pins = IOAPIC_NUM_PINS;

static uint32_t ioapic_read(uint32_t reg)
{
    mmio_write32(ioapic_base + IOAPIC_REGSEL, reg);
    return mmio_read32(ioapic_base + IOAPIC_IOWIN);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(ioapic_base + IOAPIC_REGSEL, reg);
    mmio_write32(ioapic_base + IOAPIC_IOWIN, v);
}

void ioapic_init(uint64_t base)
{
    uint32_t ver;

    ioapic_base = base;
    ver = ioapic_read(IOAPIC_REG_VER);
    /* Bits 23:16: index of the last redirection entry. All-ones means nothing is there. */
    if (ver != 0xffffffffu)
        ioapic_pins = ((ver >> 16) & 0xff) + 1;
    if (ioapic_pins > 240)
        ioapic_pins = IOAPIC_NUM_PINS;
    /*
     * Pins reset masked; write only those that are not. Reads are cheap for the VMM, while
     * each redirection write may make it rebuild KVM's GSI routing (30-350 us measured).
     */
    for (unsigned int pin = 0; pin < ioapic_pins; pin++)
        if (!(ioapic_read(IOAPIC_REG_REDTBL + 2 * pin) & IOAPIC_RTE_MASKED))
            ioapic_write(IOAPIC_REG_REDTBL + 2 * pin, (uint32_t)IOAPIC_RTE_MASKED);
}

void ioapic_route_irq(unsigned int irq, uint8_t vector, uint32_t apic_id)
{
    ioapic_route_pin(irq, vector, apic_id, false);
}

void ioapic_route_pin(unsigned int irq, uint8_t vector, uint32_t apic_id, bool level)
{
    uint64_t rte = vector | ((uint64_t)apic_id << IOAPIC_RTE_DEST_SHIFT);

    if (level)
        rte |= IOAPIC_RTE_LEVEL; /* active high; Remote IRR clears at the LAPIC EOI */

    if (irq >= ioapic_pins)
        panic("ioapic: IRQ %u beyond its %u pins", irq, ioapic_pins);
    /* High half (destination) first, so the entry is never live with a stale destination. */
    ioapic_write(IOAPIC_REG_REDTBL + 2 * irq + 1, (uint32_t)(rte >> 32));
    ioapic_write(IOAPIC_REG_REDTBL + 2 * irq, (uint32_t)rte);
}
