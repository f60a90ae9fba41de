/*
 * gmem.h: guest RAM, and the one checked accessor every guest address goes through.
 *
 * RAM is a single memfd mapped once in the VMM. Guest-physical RAM is [0, min(size, 3 GiB))
 * and, when the VM has more than 3 GiB, [4 GiB, 4 GiB + size - 3 GiB): the 3-4 GiB hole holds
 * MMIO (memmap.h). Guest addresses are gpa_t integers until gmem_ptr() turns a whole range
 * into a host pointer; a range that is not entirely inside one RAM region gives NULL.
 */
#ifndef MINIVMM_GMEM_H
#define MINIVMM_GMEM_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t gpa_t;

#define GMEM_MAX_REGIONS 2

struct gmem_region {
    gpa_t gpa;          /* guest-physical start */
    uint64_t size;
    uint64_t offset;    /* offset in the memfd and in the host mapping */
};

struct gmem {
    int fd;             /* memfd */
    uint8_t *host;      /* whole RAM mapped here */
    uint64_t size;      /* bytes of RAM */
    unsigned nregions;
    struct gmem_region regions[GMEM_MAX_REGIONS];
};

/* Minimum and maximum RAM sizes accepted. */
#define GMEM_MIN_SIZE (16ull << 20)
#define GMEM_MAX_SIZE (1ull << 40)

/* Lays out the regions for `size` bytes of RAM (no allocation): 0 or -EINVAL. */
int gmem_layout(struct gmem *gm, uint64_t size);
/* Creates the memfd and maps it: 0 or -errno. */
int gmem_init(struct gmem *gm, uint64_t size);
void gmem_destroy(struct gmem *gm);
/* Host pointer for guest range [gpa, gpa+len), or NULL when any byte lies outside RAM or the
 * range wraps. len 0 is refused too. */
void *gmem_ptr(const struct gmem *gm, gpa_t gpa, uint64_t len);
/* Copies into / out of guest RAM through gmem_ptr: 0 or -EFAULT. */
int gmem_write(const struct gmem *gm, gpa_t gpa, const void *src, uint64_t len);
int gmem_read(const struct gmem *gm, gpa_t gpa, void *dst, uint64_t len);
/* Highest guest-physical address of RAM + 1. */
gpa_t gmem_end(const struct gmem *gm);

#endif
