/*
 * percpu.c: get_cpu_var()/put_cpu_var()'s interrupt bookkeeping (see percpu.h).
 */
#include "percpu.h"

struct percpu_irq {
    unsigned long flags; /* saved by the outermost get */
    unsigned int depth;
} __attribute__((aligned(64)));

DEFINE_PER_CPU_STATIC(struct percpu_irq, percpu_irq);

unsigned int percpu_get(void)
{
    unsigned long f = mm_irq_save();
    unsigned int cpu = mm_cpu_id();
    struct percpu_irq *p = per_cpu_ptr(percpu_irq, cpu);

    if (p->depth++ == 0)
        p->flags = f;
    return cpu;
}

void percpu_put(void)
{
    struct percpu_irq *p = this_cpu_ptr(percpu_irq);

    MM_BUG_ON(p->depth == 0);
    if (--p->depth == 0)
        mm_irq_restore(p->flags);
}
