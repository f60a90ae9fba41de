/*
 * kvm.h: /dev/kvm, the VM file descriptor and the capabilities minivmm relies on.
 */
#ifndef MINIVMM_KVM_H
#define MINIVMM_KVM_H

#include <stdbool.h>
#include <stddef.h>

#include "minivmm/hw/gmem.h"

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
/* The host's KVM: the vendor module that is loaded and usable, and how it maps guest memory. */
enum kvm_host_vendor { KVM_HOST_UNKNOWN, KVM_HOST_VMX, KVM_HOST_SVM, KVM_HOST_PVM };
struct kvm_host {
    enum kvm_host_vendor vendor;
    bool tdp;    /* two-dimensional paging: EPT (VMX) or NPT (SVM) on; never with PVM */
    bool nested; /* the host itself runs under a hypervisor */
};

/* Fills h from ROOT/sys/module (kvm_intel ept, kvm_amd npt, kvm_pvm) and the first CPU's flags
 * in ROOT/proc/cpuinfo (vmx, svm, hypervisor); root "" for this machine, a directory for a
 * test's fake tree. kvm_intel counts only on a CPU with vmx and kvm_amd only with svm (when
 * cpuinfo says), since built-in modules have parameters too; PVM only when neither counts. */
void kvm_host_at(const char *root, struct kvm_host *h);
/* "EPT", "NPT", "shadow paging (EPT off)", "shadow paging (NPT off)",
 * "shadow paging (PVM: no EPT/NPT)", or NULL when unknown. */
const char *kvm_host_mmu(const struct kvm_host *h);
/* "vmx+ept", "svm+npt (nested)", "svm+shadow", "pvm (shadow paging, nested)", ... into buf. */
const char *kvm_host_describe(const struct kvm_host *h, char *buf, size_t len);

/* This machine (kvm_host_at(""), nested also when CPUID.1:ECX[31] is set): kvm_host_mmu's
 * string, or NULL when unknown. */
const char *kvm_mmu_mode(void);
/* This machine: kvm_host_describe's string, in buf (what `minivmm bench` prints as "kvm: "). */
const char *kvm_host_kind(char *buf, size_t len);

#endif
