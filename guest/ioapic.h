/*
 * ioapic.h: the I/O APIC (register layout in minivmm/ioapic_regs.h).
 */
#ifndef GUEST_IOAPIC_H
#define GUEST_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Use the IOAPIC at this MMIO base and mask every pin. */
void ioapic_init(uint64_t base);
/* Route ISA IRQ `irq` (pin = irq) to `vector` on one CPU: fixed, physical, edge, high. */
void ioapic_route_irq(unsigned int irq, uint8_t vector, uint32_t apic_id);
/* The same for any pin, level-triggered (active high) when `level`: virtio-mmio's lines. */
void ioapic_route_pin(unsigned int irq, uint8_t vector, uint32_t apic_id, bool level);

#endif
