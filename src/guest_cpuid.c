/*
 * guest_cpuid.c: the guest's CPUID table (guest_cpuid.h). Pure functions over struct kvm_cpuid2.
 *
 * Bit positions: Intel SDM vol. 2A, CPUID; AMD APM vol. 3, CPUID. The XSAVE check follows
 * Linux 6.1's arch/x86/kernel/fpu/xstate.c (fpu__init_system_xstate, xsave_cpuid_features[],
 * XFEATURE_MASK_USER_SUPPORTED, xstate_calculate_size, paranoid_xstate_size_valid).
 */
#include <string.h>

#include "guest_cpuid.h"

#define BIT(n) (1u << (n))

/* Leaf 1 */
#define L1_ECX_FMA BIT(12)
#define L1_ECX_CX16 BIT(13)
#define L1_ECX_TSC_DEADLINE BIT(24)
#define L1_ECX_XSAVE BIT(26)
#define L1_ECX_OSXSAVE BIT(27)
#define L1_ECX_AVX BIT(28)
#define L1_ECX_F16C BIT(29)
#define L1_ECX_HYPERVISOR BIT(31)
#define L1_EDX_FPU BIT(0)
#define L1_EDX_HTT BIT(28)
#define L1_EDX_SSE BIT(25)
/* Leaf 7.0 */
#define L7_EBX_AVX2 BIT(5)
#define L7_EBX_MPX BIT(14)
#define L7_EBX_AVX512F BIT(16)
#define L7_EBX_INTEL_PT BIT(25)
#define L7_ECX_PKU BIT(3)
#define L7_ECX_OSPKE BIT(4)
#define L7_ECX_ENQCMD BIT(29)
#define L7_EDX_AMX_TILE BIT(24)
/* Everything that needs XSAVE-managed state: AVX, AVX2, AVX-512 (F DQ IFMA PF ER CD BW VL),
 * AVX-512 VBMI/VBMI2/VNNI/BITALG/VPOPCNTDQ, VAES, VPCLMULQDQ (VEX-encoded), PKU/OSPKE,
 * AVX512_4VNNIW/4FMAPS/VP2INTERSECT/FP16, AMX. */
#define L7_EBX_XSAVE_DEPS                                                                          \
    (L7_EBX_AVX2 | L7_EBX_AVX512F | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) |   \
     BIT(31))
#define L7_ECX_XSAVE_DEPS                                                                          \
    (BIT(1) | L7_ECX_PKU | L7_ECX_OSPKE | BIT(6) | BIT(9) | BIT(10) | BIT(11) | BIT(12) | BIT(14))
#define L7_EDX_XSAVE_DEPS (BIT(2) | BIT(3) | BIT(8) | BIT(22) | BIT(23) | L7_EDX_AMX_TILE | BIT(25))
#define L7_1_EAX_XSAVE_DEPS (BIT(4) | BIT(5)) /* AVX-VNNI, AVX512_BF16 */
#define L80000001_ECX_XSAVE_DEPS (BIT(11) | BIT(16)) /* XOP, FMA4 (VEX-encoded) */
/* Leaf 0xD.1 EAX */
#define LD1_EAX_XSAVEC BIT(1)
#define LD1_EAX_XSAVES BIT(3)
#define LD1_EAX_XFD BIT(4)

#define XMASK(f) (1ull << (f))
/* Linux 6.1's XFEATURE_MASK_USER_SUPPORTED; supervisor states need XSAVES, which KVM offers
 * only with IA32_XSS support: kept out of the check (our hosts have none). */
#define LINUX_USER_SUPPORTED                                                                       \
    (XMASK(XFEATURE_FP) | XMASK(XFEATURE_SSE) | XMASK(XFEATURE_YMM) | XMASK(XFEATURE_BNDREGS) |   \
     XMASK(XFEATURE_BNDCSR) | XMASK(XFEATURE_OPMASK) | XMASK(XFEATURE_ZMM_HI256) |                \
     XMASK(XFEATURE_HI16_ZMM) | XMASK(XFEATURE_PKRU) | XMASK(XFEATURE_XTILE_CFG) |                \
     XMASK(XFEATURE_XTILE_DATA))

struct kvm_cpuid_entry2 *guest_cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == function &&
            (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index))
            return e;
    }
    return NULL;
}

