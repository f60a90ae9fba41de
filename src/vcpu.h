/*
 * vcpu.h: one vCPU: its KVM fd, its run area, its thread and its exit loop.
 */
#ifndef MINIVMM_VCPU_H
#define MINIVMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "exitsum.h"
#include "vm.h"

struct vcpu {
    struct vm *vm;
    unsigned id;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool started;
    struct exitsum sum; /* this vCPU's exits; only its thread writes it */
    /* Exits by reason for the live view: written by this vCPU's thread only, read by the
     * main thread with relaxed atomics (no lock on the exit path). */
    uint64_t live[EXITSUM_MAX_REASONS + 1];
};

/* Creates the vCPU with per-vCPU CPUID (guest_cpuid_fixup: APIC ID = id, CX16 cleared, ...).
 * 0 or -errno + reason. */
int vcpu_create(struct vcpu *v, struct vm *vm, unsigned id, const struct kvm_cpuid2 *cpuid,
                char *err, size_t errlen);
/* Puts the vCPU (the BSP) in the entry state of a boot protocol: PVH's 32-bit flat protected
 * mode (pvh_entry_state), or the Linux boot protocol's 64-bit entry in long mode
 * (bzimage_entry_state). */
int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, char *err, size_t errlen);
int vcpu_set_linux64_entry(struct vcpu *v, uint64_t entry, char *err, size_t errlen);
int vcpu_start(struct vcpu *v);
/* Forces the vCPU out of KVM_RUN (it then sees vm->stopping). */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);
/* Prints general, segment and control registers. */
void vcpu_dump(struct vcpu *v, FILE *f);
/* KVM_GET_SUPPORTED_CPUID; the caller frees. NULL with reason on failure. */
struct kvm_cpuid2 *vcpu_supported_cpuid(int sys_fd, char *err, size_t errlen);
/* Installs the kick signal handler (once, before any vCPU thread). */
int vcpu_signals_init(void);

#endif
