/*
 * percpu.h: per-CPU variables (Linux's include/linux/percpu-defs.h names, simplest layout).
 *
 * DEFINE_PER_CPU(type, name) defines an array of MM_NR_CPUS copies (DECLARE_PER_CPU in a
 * header to share it); per_cpu(name, cpu) is copy `cpu` (an lvalue), this_cpu_ptr(name) a
 * pointer to the running CPU's (note: the name, not &name as in Linux). A CPU may only
 * change its own copy with interrupts off (we have no preemption, so that is all it takes):
 * get_cpu_var() disables interrupts and yields this CPU's copy, put_cpu_var() restores the
 * interrupt flag; pairs may nest.
 *
 *     DEFINE_PER_CPU(unsigned long, hits);
 *     get_cpu_var(hits)++;
 *     put_cpu_var(hits);
 *
 * Other CPUs' copies (per_cpu) may be read at any time, e.g. to sum counters.
 */
#ifndef MM_PERCPU_H
#define MM_PERCPU_H

#include "mm_env.h"

/* The array starts on a cache line; the copies of a small type share lines (false sharing
 * costs nothing measurable under emulation; put hot per-CPU state in a struct with
 * __attribute__((aligned(64))) to give each CPU its own line). */
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) name##__percpu[MM_NR_CPUS]
#define DEFINE_PER_CPU(type, name)                                                             \
    __typeof__(type) name##__percpu[MM_NR_CPUS] __attribute__((aligned(64)))
#define DEFINE_PER_CPU_STATIC(type, name)                                                      \
    static __typeof__(type) name##__percpu[MM_NR_CPUS] __attribute__((aligned(64)))

#define per_cpu(name, cpu) (name##__percpu[(cpu)])
#define per_cpu_ptr(name, cpu) (&per_cpu(name, cpu))
#define this_cpu_ptr(name) per_cpu_ptr(name, mm_cpu_id())
#define __this_cpu_read(name) per_cpu(name, mm_cpu_id())

/* Disable interrupts (nesting allowed), then the running CPU's copy (an lvalue). */
#define get_cpu_var(name) (per_cpu(name, percpu_get()))
/* Undo one get_cpu_var(): the outermost restores the interrupt flag it saved. */
#define put_cpu_var(name)                                                                      \
    do {                                                                                       \
        (void)&per_cpu(name, 0);                                                               \
        percpu_put();                                                                          \
    } while (0)

/* percpu.c: interrupts off (counted per CPU), returns this CPU's number; and the undo. */
unsigned int percpu_get(void);
void percpu_put(void);

#endif
