/*
 * mm_env_guest.h: mm_env.h for the guest kernel: a test-and-set spinlock, interrupts off with
 * pushfq/cli, the CPU number from %gs (smp.h), kprintf and panic.
 *
 * It lives here, beside the kernel headers it binds, and not in mm/: mm/ includes nothing of
 * the kernel, and mm/mm_env.h finds this file on the guest build's include path (guest/), as
 * host builds find tests/unit/mm/mm_env_host.h on theirs.
 */
#ifndef MM_ENV_GUEST_H
#define MM_ENV_GUEST_H

#include <stdint.h>

#include "config.h"
#include "kernel.h"
#include "smp.h"
#include "x86.h"

#define MM_NR_CPUS NR_CPUS

typedef struct {
    volatile uint32_t locked;
} mm_spinlock_t;

#define MM_SPINLOCK_INIT {0}

static inline void mm_spin_lock_init(mm_spinlock_t *l)
{
    l->locked = 0;
}

static inline void mm_spin_lock(mm_spinlock_t *l)
{
    while (__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            cpu_relax();
}

static inline void mm_spin_unlock(mm_spinlock_t *l)
{
    __atomic_store_n(&l->locked, 0u, __ATOMIC_RELEASE);
}

static inline unsigned long mm_irq_save(void)
{
    unsigned long f = (unsigned long)local_save_flags();

    local_irq_disable();
    return f;
}

static inline void mm_irq_restore(unsigned long flags)
{
    if (flags & X86_EFLAGS_IF)
        local_irq_enable();
}

static inline unsigned int mm_cpu_id(void)
{
    return smp_processor_id() % NR_CPUS;
}

#define mm_printf(...) kprintf(__VA_ARGS__)

static inline __noreturn void mm_bug(const char *file, int line, const char *msg)
{
    panic("BUG: %s:%d: %s", file, line, msg);
}

#define mm_memset memset
#define mm_return_address() ((unsigned long)__builtin_return_address(0))

#endif
