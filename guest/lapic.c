/*
 * lapic.c: the local APIC in xAPIC mode (Intel SDM vol. 3A, chapter 11).
 *
 * The base comes from IA32_APIC_BASE (0xfee00000 unless moved); boot.S maps it uncached.
 * On our hosts the LAPIC lives in KVM, so these MMIO accesses are handled in the kernel
 * without a userspace exit. Keep SVR bit 12 (EOI-broadcast suppression) clear: with the
 * split irqchip, setting it can leave level-triggered IOAPIC pins stuck (split-irqchip-check
 * finding C).
 */
#include "lapic.h"

#include <minivmm/memmap.h>

#include "config.h"
#include "x86.h"

#define APIC_ID 0x020
#define APIC_TPR 0x080
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_LINT0 0x350

#define APIC_SVR_ENABLE 0x100
#define APIC_LVT_MASKED 0x10000
#define APIC_ICR_BUSY 0x1000
#define APIC_BASE_ENABLE 0x800
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull

static uint64_t lapic_base = MEMMAP_LAPIC_BASE;

static inline uint32_t lapic_read(uint32_t reg)
{
    return mmio_read32(lapic_base + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(lapic_base + reg, v);
}

void lapic_init(void)
{
    uint64_t msr = rdmsr(MSR_APIC_BASE);

    if (!(msr & APIC_BASE_ENABLE))
        wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
    lapic_base = msr & APIC_BASE_ADDR_MASK;
    lapic_write(APIC_TPR, 0);
    /* Firmware (QEMU's qboot) may leave LINT0 as ExtINT from the 8259: we do not want it. */
    lapic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
    lapic_write(APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
}

uint32_t lapic_id(void)
{
    return lapic_read(APIC_ID) >> 24;
}

void lapic_eoi(void)
{
    lapic_write(APIC_EOI, 0);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr)
{
    lapic_write(APIC_ICR_HI, apic_id << 24);
    lapic_write(APIC_ICR_LO, icr);
    /* KVM delivers at once; the bound only protects against a wedged APIC. */
    for (int i = 0; i < 1000 && (lapic_read(APIC_ICR_LO) & APIC_ICR_BUSY); i++)
        cpu_relax();
}
