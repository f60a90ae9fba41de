/*
 * traps.c: what happens on an exception or interrupt: register dumps, panic(), and
 * dispatch of device interrupts to their handlers.
 *
 * An exception is always fatal here: the dump goes to the console, then the exit port gets
 * MINIVMM_STATUS_PANIC. A fault while already panicking on the same CPU (say, the console
 * faulting) skips the printing and exits at once, so it cannot recurse.
 *
 * Interrupt gates clear IF, so handlers run with interrupts off and never nest.
 */
#include "traps.h"

#include <minivmm/abi.h>

#include "config.h"
#include "console.h"
#include "kernel.h"
#include "lapic.h"
#include "machine.h"
#include "smp.h"
#include "x86.h"

static const char *const exception_names[32][2] = {
    {"#DE", "divide error"},
    {"#DB", "debug"},
    {"NMI", "non-maskable interrupt"},
    {"#BP", "breakpoint"},
    {"#OF", "overflow"},
    {"#BR", "bound range exceeded"},
    {"#UD", "invalid opcode"},
    {"#NM", "device not available"},
    {"#DF", "double fault"},
    {"#CSO", "coprocessor segment overrun"},
    {"#TS", "invalid TSS"},
    {"#NP", "segment not present"},
    {"#SS", "stack-segment fault"},
    {"#GP", "general protection"},
    {"#PF", "page fault"},
    {"#15", "reserved"},
    {"#MF", "x87 floating-point error"},
    {"#AC", "alignment check"},
    {"#MC", "machine check"},
    {"#XM", "SIMD floating-point"},
    {"#VE", "virtualization exception"},
    {"#CP", "control protection"},
    {"#22", "reserved"},
    {"#23", "reserved"},
    {"#24", "reserved"},
    {"#25", "reserved"},
    {"#26", "reserved"},
    {"#27", "reserved"},
    {"#HV", "hypervisor injection"},
    {"#VC", "VMM communication"},
    {"#SX", "security exception"},
    {"#31", "reserved"},
};

/* kernel.ld */
extern const char __text_start[], __text_end[];

static irq_handler_t irq_handlers[256];

void irq_set_handler(uint8_t vector, irq_handler_t fn)
{
    irq_handlers[vector] = fn;
}

/* The panicking CPU's first entry; a second one means the report itself faulted. */
static void enter_panic(void)
{
    struct cpu_info *ci = this_cpu();

    local_irq_disable();
    if (ci->in_panic)
        machine_exit(MINIVMM_STATUS_PANIC);
    ci->in_panic = 1;
}

static void dump_exception(const struct trap_frame *f)
{
    unsigned int cpu = smp_processor_id();
    uint64_t cr2 = read_cr2();
    const char *const *name = exception_names[f->vector & 31];

    console_lock();
    if (f->vector == 14)
        kprintf("PANIC: cpu %u: exception %s (%s) err=0x%llx rip=0x%llx cr2=0x%llx\n", cpu,
                name[0], name[1], (unsigned long long)f->error, (unsigned long long)f->rip,
                (unsigned long long)cr2);
    else
        kprintf("PANIC: cpu %u: exception %s (%s) err=0x%llx rip=0x%llx\n", cpu, name[0],
                name[1], (unsigned long long)f->error, (unsigned long long)f->rip);
    /* Look at the opcode only inside the kernel's text: a wild rip must not fault again. */
    if (f->vector == 6 && f->rip >= (uintptr_t)__text_start &&
        f->rip + 2 <= (uintptr_t)__text_end && *(const uint16_t *)f->rip == 0x0b0f)
        kprintf("  ud2 at rip: a BUG() in the kernel\n");
    kprintf("  rip=%016llx rsp=%016llx rflags=%016llx cs=%04llx ss=%04llx\n",
            (unsigned long long)f->rip, (unsigned long long)f->rsp,
            (unsigned long long)f->rflags, (unsigned long long)f->cs,
            (unsigned long long)f->ss);
    kprintf("  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx\n",
            (unsigned long long)read_cr0(), (unsigned long long)cr2,
            (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
    kprintf("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", (unsigned long long)f->rax,
            (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    kprintf("  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n", (unsigned long long)f->rsi,
            (unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
    kprintf("  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n", (unsigned long long)f->r9,
            (unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
    kprintf("  r13=%016llx r14=%016llx r15=%016llx\n", (unsigned long long)f->r13,
            (unsigned long long)f->r14, (unsigned long long)f->r15);
    console_unlock();
}

void panic(const char *fmt, ...)
{
    va_list ap;

    enter_panic();
    console_lock();
    kprintf("PANIC: cpu %u: ", smp_processor_id());
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    console_unlock();
    machine_exit(MINIVMM_STATUS_PANIC);
}

void trap_dispatch(struct trap_frame *f)
{
    irq_handler_t fn;

    if (f->vector < 32) {
        enter_panic();
        dump_exception(f);
        machine_exit(MINIVMM_STATUS_PANIC);
    }
    /* A spurious interrupt is not in service: it must not get an EOI (SDM 11.9). */
    if (f->vector == SPURIOUS_VECTOR)
        return;
    fn = irq_handlers[f->vector];
    if (fn) {
        fn();
        return;
    }
    kprintf("cpu %u: unexpected interrupt on vector 0x%llx ignored\n", smp_processor_id(),
            (unsigned long long)f->vector);
    lapic_eoi();
}
