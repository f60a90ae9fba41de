/*
 * traps.h: the IDT (vectors.S), exception reports and interrupt dispatch (traps.c).
 */
#ifndef GUEST_TRAPS_H
#define GUEST_TRAPS_H

#include <stdint.h>

/* What vectors.S pushes, lowest address first; the CPU's part starts at rip. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error; /* error is 0 for vectors without an error code */
    uint64_t rip, cs, rflags, rsp, ss;
};

/* vectors.S: the static 256-entry IDT and its descriptor for lidt. */
extern const uint8_t idt_desc[];

typedef void (*irq_handler_t)(void);

/* Run fn for interrupts on `vector` (32..254). fn sends the EOI itself. */
void irq_set_handler(uint8_t vector, irq_handler_t fn);
/* Called by vectors.S for every vector. */
void trap_dispatch(struct trap_frame *f);

#endif