static uint32_t reg(struct kvm_cpuid2 *c, uint32_t function, uint32_t index, int r)
{
    const struct kvm_cpuid_entry2 *e = guest_cpuid_find(c, function, index);
    if (!e)
        return 0;
    switch (r) {
    case 0:
        return e->eax;
    case 1:
        return e->ebx;
    case 2:
        return e->ecx;
    default:
        return e->edx;
    }
}
enum { EAX, EBX, ECX, EDX };

static bool compacted(struct kvm_cpuid2 *c)
{
    return reg(c, 0xd, 1, EAX) & (LD1_EAX_XSAVEC | LD1_EAX_XSAVES);
}

uint32_t guest_cpuid_xsave_size(struct kvm_cpuid2 *c, uint64_t xfeatures)
{
    uint32_t size = XSAVE_LEGACY_SIZE;
    bool compact = compacted(c);
    for (unsigned f = 2; f < 64; f++) {
        if (!(xfeatures & XMASK(f)))
            continue;
        const struct kvm_cpuid_entry2 *e = guest_cpuid_find(c, 0xd, f);
        if (!e)
            continue;
        if (compact) {
            if (e->ecx & BIT(1)) /* 64-byte aligned in the compacted format */
                size = (size + 63) & ~63u;
            size += e->eax;
        } else if (e->ebx + e->eax > size) {
            size = e->ebx + e->eax;
        }
    }
    return size;
}

/* xsave_cpuid_features[]: drops each component whose CPUID feature flag is clear. */
static uint64_t flag_filter(struct kvm_cpuid2 *c, uint64_t x)
{
    uint32_t l1c = reg(c, 1, 0, ECX), l1d = reg(c, 1, 0, EDX);
    uint32_t l7b = reg(c, 7, 0, EBX), l7c = reg(c, 7, 0, ECX), l7d = reg(c, 7, 0, EDX);
    const struct {
        unsigned f;
        bool on;
    } need[] = {
        {XFEATURE_FP, l1d & L1_EDX_FPU},
        {XFEATURE_SSE, l1d & L1_EDX_SSE},
        {XFEATURE_YMM, l1c & L1_ECX_AVX},
        {XFEATURE_BNDREGS, l7b & L7_EBX_MPX},
        {XFEATURE_BNDCSR, l7b & L7_EBX_MPX},
        {XFEATURE_OPMASK, l7b & L7_EBX_AVX512F},
        {XFEATURE_ZMM_HI256, l7b & L7_EBX_AVX512F},
        {XFEATURE_HI16_ZMM, l7b & L7_EBX_AVX512F},
        {8, l7b & L7_EBX_INTEL_PT},
        {XFEATURE_PKRU, l7c & L7_ECX_PKU},
        {10, l7c & L7_ECX_ENQCMD},
        {XFEATURE_XTILE_CFG, l7d & L7_EDX_AMX_TILE},
        {XFEATURE_XTILE_DATA, l7d & L7_EDX_AMX_TILE},
    };
    for (unsigned i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (!need[i].on)
            x &= ~XMASK(need[i].f);
    return x;
}

uint64_t guest_cpuid_linux_xfeatures(struct kvm_cpuid2 *c)
{
    if (!(reg(c, 1, 0, ECX) & L1_ECX_XSAVE))
        return 0;
    uint64_t x = flag_filter(c, reg(c, 0xd, 0, EAX) | (uint64_t)reg(c, 0xd, 0, EDX) << 32);
    if (!(reg(c, 0xd, 1, EAX) & LD1_EAX_XFD))
        x &= ~XMASK(XFEATURE_XTILE_DATA);
    return x & LINUX_USER_SUPPORTED;
}

bool guest_cpuid_linux_xsave_ok(struct kvm_cpuid2 *c, uint32_t ebx_seen)
{
    uint64_t x = guest_cpuid_linux_xfeatures(c);
    const uint64_t fpsse = XMASK(XFEATURE_FP) | XMASK(XFEATURE_SSE);
    if (!x || (x & fpsse) != fpsse)
        return true; /* no XSAVE, or Linux turns it off without the size check */
    uint32_t kernel_size = compacted(c) ? reg(c, 0xd, 1, EBX) : ebx_seen;
    return guest_cpuid_xsave_size(c, x) == kernel_size;
}

bool guest_cpuid_host_xsetbv_exits(const char sig[12])
{
    return memcmp(sig, "TCGTCGTCGTCG", 12) != 0;
}

/* Hides XSAVE and every feature whose state lives in XSAVE components. */
static void hide_xsave(struct kvm_cpuid2 *c)
{
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == 1) {
            e->ecx &= ~(L1_ECX_XSAVE | L1_ECX_OSXSAVE | L1_ECX_AVX | L1_ECX_FMA | L1_ECX_F16C);
        } else if (e->function == 7 && e->index == 0) {
            e->ebx &= ~L7_EBX_XSAVE_DEPS;
            e->ecx &= ~L7_ECX_XSAVE_DEPS;
            e->edx &= ~L7_EDX_XSAVE_DEPS;
        } else if (e->function == 7 && e->index == 1) {
            e->eax &= ~L7_1_EAX_XSAVE_DEPS;
        } else if (e->function == 0x80000001) {
            e->ecx &= ~L80000001_ECX_XSAVE_DEPS;
        } else if (e->function == 0xd) {
            e->eax = e->ebx = e->ecx = e->edx = 0;
        }
    }
}

