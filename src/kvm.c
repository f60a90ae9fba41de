/*
 * kvm.c: opening KVM and checking what it offers before anything is built on it.
 *
 * Each capability is checked by name up front, so a host that lacks one fails with a message
 * naming it rather than with an ioctl error halfway through bring-up.
 *
 * What kind of KVM the host has (VMX or SVM, EPT/NPT or shadow paging, PVM, nested or not) is
 * read from /sys/module and /proc/cpuinfo under a root directory, so that a unit test can give
 * it a fake tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "kvm.h"
#include "minivmm/errmsg.h"
#include "minivmm/util.h"

struct cap {
    int id;
    const char *name;
    bool split_only, kernel_only;
};

#define CAP(c) c, #c
static const struct cap required_caps[] = {
    {CAP(KVM_CAP_USER_MEMORY), false, false},
    {CAP(KVM_CAP_SET_TSS_ADDR), false, false},
    {CAP(KVM_CAP_EXT_CPUID), false, false},
    {CAP(KVM_CAP_IRQ_ROUTING), false, false},
    {CAP(KVM_CAP_IRQFD), false, false},
    {CAP(KVM_CAP_IOEVENTFD), false, false},
    {CAP(KVM_CAP_IMMEDIATE_EXIT), false, false},
    {CAP(KVM_CAP_MP_STATE), false, false},
    {CAP(KVM_CAP_SPLIT_IRQCHIP), true, false},
    {CAP(KVM_CAP_SIGNAL_MSI), true, false},
    {CAP(KVM_CAP_IRQCHIP), false, true},
    {CAP(KVM_CAP_IRQ_INJECT_STATUS), false, true},
};

int kvm_open(struct kvm *kvm, enum kvm_irqchip_mode mode, char *err, size_t errlen)
{
    int ret;
    memset(kvm, 0, sizeof(*kvm));
    kvm->vm_fd = -1;
    kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm->sys_fd < 0) {
        ret = -errno;
        if (ret == -ENOENT)
            return errmsg_fail(err, errlen, ret, "KVM: /dev/kvm missing (no KVM on this machine?)");
        if (ret == -EACCES || ret == -EPERM)
            return errmsg_fail(err, errlen, ret,
                               "KVM: /dev/kvm not permitted (run as root or join group kvm)");
        return errmsg_fail(err, errlen, ret, "KVM: cannot open /dev/kvm: %s", strerror(-ret));
    }
    int v = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
    if (v != KVM_API_VERSION) {
        char d[64];
        snprintf(d, sizeof(d), "got %d, need %d", v, KVM_API_VERSION);
        ret = errmsg_fail(err, errlen, -ENOTSUP, "KVM: unsupported API version: %s", d);
        goto err_close;
    }
    for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
        const struct cap *c = &required_caps[i];
        if ((c->split_only && mode != KVM_IRQCHIP_SPLIT) ||
            (c->kernel_only && mode != KVM_IRQCHIP_KERNEL))
            continue;
        if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, c->id) <= 0) {
            snprintf(err, errlen, "KVM: capability %s missing", c->name);
            ret = -ENOTSUP;
            goto err_close;
        }
    }
    kvm->run_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (kvm->run_size < (int)sizeof(struct kvm_run)) {
        ret = errmsg_fail(err, errlen, -ENOTSUP, "KVM: bad KVM_GET_VCPU_MMAP_SIZE");
        goto err_close;
    }
    kvm->max_vcpus = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (kvm->max_vcpus <= 0)
        kvm->max_vcpus = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    if (kvm->max_vcpus <= 0)
        kvm->max_vcpus = 4;
#ifdef KVM_CAP_BINARY_STATS_FD
    kvm->has_stats = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) > 0;
#endif
    return 0;

err_close:
    close(kvm->sys_fd);
    kvm->sys_fd = -1;
    return ret;
}

int kvm_create_vm(struct kvm *kvm, char *err, size_t errlen)
{
    kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
    if (kvm->vm_fd < 0) {
        int ret = -errno;
        return errmsg_fail(err, errlen, ret, "KVM: ioctl (CREATE_VM) failed: %s", strerror(-ret));
    }
    /* Intel VMX needs a TSS area below 4 GiB when the guest runs real mode (APs start
     * there); put it in the MMIO hole, away from RAM. Harmless elsewhere. */
    if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0) {
        int ret = -errno;
        return errmsg_fail(err, errlen, ret, "KVM: ioctl (SET_TSS_ADDR) failed: %s",
                           strerror(-ret));
    }
    return 0;
}

int kvm_map_memory(struct kvm *kvm, const struct gmem *gm, char *err, size_t errlen)
{
    for (unsigned i = 0; i < gm->nregions; i++) {
        const struct gmem_region *r = &gm->regions[i];
        struct kvm_userspace_memory_region mr = {
            .slot = i,
            .guest_phys_addr = r->gpa,
            .memory_size = r->size,
            .userspace_addr = (uint64_t)(uintptr_t)(gm->host + r->offset),
        };
        if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0) {
            int ret = -errno;
            return errmsg_fail(err, errlen, ret, "KVM: ioctl (SET_USER_MEMORY_REGION) failed: %s",
                               strerror(-ret));
        }
    }
    return 0;
}

void kvm_close(struct kvm *kvm)
{
    if (kvm->vm_fd >= 0)
        close(kvm->vm_fd);
    if (kvm->sys_fd >= 0)
        close(kvm->sys_fd);
    kvm->vm_fd = kvm->sys_fd = -1;
}

