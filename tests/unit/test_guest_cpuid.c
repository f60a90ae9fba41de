/*
 * test_guest_cpuid.c: unit tests of the guest's CPUID table (src/guest_cpuid.c) on synthetic
 * KVM_GET_SUPPORTED_CPUID tables.
 *
 * The base table is what KVM on tools/kvmbox reported (QEMU TCG -cpu max, AMD): leaf 1 with
 * XSAVE and AVX, leaf 7 with PKU, leaf 0xD offering x87|SSE|AVX|PKRU (0x207) with AVX at
 * offset 576 (256 bytes) and PKRU at 2688 (8 bytes), so the standard-format size for all of
 * them is 2696; KVM's leaves 0x40000000 ("KVMKVMKVM") and 0x40000001. Linux 6.1 warned there
 * "XSAVE consistency problem: size 2696 != kernel_size 576". CK_FORK on.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "guest_cpuid.h"
#include "minivmm/util.h"

#define SIG_EBX 0x4b4d564b /* "KVMK" */
#define SIG_ECX 0x564b4d56 /* "VMKV" */
#define SIG_EDX 0x0000004d /* "M\0\0\0" */

static const struct kvm_cpuid_entry2 box[] = {
    {.function = 1, .eax = 0x00060fb1, .ebx = 0x01020800, .ecx = 0x76f83203, .edx = 0x0f8bfbfd},
    {.function = 7, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 0x019803ab, .ecx = 0x0001020c,
     .edx = 0x20000000},
    {.function = 0xb, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .edx = 0},
    {.function = 0xd, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x207,
     .ebx = 0xa88, .ecx = 0xa88},
    {.function = 0xd, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x5},
    {.function = 0xd, .index = 2, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x100,
     .ebx = 0x240},
    {.function = 0xd, .index = 9, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x8,
     .ebx = 0xa80},
    {.function = 0x40000000, .eax = 0x40000001, .ebx = SIG_EBX, .ecx = SIG_ECX, .edx = SIG_EDX},
    {.function = 0x40000001, .eax = 0x01007efb},
    {.function = 0x80000001, .ecx = 0x00000877, .edx = 0xedd3fbfd},
};

#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_AVX (1u << 28)
#define L7_EBX_AVX2 (1u << 5)
#define L7_ECX_PKU (1u << 3)

static struct kvm_cpuid2 *table(void)
{
    size_t n = ARRAY_SIZE(box);
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (n + 1) * sizeof(c->entries[0]));
    ck_assert_ptr_nonnull(c);
    c->nent = (uint32_t)n;
    memcpy(c->entries, box, sizeof(box));
    return c;
}

static struct kvm_cpuid_entry2 *get(struct kvm_cpuid2 *c, uint32_t f, uint32_t i)
{
    struct kvm_cpuid_entry2 *e = guest_cpuid_find(c, f, i);
    ck_assert_ptr_nonnull(e);
    return e;
}

START_TEST(xsave_sizes)
{
    struct kvm_cpuid2 *c = table();
    ck_assert_uint_eq(guest_cpuid_xsave_size(c, 0x3), 576);
    ck_assert_uint_eq(guest_cpuid_xsave_size(c, 0x7), 832);
    ck_assert_uint_eq(guest_cpuid_xsave_size(c, 0x207), 2696);
    ck_assert_uint_eq(guest_cpuid_xsave_size(c, 0x203), 2696);
    free(c);
}
END_TEST

/* Linux drops components whose CPUID flag is clear (xsave_cpuid_features[]). */
START_TEST(linux_features)
{
    struct kvm_cpuid2 *c = table();
    ck_assert_uint_eq(guest_cpuid_linux_xfeatures(c), 0x207);
    get(c, 7, 0)->ecx &= ~L7_ECX_PKU;
    ck_assert_uint_eq(guest_cpuid_linux_xfeatures(c), 0x7);
    get(c, 1, 0)->ecx &= ~L1_ECX_AVX;
    ck_assert_uint_eq(guest_cpuid_linux_xfeatures(c), 0x3);
    get(c, 1, 0)->ecx &= ~L1_ECX_XSAVE;
    ck_assert_uint_eq(guest_cpuid_linux_xfeatures(c), 0);
    free(c);
}
END_TEST

