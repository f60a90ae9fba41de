/*
 * kvm.h: /dev/kvm, the VM file descriptor and the capabilities minivmm relies on.
 */
#ifndef MINIVMM_KVM_H
#define MINIVMM_KVM_H

#include <stdbool.h>
#include <stddef.h>

#include "gmem.h"

enum kvm_irqchip_mode { KVM_IRQCHIP_SPLIT, KVM_IRQCHIP_KERNEL };

struct kvm {
    int sys_fd;      /* /dev/kvm */
    int vm_fd;
    int run_size;    /* KVM_GET_VCPU_MMAP_SIZE */
    int max_vcpus;
    bool has_stats;  /* KVM_CAP_BINARY_STATS_FD */
};

/* Opens /dev/kvm and checks API version 12 and every capability minivmm needs for `mode`.
 * 0 or -errno with a one-line reason in err ("KVM: capability KVM_CAP_IRQFD missing"). */
int kvm_open(struct kvm *kvm, enum kvm_irqchip_mode mode, char *err, size_t errlen);
/* KVM_CREATE_VM: 0 or -errno with reason. */
int kvm_create_vm(struct kvm *kvm, char *err, size_t errlen);
/* One memory slot per RAM region. */
int kvm_map_memory(struct kvm *kvm, const struct gmem *gm, char *err, size_t errlen);
void kvm_close(struct kvm *kvm);
/* "EPT", "NPT", "shadow paging (PVM: no EPT/NPT)", "shadow paging", or NULL when unknown. */
const char *kvm_mmu_mode(void);

#endif