/* ---- what kind of KVM the host has ---- */

/* root + path into buf, "" when it does not fit (then nothing is found there). */
static const char *at(char *buf, size_t len, const char *root, const char *path)
{
    int n = snprintf(buf, len, "%s%s", root, path);
    if (n < 0 || (size_t)n >= len)
        buf[0] = '\0';
    return buf;
}

/* A module parameter that reads Y/1 (bool or int parameters): 1, 0 for N/0, -1 when absent. */
static int read_bool_param(const char *root, const char *module, const char *param)
{
    char path[PATH_MAX], rel[128], b[16];
    snprintf(rel, sizeof(rel), "/sys/module/%s/parameters/%s", module, param);
    int fd = open(at(path, sizeof(path), root, rel), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, b, sizeof(b) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    return b[0] == 'Y' || b[0] == 'y' || b[0] == '1';
}

static bool module_loaded(const char *root, const char *module)
{
    char path[PATH_MAX], rel[128];
    snprintf(rel, sizeof(rel), "/sys/module/%s", module);
    return access(at(path, sizeof(path), root, rel), F_OK) == 0;
}

/* The first CPU's "flags" line of /proc/cpuinfo: which of vmx, svm and hypervisor it has.
 * false when there is no such line (no /proc, or an architecture that names it otherwise). */
static bool cpu_flags(const char *root, bool *vmx, bool *svm, bool *hypervisor)
{
    char path[PATH_MAX], *line = NULL;
    size_t cap = 0;
    bool found = false;
    FILE *f = fopen(at(path, sizeof(path), root, "/proc/cpuinfo"), "re");

    *vmx = *svm = *hypervisor = false;
    if (!f)
        return false;
    while (!found && getline(&line, &cap, f) > 0) {
        if (strncmp(line, "flags", 5) != 0 || !strchr(line, ':'))
            continue;
        found = true;
        for (char *save = NULL, *w = strtok_r(strchr(line, ':') + 1, " \t\n", &save); w;
             w = strtok_r(NULL, " \t\n", &save)) {
            *vmx |= strcmp(w, "vmx") == 0;
            *svm |= strcmp(w, "svm") == 0;
            *hypervisor |= strcmp(w, "hypervisor") == 0;
        }
    }
    free(line);
    fclose(f);
    return found;
}

void kvm_host_at(const char *root, struct kvm_host *h)
{
    bool vmx, svm, hv, have_flags = cpu_flags(root, &vmx, &svm, &hv);
    /* A module's parameters also exist when it is built in, usable or not: trust a vendor
     * module only on a CPU with its extension (when /proc/cpuinfo says). */
    int ept = have_flags && !vmx ? -1 : read_bool_param(root, "kvm_intel", "ept");
    int npt = have_flags && !svm ? -1 : read_bool_param(root, "kvm_amd", "npt");

    *h = (struct kvm_host){.vendor = KVM_HOST_UNKNOWN, .nested = hv};
    if (ept >= 0)
        *h = (struct kvm_host){.vendor = KVM_HOST_VMX, .tdp = ept == 1, .nested = hv};
    else if (npt >= 0)
        *h = (struct kvm_host){.vendor = KVM_HOST_SVM, .tdp = npt == 1, .nested = hv};
    else if (module_loaded(root, "kvm_pvm")) /* PVM only without a hardware vendor module */
        h->vendor = KVM_HOST_PVM;
}

const char *kvm_host_mmu(const struct kvm_host *h)
{
    switch (h->vendor) {
    case KVM_HOST_VMX:
        return h->tdp ? "EPT" : "shadow paging (EPT off)";
    case KVM_HOST_SVM:
        return h->tdp ? "NPT" : "shadow paging (NPT off)";
    case KVM_HOST_PVM:
        return "shadow paging (PVM: no EPT/NPT)";
    case KVM_HOST_UNKNOWN:
        break;
    }
    return NULL;
}

const char *kvm_host_describe(const struct kvm_host *h, char *buf, size_t len)
{
    const char *nested = h->nested ? " (nested)" : "";
    switch (h->vendor) {
    case KVM_HOST_VMX:
        snprintf(buf, len, "vmx+%s%s", h->tdp ? "ept" : "shadow", nested);
        break;
    case KVM_HOST_SVM:
        snprintf(buf, len, "svm+%s%s", h->tdp ? "npt" : "shadow", nested);
        break;
    case KVM_HOST_PVM:
        snprintf(buf, len, "pvm (shadow paging%s)", h->nested ? ", nested" : "");
        break;
    case KVM_HOST_UNKNOWN:
        snprintf(buf, len, "unknown (no kvm_intel, kvm_amd or kvm_pvm module%s)",
                 h->nested ? "; nested" : "");
        break;
    }
    return buf;
}

/* CPUID.1:ECX[31], "hypervisor present": set by every mainstream hypervisor for its guests. */
static bool cpuid_hypervisor(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c >> 31) & 1;
#else
    return false;
#endif
}

static void host_probe(struct kvm_host *h)
{
    kvm_host_at("", h);
    h->nested |= cpuid_hypervisor();
}

const char *kvm_mmu_mode(void)
{
    struct kvm_host h;
    host_probe(&h);
    return kvm_host_mmu(&h);
}

const char *kvm_host_kind(char *buf, size_t len)
{
    struct kvm_host h;
    host_probe(&h);
    return kvm_host_describe(&h, buf, len);
}
