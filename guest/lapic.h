/*
 * lapic.h: the local APIC in xAPIC (MMIO) mode.
 */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdint.h>

#define APIC_ICR_FIXED 0x00004000u /* fixed delivery, level assert; OR in the vector */
#define APIC_ICR_INIT 0x00004500u /* INIT, level assert */
#define APIC_ICR_SIPI 0x00004600u /* start-up; OR in the vector (page number of the code) */

/* Enable this CPU's LAPIC: software enable with the spurious vector, LINT0 masked. */
void lapic_init(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Send an IPI (ICR low word `icr`) to the CPU with this APIC ID. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr);

#endif
