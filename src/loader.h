/*
 * loader.h: what `-k` and `-i` put in guest RAM: a kernel recognised by its content (a PVH
 * ELF, elf_loader.c, or a Linux bzImage, bzimage.c) and an initrd placed as high as allowed.
 */
#ifndef MINIVMM_LOADER_H
#define MINIVMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "bzimage.h"
#include "elf_loader.h"
#include "minivmm/hw/gmem.h"

enum kernel_format { KERNEL_PVH_ELF, KERNEL_BZIMAGE };

struct kernel_image {
    enum kernel_format format;
    struct elf_image elf; /* KERNEL_PVH_ELF */
    struct bzimage bz;    /* KERNEL_BZIMAGE */
    gpa_t end;            /* first byte above everything the kernel owns */
};

/* Reads a whole regular file of at most max bytes into a malloc'd buffer (the caller frees);
 * what names it in the error ("kernel", "--initrd"). 0 or -errno with "what: path: reason". */
int loader_read_file(const char *what, const char *path, uint64_t max, uint8_t **buf, size_t *len,
                     char *err, size_t errlen);
/* Loads the kernel image in buf[0..len) by its content: a bzImage when it has "HdrS" at 0x202,
 * else a PVH ELF. 0, or -errno with the reason (no path) in why. */
int loader_load_kernel_buf(const uint8_t *buf, size_t len, const struct gmem *gm,
                          struct kernel_image *k, char *why, size_t whylen);
/* Reads the kernel at path and loads it with loader_load_kernel_buf; err names the path. */
int loader_load_kernel(const char *path, const struct gmem *gm, struct kernel_image *k, char *err,
                       size_t errlen);
/* Where an initrd of size bytes goes: the highest page-aligned address in an e820 RAM range
 * with the whole initrd at or above `above` and below both `limit` (exclusive) and the 3 GiB
 * MMIO hole. 0 with *addr set, or -ENOSPC. */
int loader_place_initrd(const struct gmem *gm, uint64_t size, gpa_t above, gpa_t limit,
                        gpa_t *addr);
/* Reads the initrd at path into guest RAM at the place loader_place_initrd chooses. Empty,
 * missing, unreadable or too large files are refused. 0 or -errno with one line in err. */
int loader_load_initrd(const char *path, const struct gmem *gm, gpa_t above, gpa_t limit,
                       gpa_t *addr, uint64_t *size, char *err, size_t errlen);
/* Writes the reset-vector stub at MEMMAP_RESET_VECTOR: 16-bit code that writes the ACPI PM
 * reset register (abi.h) and halts. There is no firmware behind the reset vector, and Linux
 * under hardware-reduced ACPI without EFI restarts through it (its BOOT_BIOS path, after EFI
 * reboot found no EFI): without the stub it would run zeroed memory forever. 0 or -EFAULT. */
int loader_write_reset_vector(const struct gmem *gm);

#endif
