/*
 * test_kvm.c: what kind of KVM the host has (src/kvm.h: kvm_host_at, kvm_host_mmu,
 * kvm_host_describe), on fake /sys/module and /proc/cpuinfo trees in a temporary directory,
 * without /dev/kvm.
 *
 * The rules pinned down: the vendor module (kvm_intel, kvm_amd) decides, with EPT/NPT read
 * from its parameter (Y/N or 1/0); a vendor module counts only on a CPU whose cpuinfo flags
 * have its extension (built-in modules have parameters on any CPU), and with no cpuinfo flags
 * at all it counts as is; kvm_pvm means PVM only when no vendor module counts; "nested" is the
 * cpuinfo `hypervisor` flag. The strings are the MMU line of `minivmm run` and the "kvm: " line
 * of `minivmm bench`. CK_FORK.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm.h"
#include "minivmm/util.h"

static char root[PATH_MAX];

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/minivmm-test-kvm-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    ck_assert_int_eq(nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* root/rel with every directory above it; text NULL makes rel itself a directory. */
static void make(const char *rel, const char *text)
{
    char path[PATH_MAX];
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", root, rel), (int)sizeof(path));
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); *s++ = '/') {
        *s = '\0';
        ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
    }
    if (!text) {
        ck_assert_int_eq(mkdir(path, 0755), 0);
        return;
    }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

/* Two CPUs' worth of /proc/cpuinfo whose "flags" lines hold `flags`. */
static void make_cpuinfo(const char *flags)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "processor\t: 0\nvendor_id\t: FakeVendor\nmodel name\t: fake\n"
             "flags\t\t: fpu vme de pse %s lm\nbugs\t\t: spectre_v1\n\n"
             "processor\t: 1\nvendor_id\t: FakeVendor\nmodel name\t: fake\n"
             "flags\t\t: fpu vme de pse %s lm\nbugs\t\t: spectre_v1\n\n",
             flags, flags);
    make("proc/cpuinfo", text);
}

struct host_case {
    const char *what;
    const char *ept, *npt; /* kvm_intel and kvm_amd parameter files; NULL: no module */
    bool pvm;              /* /sys/module/kvm_pvm exists */
    const char *flags;     /* cpuinfo flags; NULL: no /proc/cpuinfo */
    const char *mmu;       /* kvm_host_mmu(), NULL for unknown */
    const char *kind;      /* kvm_host_describe() */
};

static const struct host_case cases[] = {
    {"kvm_amd npt=Y", NULL, "Y\n", false, "svm hypervisor", "NPT", "svm+npt (nested)"},
    {"kvm_amd npt=Y, bare metal", NULL, "Y\n", false, "svm", "NPT", "svm+npt"},
    {"kvm_amd npt=0 (an int parameter)", NULL, "0\n", false, "svm", "shadow paging (NPT off)",
     "svm+shadow"},
    {"kvm_intel ept=Y", "Y\n", NULL, false, "vmx", "EPT", "vmx+ept"},
    {"kvm_intel ept=N", "N\n", NULL, false, "vmx hypervisor", "shadow paging (EPT off)",
     "vmx+shadow (nested)"},
    {"kvm_pvm only", NULL, NULL, true, "hypervisor", "shadow paging (PVM: no EPT/NPT)",
     "pvm (shadow paging, nested)"},
    {"kvm_pvm only, no hypervisor flag", NULL, NULL, true, "", "shadow paging (PVM: no EPT/NPT)",
     "pvm (shadow paging)"},
    {"kvm_pvm and kvm_amd", NULL, "Y\n", true, "svm hypervisor", "NPT", "svm+npt (nested)"},
    {"kvm_pvm and kvm_intel", "Y\n", NULL, true, "vmx", "EPT", "vmx+ept"},
    {"kvm_intel built in on an SVM CPU", "Y\n", "N\n", false, "svm", "shadow paging (NPT off)",
     "svm+shadow"},
    {"kvm_intel built in beside kvm_pvm, no vmx", "Y\n", NULL, true, "svm_lock hypervisor",
     "shadow paging (PVM: no EPT/NPT)", "pvm (shadow paging, nested)"},
    {"no /proc/cpuinfo: the module decides", NULL, "Y\n", true, NULL, "NPT", "svm+npt"},
    {"no KVM module", NULL, NULL, false, "vmx hypervisor", NULL,
     "unknown (no kvm_intel, kvm_amd or kvm_pvm module; nested)"},
    {"nothing at all", NULL, NULL, false, NULL, NULL,
     "unknown (no kvm_intel, kvm_amd or kvm_pvm module)"},
};

START_TEST(test_host_kind)
{
    const struct host_case *c = &cases[_i];
    struct kvm_host h;
    char kind[96];

    make("sys/module/kvm/parameters/halt_poll_ns", "200000\n");
    if (c->ept)
        make("sys/module/kvm_intel/parameters/ept", c->ept);
    if (c->npt)
        make("sys/module/kvm_amd/parameters/npt", c->npt);
    if (c->pvm)
        make("sys/module/kvm_pvm", NULL);
    if (c->flags)
        make_cpuinfo(c->flags);
    kvm_host_at(root, &h);
    const char *mmu = kvm_host_mmu(&h);
    if (c->mmu)
        ck_assert_msg(mmu && strcmp(mmu, c->mmu) == 0, "%s: MMU %s, want %s", c->what,
                      mmu ? mmu : "NULL", c->mmu);
    else
        ck_assert_msg(!mmu, "%s: MMU %s, want NULL", c->what, mmu);
    ck_assert_msg(strcmp(kvm_host_describe(&h, kind, sizeof(kind)), c->kind) == 0,
                  "%s: kind '%s', want '%s'", c->what, kind, c->kind);
}
END_TEST

/* A buffer too small for the description: cut short, still a string. */
START_TEST(test_describe_truncates)
{
    struct kvm_host h = {.vendor = KVM_HOST_PVM, .nested = true};
    char kind[8];

    ck_assert_str_eq(kvm_host_describe(&h, kind, sizeof(kind)), "pvm (sh");
}
END_TEST

/* This machine: whatever it is, the two strings agree with the pure function on "". */
START_TEST(test_this_machine)
{
    struct kvm_host h;
    char kind[96];

    kvm_host_at("", &h);
    const char *mmu = kvm_mmu_mode(), *want = kvm_host_mmu(&h);
    ck_assert_msg(mmu == want || (mmu && want && strcmp(mmu, want) == 0), "%s vs %s",
                  mmu ? mmu : "NULL", want ? want : "NULL");
    ck_assert_ptr_eq(kvm_host_kind(kind, sizeof(kind)), kind);
    ck_assert_int_gt(strlen(kind), 0);
    if (h.nested)
        ck_assert_ptr_nonnull(strstr(kind, "nested"));
}
END_TEST

static Suite *kvm_suite(void)
{
    Suite *s = suite_create("kvm");
    TCase *tc = tcase_create("host_kind");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_host_kind, 0, ARRAY_SIZE(cases));
    suite_add_tcase(s, tc);
    tc = tcase_create("strings");
    tcase_add_test(tc, test_describe_truncates);
    tcase_add_test(tc, test_this_machine);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(kvm_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