/* The box's warning, reproduced: EBX stuck at the reset size while XCR0 = 0x207. */
START_TEST(linux_check)
{
    struct kvm_cpuid2 *c = table();
    ck_assert(!guest_cpuid_linux_xsave_ok(c, 576));
    ck_assert(guest_cpuid_linux_xsave_ok(c, 2696)); /* KVM updating EBX at XSETBV */
    get(c, 1, 0)->ecx &= ~L1_ECX_XSAVE;
    ck_assert(guest_cpuid_linux_xsave_ok(c, 576)); /* no XSAVE: no check */
    free(c);
}
END_TEST

START_TEST(host_signature)
{
    ck_assert(!guest_cpuid_host_xsetbv_exits("TCGTCGTCGTCG"));
    ck_assert(guest_cpuid_host_xsetbv_exits("KVMKVMKVM\0\0\0"));
    ck_assert(guest_cpuid_host_xsetbv_exits("Microsoft Hv"));
    const char none[12] = {0};
    ck_assert(guest_cpuid_host_xsetbv_exits(none));
}
END_TEST

/* A host that does not intercept XSETBV: XSAVE and its dependants are hidden, leaf 0xD is
 * empty, and Linux (FXSAVE) has nothing to warn about. */
START_TEST(fixup_hides_xsave)
{
    struct kvm_cpuid2 *c = table();
    struct guest_cpuid_opts o = {.vcpu = 0, .ncpus = 1, .xsetbv_exits = false};
    guest_cpuid_fixup(c, &o);
    ck_assert_uint_eq(get(c, 1, 0)->ecx & (L1_ECX_XSAVE | L1_ECX_AVX), 0);
    ck_assert_uint_eq(get(c, 7, 0)->ebx & L7_EBX_AVX2, 0);
    ck_assert_uint_eq(get(c, 7, 0)->ecx & L7_ECX_PKU, 0);
    ck_assert_uint_eq(get(c, 0xd, 0)->eax, 0);
    ck_assert_uint_eq(guest_cpuid_linux_xfeatures(c), 0);
    ck_assert(guest_cpuid_linux_xsave_ok(c, 576));
    free(c);
}
END_TEST

/* A host that intercepts XSETBV: leaf 0xD offers only what the CPUID flags allow, ECX is the
 * size for all of it, EBX the reset size; what KVM then reports after Linux's XSETBV passes
 * Linux's check. */
START_TEST(fixup_consistent_xsave)
{
    struct kvm_cpuid2 *c = table();
    get(c, 7, 0)->ecx &= ~L7_ECX_PKU; /* PKRU offered in 0xD, PKU flag clear */
    struct guest_cpuid_opts o = {.vcpu = 0, .ncpus = 1, .xsetbv_exits = true};
    guest_cpuid_fixup(c, &o);
    struct kvm_cpuid_entry2 *d0 = get(c, 0xd, 0);
    ck_assert_uint_eq(d0->eax, 0x7);
    ck_assert_uint_eq(d0->edx, 0);
    ck_assert_uint_eq(d0->ecx, 832);
    ck_assert_uint_eq(d0->ebx, 576);
    ck_assert_uint_eq(get(c, 1, 0)->ecx & (L1_ECX_XSAVE | L1_ECX_AVX), L1_ECX_XSAVE | L1_ECX_AVX);
    uint64_t x = guest_cpuid_linux_xfeatures(c);
    ck_assert_uint_eq(x, 0x7);
    ck_assert(guest_cpuid_linux_xsave_ok(c, guest_cpuid_xsave_size(c, x)));
    free(c);
}
END_TEST

/* 0xD without x87|SSE is unusable: XSAVE is hidden. */
START_TEST(fixup_broken_leaf_d)
{
    struct kvm_cpuid2 *c = table();
    get(c, 0xd, 0)->eax = 0x204;
    struct guest_cpuid_opts o = {.vcpu = 0, .ncpus = 1, .xsetbv_exits = true};
    guest_cpuid_fixup(c, &o);
    ck_assert_uint_eq(get(c, 1, 0)->ecx & L1_ECX_XSAVE, 0);
    free(c);
}
END_TEST

