/*
 * gmem.c: memfd-backed guest RAM and the checked guest-address accessor.
 *
 * The memfd starts zeroed and is mapped MAP_SHARED once; KVM gets one memory slot per region.
 * Pages are only touched when the guest or the loader touches them, so a large -m costs
 * nothing at start-up. gmem_ptr() is the only way from a guest address to a host pointer: it
 * checks the start and the length with overflow guards (Solo5's HVT_CHECKED_GPA_P).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "minivmm/hw/gmem.h"
#include "minivmm/memmap.h"

int gmem_layout(struct gmem *gm, uint64_t size)
{
    memset(gm, 0, sizeof(*gm));
    gm->fd = -1;
    if (size < GMEM_MIN_SIZE || size > GMEM_MAX_SIZE || (size & 0xfff))
        return -EINVAL;
    gm->size = size;
    uint64_t low = size < MEMMAP_HOLE_START ? size : MEMMAP_HOLE_START;
    gm->regions[0] = (struct gmem_region){.gpa = 0, .size = low, .offset = 0};
    gm->nregions = 1;
    if (size > low) {
        gm->regions[1] = (struct gmem_region){
            .gpa = MEMMAP_HOLE_END, .size = size - low, .offset = low};
        gm->nregions = 2;
    }
    return 0;
}

int gmem_init(struct gmem *gm, uint64_t size)
{
    int ret = gmem_layout(gm, size);
    if (ret)
        return ret;
    gm->fd = memfd_create("minivmm-ram", MFD_CLOEXEC);
    if (gm->fd < 0)
        return -errno;
    if (ftruncate(gm->fd, (off_t)size) < 0) {
        ret = -errno;
        goto err_close;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, gm->fd, 0);
    if (p == MAP_FAILED) {
        ret = -errno;
        goto err_close;
    }
    gm->host = p;
    return 0;

err_close:
    close(gm->fd);
    gm->fd = -1;
    return ret;
}

void gmem_destroy(struct gmem *gm)
{
    if (gm->host)
        munmap(gm->host, gm->size);
    if (gm->fd >= 0)
        close(gm->fd);
    gm->host = NULL;
    gm->fd = -1;
}

void *gmem_ptr(const struct gmem *gm, gpa_t gpa, uint64_t len)
{
    if (len == 0 || gpa + len < gpa || !gm->host)
        return NULL;
    for (unsigned i = 0; i < gm->nregions; i++) {
        const struct gmem_region *r = &gm->regions[i];
        if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
            return gm->host + r->offset + (gpa - r->gpa);
    }
    return NULL;
}

int gmem_write(const struct gmem *gm, gpa_t gpa, const void *src, uint64_t len)
{
    void *p = gmem_ptr(gm, gpa, len);
    if (!p)
        return -EFAULT;
    memcpy(p, src, len);
    return 0;
}

int gmem_read(const struct gmem *gm, gpa_t gpa, void *dst, uint64_t len)
{
    const void *p = gmem_ptr(gm, gpa, len);
    if (!p)
        return -EFAULT;
    memcpy(dst, p, len);
    return 0;
}

gpa_t gmem_end(const struct gmem *gm)
{
    const struct gmem_region *r = &gm->regions[gm->nregions - 1];
    return r->gpa + r->size;
}
