/*
 * vm.h: one virtual machine: everything `minivmm run` brings up, and how it stops.
 *
 * Stopping: the first vm_stop() wins and fixes the exit status and reason; it sets `stopping`,
 * kicks every vCPU out of KVM_RUN (SIGUSR1 + immediate_exit) and wakes the main thread through
 * `stop_fd` (an eventfd), which then tears down in reverse bring-up order.
 */
#ifndef MINIVMM_VM_H
#define MINIVMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "console.h"
#include "exitlog.h"
#include "exitport.h"
#include "exitsum.h"
#include "gmem.h"
#include "irqchip.h"
#include "kvm.h"
#include "phaseport.h"
#include "serial16550.h"

/* Exit statuses of `minivmm run` other than the guest's own status byte. */
#define VM_STATUS_ERROR 1        /* bad input, VMM failure */
#define VM_STATUS_GUEST_CRASH 2  /* triple fault, emulation failure, failed entry */

#define VM_MAX_CPUS 64

struct vcpu;

struct vm {
    struct kvm kvm;
    struct gmem gm;
    struct bus bus;
    struct irqchip ic;
    struct serial16550 uart;
    struct console console;
    struct exitport exitp;
    struct phaseport phasep;
    struct exitlog *log;            /* NULL without --exit-log */
    struct exitlog_busmap map;
    bool quiet;
    unsigned ncpus;
    struct vcpu *vcpus;

    /* Monotonic clock at VM start; exit records are relative to it. */
    uint64_t t0_ns;
    /* Boot-phase markers, under marker_lock. */
    pthread_mutex_t marker_lock;
    struct exitsum markers;

    /* Stop state. */
    pthread_mutex_t stop_lock;
    bool stopping;
    int status;
    int stop_fd;
};

/* Requests the VM to stop with `status`; the first request wins. Safe from any thread. */
void vm_stop(struct vm *vm, int status);
/* Monotonic ns. */
uint64_t vm_now_ns(void);

#endif
