/*
 * mm_env.h: what the allocators need from their environment, and nothing else, so that the
 * same mm sources build in the guest and on the host (unit tests, benchmarks):
 *
 *   mm_spinlock_t, mm_spin_lock/unlock            a lock
 *   mm_irq_save()/mm_irq_restore(flags)           interrupts off/on around per-CPU data
 *   mm_cpu_id(), MM_NR_CPUS                       the current CPU and the maximum count
 *   mm_printf(fmt, ...)                           reports (/proc-style output, errors)
 *   mm_bug(file, line, msg)                       fatal invariant violation (BUG_ON)
 *
 * Each build puts its binding on the include path: the guest kernel's is guest/mm_env_guest.h;
 * a host build defines MM_HOST and provides mm_env_host.h (tests/unit/mm/). Nothing in mm/
 * includes anything else of the guest, and the allocators contain no arch code.
 */
#ifndef MM_ENV_H
#define MM_ENV_H

#ifdef MM_HOST
#include "mm_env_host.h"
#else
#include "mm_env_guest.h"
#endif

#define MM_BUG_ON(cond)                                                                        \
    do {                                                                                       \
        if (cond)                                                                              \
            mm_bug(__FILE__, __LINE__, #cond);                                                 \
    } while (0)

#endif