/* Leaf 0xD offers only what the guest can turn on with the CPUID flags it sees (KVM derives
 * the XCR0 bits XSETBV accepts from 0xD.0 EDX:EAX); ECX is the size for all of them, EBX the
 * size for XCR0's reset value (x87 only), as on hardware after reset (KVM updates it at each
 * XSETBV). Leaf 1's XSAVE flag goes when there is no x87+SSE component to save. */
static void fix_xsave(struct kvm_cpuid2 *c)
{
    struct kvm_cpuid_entry2 *d0 = guest_cpuid_find(c, 0xd, 0);
    struct kvm_cpuid_entry2 *l1 = guest_cpuid_find(c, 1, 0);
    if (!l1 || !(l1->ecx & L1_ECX_XSAVE))
        return;
    const uint64_t fpsse = XMASK(XFEATURE_FP) | XMASK(XFEATURE_SSE);
    uint64_t offered = d0 ? (d0->eax | (uint64_t)d0->edx << 32) : 0;
    if ((offered & fpsse) != fpsse) {
        hide_xsave(c);
        return;
    }
    uint64_t x = flag_filter(c, offered);
    d0->eax = (uint32_t)x;
    d0->edx = (uint32_t)(x >> 32);
    d0->ecx = guest_cpuid_xsave_size(c, x);
    d0->ebx = XSAVE_LEGACY_SIZE;
}

void guest_cpuid_fixup(struct kvm_cpuid2 *c, const struct guest_cpuid_opts *o)
{
    bool has_kvm_leaf = guest_cpuid_find(c, 0x40000000, 0) != NULL;
    if (o->tsc_khz > 0 && has_kvm_leaf && !guest_cpuid_find(c, CPUID_TIMING_LEAF, 0)) {
        /* Tell the guest its TSC rate (as QEMU's vmware-cpuid-freq does), so it needs no
         * calibration loop: emulated guest instructions are too slow to calibrate with. */
        c->entries[c->nent++] = (struct kvm_cpuid_entry2){
            .function = CPUID_TIMING_LEAF, .eax = o->tsc_khz, .ebx = CPUID_APIC_BUS_KHZ};
    }
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:
            e->ebx = (e->ebx & 0x0000ffffu) | (o->vcpu << 24) | ((o->ncpus & 0xff) << 16);
            e->ecx &= ~L1_ECX_CX16;       /* cmpxchg16b kills the VM on PVM hosts */
            e->ecx &= ~L1_ECX_OSXSAVE;    /* CR4.OSXSAVE is clear at reset (KVM tracks it) */
            e->ecx |= L1_ECX_HYPERVISOR;
            /* KVM emulates the TSC-deadline timer in its LAPIC but does not list it in
             * KVM_GET_SUPPORTED_CPUID (it depends on the in-kernel LAPIC, which the VMM
             * chooses): set it when KVM_CAP_TSC_DEADLINE_TIMER is present, as QEMU does. */
            if (o->tsc_deadline)
                e->ecx |= L1_ECX_TSC_DEADLINE;
            if (o->ncpus > 1)
                e->edx |= L1_EDX_HTT; /* the logical count in EBX is valid */
            break;
        case 0xb:
        case 0x1f:
            e->edx = o->vcpu; /* x2APIC ID */
            break;
        case 0x40000000: /* KVM's leaves, as KVM reports them; make room for the timing leaf */
            if (o->tsc_khz > 0 && e->eax < CPUID_TIMING_LEAF)
                e->eax = CPUID_TIMING_LEAF;
            break;
        default:
            break;
        }
    }
    if (o->xsetbv_exits)
        fix_xsave(c);
    else
        hide_xsave(c);
}
