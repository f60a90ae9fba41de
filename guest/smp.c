/*
 * smp.c: starts the application processors (Intel SDM vol. 3A, 9.4 "MP initialization")
 * and holds the per-CPU table.
 *
 * The BSP copies trampoline.S to MEMMAP_AP_TRAMPOLINE and starts one AP at a time: INIT,
 * SIPI, then a bounded wait (TSC, ~100 ms) for the AP to set its `online` flag; a second
 * SIPI only if it has not, then up to ~1 s more before giving up on it. No fixed 10 ms /
 * 200 us delays as on real hardware: KVM takes INIT and SIPI in order at once.
 *
 * An AP finds its stack by its APIC ID (boot.S) and its logical number by looking its APIC
 * ID up here, so nothing is handed over in shared variables: an AP that comes up after the
 * BSP gave up on it cannot take a later AP's identity.
 *
 * Each CPU prints its own "cpu N: online" line and then sets `online`, so the lines come out
 * in order 0, 1, 2...
 */
#include "smp.h"

#include <minivmm/memmap.h>

#include "kernel.h"
#include "lapic.h"
#include "machine.h"
#include "traps.h"
#include "tsc.h"
#include "x86.h"

/* An AP is up 0.2-1.4 ms after its SIPI here (pvm-guest-check.md); allow for a loaded host. */
#define FIRST_SIPI_WAIT_US 100000
#define SECOND_SIPI_WAIT_US 1000000

struct cpu_info cpu_info[NR_CPUS];
static unsigned int nr_cpus = 1;

/* trampoline.S */
extern const char trampoline_start[], trampoline_end[];

void smp_prepare(const uint32_t *apic_ids, unsigned int n, unsigned int max_cpus)
{
    uint32_t bsp = lapic_id();

    cpu_info[0].apic_id = bsp;
    for (unsigned int i = 0; i < n && nr_cpus < NR_CPUS; i++) {
        bool dup = apic_ids[i] == bsp;

        for (unsigned int j = 1; j < nr_cpus && !dup; j++)
            dup = cpu_info[j].apic_id == apic_ids[i];
        if (dup)
            continue;
        if (max_cpus && nr_cpus >= max_cpus)
            break;
        cpu_info[nr_cpus].cpu = nr_cpus;
        cpu_info[nr_cpus].apic_id = apic_ids[i];
        nr_cpus++;
    }
}

unsigned int smp_nr_cpus(void)
{
    return nr_cpus;
}

static bool wait_online(unsigned int cpu, uint64_t us)
{
    uint64_t deadline = tsc_deadline_us(us);

    while (!READ_ONCE(cpu_info[cpu].online)) {
        if ((int64_t)(rdtsc() - deadline) > 0)
            return false;
        cpu_relax();
    }
    return true;
}

static void start_ap(unsigned int cpu)
{
    uint32_t apic_id = cpu_info[cpu].apic_id;
    uint32_t sipi = APIC_ICR_SIPI | (MEMMAP_AP_TRAMPOLINE >> 12);

    lapic_send_ipi(apic_id, APIC_ICR_INIT);
    lapic_send_ipi(apic_id, sipi);
    if (wait_online(cpu, FIRST_SIPI_WAIT_US))
        return;
    lapic_send_ipi(apic_id, sipi);
    if (!wait_online(cpu, SECOND_SIPI_WAIT_US))
        kprintf("cpu %u: failed to start\n", cpu);
}

/* smp_call_function(): the work and, per CPU, "please run it" and "done" flags. */
static void (*volatile call_fn)(void *);
static void *volatile call_arg;
static volatile uint32_t call_pending[NR_CPUS], call_done[NR_CPUS];

static void call_function_interrupt(void)
{
    lapic_eoi(); /* the work runs in ap_main's loop, not here */
}

unsigned int smp_call_function_async(void (*fn)(void *), void *arg)
{
    unsigned int n = 0;

    call_fn = fn;
    call_arg = arg;
    for (unsigned int cpu = 1; cpu < nr_cpus; cpu++) {
        if (!READ_ONCE(cpu_info[cpu].online))
            continue;
        WRITE_ONCE(call_done[cpu], 0);
        __atomic_store_n(&call_pending[cpu], 1, __ATOMIC_RELEASE);
        lapic_send_ipi(cpu_info[cpu].apic_id, APIC_ICR_FIXED | CALL_FUNCTION_VECTOR);
        n++;
    }
    return n;
}

void smp_call_function_wait(void)
{
    for (unsigned int cpu = 1; cpu < nr_cpus; cpu++)
        if (READ_ONCE(cpu_info[cpu].online))
            while (!__atomic_load_n(&call_done[cpu], __ATOMIC_ACQUIRE))
                cpu_relax();
}

unsigned int smp_call_function(void (*fn)(void *), void *arg)
{
    unsigned int n = smp_call_function_async(fn, arg);

    smp_call_function_wait();
    return n;
}

void smp_boot_cpus(void)
{
    size_t len = (size_t)(trampoline_end - trampoline_start);

    kprintf("cpu 0: online\n");
    cpu_info[0].online = 1;
    if (nr_cpus == 1)
        return;
    irq_set_handler(CALL_FUNCTION_VECTOR, call_function_interrupt);
    memcpy((void *)(uintptr_t)MEMMAP_AP_TRAMPOLINE, trampoline_start, len);
    for (unsigned int cpu = 1; cpu < nr_cpus; cpu++)
        start_ap(cpu);
}

void ap_main(uint32_t apic_id)
{
    unsigned int cpu = 1;

    while (cpu < nr_cpus && cpu_info[cpu].apic_id != apic_id)
        cpu++;
    if (cpu == nr_cpus)
        machine_halt(); /* not one we started (cpus= limit): stay parked */
    wrmsr(MSR_GS_BASE, (uintptr_t)&cpu_info[cpu]);
    lidt(idt_desc);
    lapic_init();
    kprintf("cpu %u: online\n", cpu);
    WRITE_ONCE(cpu_info[cpu].online, 1);
    for (;;) {
        safe_halt();
        local_irq_disable();
        if (__atomic_load_n(&call_pending[cpu], __ATOMIC_ACQUIRE)) {
            call_pending[cpu] = 0;
            call_fn(call_arg);
            __atomic_store_n(&call_done[cpu], 1, __ATOMIC_RELEASE);
        }
    }
}
