/*
 * smp.h: per-CPU data and bringing up the application processors.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdint.h>

#include "config.h"

/*
 * One per logical CPU; %gs points at the running CPU's entry (boot.S for the BSP, ap_main
 * for APs), so `cpu` must stay the first field: smp_processor_id() reads %gs:0.
 */
struct cpu_info {
    uint32_t cpu;             /* logical number, 0 = BSP */
    uint32_t apic_id;
    volatile uint32_t online; /* set by the CPU itself once it has printed "online" */
    uint32_t in_panic;
};

extern struct cpu_info cpu_info[NR_CPUS];

static inline unsigned int smp_processor_id(void)
{
    unsigned int cpu;

    __asm__ volatile("movl %%gs:0, %0" : "=r"(cpu));
    return cpu;
}

static inline struct cpu_info *this_cpu(void)
{
    return &cpu_info[smp_processor_id() % NR_CPUS];
}

/*
 * Set up the BSP as CPU 0 and the table of the others (APIC IDs in device-tree order,
 * the BSP's own ID among them or not), keeping at most max_cpus (0 = no limit).
 */
void smp_prepare(const uint32_t *apic_ids, unsigned int n, unsigned int max_cpus);
/* Number of CPUs smp_prepare() kept (the banner's count). */
unsigned int smp_nr_cpus(void);
/* Print "cpu 0: online", then start each AP in turn and wait for its "online". */
void smp_boot_cpus(void);
/*
 * Run fn(arg) once on every online AP (not the caller, which must be CPU 0) and return
 * when all have finished. Each AP idles in `sti; hlt`; an IPI on CALL_FUNCTION_VECTOR wakes
 * it and it runs fn with interrupts off. Returns the number of APs that ran fn.
 */
unsigned int smp_call_function(void (*fn)(void *), void *arg);
/* The two halves: start fn on the APs (returns their count), then wait for them. */
unsigned int smp_call_function_async(void (*fn)(void *), void *arg);
void smp_call_function_wait(void);
/* C entry of an AP (boot.S), with its APIC ID; never returns. */
void ap_main(uint32_t apic_id);

#endif
