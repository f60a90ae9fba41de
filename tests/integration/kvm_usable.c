/*
 * kvm_usable.c: exits 0 when /dev/kvm can run a VM here, else prints why and exits 77
 * (meson's "skipped"). Integration tests call it first; .ci/run uses it to refuse skips on
 * machines where KVM works.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        printf("SKIP: /dev/kvm unusable: %s\n", strerror(errno));
        return 77;
    }
    int v = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (v != KVM_API_VERSION) {
        printf("SKIP: /dev/kvm API version %d, need %d\n", v, KVM_API_VERSION);
        return 77;
    }
    int vm = ioctl(fd, KVM_CREATE_VM, 0);
    if (vm < 0) {
        printf("SKIP: /dev/kvm cannot create a VM: %s\n", strerror(errno));
        return 77;
    }
    close(vm);
    close(fd);
    return 0;
}
