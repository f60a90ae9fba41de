/*
 * kvm.c: opening KVM and checking what it offers before anything is built on it.
 *
 * Each capability is checked by name up front, so a host that lacks one fails with a message
 * naming it rather than with an ioctl error halfway through bring-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm.h"

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

static int fail(char *err, size_t errlen, int ret, const char *msg, const char *detail)
{
    snprintf(err, errlen, "%s%s%s", msg, detail ? ": " : "", detail ? detail : "");
    return ret;
}

int kvm_open(struct kvm *kvm, enum kvm_irqchip_mode mode, char *err, size_t errlen)
{
    int ret;
    memset(kvm, 0, sizeof(*kvm));
    kvm->vm_fd = -1;
    kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm->sys_fd < 0) {
        ret = -errno;
        if (ret == -ENOENT)
            return fail(err, errlen, ret, "KVM: /dev/kvm missing (no KVM on this machine?)",
                        NULL);
        if (ret == -EACCES || ret == -EPERM)
            return fail(err, errlen, ret,
                        "KVM: /dev/kvm not permitted (run as root or join group kvm)", NULL);
        return fail(err, errlen, ret, "KVM: cannot open /dev/kvm", strerror(-ret));
    }
    int v = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
    if (v != KVM_API_VERSION) {
        char d[64];
        snprintf(d, sizeof(d), "got %d, need %d", v, KVM_API_VERSION);
        ret = fail(err, errlen, -ENOTSUP, "KVM: unsupported API version", d);
        goto err_close;
    }
    for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
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
        ret = fail(err, errlen, -ENOTSUP, "KVM: bad KVM_GET_VCPU_MMAP_SIZE", NULL);
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
        return fail(err, errlen, ret, "KVM: ioctl (CREATE_VM) failed", strerror(-ret));
    }
    /* Intel VMX needs a TSS area below 4 GiB when the guest runs real mode (APs start
     * there); put it in the MMIO hole, away from RAM. Harmless elsewhere. */
    if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0) {
        int ret = -errno;
        return fail(err, errlen, ret, "KVM: ioctl (SET_TSS_ADDR) failed", strerror(-ret));
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
            return fail(err, errlen, ret, "KVM: ioctl (SET_USER_MEMORY_REGION) failed",
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

static int read_param(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

const char *kvm_mmu_mode(void)
{
    char b[16];
    if (access("/sys/module/kvm_pvm", F_OK) == 0)
        return "shadow paging (PVM: no EPT/NPT)";
    if (read_param("/sys/module/kvm_intel/parameters/ept", b, sizeof(b)) == 0)
        return (b[0] == 'Y' || b[0] == '1') ? "EPT" : "shadow paging (EPT off)";
    if (read_param("/sys/module/kvm_amd/parameters/npt", b, sizeof(b)) == 0)
        return (b[0] == 'Y' || b[0] == '1') ? "NPT" : "shadow paging (NPT off)";
    return NULL;
}
