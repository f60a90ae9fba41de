/*
 * vm.c: stopping a VM, and the callbacks that tie the exit and phase ports to it.
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "vcpu.h"
#include "vm.h"

uint64_t vm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vm_stop(struct vm *vm, int status)
{
    pthread_mutex_lock(&vm->stop_lock);
    bool first = !vm->stopping;
    if (first) {
        vm->status = status;
        __atomic_store_n(&vm->stopping, true, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&vm->stop_lock);
    if (!first)
        return;
    for (unsigned i = 0; i < vm->ncpus; i++)
        vcpu_kick(&vm->vcpus[i]);
    uint64_t one = 1;
    if (write(vm->stop_fd, &one, sizeof(one)) < 0) {
        /* The eventfd cannot overflow with one write; nothing to do. */
    }
}
