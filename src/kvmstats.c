/*
 * kvmstats.c: KVM's binary statistics (Documentation/virt/kvm/api.rst, KVM_GET_STATS_FD).
 *
 * The stats file holds a header, an id string, descriptors (each followed by a name of
 * header.name_size bytes) and a data block of u64s. Everything read from it is checked
 * against the file size before use: it comes from the kernel, but a short or odd file must
 * give an error, not a wild read. On PVM hosts these counters do not include PIO exits,
 * which is why minivmm counts exits itself and shows KVM's numbers beside its own.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvmstats.h"

#define MAX_STATS_FILE (1u << 20)

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        got += (size_t)n;
    }
    return 0;
}

int kvmstats_read(int fd, void (*cb)(void *opaque, const char *name, uint64_t value),
                  void *opaque)
{
#ifdef KVM_GET_STATS_FD
    struct kvm_stats_header h;
    int sfd = ioctl(fd, KVM_GET_STATS_FD, NULL);
    int ret, count = 0;
    if (sfd < 0)
        return -errno;
    ret = pread_all(sfd, &h, sizeof(h), 0);
    if (ret)
        goto out;
    size_t desc_size = sizeof(struct kvm_stats_desc) + h.name_size;
    if (h.name_size == 0 || h.name_size > 4096 || h.num_desc > 4096 ||
        (uint64_t)h.num_desc * desc_size > MAX_STATS_FILE) {
        ret = -EINVAL;
        goto out;
    }
    char *descs = malloc(h.num_desc * desc_size);
    if (!descs) {
        ret = -ENOMEM;
        goto out;
    }
    ret = pread_all(sfd, descs, h.num_desc * desc_size, h.desc_offset);
    if (ret)
        goto out_free;
    for (uint32_t i = 0; i < h.num_desc; i++) {
        struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * desc_size);
        uint64_t value;
        if (d->size != 1)
            continue; /* histograms */
        if (pread_all(sfd, &value, sizeof(value), (off_t)h.data_offset + d->offset))
            continue;
        d->name[h.name_size - 1] = '\0';
        cb(opaque, d->name, value);
        count++;
    }
    ret = count;
out_free:
    free(descs);
out:
    close(sfd);
    return ret;
#else
    (void)fd;
    (void)cb;
    (void)opaque;
    return -ENOTTY;
#endif
}
