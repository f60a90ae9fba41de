/*
 * guest_cpuid.h: the guest's CPUID table, computed from KVM_GET_SUPPORTED_CPUID with no
 * ioctl (so it is unit-tested on synthetic tables): our baseline (APIC IDs, CX16 off, hypervisor bit,
 * TSC-deadline), the KVM leaves as KVM reports them plus the timing leaf, and an XSAVE
 * description Linux accepts.
 *
 * XSAVE: Linux 6.1's fpu__init_system_xstate() takes the XSAVE features of leaf 0xD, drops
 * those whose CPUID flag is clear (AVX for YMM, ...), sets XCR0 to the rest, then checks that
 * the standard-format size it computes from the 0xD subleaves equals leaf 0xD.0 EBX ("size
 * of the XSAVE area for the features enabled in XCR0") -- paranoid_xstate_size_valid(), the
 * "XSAVE consistency problem" warning. KVM keeps EBX in step with the guest's XCR0 at each
 * XSETBV it intercepts. A host whose SVM does not intercept the guest's XSETBV (QEMU's TCG,
 * i.e. tools/kvmbox) leaves EBX at the reset value, and KVM would load its own idea of the
 * guest's XCR0 (x87 only) before VM entries, so XSAVE cannot be trusted there:
 * guest_cpuid_fixup() then hides XSAVE and everything that needs it (docs/host-notes.md).
 */
#ifndef MINIVMM_GUEST_CPUID_H
#define MINIVMM_GUEST_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#define CPUID_TIMING_LEAF 0x40000010 /* VMware's: EAX = TSC kHz, EBX = APIC bus kHz */
#define CPUID_APIC_BUS_KHZ 1000000   /* KVM's LAPIC timer runs at 1 GHz */

/* XSAVE state components (SDM vol. 1, 13.1). */
#define XFEATURE_FP 0
#define XFEATURE_SSE 1
#define XFEATURE_YMM 2
#define XFEATURE_BNDREGS 3
#define XFEATURE_BNDCSR 4
#define XFEATURE_OPMASK 5
#define XFEATURE_ZMM_HI256 6
#define XFEATURE_HI16_ZMM 7
#define XFEATURE_PKRU 9
#define XFEATURE_XTILE_CFG 17
#define XFEATURE_XTILE_DATA 18
#define XSAVE_LEGACY_SIZE 576 /* 512-byte legacy area + 64-byte header */

struct guest_cpuid_opts {
    unsigned vcpu;        /* APIC ID */
    unsigned ncpus;
    bool tsc_deadline;    /* KVM_CAP_TSC_DEADLINE_TIMER: set CPUID.1:ECX[24] */
    uint32_t tsc_khz;     /* > 0 (and KVM leaves present): add the timing leaf */
    bool xsetbv_exits;    /* the host intercepts the guest's XSETBV (..._host_xsetbv_exits) */
};

/* The entry for (function, index), or NULL; index is ignored for leaves without
 * KVM_CPUID_FLAG_SIGNIFCANT_INDEX. */
struct kvm_cpuid_entry2 *guest_cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);

/* Size of a standard-format XSAVE area holding `xfeatures` (Linux's xstate_calculate_size,
 * uncompacted): the largest offset + size among the extended features' 0xD subleaves, or
 * XSAVE_LEGACY_SIZE when there is none. */
uint32_t guest_cpuid_xsave_size(struct kvm_cpuid2 *c, uint64_t xfeatures);
/* The features Linux 6.1 enables in XCR0 from this table (0 without XSAVE): 0xD.0's
 * EDX:EAX minus features whose CPUID flag is clear and minus what Linux does not support. */
uint64_t guest_cpuid_linux_xfeatures(struct kvm_cpuid2 *c);
/* Reproduces Linux 6.1's paranoid_xstate_size_valid() for a guest that reads `ebx_seen` in
 * leaf 0xD.0 EBX after setting XCR0: true when it would not warn (or does not use XSAVE). */
bool guest_cpuid_linux_xsave_ok(struct kvm_cpuid2 *c, uint32_t ebx_seen);

/* Whether a host with this CPUID.0x40000000 signature (12 bytes; all zero when there is no
 * hypervisor) intercepts its guests' XSETBV: false for QEMU's TCG ("TCGTCGTCGTCG"). */
bool guest_cpuid_host_xsetbv_exits(const char sig[12]);

/* Rewrites a copy of KVM_GET_SUPPORTED_CPUID for one vCPU. `c` must have room for one more
 * entry than c->nent (the timing leaf). */
void guest_cpuid_fixup(struct kvm_cpuid2 *c, const struct guest_cpuid_opts *o);

#endif
