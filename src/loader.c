/*
 * loader.c: the kernel by its content and the initrd (loader.h).
 *
 * `-k` takes a PVH ELF (elf_loader.c) or a bzImage (bzimage.c): a file with "HdrS" at 0x202 is
 * judged as a bzImage, anything else as an ELF, so each error comes from the parser that
 * applies. The initrd goes as high as the kernel allows (Linux's boot.rst, "initrd_addr_max"),
 * page-aligned, in RAM the memory map (e820.c) reports, above the kernel and below the MMIO
 * hole: where the kernel's own decompression and early allocations are least likely to run
 * into it. It is read straight into guest RAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e820.h"
#include "loader.h"
#include "minivmm/abi.h"
#include "minivmm/errmsg.h"
#include "minivmm/memmap.h"

/* Reads exactly len bytes; 0 or -errno (-EIO when the file ended early). */
static int read_exact(int fd, uint8_t *p, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, p + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -EIO;
        got += (size_t)r;
    }
    return 0;
}

/* Opens a regular file and gives its size. */
static int open_regular(const char *what, const char *path, int *fdp, uint64_t *size, char *err,
                        size_t errlen)
{
    struct stat st;
    int ret, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ret = -errno;
        return errmsg_fail(err, errlen, ret, "%s: %s: %s", what, path, strerror(-ret));
    }
    if (fstat(fd, &st) < 0) {
        ret = -errno;
        close(fd);
        return errmsg_fail(err, errlen, ret, "%s: %s: %s", what, path, strerror(-ret));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return errmsg_fail(err, errlen, -EINVAL, "%s: %s: not a regular file", what, path);
    }
    *fdp = fd;
    *size = (uint64_t)st.st_size;
    return 0;
}

int loader_read_file(const char *what, const char *path, uint64_t max, uint8_t **bufp, size_t *lenp,
                     char *err, size_t errlen)
{
    uint64_t size;
    int fd, ret = open_regular(what, path, &fd, &size, err, errlen);
    if (ret)
        return ret;
    if (size > max) {
        ret = errmsg_fail(err, errlen, -EFBIG, "%s: %s: too large (%llu bytes)", what, path,
                          (unsigned long long)size);
        goto err_close;
    }
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        ret = errmsg_fail(err, errlen, -ENOMEM, "%s: %s: out of memory", what, path);
        goto err_close;
    }
    ret = read_exact(fd, buf, size);
    if (ret) {
        errmsg_fail(err, errlen, ret, "%s: %s: read failed: %s", what, path, strerror(-ret));
        free(buf);
        goto err_close;
    }
    *bufp = buf;
    *lenp = size;
err_close:
    close(fd);
    return ret;
}

int loader_load_kernel_buf(const uint8_t *buf, size_t len, const struct gmem *gm,
                          struct kernel_image *k, char *why, size_t whylen)
{
    int ret;

    memset(k, 0, sizeof(*k));
    if (bzimage_probe(buf, len)) {
        k->format = KERNEL_BZIMAGE;
        ret = bzimage_load(buf, len, gm, &k->bz, why, whylen);
        k->end =
            k->bz.load_addr + (k->bz.init_size > k->bz.pm_size ? k->bz.init_size : k->bz.pm_size);
    } else {
        k->format = KERNEL_PVH_ELF;
        ret = elf_load_pvh(buf, len, gm, &k->elf, why, whylen);
        if (ret == -ENOEXEC && (len < 4 || memcmp(buf, "\177ELF", 4) != 0))
            errmsg_set(why, whylen, "not an ELF file nor a bzImage (no \"HdrS\" at 0x202)");
        k->end = k->elf.highest;
    }
    return ret;
}

int loader_load_kernel(const char *path, const struct gmem *gm, struct kernel_image *k, char *err,
                       size_t errlen)
{
    char why[240];
    uint8_t *buf;
    size_t len;
    int ret = loader_read_file("kernel", path, ELF_LOADER_MAX_FILE, &buf, &len, err, errlen);
    if (ret)
        return ret;
    ret = loader_load_kernel_buf(buf, len, gm, k, why, sizeof(why));
    if (ret)
        errmsg_fail(err, errlen, ret, "kernel: %s: %s", path, why);
    free(buf);
    return ret;
}

int loader_place_initrd(const struct gmem *gm, uint64_t size, gpa_t above, gpa_t limit, gpa_t *addr)
{
    struct e820_range r[E820_MAX_RANGES];
    unsigned n = e820_build(gm, r);
    gpa_t best = 0;
    int found = 0;

    if (size == 0)
        return -EINVAL;
    if (limit > MEMMAP_HOLE_START)
        limit = MEMMAP_HOLE_START;
    for (unsigned i = 0; i < n; i++) {
        if (r[i].type != E820_RAM)
            continue;
        gpa_t lo = r[i].addr > above ? r[i].addr : above;
        gpa_t hi = r[i].addr + r[i].size < limit ? r[i].addr + r[i].size : limit;
        if (hi <= lo || hi - lo < size)
            continue;
        gpa_t a = (hi - size) & ~0xfffull;
        if (a < lo || (found && a <= best))
            continue;
        best = a;
        found = 1;
    }
    if (!found)
        return -ENOSPC;
    *addr = best;
    return 0;
}

int loader_load_initrd(const char *path, const struct gmem *gm, gpa_t above, gpa_t limit,
                       gpa_t *addr, uint64_t *sizep, char *err, size_t errlen)
{
    uint64_t size;
    int fd, ret = open_regular("--initrd", path, &fd, &size, err, errlen);
    if (ret)
        return ret;
    if (size == 0) {
        ret = errmsg_fail(err, errlen, -EINVAL, "--initrd: %s: empty file", path);
        goto err_close;
    }
    if (limit > MEMMAP_HOLE_START)
        limit = MEMMAP_HOLE_START;
    if (loader_place_initrd(gm, size, above, limit, addr)) {
        ret = errmsg_fail(err, errlen, -EFBIG,
                          "--initrd: %s: %llu KiB do not fit in guest RAM between the kernel "
                          "(0x%llx) and 0x%llx; raise -m",
                          path, (unsigned long long)((size + 1023) >> 10),
                          (unsigned long long)above, (unsigned long long)limit);
        goto err_close;
    }
    ret = read_exact(fd, gmem_ptr(gm, *addr, size), size);
    if (ret) {
        errmsg_fail(err, errlen, ret, "--initrd: %s: read failed: %s", path, strerror(-ret));
        goto err_close;
    }
    *sizep = size;
err_close:
    close(fd);
    return ret;
}

int loader_write_reset_vector(const struct gmem *gm)
{
    const uint16_t port = MINIVMM_ACPI_PM_PORT + MINIVMM_ACPI_PM_RESET;
    const uint8_t stub[] = {
        0xb0, MINIVMM_ACPI_PM_RESET_VALUE,       /* mov al, RESET_VALUE */
        0xba, (uint8_t)port, (uint8_t)(port >> 8), /* mov dx, port */
        0xee,                                    /* out dx, al */
        0xfa,                                    /* cli */
        0xf4,                                    /* hlt */
        0xeb, 0xfd,                              /* jmp back to hlt */
    };
    _Static_assert(sizeof(stub) <= 16, "the reset vector has 16 bytes below 1 MiB");
    return gmem_write(gm, MEMMAP_RESET_VECTOR, stub, sizeof(stub)) ? -EFAULT : 0;
}
