/*
 * mm_env_host.h: mm_env.h for host builds of the guest allocators (unit tests, tools/mmbench).
 *
 * NOTE to the buddy engineer: written by the slab engineer as a minimal shim because none
 * existed yet; it mirrors guest/mm_env_guest.h name for name. Extend it freely (add, don't
 * rename), slab.c/kmalloc.c use only what is here.
 *
 * The "CPU" is a thread-local number (mm_host_cpu, 0 by default) that a test may set to
 * pretend to run on another CPU; interrupts do not exist, so mm_irq_save/restore do nothing
 * and per-CPU data is safe only if every thread sets a distinct mm_host_cpu. The spinlock is
 * a real test-and-set lock, so the shared (slow-path) state is safe across threads.
 */
#ifndef MM_ENV_HOST_H
#define MM_ENV_HOST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MM_NR_CPUS
#define MM_NR_CPUS 8
#endif

typedef struct {
    volatile uint32_t locked;
} mm_spinlock_t;

#define MM_SPINLOCK_INIT                                                                           \
    {                                                                                              \
        0                                                                                          \
    }

static inline void mm_spin_lock_init(mm_spinlock_t *l)
{
    l->locked = 0;
}

static inline void mm_spin_lock(mm_spinlock_t *l)
{
    while (__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            ;
}

static inline void mm_spin_unlock(mm_spinlock_t *l)
{
    __atomic_store_n(&l->locked, 0u, __ATOMIC_RELEASE);
}

static inline unsigned long mm_irq_save(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    return 0;
}

static inline void mm_irq_restore(unsigned long flags)
{
    (void)flags;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Weak, so every file that includes this header shares one definition without a .c file. */
__attribute__((weak)) __thread unsigned int mm_host_cpu;

static inline unsigned int mm_cpu_id(void)
{
    return mm_host_cpu % MM_NR_CPUS;
}

#define mm_printf(...) printf(__VA_ARGS__)

static inline __attribute__((noreturn)) void mm_bug(const char *file, int line, const char *msg)
{
    fprintf(stderr, "BUG: %s:%d: %s\n", file, line, msg);
    fflush(NULL);
    abort();
}

#define mm_memset memset
#define mm_return_address() ((unsigned long)__builtin_return_address(0))

#endif
