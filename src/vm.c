/*
 * vm.c: stopping and pausing a VM.
 *
 * Pause protocol (vm.h): `paused` is set under pause_lock, then the vCPUs are kicked; each
 * vCPU thread checks `paused` before KVM_RUN (a kick that lands before KVM_RUN sets
 * immediate_exit, so none is lost) and parks in vm_park(), counted in `parked`. vm_stop() sets
 * `stopping` before it broadcasts pause_cond under pause_lock, so a vCPU parking concurrently
 * either sees `stopping` or gets the wake-up.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"
#include "minivmm/util.h"

void vm_kick_vcpus(struct vm *vm)
{
    for (unsigned i = 0; i < vm->ncpus && i < VM_MAX_CPUS; i++)
        if (__atomic_load_n(&vm->vcpu_started[i], __ATOMIC_ACQUIRE))
            pthread_kill(vm->vcpu_thread[i], VM_KICK_SIGNAL);
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
    pthread_mutex_lock(&vm->pause_lock); /* release parked vCPUs and a waiting vm_pause() */
    pthread_cond_broadcast(&vm->pause_cond);
    pthread_mutex_unlock(&vm->pause_lock);
    vm_kick_vcpus(vm);
    uint64_t one = 1;
    if (write(vm->stop_fd, &one, sizeof(one)) < 0) {
        /* The eventfd cannot overflow with one write; nothing to do. */
    }
}

void vm_power(struct vm *vm, enum vm_power_event ev)
{
    if (!vm->quiet && !__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE))
        fprintf(stderr, "minivmm: guest: %s\n", ev == VM_REBOOT ? "reboot" : "power off");
    vm_stop(vm, 0);
}

static bool stopping(struct vm *vm)
{
    return __atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE);
}

int vm_pause(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    if (stopping(vm)) {
        pthread_mutex_unlock(&vm->pause_lock);
        return -ESHUTDOWN;
    }
    if (!vm->paused) {
        vm->pause_t0_ns = now_ns();
        __atomic_store_n(&vm->paused, true, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&vm->pause_lock);
    vm_kick_vcpus(vm);
    /* A vCPU blocked in a device (a console nobody reads) parks later: do not wait forever. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += VM_PAUSE_TIMEOUT_S;
    int ret = 0;
    pthread_mutex_lock(&vm->pause_lock);
    while (vm->parked < vm->ncpus && !stopping(vm) && ret != ETIMEDOUT)
        ret = pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &until);
    ret = stopping(vm) ? -ESHUTDOWN : vm->parked < vm->ncpus ? -ETIMEDOUT : 0;
    pthread_mutex_unlock(&vm->pause_lock);
    return ret;
}

int vm_resume(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    if (vm->paused) {
        vm->paused_ns += now_ns() - vm->pause_t0_ns;
        __atomic_store_n(&vm->paused, false, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&vm->pause_cond);
    }
    pthread_mutex_unlock(&vm->pause_lock);
    return stopping(vm) ? -ESHUTDOWN : 0;
}

void vm_park(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    vm->parked++;
    pthread_cond_broadcast(&vm->pause_cond);
    while (vm->paused && !stopping(vm))
        pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
    vm->parked--;
    pthread_mutex_unlock(&vm->pause_lock);
}

uint64_t vm_paused_ns(struct vm *vm, bool *paused)
{
    pthread_mutex_lock(&vm->pause_lock);
    uint64_t ns = vm->paused_ns + (vm->paused ? now_ns() - vm->pause_t0_ns : 0);
    *paused = vm->paused;
    pthread_mutex_unlock(&vm->pause_lock);
    return ns;
}