/* Our baseline: APIC IDs and counts, CX16 off, hypervisor bit, HTT, TSC-deadline. */
START_TEST(baseline)
{
    struct kvm_cpuid2 *c = table();
    get(c, 1, 0)->ecx |= 1u << 13; /* CX16 */
    struct guest_cpuid_opts o = {.vcpu = 3, .ncpus = 4, .tsc_deadline = true,
                                 .xsetbv_exits = true};
    guest_cpuid_fixup(c, &o);
    struct kvm_cpuid_entry2 *l1 = get(c, 1, 0);
    ck_assert_uint_eq(l1->ebx >> 24, 3);
    ck_assert_uint_eq((l1->ebx >> 16) & 0xff, 4);
    ck_assert_uint_eq(l1->ebx & 0xffff, 0x0800);
    ck_assert_uint_eq(l1->ecx & (1u << 13), 0);
    ck_assert_uint_eq(l1->ecx & (1u << 31), 1u << 31);
    ck_assert_uint_eq(l1->ecx & (1u << 24), 1u << 24);
    ck_assert_uint_eq(l1->ecx & (1u << 27), 0); /* OSXSAVE: CR4.OSXSAVE is clear at reset */
    ck_assert_uint_eq(l1->edx & (1u << 28), 1u << 28);
    ck_assert_uint_eq(get(c, 0xb, 0)->edx, 3);
    free(c);
    c = table();
    o = (struct guest_cpuid_opts){.vcpu = 0, .ncpus = 1, .xsetbv_exits = true};
    guest_cpuid_fixup(c, &o);
    ck_assert_uint_eq(get(c, 1, 0)->ecx & (1u << 24), 0); /* no KVM_CAP_TSC_DEADLINE_TIMER */
    free(c);
}
END_TEST

/* KVM's leaves are kept as reported (signature, features incl. kvm-clock); the timing leaf
 * is added when the TSC rate is known. */
START_TEST(kvm_leaves)
{
    struct kvm_cpuid2 *c = table();
    uint32_t n = c->nent;
    struct guest_cpuid_opts o = {.vcpu = 0, .ncpus = 1, .tsc_khz = 2096000,
                                 .xsetbv_exits = true};
    guest_cpuid_fixup(c, &o);
    ck_assert_uint_eq(c->nent, n + 1);
    struct kvm_cpuid_entry2 *h = get(c, 0x40000000, 0);
    ck_assert_uint_eq(h->eax, CPUID_TIMING_LEAF);
    ck_assert_uint_eq(h->ebx, SIG_EBX);
    ck_assert_uint_eq(h->ecx, SIG_ECX);
    ck_assert_uint_eq(h->edx, SIG_EDX);
    ck_assert_uint_eq(get(c, 0x40000001, 0)->eax, 0x01007efb);
    ck_assert_uint_eq(get(c, 0x40000001, 0)->eax & ((1u << 0) | (1u << 3)), 0x9); /* clocks */
    struct kvm_cpuid_entry2 *t = get(c, CPUID_TIMING_LEAF, 0);
    ck_assert_uint_eq(t->eax, 2096000);
    ck_assert_uint_eq(t->ebx, CPUID_APIC_BUS_KHZ);
    free(c);
    /* Without KVM's leaves (not KVM, or hidden): no timing leaf. */
    c = table();
    c->nent -= 3; /* drops 0x40000000, 0x40000001, 0x80000001 */
    n = c->nent;
    guest_cpuid_fixup(c, &o);
    ck_assert_uint_eq(c->nent, n);
    ck_assert_ptr_null(guest_cpuid_find(c, CPUID_TIMING_LEAF, 0));
    free(c);
}
END_TEST

static Suite *cpuid_suite(void)
{
    Suite *s = suite_create("guest_cpuid");
    TCase *tc = tcase_create("xsave");
    tcase_add_test(tc, xsave_sizes);
    tcase_add_test(tc, linux_features);
    tcase_add_test(tc, linux_check);
    tcase_add_test(tc, host_signature);
    tcase_add_test(tc, fixup_hides_xsave);
    tcase_add_test(tc, fixup_consistent_xsave);
    tcase_add_test(tc, fixup_broken_leaf_d);
    suite_add_tcase(s, tc);
    tc = tcase_create("baseline");
    tcase_add_test(tc, baseline);
    tcase_add_test(tc, kvm_leaves);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cpuid_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
