/*
 * x86.h: inline wrappers for the privileged x86-64 instructions the kernel uses.
 *
 * Every one of these is emulated by KVM on our PVM hosts (~1 us each); port I/O and MMIO
 * outside the LAPIC additionally exit to the VMM. Never add SSE/x87, popcnt, rdtscp, `int n`
 * or int3 here: the emulator cannot run them and the VM dies (docs/host-notes.md).
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint64_t read_cr0(void)
{
    uint64_t v;

    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_cr2(void)
{
    uint64_t v;

    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_cr3(void)
{
    uint64_t v;

    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_cr4(void)
{
    uint64_t v;

    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static inline void cpu_relax(void)
{
    __asm__ volatile("pause" : : : "memory");
}

static inline void barrier(void)
{
    __asm__ volatile("" : : : "memory");
}

static inline void local_irq_disable(void)
{
    __asm__ volatile("cli" : : : "memory");
}

static inline void local_irq_enable(void)
{
    __asm__ volatile("sti" : : : "memory");
}

/*
 * Enable interrupts and halt in one step: the STI shadow keeps an interrupt from landing
 * between the two instructions, so a wake-up cannot be lost. On PVM this is also the only
 * place an interrupt reaches us promptly (busy emulated code sees it ~1 ms late).
 */
static inline void safe_halt(void)
{
    __asm__ volatile("sti; hlt" : : : "memory");
}

static inline uint64_t local_save_flags(void)
{
    uint64_t f;

    __asm__ volatile("pushfq; popq %0" : "=r"(f) : : "memory");
    return f;
}

#define X86_EFLAGS_IF 0x200

static inline void lidt(const void *desc)
{
    __asm__ volatile("lidt (%0)" : : "r"(desc) : "memory");
}

#endif
